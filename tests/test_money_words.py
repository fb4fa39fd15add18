"""Issue 19 point 8: money as the applicant and the e-mails read it, `2,300,000.00 元`: never
`2300000.00 元` in an e-mail, never `218.443113 万元` nor `（¥¥0.00）` in the portal."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from voucher.policy.money import format_yuan_grouped

from .portal_helpers import fill_d2
from .test_portal_plain_words import draft, selfcheck, visible_text  # noqa: F401  (fixture)
from .test_review_decisions import fast_passwords, in_review, team  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
UNGROUPED = re.compile(r"\d{4,}\.\d\d 元")  # 2300000.00 元
WAN_DIGITS = re.compile(r"\d+\.\d{3,} 万元")  # 218.443113 万元


def test_the_decision_e_mails_group_the_amount(team, in_review, django_capture_on_commit_callbacks):  # noqa: F811
    from voucher.review import actions

    with django_capture_on_commit_callbacks(execute=True):
        decision = actions.decision_propose(
            application=in_review, kind="approval", acting_user=team["reviewer"]
        )
    with django_capture_on_commit_callbacks(execute=True):
        actions.decision_confirm(decision=decision, acting_user=team["approver"])
    assert decision.amount >= 1000
    figure = f"{format_yuan_grouped(decision.amount)} 元"
    bodies = [m.body for m in mail.outbox]
    assert any(figure in b and "请复核" in b for b in bodies), bodies  # to the approvers
    assert any(figure in b and "核定补贴金额" in b for b in bodies), bodies  # to the applicant
    for body in bodies:
        assert not UNGROUPED.search(body), body


def test_the_portal_shows_yuan_grouped(client, draft):  # noqa: F811
    fill_d2(client, draft)
    check = selfcheck(client, draft)
    assert re.search(r"\d{1,3}(,\d{3})+\.\d\d 元", check), check
    assert not WAN_DIGITS.search(check) and "¥" not in check
    for step in ("project", "contracts", "submit"):
        page = visible_text(client.get(reverse(f"portal:{step}", args=[draft.pk])).content.decode())
        assert "¥" not in page, step
        assert not WAN_DIGITS.search(page), (step, WAN_DIGITS.findall(page))
        assert not UNGROUPED.search(page), (step, UNGROUPED.findall(page))
