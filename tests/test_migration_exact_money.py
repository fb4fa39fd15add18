"""Migrations applications 0007 and platforms 0006 (voucher.core.columns): every stored amount
becomes its whole fen and every quantity its text, the same figures read back; and back again.
Rows whose CHECK constraints compare two amounts (a decision below its maximum, a price band)
pass through: the constraints are set aside while the amounts are converted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .conftest import application_from
from .review_support import make_staff, propose

BEFORE = [
    ("applications", "0006_move_lifecycle_to_core"),
    ("platforms", "0005_shortlist_entries_of_application"),
]


def _latest():
    """Forwards again to every app's latest migration (later migrations add columns the models
    read, and the next tests need the whole schema back)."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _figures(models) -> dict[str, list[tuple]]:
    """Every amount and quantity of the tables the migrations convert, by row."""
    read = {
        ("applications", "Application"): ["requested_amount"],
        ("applications", "Contract"): ["total_amount"],
        ("applications", "Delivery"): ["amount", "quantity", "unit_price"],
        ("applications", "Invoice"): ["amount"],
        ("applications", "Payment"): ["amount"],
        ("applications", "OtherSubsidy"): ["amount"],
        ("applications", "StoredEvaluation"): ["computed", "cap", "requested", "approved_max"],
        ("applications", "Decision"): ["amount", "approved_max_at_decision"],
        ("applications", "UnitPriceBand"): ["minimum", "maximum"],
        ("platforms", "ConsumptionAggregate"): ["amount", "quantity", "outside_amount"],
    }
    return {
        name: list(models.get_model(app, name).objects.order_by("pk").values_list("pk", *fields))
        for (app, name), fields in read.items()
    }


@pytest.mark.django_db(transaction=True)
def test_amounts_become_whole_fen_and_quantities_text_with_the_same_figures(
    demo_data, django_user_model
):
    from django.apps import apps

    from voucher.applications.models import UnitPriceBand
    from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch, Platform

    application = application_from("d2-threshold-exact")
    staff = make_staff(django_user_model, "proposer", None)
    decision = propose(application, staff)  # amount = approved maximum, no reason: compared
    assert decision.amount > 0
    UnitPriceBand.objects.create(
        round=application.round,
        device="H800",
        device_key="h800",
        unit="card-hour",
        minimum=Decimal("10.50"),
        maximum=Decimal("20.00"),
        note="市场价",
        created_by=staff,
    )
    application.contracts.order_by("pk").first().other_subsidies.create(
        level="district", policy="区级算力补贴", amount=Decimal("0.07"), status="granted"
    )
    platform = Platform.objects.create(code="p", name="p")
    batch = ConsumptionBatch.objects.create(
        platform=platform, enterprise_uscc="-", idempotency_key="k", file_sha256="-", file_size=0
    )
    ConsumptionAggregate.objects.create(
        batch=batch,
        enterprise_uscc="-",
        contract_id="C",
        month="2025-10",
        resource_type="compute",
        unit="card-hour",
        amount=Decimal("9999999999999.99"),  # 15 digits: what a float column kept exactly
        quantity=Decimal("12345678.123456"),
        outside_amount=Decimal("0.01"),
        row_count=1,
        prorated_rows=0,
        first_row=1,
        last_row=1,
        row_sum=1,
    )
    now = _figures(apps)
    assert [name for name, rows in now.items() if not rows] == []

    old = _migrate(BEFORE)  # backwards: fen to yuan, text to decimal
    assert _figures(old) == now
    delivery = old.get_model("applications", "Delivery").objects.order_by("pk").first()
    old.get_model("applications", "Delivery").objects.filter(pk=delivery.pk).update(
        amount=Decimal("1234.56"), quantity=Decimal("0.5")
    )
    changed = _figures(old)

    new = _migrate(_latest())
    assert _figures(new) == _figures(apps) == changed
    with connection.cursor() as cursor:  # the columns hold fen and text
        cursor.execute(
            "SELECT amount, quantity FROM applications_delivery WHERE id = %s", [delivery.pk]
        )
        assert cursor.fetchone() == (123456, "0.500000")
    band = UnitPriceBand.objects.get()
    assert (band.minimum, band.maximum) == (Decimal("10.50"), Decimal("20.00"))
    assert str(ConsumptionAggregate.objects.get().amount) == "9999999999999.99"
