"""The bureau's review pages in English: the language switch covers them; Chinese stays the default.

Page chrome (navigation, headings, buttons, table headers, labels, messages, refusal reasons) is
translated. Data stays as entered or as the engine wrote it: application and enterprise names,
project names, finding messages and clause texts are Chinese in both languages, so the checks for
leftover Chinese look at the chrome, not at the data cells.
"""

from __future__ import annotations

import gettext
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from voucher.applications import models as review_models
from voucher.applications import roles
from voucher.applications.models import SERVICE_CHOICES
from voucher.applications.states import STATE_CHOICES, TRANSITIONS
from voucher.review import labels

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    PASSWORD,
    confirm_by_hand,
    make_staff,
    propose,
    put_in_state,
    verified_client,
)

pytestmark = pytest.mark.django_db

CATALOGUE = (
    Path(__file__).resolve().parent.parent
    / "voucher"
    / "review"
    / "locale"
    / "en"
    / "LC_MESSAGES"
    / "django.po"
)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff01-\uff60]")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", roles.REVIEWER),
        "approver": make_staff(django_user_model, "approver", roles.APPROVER),
        "admin": make_staff(django_user_model, "administrator", roles.ADMINISTRATOR),
    }


@pytest.fixture
def in_review(team):
    application = put_in_state(application_from("d4-small"), "in_review")
    review_models.ReviewCase.objects.create(application=application, assignee=team["reviewer"])
    return application


def _english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


class _Chrome(HTMLParser):
    """The page's own words: everything but the data cells and the language switch.

    Skipped: the language switch (each language names itself), the brand's decorative glyph 券,
    table data cells (except the
    "nothing here" rows), the applicant and project names, finding messages, clause texts and
    values, and the history. Buttons, labels and options inside a skipped cell still count.
    """

    # the language switch names each language in itself; the brand mark is a decorative glyph
    HARD_SKIP_CLASSES = frozenset({"lang-switch", "brand-mark"})
    SKIP_CLASSES = frozenset(
        {
            "applicant",
            "message",
            "clause",
            "tag-clause",
            "values",
            "history",
        }
    )
    CHROME_TAGS = frozenset({"button", "label", "option", "legend", "th"})
    VOID = frozenset({"input", "br", "meta", "link", "img", "hr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool | str]] = []  # (tag, skipped here: True or "hard")
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        skipping = False
        for tag, skip in self.stack:
            if skip == "hard":
                return True
            if skip:
                skipping = True
            elif skipping and tag in self.CHROME_TAGS:
                skipping = False
        return skipping

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        skip: bool | str = bool(classes & self.SKIP_CLASSES) or (
            tag == "td" and "empty" not in classes
        )
        if classes & self.HARD_SKIP_CLASSES or tag in ("script", "style"):
            skip = "hard"
        if not self._skipping() and not skip:
            for name in ("placeholder", "aria-label", "title"):
                if a.get(name):
                    self.parts.append(a[name])
        if tag not in self.VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if data.strip() and not self._skipping():
            self.parts.append(data.strip())


def chrome(html: str, *data: str) -> str:
    """The page's own text with the given data strings (names, projects …) taken out."""
    parser = _Chrome()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, "")
    return text


def assert_no_chinese(text: str, page: str) -> None:
    left = sorted({line for line in text.splitlines() if CJK.search(line)})
    assert not left, f"{page}: Chinese left in English mode: {left}"


def _names():
    from voucher.applications.models import Application

    values: list[str] = []
    for a in Application.objects.all():
        values += [a.applicant_name, a.project_name]
    return values


def _screen_data(application) -> list[str]:
    values = _names()
    for c in application.contracts.all():
        values += [c.supplier_name, c.contract_id]
    return values


# --- English ---------------------------------------------------------------------------------


def test_the_queue_in_english(client, team, in_review):
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:queue")).content.decode()
    for english in (
        "Review queue",
        "My queue",
        "Publicity",
        "Budget and statistics",
        "Round parameters",
        "Sign out",
        "Roles: Bureau reviewer",
        "Handler",
        "Maximum approvable",
        "Open items",
        "Export to Excel",
        "Filter",
        "In review",
        "Direction 4",
    ):
        assert english in page, english
    for chinese in ("审核队列", "我的待办", "预算与统计", "最高可核定", "承办人", "筛选", "审核中"):
        assert chinese not in page, chinese
    assert in_review.applicant_name in page  # data stays as entered
    assert_no_chinese(chrome(page, *_names()), "queue")


def test_my_queue_in_english(client, team, in_review):
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:mine")).content.decode()
    for english in ("Assigned to me", "For my approval", "Without a handler", "Open items"):
        assert english in page, english
    assert "由我承办" not in page
    assert_no_chinese(chrome(page, *_names()), "my queue")


def test_the_review_screen_in_english(client, team, in_review):
    propose(in_review, team["reviewer"])
    _english(verified_client(client, team["approver"]))
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    for english in (
        "Review queue",
        "Maximum approvable",
        "Handler",
        "View the contact (the view is logged)",
        "Findings",
        "Contract amounts",
        "Review decision",
        "Awaiting approval",
        "proposed by t-reviewer",
        "Confirm",
        "Reason for returning",
        "History",
    ):
        assert english in page, english
    for chinese in ("审核决定", "合同测算", "复核确认", "办理记录", "查看联系人"):
        assert chinese not in page, chinese
    assert ">Compute</td>" in page and "<td>算力</td>" not in page  # the service of a delivery
    assert in_review.applicant_name in page
    assert_no_chinese(chrome(page, *_screen_data(in_review)), "review screen")


def test_the_review_screen_of_an_application_being_corrected_in_english(client, team, in_review):
    put_in_state(in_review, "supplement_requested")
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    assert "The applicant is making the corrections asked for." in page
    assert "申报单位正在补正" not in page
    assert_no_chinese(chrome(page, *_screen_data(in_review)), "review screen being corrected")


def test_the_review_screen_forms_in_english(client, team, in_review):
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    for english in (
        "Request a supplement",
        "What needs to be supplemented (one item per line)",
        "Send the supplement request",
        "Propose a review opinion",
        "Support",
        "No support",
        "Propose",
    ):
        assert english in page, english
    assert "拟定审核意见" not in page
    assert_no_chinese(chrome(page, *_screen_data(in_review)), "review screen (reviewer)")


def test_the_materials_their_checklist_and_a_file_in_the_page_in_english(
    client, team, in_review, settings, tmp_path
):
    from voucher.review import actions

    from .review_support import attach_material, minimal_pdf

    settings.DATA_DIR = tmp_path
    record = attach_material(in_review, "contract", minimal_pdf(2), "合同.pdf")
    actions.material_check_set(
        application=in_review,
        material="contract",
        marks=[actions.Mark("sealed_complete", "ok"), actions.Mark("term", "wrong", "无期限")],
        acting_user=team["reviewer"],
    )
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    for english in (
        "Compute contract",
        "The complete contract, sealed",
        "Compliant",
        "Not compliant",
        "No classification mark found",
        "View in the page",
        "Request a supplement for this item",
        "Save the checklist",
        "The applicant has not uploaded this material.",
        "Not all checked yet (support cannot be proposed)",
    ):
        assert english in page, english
    assert_no_chinese(chrome(page, *_screen_data(in_review), "合同.pdf"), "review screen")
    page = client.get(
        reverse("review:material_view", args=[in_review.pk, record.pk])
    ).content.decode()
    for english in ("Checklist: Compute contract", "Page 1 of 2", "Same as uploaded"):
        assert english in page, english
    assert_no_chinese(chrome(page, *_names(), "合同.pdf", "无期限"), "a material in the page")
    refused = client.post(
        reverse("review:propose", args=[in_review.pk]), {"kind": "approval"}, follow=True
    ).content.decode()
    assert "The materials have not all been checked, so support cannot be proposed" in refused
    assert "validity or the service period (not compliant)" in refused


def test_a_transition_button_and_its_refusal_in_english(client, team, in_review):
    submitted = put_in_state(in_review, "submitted")
    _english(verified_client(client, team["reviewer"]))
    page = client.get(reverse("review:screen", args=[submitted.pk])).content.decode()
    assert ">Accept for the formal check</button>" in page
    refused = client.__class__()
    _english(verified_client(refused, team["approver"]))
    page = refused.post(
        reverse("review:transition", args=[submitted.pk, "accept"]), follow=True
    ).content.decode()
    assert "“Accept for the formal check” can only be done by: Bureau reviewer" in page


def test_the_dashboard_in_english(client, team, in_review):
    _english(verified_client(client, team["admin"]))
    page = client.get(reverse("review:dashboard")).content.decode()
    for english in (
        "Budget and statistics",
        "Pro-rata reduction simulation",
        "Simulate",
        "Set the budget",
        "Budget (CNY)",
        "Requested",
        "Direction 4",
    ):
        assert english in page, english
    for chinese in ("按比例缩减模拟", "设置预算", "预算（元）"):
        assert chinese not in page, chinese
    assert_no_chinese(chrome(page, *_names()), "dashboard")


def test_the_publicity_page_in_english(client, team, in_review):
    confirm_by_hand(propose(in_review, team["reviewer"]), team["approver"])
    put_in_state(in_review, "approved")
    _english(verified_client(client, team["approver"]))
    page = client.get(reverse("review:publicity")).content.decode()
    for english in (
        "Publicity list",
        "To publicise (support confirmed)",
        "Approved amount",
        "Publicity starts",
        "Publicity ends",
        "Publish the publicity list",
        "Published",
        "None yet",
    ):
        assert english in page, english
    for chinese in ("公示名单", "待公示", "发布公示名单", "尚无"):
        assert chinese not in page, chinese
    assert_no_chinese(chrome(page, *_names()), "publicity")


def test_the_parameters_page_in_english(client, team, in_review):
    _english(verified_client(client, team["admin"]))
    page = client.get(reverse("review:parameters")).content.decode()
    for english in (
        "Round parameters",
        "Unit-price bands",
        "Flagged equipment",
        "Set the unit-price band",
        "Add to the flagged equipment",
        "Equipment model",
    ):
        assert english in page, english
    for chinese in ("单价区间", "通报设备", "设定单价区间"):
        assert chinese not in page, chinese
    assert_no_chinese(chrome(page, *_names()), "parameters")


def test_the_login_page_in_english(client, team):
    _english(client)
    page = client.get(reverse("review:login")).content.decode()
    for english in ("Staff sign-in", "Username", "Password", "One-time code", "Sign in"):
        assert english in page, english
    assert "工作人员登录" not in page
    assert_no_chinese(chrome(page), "login")
    wrong = client.post(
        reverse("review:login"), {"username": "t-reviewer", "password": "wrong"}
    ).content.decode()
    assert "Incorrect username, password or code." in wrong  # one answer for all three


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("review:checks", ("Cross-application checks", "Unit-price statistics (by equipment)")),
        ("review:clawbacks", ("Refunds of funds", "Days overdue", "Nothing overdue")),
        ("review:lists", ("External lists", "Import", "Enterprises under joint sanctions")),
        ("review:notifications", ("Notification emails that failed", "Recipients")),
        ("review:staff", ("Administration", "Add a staff member", "Application dates")),
    ],
)
def test_the_other_bureau_pages_in_english(client, team, in_review, name, english):
    _english(verified_client(client, team["admin"]))
    page = client.get(reverse(name)).content.decode()
    for text in english:
        assert text in page, text
    assert_no_chinese(chrome(page, *_names()), name)


def test_the_contact_page_in_english(client, team, in_review):
    _english(verified_client(client, team["reviewer"]))
    page = client.post(reverse("review:contact", args=[in_review.pk])).content.decode()
    for text in ("Personal data: this view has been recorded in the audit log.", "Mobile", "Email"):
        assert text in page, text
    data = (in_review.contact_name, in_review.contact_address)
    assert_no_chinese(chrome(page, *_names(), *data), "contact")


def test_the_authenticator_setup_in_english(client, team):
    from voucher.review import staff

    _english(client)
    response = client.post(
        reverse("review:login"), {"username": team["reviewer"].username, "password": PASSWORD}
    )
    page = response.content.decode()
    assert "Use the binding link your administrator sent you to set up the authenticator." in page
    assert_no_chinese(chrome(page), "login without a device")
    link = staff.staff_totp_link(user=team["reviewer"], acting_user=team["admin"])
    path = link.split("localhost:8000", 1)[1]
    response = client.post(
        reverse("review:login"),
        {"username": team["reviewer"].username, "password": PASSWORD, "next": path},
    )
    assert response.status_code == 302
    page = client.get(path).content.decode()
    for text in ("Set up an authenticator", "Staff must use two-step verification.", "Confirm"):
        assert text in page, text
    assert_no_chinese(chrome(page), "authenticator setup")
    wrong = client.post(path, {"otp_token": "000000"}, follow=True)
    assert "The code is incorrect." in wrong.content.decode()
    notice = client.get(reverse("review:otp_setup")).content.decode()
    assert "binding link" in notice
    assert_no_chinese(chrome(notice), "authenticator notice")


def test_a_refusal_says_why_in_english(client, team, in_review):
    _english(verified_client(client, team["approver"]))
    response = client.post(
        reverse("review:propose", args=[in_review.pk]), {"kind": "approval"}, follow=True
    )
    page = response.content.decode()
    assert "Only Bureau reviewers can propose a review opinion." in page
    assert "只有市经信局审核人员可以拟定审核意见" not in page
    parameters = client.get(reverse("review:parameters")).content.decode()
    assert "Only the system administrator can set budgets and import lists." in parameters


def test_an_action_error_with_values_in_english(client, team, in_review):
    _english(verified_client(client, team["reviewer"]))
    page = client.post(
        reverse("review:propose", args=[in_review.pk]),
        {"kind": "approval", "amount": "abc"},
        follow=True,
    ).content.decode()
    assert "Amount: “abc” is not a number of yuan, e.g. 1234.50" in page


# --- Chinese stays the default ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "chinese"),
    [
        ("review:queue", ("审核队列", "我的待办", "最高可核定", "承办人", "筛选", "退出")),
        ("review:mine", ("由我承办", "待我复核", "尚无承办人")),
        ("review:dashboard", ("预算与统计", "按比例缩减模拟", "设置预算")),
        ("review:publicity", ("公示名单", "已发布")),
        ("review:parameters", ("轮次参数", "单价区间", "通报设备")),
    ],
)
def test_the_pages_are_chinese_by_default(client, team, in_review, name, chinese):
    verified_client(client, team["admin"])
    page = client.get(reverse(name)).content.decode()
    for text in chinese:
        assert text in page, text
    assert CJK.search(chrome(page, *_names()))  # the chrome check sees the page's own words
    for english in ("Review queue", "Sign out", "Budget and statistics", "Round parameters"):
        assert english not in page, english


def test_the_screen_and_login_are_chinese_by_default(client, team, in_review):
    login = client.get(reverse("review:login")).content.decode()
    assert "工作人员登录" in login and "Staff sign-in" not in login
    verified_client(client, team["reviewer"])
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    for text in ("审核决定", "合同测算", "拟定审核意见", "要求补正", "办理记录"):
        assert text in page, text
    assert "Review decision" not in page
    refused = client.post(
        reverse("review:propose", args=[in_review.pk]),
        {"kind": "approval", "amount": "abc"},
        follow=True,
    ).content.decode()
    assert "金额“abc”不是有效金额" in refused


# --- the catalogue ---------------------------------------------------------------------------


def _entries(text: str) -> list[dict[str, str]]:
    entries = []
    for block in text.split("\n\n"):
        entry: dict[str, str] = {"flags": ""}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            if line.startswith("#"):
                continue
            match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = match.group(2)
            elif line.startswith('"') and key:
                entry[key] += line[1:-1]
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_every_review_msgid_has_an_english_msgstr():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    assert len(entries) > 300
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        strings = [v for k, v in entry.items() if k.startswith("msgstr")]
        assert strings and all(s.strip() for s in strings), f"untranslated: {entry['msgid']}"
        for s in strings:
            assert not CJK.search(s), f"Chinese in {s!r}"
        placeholders = set(re.findall(r"%\((\w+)\)s", entry["msgid"]))
        for s in strings:
            assert set(re.findall(r"%\((\w+)\)s", s)) == placeholders, entry["msgid"]


def test_the_catalogue_compiles_and_the_mo_is_current(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(CATALOGUE)], check=True, capture_output=True
    )
    committed = CATALOGUE.with_suffix(".mo")
    assert committed.exists()
    with compiled.open("rb") as fresh, committed.open("rb") as stored:
        # the messages, not the bytes: another msgfmt may lay out the same catalogue differently
        assert (
            gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(stored)._catalog
        ), (  # type: ignore[attr-defined]
            "django.mo is stale: cd voucher/review && env -u DJANGO_SETTINGS_MODULE django-admin compilemessages -l en"
        )


def test_the_labels_shown_on_review_pages_are_in_the_catalogue():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    ids = {e["msgid"] for e in entries}
    actions = {e["msgid"] for e in entries if e.get("msgctxt") == "action"}
    for t in TRANSITIONS.values():
        assert t.label in {str(x) for x in labels.TRANSITION_LABELS}, t.label
        assert t.label in actions, f"{t.label!r} (context action) is not in the review catalogue"
    shown = [label for _code, label in STATE_CHOICES]
    shown += [label for _code, label in review_models.DECISION_KIND_CHOICES]
    shown += [label for _code, label in review_models.DECISION_STATUS_CHOICES]
    shown += [label for _code, label in review_models.RESOLUTION_CHOICES]
    shown += [label for _code, label in review_models.LIST_KIND_CHOICES]
    shown += [label for _code, label in SERVICE_CHOICES]
    shown += [label for _code, label in review_models.CHECK_STATUS_CHOICES]
    shown += [label for _code, label in review_models.CLASSIFIED_SCAN_CHOICES]
    listed = set(labels.STATE_LABELS + labels.CHOICE_LABELS)
    for label in shown:
        assert label in listed, f"add {label!r} to voucher/review/labels.py"
        assert label in ids, f"{label!r} is not in the review catalogue"
