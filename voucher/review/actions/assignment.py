"""Assigning an application to a reviewer, and answering the findings of its evaluation."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ReviewError, lock, require
from voucher.applications.models import (
    Application,
    FindingResolution,
    ReviewCase,
    StoredEvaluation,
)
from voucher.applications.notify import notify_after_commit
from voucher.applications.selectors import latest_evaluation
from voucher.core.audit import audit


def application_assign(*, application: Application, assignee: Any, acting_user: Any) -> ReviewCase:
    """Hand an application to a colleague; the colleague is told by e-mail after commit."""
    with transaction.atomic():
        locked = lock(application)  # two people taking it at once: the second sees the first
        existing = ReviewCase.objects.filter(application=locked).select_related("assignee").first()
        current = existing.assignee if existing is not None else None
        require(p.can_assign(acting_user, assignee, locked, current))
        if existing is not None and current is not None and current.pk == assignee.pk:
            return existing  # already theirs: nothing to write, nobody to tell again
        case, _created = ReviewCase.objects.update_or_create(
            application=locked, defaults={"assignee": assignee, "assigned_at": timezone.now()}
        )
        audit(
            actor=acting_user,
            action="application_assign",
            obj=locked,
            data={"assignee": assignee.get_username()},
        )
        notify_after_commit(
            event="staff:assign",
            recipients=[assignee.email],
            subject=f"分配给您的申报：{locked.reference}",
            body=f"{locked.applicant_name} 的申报 {locked.reference} 已分配给您审核。",
            application=locked,
        )
    return case


def finding_resolve(
    *,
    application: Application,
    rule: str,
    contract: str | None,
    resolution: str,
    reason: str,
    acting_user: Any,
) -> FindingResolution:
    """Answer one `review` finding of the latest evaluation, with the reason on record."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("请填写处理理由"))
    if resolution not in ("accept", "reject"):
        raise ReviewError(_("处理结果只能是认可或不认可"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_resolve_finding(acting_user, locked))
        evaluation = latest_evaluation(locked)
        if evaluation is None:
            raise ReviewError(_("该申报尚未评估"))
        finding = next(
            (
                f
                for f in evaluation.findings
                if f["rule"] == rule and (f.get("contract") or "") == (contract or "")
            ),
            None,
        )
        if finding is None or finding["status"] != "review":
            raise ReviewError(
                _("最新评估中没有待审核项 %(rule)s") % {"rule": f"{rule} {contract or ''}".strip()}
            )
        resolved, created = FindingResolution.objects.update_or_create(
            evaluation=evaluation,
            rule=rule,
            contract=contract or "",
            defaults={
                "application": locked,
                "resolution": resolution,
                "reason": reason,
                "resolved_by": acting_user,
            },
        )
        # the count the lists show: its review findings less those answered (the first answer
        # of a finding lowers it; answering it again changes nothing)
        reviews = sum(1 for f in evaluation.findings if f["status"] == "review")
        answered = FindingResolution.objects.filter(evaluation=evaluation).count()
        StoredEvaluation.objects.filter(pk=evaluation.pk).update(
            review_open=max(0, reviews - answered)
        )
        audit(
            actor=acting_user,
            action="finding_resolve",
            obj=locked,
            data={
                "evaluation": evaluation.pk,
                "rule": rule,
                "contract": contract,
                "resolution": resolution,
                "reason": reason,
                "changed": not created,
            },
        )
    return resolved
