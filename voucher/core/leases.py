"""Rows taken under a lease by one worker among several (the jobs' queue, the documents' queue).

A row is takeable when queued, or running under a lease that ran out (its worker was killed).
It is claimed with SKIP LOCKED where the database has it, else with a conditional UPDATE keyed by
its attempt number (SQLite); an outcome is stored only if the attempt is still the worker's own.
The model needs `state` (its QUEUED and RUNNING values), `leased_until`, `leased_by`, `attempts`
and `finished_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

Row = TypeVar("Row", bound=models.Model)


def takeable(model: type[models.Model], now: datetime) -> Q:
    """Queued, or running under a lease that ran out (its worker was killed)."""
    return Q(state=model.QUEUED) | Q(state=model.RUNNING, leased_until__lt=now)  # type: ignore[attr-defined]


def claim(queryset: models.QuerySet[Row], now: datetime, claimed: dict[str, Any]) -> Row | None:
    """Take one row of `queryset` under a lease: the oldest queued, else the oldest whose lease ran
    out; `claimed` (state, lease, worker…) is stored on it and its attempt number goes up by one."""
    model = queryset.model
    candidates = queryset.filter(takeable(model, now))
    order = (Case(When(state=model.QUEUED, then=Value(0)), default=Value(1)), "pk")  # type: ignore[attr-defined]
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            row = candidates.select_for_update(skip_locked=True).order_by(*order).first()
            if row is None:
                return None
            for field, value in claimed.items():
                setattr(row, field, value)
            row.attempts += 1  # type: ignore[attr-defined]
            row.save(update_fields=[*claimed, "attempts"])
        return row
    for found in candidates.order_by(*order)[:20]:
        taken = model._default_manager.filter(
            takeable(model, now),
            pk=found.pk,
            attempts=found.attempts,  # type: ignore[attr-defined]
        ).update(attempts=F("attempts") + 1, **claimed)
        if taken:
            return model._default_manager.get(pk=found.pk)
    return None


def finish(row: models.Model, **fields: Any) -> bool:
    """Store the outcome of attempt `row.attempts`, if the row is still this worker's."""
    model = type(row)
    fields |= {"finished_at": timezone.now(), "leased_until": None}
    done = model._default_manager.filter(
        pk=row.pk,
        state=model.RUNNING,  # type: ignore[attr-defined]
        attempts=row.attempts,  # type: ignore[attr-defined]
    ).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)
    return done == 1
