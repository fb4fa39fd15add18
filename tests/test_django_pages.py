"""The public demo pages and who may see them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from voucher.applications.selectors import OUTCOME_LABELS, STATUS_LABELS
from voucher.applications.templatetags.voucher_format import wan, yuan
from voucher.policy import results
from voucher.policy.clauses import CLAUSES

from .conftest import application_from, verified_session

pytestmark = pytest.mark.django_db


def test_the_page_labels_are_the_engines_labels():
    assert OUTCOME_LABELS == results.OUTCOME_LABELS
    assert STATUS_LABELS == results.STATUS_LABELS


def test_money_is_shown_in_yuan_with_separators_and_in_wan_exactly():
    assert yuan(Decimal("30000000.00")) == "¥30,000,000.00"
    assert yuan("461436.46") == "¥461,436.46"
    assert wan(Decimal("30000000.00")) == "3,000.00"
    assert wan("461436.46") == "46.143646"
    assert wan("0.01") == "0.000001"
    assert yuan(None) == wan(None) == "—"


def test_the_list_shows_every_application_with_its_outcome_and_amount(
    client, public_demo, demo_data
):
    page = client.get(reverse("applications:list")).content.decode()
    assert "申报列表" in page
    assert "北京测试人工智能研究院" in page
    assert "方向一" in page and "方向四" in page
    for label in ("符合条件", "不符合条件", "需人工审核"):
        assert label in page
    assert "¥30,000,000.00" in page
    assert "3,000.00 万元" in page
    assert 'class="outcome outcome-needs_review"' in page


def test_the_detail_shows_amounts_contracts_and_findings_with_the_clause_text(
    client, public_demo, demo_data
):
    application = application_from("d2-common-shareholder-review")
    page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "需人工审核" in page
    assert "¥600,000.00" in page  # approved max, computed and C1's subsidy
    assert "¥5,000,000.00" in page  # the direction-2 cap
    assert "未填写" in page  # no requested amount
    assert "按合同逐笔测算的补贴合计" in page
    assert "SUPPLIER_EQUITY" in page
    assert "待审核" in page
    assert CLAUSES["一（五）注1"].text in page
    assert "供应商C1" in page


def test_the_detail_says_which_cap_applied(client, public_demo, demo_data):
    application = application_from("d1-cap-binds")
    page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "本方向补贴金额上限" in page


def test_an_unknown_application_is_404(client, public_demo, demo_data):
    assert client.get(reverse("applications:detail", args=[99999])).status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login_when_it_is_not_a_demo(
    client, not_public, demo_data
):
    application = application_from("d4-small")
    for url in (
        reverse("applications:list"),
        reverse("applications:detail", args=[application.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("review:login"))  # password and TOTP
        assert "next=" in response["Location"]


def test_a_logged_in_outsider_is_refused(client, not_public, outsider, demo_data):
    client.force_login(outsider)
    assert client.get(reverse("applications:list")).status_code == 403


def test_a_reviewer_sees_the_pages_when_it_is_not_a_demo(client, not_public, reviewer, demo_data):
    verified_session(client, reviewer)
    assert "申报列表" in client.get(reverse("applications:list")).content.decode()


def test_the_pages_switch_to_english(client, public_demo, demo_data):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("applications:list")).content.decode()
    assert "Applications" in page
    assert "Needs review" in page
    assert "Direction 1" in page


def test_the_favicon_is_found(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("voucher/favicon.svg")
