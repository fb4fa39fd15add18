"""The writes of the registry app: import files, sweep a round. One transaction, one audit row."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.db import transaction

from voucher.applications.models import Application
from voucher.core.audit import audit
from voucher.policy.format import Officer, Role, Shareholding
from voucher.policy.round import get_round
from voucher.registry.importer import ImportReport, Source, import_directory, import_tables
from voucher.registry.models import ImportRun, SweepResult, SweepRun
from voucher.registry.queries import relation
from voucher.registry.store import StoredRegistry, StoredRelatedParties


def _record_import(report: ImportReport, acting_user: Any) -> ImportRun:
    run = ImportRun.objects.create(
        user=acting_user.get_username() if acting_user is not None else "",
        files=report.files,
        counts=report.counts,
        error_count=report.error_count,
        errors=[e.as_dict() for e in report.errors],
    )
    audit(
        actor=acting_user,
        action="registry_import",
        obj=run,
        data={"files": report.files, "counts": report.counts, "errors": report.error_count},
    )
    return run


def registry_import_directory(*, directory: Path, acting_user: Any = None) -> ImportRun:
    with transaction.atomic():
        return _record_import(import_directory(directory), acting_user)


def registry_import_sources(*, sources: dict[str, Source], acting_user: Any = None) -> ImportRun:
    with transaction.atomic():
        return _record_import(import_tables(sources), acting_user)


# --- the round-wide sweep ------------------------------------------------------------------


@dataclass(frozen=True)
class PairGroup:
    """One application: its applicant, its suppliers and its inline registry extract."""

    applicant: str
    suppliers: Sequence[str]
    application_id: int | None = None
    reference: str = ""
    shareholdings: Sequence[Shareholding] = ()
    officers: Sequence[Officer] = ()


def round_pair_groups(round_code: str) -> list[PairGroup]:

    groups = []
    applications = (
        Application.objects.filter(round__code=round_code)
        .select_related("enterprise", "round")
        .prefetch_related("contracts", "shareholdings", "officers")
        .order_by("id")
    )
    for app in applications:
        groups.append(
            PairGroup(
                applicant=app.enterprise.uscc,
                suppliers=list(dict.fromkeys(c.supplier_uscc for c in app.contracts.all())),
                application_id=app.pk,
                reference=app.reference,
                shareholdings=[
                    Shareholding.model_construct(holder=s.holder, held=s.held, ratio=s.ratio)
                    for s in app.shareholdings.all()
                ],
                officers=[
                    Officer.model_construct(
                        person=o.person, company=o.company, role=cast(Role, o.role)
                    )
                    for o in app.officers.all()
                ],
            )
        )
    return groups


def _key(r: SweepResult) -> tuple[int | None, str, str]:
    return (r.application_id, r.applicant, r.supplier)


def sweep_groups(
    *, round_code: str, groups: Iterable[PairGroup], excluded: frozenset[str] | None = None
) -> tuple[SweepRun, int]:
    """Check every pair of the groups, store the results; return the run and the pairs gone."""
    started = time.perf_counter()
    if excluded is None:
        excluded = get_round(round_code).state_asset_holders
    registry = StoredRegistry()
    previous_run = SweepRun.objects.filter(round_code=round_code).order_by("-id").first()
    previous = (
        {
            _key(r): (r.equity, r.personnel, r.paths)
            for r in previous_run.results.only(
                "application_id", "applicant", "supplier", "equity", "personnel", "paths"
            )
        }
        if previous_run
        else {}
    )
    with transaction.atomic():
        run = SweepRun.objects.create(round_code=round_code)
        results: list[SweepResult] = []
        for chunk, index in _indexes(registry, groups):
            for g in chunk:
                results += _check_group(run, g, index, excluded, previous, previous_run)
        SweepResult.objects.bulk_create(results, batch_size=2000)
        run.pairs = len(results)
        run.changed = sum(1 for r in results if r.change)
        run.seconds = Decimal(f"{time.perf_counter() - started:.3f}")
        run.save(update_fields=["pairs", "changed", "seconds"])
    return run, len(previous)


SWEEP_CHUNK = 100  # applications whose related-party view is fetched in one query


def _indexes(
    registry: StoredRegistry, groups: Iterable[PairGroup]
) -> Iterator[tuple[list[PairGroup], StoredRelatedParties]]:
    """One view for up to SWEEP_CHUNK applications without an inline extract (the upward
    closure of all their companies holds each one's); an inline extract gets a view of its own,
    so that what one application declares never counts for another."""
    chunk: list[PairGroup] = []
    for g in groups:
        if g.shareholdings or g.officers:
            yield (
                [g],
                registry.related_parties([g.applicant, *g.suppliers], g.shareholdings, g.officers),
            )
            continue
        chunk.append(g)
        if len(chunk) == SWEEP_CHUNK:
            yield from _views(registry, chunk)
            chunk = []
    if chunk:
        yield from _views(registry, chunk)


def _shared_view(registry: StoredRegistry, chunk: list[PairGroup]) -> StoredRelatedParties:
    companies = list(dict.fromkeys(c for g in chunk for c in (g.applicant, *g.suppliers)))
    return registry.related_parties(companies)


def _views(
    registry: StoredRegistry, chunk: list[PairGroup]
) -> Iterator[tuple[list[PairGroup], StoredRelatedParties]]:
    shared = _shared_view(registry, chunk)
    if not shared.truncated:
        yield chunk, shared
        return
    for g in chunk:  # together too big for the bound: one view each, as the engine does
        yield [g], registry.related_parties([g.applicant, *g.suppliers])


def _check_group(
    run: SweepRun,
    g: PairGroup,
    index: StoredRelatedParties,
    excluded: frozenset[str],
    previous: dict[tuple[int | None, str, str], tuple[str, str, list[list[str]]]],
    previous_run: SweepRun | None,
) -> list[SweepResult]:
    results = []
    for supplier in g.suppliers:
        rel = relation(g.applicant, supplier, excluded=excluded, index=index)
        result = SweepResult(
            run=run,
            application_id=g.application_id,
            reference=g.reference,
            applicant=g.applicant,
            supplier=supplier,
            equity=rel.equity,
            personnel=rel.personnel,
            paths=rel.paths,
            persons=[p for p, _, _ in rel.persons],
        )
        before = previous.pop(_key(result), None)
        if before is None:
            result.change = "new" if previous_run else ""
        elif before != (result.equity, result.personnel, result.paths):
            result.change = "changed"
        results.append(result)
    return results


def registry_sweep_round(*, round_code: str, acting_user: Any = None) -> tuple[SweepRun, int]:
    """Every (applicant, supplier) pair of the round against the stored registry, as of now."""
    run, gone = sweep_groups(round_code=round_code, groups=round_pair_groups(round_code))
    audit(
        actor=acting_user,
        action="registry_sweep_round",
        obj=run,
        data={"round": round_code, "pairs": run.pairs, "changed": run.changed, "gone": gone},
    )
    return run, gone
