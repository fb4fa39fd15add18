"""Issue 18, item 5: holes found before production, each shut and kept shut here."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from voucher.core.spreadsheets import cell

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    make_staff,
    publicity_over,
    put_in_state,
    verified_client,
)

EVIL = '=HYPERLINK("http://evil.example/","点此领取")'


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def auditor(demo_data, django_user_model):
    return make_staff(django_user_model, "auditor", "auditor")


@pytest.fixture
def evil_application(demo_data):
    application = put_in_state(application_from("d4-small"), "in_review")
    type(application).objects.filter(pk=application.pk).update(applicant_name=EVIL)
    application.refresh_from_db()
    return application


# --- 1. formula injection ------------------------------------------------------------------------


def _cells(content: bytes) -> list:
    sheet = load_workbook(io.BytesIO(content)).active
    return [c for row in sheet.iter_rows() for c in row]


def _the_evil_cell(content: bytes):
    found = [c for c in _cells(content) if isinstance(c.value, str) and "evil.example" in c.value]
    assert found, "the applicant's name is missing from the export"
    return found


def test_a_formula_in_a_name_is_text_in_the_review_list_export(client, auditor, evil_application):
    verified_client(client, auditor)
    response = client.get("/review/export.xlsx?state=in_review")
    assert response.status_code == 200
    for c in _the_evil_cell(response.content):
        assert c.data_type == "s" and c.value == "'" + EVIL
    numbers = [c for c in _cells(response.content) if isinstance(c.value, int | float)]
    assert numbers and all(c.data_type == "n" for c in numbers)  # numbers stay numbers


def test_a_formula_in_a_name_is_text_in_the_publicity_export(client, auditor, evil_application):
    publicity = publicity_over(evil_application, auditor)
    verified_client(client, auditor)
    response = client.get(f"/review/publicity/{publicity.pk}/export.xlsx")
    assert response.status_code == 200
    for c in _the_evil_cell(response.content):
        assert c.data_type == "s" and c.value.startswith("'")


def test_the_platforms_error_report_quotes_a_formula_as_text():
    from voucher.platforms.consumption import RowError, errors_csv

    report = errors_csv([RowError(2, "=cmd|' /C calc'!A0", "@SUM(1+1)")])
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[1][2] == "'=cmd|' /C calc'!A0" and rows[1][3] == "'@SUM(1+1)"
    assert rows[1][0] == "2"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_quoted_and_numbers_are_not(start):
    assert cell(start + "1") == "'" + start + "1"
    assert cell(-1) == -1 and cell(1.5) == 1.5 and cell("申报单位") == "申报单位"


# --- 2. a bad filter is a 400 naming the parameter ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/review/?direction=abc",
        "/review/export.xlsx?direction=abc",
        "/review/?direction=%EF%BC%92",  # a full-width digit is no integer either
        "/review/dashboard/?direction=1e3",
    ],
)
def test_a_bad_number_in_a_query_is_a_400_naming_it(client, auditor, url):
    verified_client(client, auditor)
    response = client.get(url)
    assert response.status_code == 400
    assert "direction" in response.content.decode()


def test_a_bad_number_in_a_form_is_a_400_naming_it(client, demo_data, django_user_model):
    administrator = make_staff(django_user_model, "administrator", "administrator")
    verified_client(client, administrator)
    response = client.post("/review/publicity/", {"application": "x1"})
    assert response.status_code == 400 and "application" in response.content.decode()
    response = client.post("/review/dashboard/", {"direction": "two", "amount": "1"})
    assert response.status_code == 400 and "direction" in response.content.decode()


def test_a_good_direction_still_filters(client, auditor, evil_application):
    verified_client(client, auditor)
    assert client.get("/review/?direction=4").status_code == 200
    assert client.get("/review/export.xlsx?direction=4").status_code == 200


# --- 3. one login message: a wrong code does not confirm a right password --------------------------


def test_a_wrong_code_and_a_wrong_password_get_the_same_answer(client, db, django_user_model):
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .review_support import PASSWORD

    user = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    TOTPDevice.objects.create(user=user, name="t", confirmed=True)

    def answer(password: str) -> str:
        page = client.post(
            "/review/login/",
            {"username": user.username, "password": password, "otp_token": "000000"},
        ).content.decode()
        return re.search(r'role="alert">([^<]*)<', page)[1]

    wrong_code = answer(PASSWORD)  # the right password, a wrong code
    wrong_password = answer("not-the-password")
    assert wrong_code == wrong_password == "用户名、密码或验证码不正确"


# --- 4. bidi controls are stripped from the single lines people type ------------------------------

RLO_NAME = "李\u202egnp.exe"


@pytest.fixture
def portal_draft(db, settings, tmp_path, client):
    from django.urls import reverse

    from voucher.applications.models import Application

    from .portal_helpers import USCC_A, member, open_round

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


def test_a_contact_name_is_stored_and_shown_without_bidi_controls(client, portal_draft):
    from django.urls import reverse

    from .portal_helpers import APPLICANT, post_step

    data = {
        **APPLICANT,
        "contact_name": RLO_NAME,
        "applicant_name": "\u2067北京示例\u2069智能科技\u200f有限公司\u200b",
    }
    assert post_step(client, portal_draft, "applicant", data).status_code == 302
    portal_draft.refresh_from_db()
    assert portal_draft.contact_name == "李gnp.exe"
    assert portal_draft.applicant_name == "北京示例智能科技有限公司"
    page = client.get(reverse("portal:applicant", args=[portal_draft.pk])).content.decode()
    assert "李gnp.exe" in page and "\u202e" not in page and "\u2067" not in page


def test_an_uploaded_file_name_loses_its_bidi_controls():
    from voucher.applications.uploads import sanitise_name

    assert sanitise_name("合同\u202efdp.exe") == "合同fdp.exe"
    assert sanitise_name("\u2066报告\u2069.pdf") == "报告.pdf"


def test_a_staff_name_and_an_interchange_name_lose_them(db, django_user_model):
    from voucher.policy.format import _text
    from voucher.policy.text import clean_line

    administrator = make_staff(django_user_model, "administrator", "administrator")
    from voucher.review import staff

    user = staff.staff_create(
        username="shen\u202ehe",
        email="s@jxj.example.cn",
        role="bureau_reviewer",
        acting_user=administrator,
    )
    assert user.username == "shenhe"
    assert _text("北京\u202a示例\u202c") == "北京示例"
    assert clean_line("a\u200db") == "a\u200db"  # the joiner that emoji and some scripts need


# --- 5. every refused token is audited (never its secret) -------------------------------------------


def _refusals():
    from voucher.core.models import AuditEntry

    return list(AuditEntry.objects.filter(action="api_token_refused").order_by("id"))


@pytest.fixture
def platform_token(db, settings, tmp_path):
    from voucher.platforms import actions
    from voucher.platforms.models import Platform

    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    actions.platforms_sync()
    _, text = actions.token_issue(platform=Platform.objects.get(code="modelscope"), label="t")
    return text


def _get(url: str, token: str):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR="203.0.113.9").get(url)


def test_a_refused_platform_token_is_audited_with_prefix_reason_path_and_address(platform_token):
    kind, prefix, secret = platform_token.split("_", 2)
    wrong_secret = f"{kind}_{prefix}_{'x' * len(secret)}"
    unknown = f"{kind}_000000000000_{secret}"
    for token in (wrong_secret, unknown, "garbage"):
        assert _get("/api/v1/projects", token).status_code == 401
    entries = _refusals()
    assert [e.data["reason"] for e in entries] == ["wrong_secret", "unknown_prefix", "malformed"]
    assert [e.data["prefix"] for e in entries] == [prefix, "000000000000", ""]
    for e in entries:
        assert e.data["path"] == "/api/v1/projects" and e.data["client"] == "203.0.113.9"
        assert e.data["kind"] == "cvp" and e.actor is None
        assert secret not in str(e.data) and "x" * 20 not in str(e.data)


def test_a_refused_bureau_token_is_audited(db, django_user_model):
    from voucher.staffapi import actions

    user = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    _, text = actions.token_issue(user=user, label="t", scopes=["read"], days=30, acting_user=user)
    kind, prefix, secret = text.split("_", 2)
    assert _get("/api/v1/bureau/applications", f"{kind}_{prefix}_nope").status_code == 401
    assert _get("/api/v1/bureau/applications", f"{kind}_ffffffffffff_nope").status_code == 401
    entries = _refusals()
    assert [(e.data["reason"], e.data["prefix"]) for e in entries] == [
        ("wrong_secret", prefix),
        ("unknown_prefix", "ffffffffffff"),
    ]
    assert all(e.data["kind"] == "cvb" and e.data["client"] == "203.0.113.9" for e in entries)
    assert all(secret not in str(e.data) for e in entries)
