"""Reads of the bureau's API: plain dicts in the shape of the API's schemas."""

from __future__ import annotations

from typing import Any

from voucher.applications import selectors as app_selectors
from voucher.applications.models import (
    PROPOSED,
    Application,
    Decision,
    FindingResolution,
    ReviewCase,
)
from voucher.applications.selectors import latest_evaluation
from voucher.applications.states import STATE_CHOICES
from voucher.review.crosscheck import CrossItem, cross_items
from voucher.staffapi.models import StaffApiToken

STATE_LABELS = dict(STATE_CHOICES)


def tokens_of(user: Any) -> list[StaffApiToken]:
    return list(StaffApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def application_or_none(application_id: int) -> Application | None:
    return (
        Application.objects.select_related("round", "enterprise")
        .exclude(state="draft")
        .filter(pk=application_id)
        .first()
    )


def decision_or_none(decision_id: int) -> Decision | None:
    return Decision.objects.select_related("application").filter(pk=decision_id).first()


def _username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def decision_out(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.pk,
        "application_id": decision.application_id,
        "evaluation_id": decision.evaluation_id,
        "kind": decision.kind,
        "status": decision.status,
        "amount": decision.amount,
        "approved_max_at_decision": decision.approved_max_at_decision,
        "lowered_reason": decision.lowered_reason,
        "reasons": decision.reasons,
        "proposed_by": _username(decision.proposed_by),
        "proposed_at": decision.proposed_at,
        "confirmed_by": _username(decision.confirmed_by),
        "confirmed_at": decision.confirmed_at,
    }


def application_out(application: Application) -> dict[str, Any]:
    """The application with its stored (latest) evaluation as the engine gave it, the
    reviewers' resolutions of its `review` findings, its cross-application findings (review
    items too) with theirs, and its decisions."""
    evaluation = latest_evaluation(application)
    resolutions = (
        FindingResolution.objects.filter(evaluation=evaluation).select_related("resolved_by")
        if evaluation is not None
        else FindingResolution.objects.none()
    )
    decisions = list(
        Decision.objects.filter(application=application)
        .select_related("proposed_by", "confirmed_by")
        .order_by("proposed_at", "id")
    )
    case = ReviewCase.objects.filter(application=application).select_related("assignee").first()
    return {
        "id": application.pk,
        "reference": application.reference,
        "applicant_name": application.applicant_name,
        "uscc": application.enterprise.uscc,
        "direction": application.direction,
        "state": application.state,
        "state_label": STATE_LABELS.get(application.state, application.state),
        "version": application.version,
        "requested_amount": application.requested_amount,
        "assignee": _username(case.assignee) if case is not None else "",
        "evaluation": None
        if evaluation is None
        else {
            "id": evaluation.pk,
            "engine_version": evaluation.engine_version,
            "outcome": evaluation.outcome,
            "outcome_label": app_selectors.outcome_label(evaluation.outcome),
            "computed": evaluation.computed,
            "cap": evaluation.cap,
            "requested": evaluation.requested,
            "approved_max": evaluation.approved_max,
            "findings": evaluation.findings,
            "contracts": evaluation.contracts,
            "missing_materials": evaluation.missing_materials,
            "created_at": evaluation.created_at,
        },
        "resolutions": [
            {
                "rule": x.rule,
                "contract": x.contract,
                "resolution": x.resolution,
                "reason": x.reason,
                "resolved_by": _username(x.resolved_by),
            }
            for x in resolutions
        ],
        "cross_findings": [cross_finding_out(item) for item in cross_items(application)],
        "decisions": [decision_out(d) for d in decisions],
        "open_proposal_id": next((d.pk for d in decisions if d.status == PROPOSED), None),
    }


def cross_finding_out(item: CrossItem) -> dict[str, Any]:
    """One cross-application finding of the application, a review item, with its resolution."""
    finding, resolution = item.finding, item.resolution
    return {
        "key": item.key,
        "rule": finding.check,
        "clause": finding.clause,
        "message": finding.message,
        "applications": list(finding.applications),
        "references": list(finding.references),
        "identity": item.identity,
        "resolution": None
        if resolution is None
        else {
            "resolution": resolution.resolution,
            "reason": resolution.reason,
            "resolved_by": _username(resolution.resolved_by),
            "resolved_at": resolution.resolved_at,
        },
    }


def cross_finding_or_none(application: Application, key: str) -> dict[str, Any] | None:
    return next(
        (cross_finding_out(item) for item in cross_items(application) if item.key == key), None
    )


def contact_out(application: Application) -> dict[str, Any]:
    return {
        "application_id": application.pk,
        "contact_name": application.contact_name,
        "contact_mobile": application.contact_mobile,
        "contact_email": application.contact_email,
        "contact_address": application.contact_address,
    }
