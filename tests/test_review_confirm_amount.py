"""Issue 19 point 7: the approver's 复核确认 asks for the amount, checked in words and figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from voucher.policy.money import format_yuan_grouped, yuan_in_words
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    make_staff,
    put_in_state,
    tick_materials,
    verified_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def proposed(demo_data, django_user_model):
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    application = tick_materials(put_in_state(application_from("d4-small"), "in_review"), reviewer)
    decision = actions.decision_propose(
        application=application, kind="approval", acting_user=reviewer
    )
    return decision, approver


def test_the_screen_shows_the_amount_in_words_and_figures_and_requires_the_box(proposed, client):
    decision, approver = proposed
    verified_client(client, approver)
    screen = reverse("review:screen", args=[decision.application_id])
    page = client.get(screen).content.decode()
    assert format_yuan_grouped(decision.amount) in page
    assert yuan_in_words(decision.amount) in page
    assert 'name="amount_checked"' in page
    url = reverse("review:confirm", args=[decision.pk])
    response = client.post(url, {"amount_seen": str(decision.amount)}, follow=True)
    assert "请先勾选" in response.content.decode()
    decision.refresh_from_db()
    assert decision.status == "proposed"
    client.post(url, {"amount_seen": str(decision.amount), "amount_checked": "on"})
    decision.refresh_from_db()
    assert decision.status == "confirmed"


def test_an_amount_other_than_the_proposal_is_refused(proposed):
    decision, approver = proposed
    with pytest.raises(actions.ConflictError, match="不一致"):
        actions.decision_confirm(
            decision=decision, acting_user=approver, amount_seen=decision.amount - Decimal("1")
        )
    decision.refresh_from_db()
    assert decision.status == "proposed"


@pytest.mark.parametrize(
    ("figures", "words"),
    [
        ("2300000.00", "贰佰叁拾万元整"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        ("100010.00", "壹拾万零壹拾元整"),
        ("10000001.00", "壹仟万零壹元整"),
        ("100000000.00", "壹亿元整"),
        ("0.05", "伍分"),
        ("10.50", "壹拾元伍角整"),
        ("0.00", "零元整"),
    ],
)
def test_yuan_in_words(figures, words):
    assert yuan_in_words(Decimal(figures)) == words


def test_an_english_page_says_the_amount_in_english_words():
    from django.utils import translation

    from voucher.applications.templatetags.voucher_format import yuan_words

    with translation.override("en"):
        assert yuan_words("2300000.00") == "two million three hundred thousand yuan"
        assert yuan_words("45678.91") == (
            "forty-five thousand six hundred seventy-eight yuan and ninety-one fen"
        )
    with translation.override("zh-hans"):
        assert yuan_words("2300000.00") == "贰佰叁拾万元整"
