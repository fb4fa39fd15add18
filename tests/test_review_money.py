"""Money the bureau types (decisions, payments, clawbacks, budgets, unit-price bands): the one parse
(voucher.policy.money) with its one limit, each refusal naming the field as the site reports it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from voucher.applications import parameters as params
from voucher.applications.models import Budget, Decision, PaymentRecord, UnitPriceBand
from voucher.policy.money import FEN, MAX_YUAN
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    confirm_by_hand,
    latest,
    make_staff,
    propose,
    publicity_over,
    put_in_state,
    tick_materials,
    verified_client,
)

D = Decimal
BELOW, AT, ABOVE = MAX_YUAN - FEN, MAX_YUAN, MAX_YUAN + FEN


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "admin": make_staff(django_user_model, "administrator", "administrator"),
    }


@pytest.fixture
def in_review(team):
    return put_in_state(application_from("d4-small"), "in_review")


@pytest.fixture
def publicized(team, in_review):
    decision = confirm_by_hand(propose(in_review, team["reviewer"]), team["approver"])
    publicity_over(in_review, team["approver"])
    return put_in_state(in_review, "publicized"), decision


# --- budgets: no rule above the limit, so the limit itself is tested --------------------------


@pytest.mark.parametrize("amount", [BELOW, AT, str(AT), f"¥{AT:,}"])
def test_a_budget_up_to_the_limit_is_stored(team, in_review, amount):
    budget = actions.budget_set(
        round=in_review.round, direction=4, amount=amount, acting_user=team["admin"]
    )
    budget.refresh_from_db()
    assert budget.amount == AT if amount != BELOW else budget.amount == BELOW


@pytest.mark.parametrize("amount", [ABOVE, str(ABOVE), "1" + "0" * 20])
def test_a_budget_above_the_limit_is_refused_naming_amount(team, in_review, amount):
    # before: no limit, and the database column could not take it (a server error)
    with pytest.raises(actions.ReviewError) as refused:
        actions.budget_set(
            round=in_review.round, direction=4, amount=amount, acting_user=team["admin"]
        )
    assert refused.value.field == "amount" and "过大" in str(refused.value)
    assert not Budget.objects.exists()


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("Infinity", "不是有效金额"),  # before: decimal.InvalidOperation, a server error
        ("NaN", "不是有效金额"),  # before: "金额最多精确到分"
        ("1e3", "不是有效金额"),  # before: read as 1000.00
        ("-1", "不能为负数"),
        ("1.001", "最多两位小数"),
    ],
)
def test_what_is_not_an_amount_is_refused_naming_amount(team, in_review, amount, says):
    with pytest.raises(actions.ReviewError) as refused:
        actions.budget_set(
            round=in_review.round, direction=4, amount=amount, acting_user=team["admin"]
        )
    assert refused.value.field == "amount" and says in str(refused.value)
    assert not Budget.objects.exists()


# --- decisions, payments, clawbacks: their own rules cap them far below the limit -------------


@pytest.mark.parametrize("amount", [ABOVE, str(ABOVE), "Infinity", "1e3"])
def test_a_payment_that_is_no_amount_is_refused_and_nothing_is_stored(team, publicized, amount):
    application, _decision = publicized
    with pytest.raises(actions.ReviewError) as refused:
        actions.payment_record(
            application=application,
            paid_on=timezone.localdate(),
            amount=amount,
            reference="ZF-1",
            acting_user=team["approver"],
        )
    assert refused.value.field == "amount"
    assert not PaymentRecord.objects.exists()


def test_a_payment_as_the_page_shows_the_amount_is_accepted(team, publicized):
    application, decision = publicized
    shown = f"¥{decision.amount:,}"  # what the `yuan` filter prints: refused before
    record = actions.payment_record(
        application=application,
        paid_on=timezone.localdate(),
        amount=shown,
        reference="ZF-1",
        acting_user=team["approver"],
    )
    assert record.amount == decision.amount


@pytest.mark.parametrize("amount", [str(ABOVE), "Infinity"])
def test_a_clawback_that_is_no_amount_is_refused_naming_amount(team, publicized, amount):
    application, _decision = publicized
    put_in_state(application, "paid")
    with pytest.raises(actions.ReviewError) as refused:
        actions.clawback_request(
            application=application,
            notice_date=timezone.localdate(),
            amount=amount,
            reason="违反承诺",
            acting_user=team["approver"],
        )
    assert refused.value.field == "amount"


@pytest.mark.parametrize(
    ("amount", "says"),
    [(str(ABOVE), "过大"), ("Infinity", "不是有效金额"), ("1,00.001", "最多两位小数")],
)
def test_a_proposal_that_is_no_amount_is_refused_on_the_page(client, team, in_review, amount, says):
    page = verified_client(client, team["reviewer"]).post(
        f"/review/{in_review.pk}/propose/",
        {"kind": "approval", "amount": amount, "lowered_reason": "x"},
        follow=True,
    )
    assert page.status_code == 200
    assert says in page.content.decode()
    assert not Decision.objects.exists()


def test_a_proposal_typed_with_separators_is_read_to_the_fen(team, in_review):
    tick_materials(in_review, team["reviewer"])
    maximum = latest(in_review).approved_max
    decision = actions.decision_propose(
        application=in_review,
        kind="approval",
        amount=f"￥{maximum - FEN:,}",
        lowered_reason="一张发票待核",
        acting_user=team["reviewer"],
    )
    assert decision.amount == maximum - FEN


# --- unit-price bands -----------------------------------------------------------------------


def _band(admin, application, minimum, maximum):
    return params.price_band_set(
        record=application.round,
        device="H800",
        unit="lot",
        minimum=minimum,
        maximum=maximum,
        note="询价",
        acting_user=admin,
    )


@pytest.mark.parametrize("maximum", [str(BELOW), str(AT), f"{AT:,}", "10000000000.00"])
def test_a_band_up_to_the_limit_is_stored(team, in_review, maximum):
    # before: 10,000,000,000.00 and above were refused (a limit of 12 digits, for a 16-digit column)
    band = _band(team["admin"], in_review, "1.00", maximum)
    band.refresh_from_db()
    assert band.maximum == D(maximum.replace(",", ""))


@pytest.mark.parametrize("field", ["minimum", "maximum"])
def test_a_band_above_the_limit_is_refused_naming_the_field(team, in_review, field):
    values = {"minimum": "1.00", "maximum": "2.00"} | {field: str(ABOVE)}
    with pytest.raises(params.ParameterError) as refused:
        _band(team["admin"], in_review, **values)
    assert refused.value.field == field and "过大" in refused.value.message
    assert not UnitPriceBand.objects.exists()


# --- the day of a payment, a clawback notice, a refund (voucher.policy.dates) ----------------


@pytest.mark.parametrize(
    "typed", ["2026年4月10日", "2026/4/10", "２０２６-０４-１０", " 2026-04-10"]
)
def test_a_payment_day_is_read_as_people_type_it(client, team, publicized, typed):
    application, decision = publicized
    verified_client(client, team["approver"]).post(
        f"/review/{application.pk}/payment/",
        {"paid_on": typed, "amount": str(decision.amount), "reference": "ZF-1"},
    )
    assert PaymentRecord.objects.get().paid_on == date(2026, 4, 10)  # all refused before


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2026-W15-5", "日期“2026-W15-5”格式应为 YYYY-MM-DD"),  # before: paid on 2026-04-10
        ("2026-02-30", "日期“2026-02-30”是不存在的日期"),
        ("04/10/2026", "格式应为 YYYY-MM-DD"),
    ],
)
def test_a_payment_day_that_is_no_day_is_refused(client, team, publicized, typed, says):
    application, decision = publicized
    page = verified_client(client, team["approver"]).post(
        f"/review/{application.pk}/payment/",
        {"paid_on": typed, "amount": str(decision.amount), "reference": "ZF-1"},
        follow=True,
    )
    assert says in page.content.decode()
    assert not PaymentRecord.objects.exists()


def test_the_review_pages_print_money_as_yuan_text(client, team, in_review):
    """Staff read money as applicants do (issue 19 point 8): `2,300,000.00 元`, never `¥` nor
    `万元` on the review pages (the Excel exports keep numbers)."""
    from django.urls import reverse

    from voucher.policy.money import format_yuan_grouped

    from .review_support import latest, verified_client

    maximum = latest(in_review).approved_max
    verified_client(client, team["reviewer"])
    for url in (
        reverse("review:queue"),
        reverse("review:mine"),
        reverse("review:screen", args=[in_review.pk]),
        reverse("review:dashboard"),
    ):
        page = client.get(url).content.decode()
        assert "¥" not in page, url
        assert not any(f"{n} 万元" in page for n in "0123456789"), url
    page = client.get(reverse("review:screen", args=[in_review.pk])).content.decode()
    assert f"{format_yuan_grouped(maximum)} 元" in page
