"""What an application has no rows of, asked in one query before a page reads them.

The review screen reads a dozen lists that most applications have nothing in: an application in
review has no decision, payment, clawback or 公示 list yet, a direction-3 one no materials, few
have a registry extract, a supplement request or a settlement batch. Each read costs the ORM
about 0.3 ms of CPU (compiling the query, asking, making nothing of no rows) whether or not a row
comes back (issue 23). `note_absent_rows` asks for all of them at once which have no row and
keeps the answer on the application; a reader of one of them asks `has_none` first and skips its
query, and reads as before when nothing was noted (every other page).

The answer is as of the query: a row written later in the same request (by another request) is
not seen, as a list read a moment earlier would not see it either.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import router
from django.db.models import Exists, QuerySet, prefetch_related_objects

from voucher.applications.models import (
    Application,
    Clawback,
    CrossFindingResolution,
    Decision,
    FindingResolution,
    LineConfirmation,
    MaterialCheck,
    MaterialFile,
    OtherSubsidy,
    PaymentRecord,
    PublicityList,
    RegistryOfficer,
    RegistryShareholding,
    Snapshot,
    SupplementRequest,
    SupplierAttestation,
)
from voucher.core import precompiled

# An id no application has: the query is written by the ORM once with it, then asked with the
# application's id in its place.
_SENTINEL = -7_230_023


def _asked(application_id: Any) -> dict[str, QuerySet[Any]]:
    """Each kind of row, by the name its readers ask `has_none` about: most are the reverse
    relation of that name; those of the platforms app (which this app does not import) are
    reached through the relation."""

    def related(name: str) -> QuerySet[Any]:
        relation = Application._meta.get_field(name)
        return relation.related_model._default_manager.filter(
            **{relation.field.name: application_id}
        )

    return {
        # the document's relations (DOCUMENT_PREFETCH) that are often empty
        "shareholdings": RegistryShareholding.objects.filter(application=application_id),
        "officers": RegistryOfficer.objects.filter(application=application_id),
        "contracts__other_subsidies": OtherSubsidy.objects.filter(
            contract__application=application_id
        ),
        # the review's records
        "resolutions": FindingResolution.objects.filter(application=application_id),
        "cross_resolutions": CrossFindingResolution.objects.filter(application=application_id),
        "decisions": Decision.objects.filter(application=application_id),
        "supplement_requests": SupplementRequest.objects.filter(application=application_id),
        "payment_records": PaymentRecord.objects.filter(application=application_id),
        "clawbacks": Clawback.objects.filter(application=application_id),
        "publicity_lists": PublicityList.objects.filter(applications=application_id),
        # a version resubmitted after 补正 (what the screen's diff compares)
        "resubmissions": Snapshot.objects.filter(application=application_id, transition="resubmit"),
        # the materials and their checklist
        "material_files": MaterialFile.objects.filter(application=application_id),
        "material_checks": MaterialCheck.objects.filter(application=application_id),
        # the suppliers' words and declarations on its contracts
        "supplier_words": LineConfirmation.objects.filter(contract__application=application_id),
        "supplier_attestations": SupplierAttestation.objects.filter(
            contract__application=application_id
        ),
        # the platforms' records of it (direction 3's screening and reconciliations, the
        # settlement batches of other directions' contracts)
        "shortlist_entries": related("shortlist_entries"),
        "reconciliations": related("reconciliations"),
        "settlement_batches": related("settlement_batches"),
    }


def _probe(application_id: int) -> QuerySet[Any]:
    """One row: for each kind of `_asked`, whether the application has a row of it."""
    return (
        Application.objects.filter(pk=application_id)
        .order_by()
        .values_list(*(Exists(rows) for rows in _asked(application_id).values()))
    )


# its SQL written once per process (compiling is most of a query's cost); its columns in the
# order of _asked's names, read as the driver returns them (a boolean, SQLite's 0 or 1)
_PROBE = precompiled.CompiledQuery(_probe, _SENTINEL, convert=False)


@cache
def _names() -> tuple[str, ...]:
    return tuple(_asked(_SENTINEL))


def note_absent_rows(application: Application) -> frozenset[str]:
    """Which kinds of row (`_asked`) `application` has none of, in one query; kept on it for
    `has_none`."""
    alias = router.db_for_read(Application, instance=application)
    rows = _PROBE.rows(alias, application.pk)
    # the application gone (no row): nothing is known to be absent
    absent = frozenset(
        name for row in rows for name, has in zip(_names(), row, strict=True) if not has
    )
    application.absent_rows = absent  # type: ignore[attr-defined]
    return absent


def has_none(application: Any, name: str) -> bool:
    """Whether `note_absent_rows` found that `application` has no row of `name`; False when it
    was not asked (the reader reads)."""
    return name in getattr(application, "absent_rows", ())


def prefetch_known(instances: list[Any], lookups: tuple[str, ...]) -> None:
    """`prefetch_related_objects(instances, *lookups)`, but a lookup `has_none` answers for
    (each instance having none) is set as fetched and empty instead of asked: the relation
    then reads as a prefetched one does (`.all()`, no query), and a filter on it still asks."""
    empty = [
        lookup for lookup in lookups if all(has_none(instance, lookup) for instance in instances)
    ]
    prefetch_related_objects(instances, *(x for x in lookups if x not in empty))
    for lookup in empty:
        *through, last = lookup.split("__")
        holders = instances
        for step in through:  # fetched by the lookups before (contracts__…)
            holders = [held for holder in holders for held in getattr(holder, step).all()]
        for holder in holders:
            _fetched_empty(holder, last)


def _fetched_empty(instance: Any, relation: str) -> None:
    """What prefetch_related_objects leaves on `instance` for a reverse relation with no rows:
    the manager's own queryset (filtered to the instance) holding none, under the relation's
    name (Django's prefetch_one_level does the same for a relation it asked)."""
    queryset = getattr(instance, relation).get_queryset()
    queryset._result_cache = []
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[relation] = queryset
