"""Money and quantities come back from the database to the last digit, on SQLite as on
PostgreSQL (issue 17 item 6; voucher.core.columns, docs/decisions/0015-exact-money-in-storage.md).

SQLite kept a DecimalField as an 8-byte float read back to 15 significant digits, and summed it
as floats: consumption aggregates read back 98,777,777,788,777.80 for 98,777,777,788,777.77
and 1,234,567,890.123460 for 1,234,567,890.123456. The suite runs on both databases (CI runs it
once with DATABASE_URL pointing at PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Sum

from voucher.core import columns
from voucher.platforms import actions, selectors
from voucher.platforms.models import ConsumptionAggregate, PlatformContract

from .test_api_platforms import USCC, _csv, _row, _submit, a, listed, platforms, screener  # noqa: F401

AMOUNT = Decimal("98777777788777.77")  # 16 significant digits: one more than a float keeps
QUANTITY = Decimal("1234567890.123456")
# the rows that make them: an amount of a row is at most voucher.policy.money.MAX_YUAN
AMOUNTS = ["9999999999999.99"] * 9 + ["8777777788777.86"]
QUANTITIES = ["100000000"] * 9 + ["334567890.123456"]


def _rows(day: str, prefix: str) -> list[dict[str, str]]:
    return [
        _row(
            f"{prefix}{n}",
            f"{day} 00:00:00",
            f"{day} 01:00:00",
            amount,
            quantity=quantity,
            unit_price="1.00",
        )
        for n, (amount, quantity) in enumerate(zip(AMOUNTS, QUANTITIES, strict=True))
    ]


def test_consumption_aggregates_keep_every_digit_through_the_store_and_its_readers(a, listed):  # noqa: F811
    # October: inside the claim period; 1 September: before the subsidy window, outside it
    content = _csv(_rows("2025-10-01", "IN-") + _rows("2025-09-01", "OUT-"))
    batch = actions.batch_process(batch_id=_submit(a, content=content).json()["id"])
    assert batch is not None and batch.status == "done", batch.refusal
    assert batch.summary["amount"] == str(AMOUNT)

    inside = ConsumptionAggregate.objects.get(month="2025-10")
    outside = ConsumptionAggregate.objects.get(month="2025-09")
    assert (inside.amount, inside.quantity, inside.outside_amount) == (AMOUNT, QUANTITY, 0)
    assert outside.outside_amount == AMOUNT and outside.amount == 0
    assert str(inside.amount) == "98777777788777.77" and str(inside.quantity) == str(QUANTITY)
    # a sum in SQL is integer arithmetic, exact on both databases
    sums = ConsumptionAggregate.objects.aggregate(
        amount=Sum("amount"), outside=Sum("outside_amount")
    )
    assert sums == {"amount": AMOUNT, "outside": AMOUNT}
    assert ConsumptionAggregate.objects.filter(amount=AMOUNT).get() == inside
    assert not ConsumptionAggregate.objects.filter(amount=Decimal("98777777788777.80")).exists()

    # the readers: the delivery lines a direction-3 application is built from, the
    # reconciliation of the contract (the platform's API)
    (line,) = selectors.delivery_lines_of(platform=listed.platform, uscc=USCC, contract_id="C1")
    assert (line["amount"], line["quantity"]) == (str(AMOUNT), str(QUANTITY))
    stored = PlatformContract.objects.get()
    figures = {c.kind: c for c in selectors.d3_reconciliation(stored=stored).comparisons}
    assert figures["terms_missing"].actual == QUANTITY
    assert figures["total"].actual == 2 * AMOUNT  # inside and outside: what was billed
    response = a.get(f"/api/v1/enterprises/{USCC}/contracts/C1/reconciliation")
    assert response.status_code == 200, response.content
    by_kind = {c["kind"]: c for c in response.json()["comparisons"]}
    assert by_kind["total"]["actual"] == "197555555577555.54"
    assert by_kind["terms_missing"]["actual"] == "1234567890.123456"


@pytest.mark.django_db
def test_an_application_keeps_amounts_and_quantities_to_the_last_digit(
    demo_data, django_user_model
):
    from voucher.applications.models import Contract, Delivery, PaymentRecord
    from voucher.review.selectors import dashboard

    from .conftest import application_from
    from .review_support import put_in_state

    application = put_in_state(application_from("d2-threshold-exact"), "submitted")
    contract = application.contracts.order_by("pk").first()
    delivery = contract.deliveries.order_by("pk").first()
    Contract.objects.filter(pk=contract.pk).update(total_amount=AMOUNT)
    delivery.amount, delivery.quantity, delivery.unit_price = AMOUNT, QUANTITY, QUANTITY
    delivery.save()
    contract.refresh_from_db()
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert contract.total_amount == AMOUNT
    assert (delivery.amount, delivery.quantity, delivery.unit_price) == (AMOUNT, QUANTITY, QUANTITY)
    assert str(delivery.quantity) == "1234567890.123456"

    # the dashboard's paid figure is a Sum() in SQL
    def paid() -> Decimal:
        (figures,) = [f for f in dashboard(application.round) if f.direction == 2]
        return figures.paid

    before = paid()
    clerk = django_user_model.objects.create_user("clerk")
    halves = {"P-1": Decimal("49388888894388.88"), "P-2": Decimal("49388888894388.89")}
    for reference, half in halves.items():
        PaymentRecord.objects.create(
            application=application,
            paid_on=date(2026, 6, 1),
            amount=half,
            reference=reference,
            recorded_by=clerk,
        )
    assert paid() - before == AMOUNT


def test_no_model_keeps_money_or_a_quantity_where_a_float_would_round_it():
    """No FloatField in any model of the project, and no DecimalField with more than 15
    significant digits (SQLite keeps those as floats): money is a MoneyField (whole fen),
    quantities a QuantityField (their text)."""
    ours = [m for m in apps.get_models() if m.__module__.startswith("voucher.")]
    assert ours
    floats = [
        f"{m.__name__}.{f.name}"
        for m in ours
        for f in m._meta.get_fields()
        if isinstance(f, models.FloatField)
    ]
    assert floats == []
    too_wide = [
        f"{m.__name__}.{f.name}"
        for m in ours
        for f in m._meta.get_fields()
        if isinstance(f, models.DecimalField) and f.max_digits > 15
    ]
    assert too_wide == []
    money = {
        f"{m.__name__}.{f.name}"
        for m in ours
        for f in m._meta.get_fields()
        if isinstance(f, columns.MoneyField)
    }
    assert {"ConsumptionAggregate.amount", "Decision.amount", "PaymentRecord.amount"} <= money


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("98777777788777.77", 9877777778877777),
        ("0", 0),
        ("0.1", 10),
        ("-12.30", -1230),
        (Decimal("1E+3"), 100000),
        (Decimal("92233720368547758.07"), 2**63 - 1),
    ],
)
def test_an_amount_is_kept_as_its_whole_fen(value, fen):
    field = columns.MoneyField()
    assert field.get_prep_value(value) == fen
    assert field.from_db_value(fen, None, None) == Decimal(value)
    assert field.from_db_value(Decimal(fen), None, None) == Decimal(value)  # PostgreSQL's sum


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("1.001", ValueError),  # a fraction of a fen is never rounded away
        (Decimal("1.00000000000000000000000000000001"), ValueError),
        ("92233720368547758.08", ValueError),  # beyond the column
        ("NaN", ValueError),
        ("x", ArithmeticError),
        (Decimal("1E+100000000"), ValueError),  # refused before 10^100000000 is computed
        (Decimal("1E-100000000"), ValueError),
        (0.1, TypeError),
    ],
)
def test_an_amount_that_is_not_whole_fen_is_refused(value, error):
    with pytest.raises(error):
        columns.MoneyField().get_prep_value(value)


def test_a_quantity_is_kept_as_its_text_with_six_places():
    field = columns.QuantityField()
    assert field.get_prep_value(QUANTITY) == "1234567890.123456"
    assert field.get_prep_value("99999999999999.999999") == "99999999999999.999999"
    assert field.get_prep_value(Decimal("1E+3")) == "1000.000000"
    assert field.get_prep_value("0") == "0.000000"
    assert field.get_prep_value(Decimal("0E-100")) == "0.000000"
    assert field.get_prep_value(Decimal("1" + "0" * 300 + "E-300")) == "1.000000"
    assert field.from_db_value("0.5", None, None) == Decimal("0.500000")
    with pytest.raises(ValueError):
        field.get_prep_value("0.0000001")
    with pytest.raises(TypeError):
        field.get_prep_value(0.5)
