"""A round of many applications, made quickly: copies of one imported and evaluated application
(its contracts, deliveries, invoices, payments and latest evaluation), each of its own
enterprise, spread over the bureau's states, some assigned, some with a resolution or a
proposed decision. For the tests that pin a page's query count at two sizes of round, and the
timing script (benchmarks/bench_review_pages.py)."""

from __future__ import annotations

from itertools import cycle
from typing import Any

from django.db.models import F
from django.utils import timezone

STATES = ("submitted", "formal_check", "in_review", "in_review", "approved", "rejected")


def copy_applications(template: Any, count: int, *, assignee: Any = None, proposer: Any = None):
    """`count` copies of `template` in its round; returns them (with their pks)."""
    from voucher.applications.models import (
        Application,
        Contract,
        Decision,
        Delivery,
        Enterprise,
        FindingResolution,
        Invoice,
        Payment,
        ReviewCase,
        StoredEvaluation,
    )

    latest = (
        StoredEvaluation.objects.filter(application=template, correction_in_progress=False)
        .order_by("-created_at", "-id")
        .first()
    )
    # the counts kept for the lists (none before they were kept: then the copies are as before)
    kept = {f.name for f in StoredEvaluation._meta.fields} >= {"bureau_latest", "review_open"}
    start = Application.objects.count() + Enterprise.objects.count()
    enterprises = Enterprise.objects.bulk_create(
        [
            Enterprise(uscc=f"9111{start + i:014d}", name=f"{template.applicant_name}（{i}）")
            for i in range(count)
        ]
    )
    states = cycle(STATES)
    made = [
        _clone(template, enterprise=e, applicant_name=e.name, state=next(states))
        for e in enterprises
    ]
    made = Application.objects.bulk_create(made)
    contracts = list(template.contracts.all())
    new_contracts = Contract.objects.bulk_create(
        [
            _clone(c, application=a, contract_id=f"{c.contract_id}-{a.pk}")
            for a in made
            for c in contracts
        ]
    )
    by_old: dict[int, list[Any]] = {c.pk: [] for c in contracts}
    for n, c in enumerate(new_contracts):
        by_old[contracts[n % len(contracts)].pk].append(c)
    for model in (Delivery, Invoice, Payment):
        rows = []
        for item in model.objects.filter(contract__in=contracts):
            for target in by_old[item.contract_id]:
                extra = {"number": f"{item.number}-{target.pk}"} if model is Invoice else {}
                rows.append(_clone(item, contract=target, **extra))
        model.objects.bulk_create(rows)
    if latest is not None:
        evaluations = StoredEvaluation.objects.bulk_create(
            [
                _clone(
                    latest,
                    application=a,
                    correction_in_progress=False,
                    **({"bureau_latest": True} if kept else {}),
                )
                for a in made
            ]
        )
        reviews = [f for f in latest.findings if f["status"] == "review"]
        if reviews and assignee is not None:
            FindingResolution.objects.bulk_create(
                [
                    FindingResolution(
                        application=e.application,
                        evaluation=e,
                        rule=reviews[0]["rule"],
                        contract=reviews[0].get("contract") or "",
                        resolution="accept",
                        reason="ok",
                        resolved_by=assignee,
                    )
                    for e in evaluations[::3]
                ]
            )
            if kept:
                StoredEvaluation.objects.filter(pk__in=[e.pk for e in evaluations[::3]]).update(
                    review_open=F("review_open") - 1
                )
    if assignee is not None:
        ReviewCase.objects.bulk_create(
            [ReviewCase(application=a, assignee=assignee) for a in made[::2]]
        )
    if proposer is not None and latest is not None:
        Decision.objects.bulk_create(
            [
                Decision(
                    application=a,
                    evaluation=e,
                    kind="approval",
                    amount=e.approved_max,
                    approved_max_at_decision=e.approved_max,
                    reasons=[],
                    proposed_by=proposer,
                )
                for a, e in zip(made, evaluations, strict=True)
                if a.state == "in_review"
            ][::2]
            + [
                Decision(
                    application=a,
                    evaluation=e,
                    kind="approval",
                    amount=e.approved_max,
                    approved_max_at_decision=e.approved_max,
                    reasons=[],
                    proposed_by=proposer,
                    status="confirmed",
                    confirmed_by=assignee,
                    confirmed_at=timezone.now(),
                )
                for a, e in zip(made, evaluations, strict=True)
                if a.state == "approved"
            ]
        )
    return made


def _clone(obj: Any, **changes: Any) -> Any:
    fields = {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if not f.primary_key and f.attname not in {f"{k}_id" for k in changes}
    }
    fields.update(changes)
    return type(obj)(**fields)
