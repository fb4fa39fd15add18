"""Reads of the platforms app, for the API and the staff pages. Every read is scoped by the
platform asking: a token of one platform never sees another's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from voucher.applications.absent_rows import has_none
from voucher.core.precompiled import in_list_rows
from voucher.platforms import consumption, reconcile
from voucher.platforms.models import (
    ConsumptionAggregate,
    ConsumptionBatch,
    ContractReconciliation,
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


def batch_of(
    *, platform: Platform, batch_id: int, settlement: bool = False
) -> ConsumptionBatch | None:
    """One batch of the platform: a direction-3 consumption batch, or (`settlement`) a
    settlement batch attached to an applicant's contract."""
    return ConsumptionBatch.objects.filter(
        platform=platform, pk=batch_id, settles_application__isnull=not settlement
    ).first()


def contract_of(*, platform: Platform, uscc: str, contract_id: str) -> PlatformContract | None:
    return PlatformContract.objects.filter(
        platform=platform, enterprise_uscc=uscc, contract_id=contract_id
    ).first()


def screening_queue() -> QuerySet[Project]:
    return Project.objects.select_related(
        "platform", "screening", "screening__application"
    ).order_by("pk")


def delivery_lines_of(*, platform: Platform, uscc: str, contract_id: str) -> list[dict[str, str]]:
    """Delivery lines of one contract from every processed batch of the enterprise."""
    merged: dict[consumption.Key, consumption.Aggregate] = {}
    for row in d3_aggregates(platform=platform, uscc=uscc, contract_id=contract_id):
        key = (
            row.enterprise_uscc,
            row.contract_id,
            row.month,
            row.resource_type,
            row.device,
            row.unit,
        )
        merged.setdefault(key, consumption.Aggregate()).add(
            consumption.Aggregate(
                amount_fen=int(row.amount * 100),
                quantity_micro=int(row.quantity * Decimal(10**consumption.QUANTITY_PLACES)),
                outside_fen=int(row.outside_amount * 100),
                row_count=row.row_count,
                prorated_rows=row.prorated_rows,
                first_row=row.first_row,
                last_row=row.last_row,
                row_sum=row.row_sum,
                first_second=row.first_second,
                last_second=row.last_second,
            )
        )
    return consumption.delivery_lines(merged, uscc, contract_id)


def d3_aggregates(
    *, platform: Platform, uscc: str, contract_id: str
) -> QuerySet[ConsumptionAggregate]:
    """The aggregates of the processed consumption batches (not settlement) of one contract."""
    return ConsumptionAggregate.objects.filter(
        batch__platform=platform,
        batch__status=ConsumptionBatch.DONE,
        batch__settles_application__isnull=True,
        enterprise_uscc=uscc,
        contract_id=contract_id,
    ).order_by("pk")


def aggregate_rows(rows: Any) -> list[reconcile.AggregateRow]:
    return [
        reconcile.AggregateRow(
            id=row.pk,
            batch_id=row.batch_id,
            month=row.month,
            resource_type=row.resource_type,
            device=row.device,
            unit=row.unit,
            amount=row.amount,
            quantity=row.quantity,
            outside_amount=row.outside_amount,
            row_count=row.row_count,
            prorated_rows=row.prorated_rows,
            first_row=row.first_row,
            last_row=row.last_row,
        )
        for row in rows
    ]


def contract_figures(stored: PlatformContract) -> reconcile.ContractFigures:
    """A platform contract as the reconciliation reads it: total, terms, invoices, payments."""
    document = stored.document
    return reconcile.ContractFigures(
        contract_id=stored.contract_id,
        total_amount=Decimal(document["total_amount"]),
        lines=tuple(
            reconcile.ContractedLine(
                device=line.get("device", ""),
                unit=line["unit"],
                quantity=None if line.get("quantity") is None else Decimal(line["quantity"]),
                unit_price=None if line.get("unit_price") is None else Decimal(line["unit_price"]),
                source=f"terms[{index}]",
            )
            for index, line in enumerate(stored.terms or [])
        ),
        invoices=tuple(Decimal(i["amount"]) for i in document.get("invoices", [])),
        payments=tuple(Decimal(p["amount"]) for p in document.get("payments", [])),
    )


def d3_reconciliation(*, stored: PlatformContract) -> reconcile.Reconciliation:
    """Computed on demand from the stored aggregates."""
    rows = d3_aggregates(
        platform=stored.platform, uscc=stored.enterprise_uscc, contract_id=stored.contract_id
    )
    return reconcile.reconcile(contract_figures(stored), aggregate_rows(rows))


@dataclass
class SettlementView:
    """The settlement data of one of an applicant's contracts, compared with its declaration."""

    contract_id: str
    supplier: str
    batches: list[ConsumptionBatch] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return sum(1 for c in self.comparisons if c["flagged"])

    @property
    def pending(self) -> bool:
        """A batch still to be processed (otherwise no comparison means none counts)."""
        waiting = (ConsumptionBatch.QUEUED, ConsumptionBatch.RUNNING)
        return any(b.status in waiting for b in self.batches)


def settlement_of(application: Any) -> list[SettlementView]:
    """Per contract of `application`: its settlement batches and, from the processed ones, the
    comparison with the declared delivery lines (voucher.platforms.reconcile)."""
    if has_none(application, "settlement_batches"):  # the review screen asked: none
        return []
    batches = list(
        ConsumptionBatch.objects.filter(settles_application=application)
        .select_related("platform")
        .order_by("pk")
    )
    if not batches:
        return []
    out = []
    for contract in application.contracts.prefetch_related("deliveries"):
        mine = [b for b in batches if b.settles_contract_id == contract.contract_id]
        if not mine:
            continue
        done = [b.pk for b in mine if b.status == ConsumptionBatch.DONE]
        rows = ConsumptionAggregate.objects.filter(
            batch_id__in=done, contract_id=contract.contract_id
        ).order_by("month", "resource_type", "device", "unit", "pk")
        declared = [
            reconcile.DeclaredLine(
                index=index,
                start=line.start,
                end=line.end,
                service=line.service,
                device=line.device or "",
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for index, line in enumerate(contract.deliveries.all())
        ]
        comparisons = reconcile.compare_settlement(declared, aggregate_rows(rows)) if done else ()
        out.append(
            SettlementView(
                contract_id=contract.contract_id,
                supplier=contract.supplier_name,
                batches=mine,
                comparisons=[c.as_json() for c in comparisons],
            )
        )
    return out


def reconciliations_of(application: Any) -> list[ContractReconciliation]:
    """The reconciliations a direction-3 application was built with."""
    if has_none(application, "reconciliations"):  # the review screen asked: none
        return []
    return list(
        ContractReconciliation.objects.filter(application=application).order_by("contract_id")
    )


def _changed_of_query(application_ids: list[int]) -> QuerySet[Any]:
    """The screenings of `application_ids` in their order, each with its project's platform
    and enterprise and the latest change of that pair's data (platform_data_changed's three
    times: a batch processed or withdrawn, a contract saved), in one query."""
    pair = {
        "platform_id": OuterRef("project__platform_id"),
        "enterprise_uscc": OuterRef("project__enterprise_uscc"),
    }

    def latest(queryset: QuerySet[Any], **maximum: Any) -> Subquery:
        # the pair's one group: the greatest time, NULL without a row (as Max over none)
        return Subquery(
            queryset.filter(**pair)
            .order_by()
            .values("platform_id")
            .annotate(**maximum)
            .values(*maximum)
        )

    batches = ConsumptionBatch.objects.filter(settles_application__isnull=True)
    return (
        ShortlistEntry.objects.filter(application_id__in=application_ids)
        .annotate(
            done=latest(batches, done=Max("finished_at", filter=Q(status=ConsumptionBatch.DONE))),
            withdrawn=latest(batches, withdrawn=Max("withdrawn_at")),
            saved=latest(PlatformContract.objects.all(), saved=Max("updated_at")),
        )
        .order_by("pk")
        .values_list("application_id", "done", "withdrawn", "saved")
    )


def platform_data_changed_of(applications: Iterable[Any]) -> set[int]:
    """The ids of those of `applications` whose platform data changed (platform_data_changed of
    each) in one query however many there are (我的待办 lists a page of proposals)."""
    built = {a.pk: a.created_at for a in applications if getattr(a, "direction", None) == 3}
    if not built:
        return set()
    # its SQL compiled once per bucket length of the IN list (decision 0058: the ids padded by
    # the last one repeated, core.precompiled.in_list_rows), not written at each request
    rows = in_list_rows(
        "platforms.data_changed_of", ShortlistEntry, _changed_of_query, sorted(built)
    )
    seen: set[int] = set()
    changed = set()
    for application_id, *times in rows:
        if application_id in seen:  # the first screening of each, as .first() takes it
            continue
        seen.add(application_id)
        if any(t is not None and t > built[application_id] for t in times):
            changed.add(application_id)
    return changed


def platform_data_changed(application: Any) -> bool:
    """Whether the platform's data changed after `application` (direction 3) was built from it:
    a batch processed or withdrawn since, or a contract (its terms, invoices, payments) saved
    since. The application keeps the figures it was built with; the centre must build it again
    for the bureau to decide on the data as they are."""
    if getattr(application, "direction", None) != 3:
        return False
    if has_none(application, "shortlist_entries"):  # the review screen asked: none
        return False
    entry = ShortlistEntry.objects.filter(application=application).select_related("project").first()
    if entry is None:
        return False
    built = application.created_at
    project = entry.project
    batches = ConsumptionBatch.objects.filter(
        platform_id=project.platform_id,
        enterprise_uscc=project.enterprise_uscc,
        settles_application__isnull=True,
    )
    return (
        batches.filter(
            Q(status=ConsumptionBatch.DONE, finished_at__gt=built) | Q(withdrawn_at__gt=built)
        ).exists()
        or PlatformContract.objects.filter(
            platform_id=project.platform_id,
            enterprise_uscc=project.enterprise_uscc,
            updated_at__gt=built,
        ).exists()
    )
