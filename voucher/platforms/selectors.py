"""Reads of the platforms app, for the API and the staff pages. Every read is scoped by the
platform asking: a token of one platform never sees another's rows."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from voucher.platforms import consumption
from voucher.platforms.models import (
    ConsumptionAggregate,
    ConsumptionBatch,
    Platform,
    PlatformContract,
    Project,
    ShortlistEntry,
)


def projects_of(*, platform: Platform) -> QuerySet[Project]:
    return Project.objects.filter(platform=platform).order_by("pk")


def shortlist_of(*, platform: Platform) -> QuerySet[ShortlistEntry]:
    return (
        ShortlistEntry.objects.filter(project__platform=platform, decision=ShortlistEntry.LISTED)
        .select_related("project")
        .order_by("pk")
    )


def batch_of(*, platform: Platform, batch_id: int) -> ConsumptionBatch | None:
    return ConsumptionBatch.objects.filter(platform=platform, pk=batch_id).first()


def contract_of(*, platform: Platform, uscc: str, contract_id: str) -> PlatformContract | None:
    return PlatformContract.objects.filter(
        platform=platform, enterprise_uscc=uscc, contract_id=contract_id
    ).first()


def screening_queue() -> QuerySet[Project]:
    return Project.objects.select_related("platform", "screening").order_by("pk")


def delivery_lines_of(*, platform: Platform, uscc: str, contract_id: str) -> list[dict[str, str]]:
    """Delivery lines of one contract from every processed batch of the enterprise."""
    merged: dict[consumption.Key, consumption.Aggregate] = {}
    for row in ConsumptionAggregate.objects.filter(
        batch__platform=platform,
        batch__status=ConsumptionBatch.DONE,
        enterprise_uscc=uscc,
        contract_id=contract_id,
    ).order_by("pk"):
        key = (
            row.enterprise_uscc,
            row.contract_id,
            row.month,
            row.resource_type,
            row.device,
            row.unit,
        )
        aggregate = merged.setdefault(key, consumption.Aggregate())
        aggregate.amount_fen += int(row.amount * 100)
        aggregate.quantity_micro += int(row.quantity * Decimal(10**consumption.QUANTITY_PLACES))
        aggregate.outside_fen += int(row.outside_amount * 100)
        aggregate.add_rows(
            count=row.row_count, first=row.first_row, last=row.last_row, total=row.row_sum
        )
        aggregate.add_span(row.first_second, row.last_second)
    return consumption.delivery_lines(merged, uscc, contract_id)
