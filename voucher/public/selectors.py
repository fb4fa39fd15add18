"""What the public publicity page shows: the lists in their period, and the outcome of those whose
period ended lately. Per application only what 公示 publishes: the enterprise's name, the direction,
the project and the amount approved; nothing of the evaluation, the contacts or the materials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch

from voucher.applications.models import (
    CONFIRMED,
    Application,
    Decision,
    Objection,
    PublicityList,
)

# How long an ended period's outcome stays on the page.
OUTCOME_DAYS = 90


@dataclass(frozen=True)
class PublicEntry:
    application_id: int
    enterprise: str
    direction: int
    project: str
    amount: Decimal | None
    objections: int
    objections_open: int

    @property
    def outcome(self) -> str:
        if not self.objections:
            return "none"
        return "open" if self.objections_open else "resolved"


@dataclass(frozen=True)
class PublicList:
    starts_on: date
    ends_on: date
    entries: tuple[PublicEntry, ...]


def _entries(publicity: PublicityList) -> tuple[PublicEntry, ...]:
    entries = []
    for application in publicity.applications.all():
        decisions = [d for d in application.decisions.all() if d.kind == "approval"]
        objections = list(application.objections.all())
        entries.append(
            PublicEntry(
                application_id=application.pk,
                enterprise=application.applicant_name or application.enterprise.name,
                direction=application.direction,
                project=application.project_name,
                amount=decisions[0].amount if decisions else None,
                objections=len(objections),
                objections_open=sum(1 for o in objections if o.resolved_at is None),
            )
        )
    return tuple(sorted(entries, key=lambda e: (e.direction, e.enterprise, e.application_id)))


def _lists(query) -> list[PublicList]:  # type: ignore[no-untyped-def]
    query = query.prefetch_related(
        Prefetch(
            "applications",
            queryset=Application.objects.select_related("enterprise").prefetch_related(
                Prefetch(
                    "decisions",
                    queryset=Decision.objects.filter(status=CONFIRMED).order_by(
                        "-confirmed_at", "-id"
                    ),
                ),
                Prefetch(
                    "objections",
                    queryset=Objection.objects.only("id", "resolved_at", "application_id"),
                ),
            ),
        )
    )
    return [PublicList(p.starts_on, p.ends_on, _entries(p)) for p in query]


def publicity_now(today: date) -> list[PublicList]:
    """The lists in their period today (objections are taken)."""
    return _lists(
        PublicityList.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by(
            "ends_on", "id"
        )
    )


def publicity_outcomes(today: date) -> list[PublicList]:
    """The lists whose period ended in the last OUTCOME_DAYS days: 公示结果."""
    return _lists(
        PublicityList.objects.filter(
            ends_on__lt=today, ends_on__gte=today - timedelta(days=OUTCOME_DAYS)
        ).order_by("-ends_on", "-id")
    )


def open_for_objection(application_id: int, today: date) -> Application | None:
    """The application, when a list in its period today holds it; else None (no objection)."""
    return (
        Application.objects.select_related("enterprise")
        .filter(
            pk=application_id,
            publicity_lists__starts_on__lte=today,
            publicity_lists__ends_on__gte=today,
        )
        .first()
    )
