"""The round's official lists (RULES.md v2, fail closed): imported by the administrator per round
with source and as-of date; declarations are matched on them, and the review screen shows where."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.builders import APPLICANT_USCC, OTHER_USCC, base_document
from tests.review_support import make_staff, verified_client
from voucher.applications import actions as app_actions
from voucher.applications import roles as r
from voucher.applications.models import OfficialList, OfficialListEntry, PolicyRoundRecord
from voucher.applications.rounds import rounds_sync
from voucher.policy.format import parse_application
from voucher.review.actions import ReviewError, official_list_import

pytestmark = pytest.mark.django_db

MIIT_CSV = (
    "统一社会信用代码,名称\n"
    f"{OTHER_USCC},北京另一家科技有限公司\n"
    "91110108MA01C3QX7,太短\n"
    f"{APPLICANT_USCC},北京测试智能科技有限公司\n"
    f"{OTHER_USCC},重复\n"
)


@pytest.fixture
def bj_2026(db):
    rounds_sync()
    return PolicyRoundRecord.objects.get(code="bj-2026")


@pytest.fixture
def administrator(django_user_model):
    return make_staff(django_user_model, "lists-admin", r.ADMINISTRATOR)


def _import(record, user, content: bytes | str, *, kind="miit_2025_list", name="list.csv", **kw):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return official_list_import(
        round=record,
        kind=kind,
        content=content,
        filename=name,
        source=kw.get("source", "工信部 2025-12 公示"),
        as_of=kw.get("as_of", "2026-03-01"),
        acting_user=user,
    )


def _d2_without_inline_lists():
    from .review_support import supplier_confirms_all

    doc = base_document(2)
    del doc["lists"]
    application = app_actions.application_import(
        document=parse_application(doc), source_name="t.json"
    )
    return supplier_confirms_all(application)  # the supplier's word (issue 22): not the point


def _finding(stored, rule):
    (found,) = [f for f in stored.findings if f["rule"] == rule]
    return found


def test_an_import_keeps_good_rows_with_their_row_numbers_and_reports_bad_ones(
    bj_2026, administrator
):
    result = _import(bj_2026, administrator, MIIT_CSV)
    assert result.count == 2
    assert len(result.errors) == 2
    assert result.errors[0].startswith("第 3 行")
    assert "第 5 行" in result.errors[1] and "第 2 行" in result.errors[1]
    official = OfficialList.objects.get(round=bj_2026, kind="miit_2025_list")
    assert (official.source, official.as_of) == ("工信部 2025-12 公示", date(2026, 3, 1))
    rows = dict(official.entries.values_list("key", "row"))
    assert rows == {OTHER_USCC: 2, APPLICANT_USCC: 4}


def test_a_second_import_replaces_the_rounds_list_of_that_kind(bj_2026, administrator):
    _import(bj_2026, administrator, MIIT_CSV)
    _import(bj_2026, administrator, f"统一社会信用代码\n{OTHER_USCC}\n", as_of="2026-04-01")
    assert OfficialList.objects.filter(round=bj_2026).count() == 1
    assert list(OfficialListEntry.objects.values_list("key", flat=True)) == [OTHER_USCC]


def test_a_gbk_csv_from_excel_is_read(bj_2026, administrator):
    result = _import(bj_2026, administrator, MIIT_CSV.encode("gbk"))
    assert result.count == 2
    assert OfficialListEntry.objects.get(key=APPLICANT_USCC).name == "北京测试智能科技有限公司"


def test_a_binary_file_is_one_clear_error_naming_the_file(bj_2026, administrator):
    with pytest.raises(ReviewError) as caught:
        _import(bj_2026, administrator, b"\x89PNG\r\n\x1a\n\x00\x00\x00", name="scan.csv")
    assert "scan.csv" in str(caught.value)
    assert caught.value.field == "file"
    assert not OfficialList.objects.exists()


@pytest.mark.parametrize(
    ("field", "kw"), [("source", {"source": "  "}), ("as_of", {"as_of": "2026-02-30"})]
)
def test_source_and_as_of_date_are_required_and_named(bj_2026, administrator, field, kw):
    with pytest.raises(ReviewError) as caught:
        _import(bj_2026, administrator, MIIT_CSV, **kw)
    assert caught.value.field == field


def test_a_file_without_the_code_column_is_refused(bj_2026, administrator):
    with pytest.raises(ReviewError) as caught:
        _import(bj_2026, administrator, "名称\n某公司\n")
    assert "统一社会信用代码" in str(caught.value)


def test_only_the_administrator_imports(bj_2026, django_user_model):
    reviewer = make_staff(django_user_model, "lists-reviewer", r.REVIEWER)
    with pytest.raises(ReviewError):
        _import(bj_2026, reviewer, MIIT_CSV)


def test_an_excel_list_of_filings_with_date_cells(bj_2026, administrator):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["备案号", "备案日期", "模型名称"])
    sheet.append(["Beijing-1", datetime(2026, 2, 15), "测试大模型"])
    sheet.append(["Beijing-2", "2026年3月1日", "另一个"])
    sheet.append(["Beijing-3", "不是日期", "坏行"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = _import(
        bj_2026, administrator, buffer.getvalue(), kind="model_filings", name="filings.xlsx"
    )
    assert result.count == 2
    assert result.errors == ["第 4 行：备案日期“不是日期”格式应为 YYYY-MM-DD"]
    entry = OfficialListEntry.objects.get(key="beijing-1")
    assert (entry.code, entry.filed_on, entry.row) == ("Beijing-1", date(2026, 2, 15), 2)


def test_the_stored_list_decides_the_declaration_and_the_screen_shows_where(
    bj_2026, administrator, client
):
    application = _d2_without_inline_lists()
    before = app_actions.application_evaluate(application=application)
    assert _finding(before, "D2_QUALIFICATION")["status"] == "review"
    assert before.outcome == "needs_review"

    _import(bj_2026, administrator, MIIT_CSV)
    after = app_actions.application_evaluate(application=application)
    found = _finding(after, "D2_QUALIFICATION")
    assert found["status"] == "pass"
    assert found["values"]["list_row"] == 4
    assert found["values"]["list_as_of"] == "2026-03-01"
    assert after.outcome == "eligible"

    page = verified_client(client, administrator).get(
        reverse("review:screen", args=[application.pk])
    )
    text = page.content.decode()
    assert "工信部 2025-12 公示" in text and "第 4 行" in text and "2026-03-01" in text


def test_a_list_of_another_round_does_not_count(bj_2026, administrator):
    other = PolicyRoundRecord.objects.create(
        code="bj-2027",
        title="下一轮",
        jurisdiction="北京市",
        window_start=date(2027, 1, 1),
        window_end=date(2027, 12, 31),
        source_sha256="0" * 64,
    )
    _import(other, administrator, MIIT_CSV)
    application = _d2_without_inline_lists()
    stored = app_actions.application_evaluate(application=application)
    assert _finding(stored, "D2_QUALIFICATION")["status"] == "review"


def test_the_pages_show_the_lists_and_let_the_administrator_import(bj_2026, administrator, client):
    browser = verified_client(client, administrator)
    page = browser.get(reverse("review:official_lists"))
    assert "尚未导入" in page.content.decode()
    upload = io.BytesIO(MIIT_CSV.encode("utf-8"))
    upload.name = "miit.csv"
    response = browser.post(
        reverse("review:official_lists"),
        {
            "round": "bj-2026",
            "kind": "miit_2025_list",
            "source": "工信部公示",
            "as_of": "2026-03-01",
            "file": upload,
        },
        follow=True,
    )
    text = response.content.decode()
    assert "名单已导入：2 条" in text and "第 3 行" in text
    official = OfficialList.objects.get()
    listing = browser.get(reverse("review:official_list", args=[official.pk]), {"q": "测试"})
    assert APPLICANT_USCC in listing.content.decode()
    assert OTHER_USCC not in listing.content.decode()


def test_a_reviewer_sees_the_lists_but_no_import_form(bj_2026, django_user_model, client):
    reviewer = make_staff(django_user_model, "lists-reader", r.REVIEWER)
    page = verified_client(client, reviewer).get(reverse("review:official_lists"))
    assert page.status_code == 200
    assert 'name="file"' not in page.content.decode()


def test_the_command_imports_and_names_a_bad_option(bj_2026, tmp_path, capsys):
    path = tmp_path / "miit.csv"
    path.write_text(f"统一社会信用代码\n{APPLICANT_USCC}\n", encoding="utf-8")
    call_command(
        "lists", "import", str(path), "--round", "bj-2026", "--kind", "miit_2025_list",
        "--source", "工信部", "--as-of", "2026-03-01",
    )  # fmt: skip
    assert "1 条" in capsys.readouterr().out
    with pytest.raises(CommandError) as caught:
        call_command(
            "lists", "import", str(path), "--round", "bj-2026", "--kind", "miit_2025_list",
            "--source", "工信部", "--as-of", "03/01/2026",
        )  # fmt: skip
    assert "--as-of" in str(caught.value)
