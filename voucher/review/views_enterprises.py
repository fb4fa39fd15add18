"""企业 in the review area: the enterprises, and the four-eyes correction of one's USCC or name
(issue 21 item 3; review/actions/enterprises.py). Every staff role reads; who may propose and who
may approve the actions ask (permissions.can_*_enterprise_correction)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified_by
from voucher.applications.models import (
    CORRECTION_PENDING,
    Application,
    Enterprise,
    EnterpriseCorrection,
)
from voucher.applications.states import DRAFT
from voucher.core.refusals import HTTP_STATUS, Refused
from voucher.review import actions

LIST_LIMIT = 100

enterprises_door = staff_verified_by(p.can_view_enterprises)


def _errors(refused: Refused, default: str) -> dict[str, str]:
    return {refused.field or default: str(refused.message)}


@enterprises_door
@require_GET
def enterprises(request: HttpRequest) -> HttpResponse:
    q = " ".join(request.GET.get("q", "").split())
    rows = Enterprise.objects.annotate(members=Count("memberships", distinct=True))
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
    pending = (
        EnterpriseCorrection.objects.filter(status=CORRECTION_PENDING)
        .select_related("enterprise", "proposed_by")
        .order_by("proposed_at", "id")
    )
    return render(
        request,
        "review/enterprises.html",
        {
            "q": q,
            "rows": list(rows.order_by("name", "id")[:LIST_LIMIT]),
            "limit": LIST_LIMIT,
            "pending": list(pending),
        },
    )


@enterprises_door
@require_http_methods(["GET", "POST"])
def enterprise(request: HttpRequest, enterprise_id: int) -> HttpResponse:
    found = get_object_or_404(Enterprise, pk=enterprise_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            correction = actions.enterprise_correction_propose(
                enterprise=found,
                new_uscc=request.POST.get("new_uscc", ""),
                new_name=request.POST.get("new_name", ""),
                reason=request.POST.get("reason", ""),
                acting_user=request.user,
            )
        except Refused as refused:
            errors = _errors(refused, "form")
            status = HTTP_STATUS.get(refused.code, 422)
        else:
            messages.success(request, _("更正已提出，须由另一名工作人员复核批准后生效。"))
            return redirect("review:enterprise_correction", correction_id=correction.pk)
    return _enterprise_page(request, found, errors, status)


def _enterprise_page(
    request: HttpRequest, found: Enterprise, errors: dict[str, str], status: int
) -> HttpResponse:
    user: Any = request.user
    applications = list(
        Application.objects.filter(enterprise=found)
        .select_related("round")
        .order_by("-created_at", "-id")
    )
    return render(
        request,
        "review/enterprise.html",
        {
            "enterprise": found,
            "members": found.memberships.select_related("user").order_by("created_at", "id"),
            "applications": applications,
            "drafts": [a for a in applications if a.state == DRAFT],
            "submitted": [a for a in applications if a.state != DRAFT],
            "corrections": found.corrections.select_related("proposed_by", "decided_by"),
            "pending": found.corrections.filter(status=CORRECTION_PENDING).first(),
            "can_propose": p.can_propose_enterprise_correction(user),
            "errors": errors,
            "form": request.POST if errors else {},
        },
        status=status,
    )


@enterprises_door
@require_http_methods(["GET", "POST"])
def enterprise_correction(request: HttpRequest, correction_id: int) -> HttpResponse:
    correction = get_object_or_404(
        EnterpriseCorrection.objects.select_related("enterprise", "proposed_by", "decided_by"),
        pk=correction_id,
    )
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        try:
            if decision not in ("approve", "reject"):
                raise Refused(_("请选择批准或驳回"), field="decision")
            actions.enterprise_correction_decide(
                correction=correction,
                approve=decision == "approve",
                note=request.POST.get("note", ""),
                acting_user=request.user,
            )
        except Refused as refused:
            errors = _errors(refused, "decision")
            status = HTTP_STATUS.get(refused.code, 422)
            correction.refresh_from_db()
        else:
            messages.success(
                request,
                _("已批准，企业信息已更正。")
                if decision == "approve"
                else _("已驳回，企业信息未变。"),
            )
            return redirect("review:enterprise", enterprise_id=correction.enterprise_id)
    user: Any = request.user
    return render(
        request,
        "review/enterprise_correction.html",
        {
            "c": correction,
            "drafts": Application.objects.filter(
                enterprise_id=correction.enterprise_id, state=DRAFT
            ).count(),
            "submitted": Application.objects.filter(enterprise_id=correction.enterprise_id)
            .exclude(state=DRAFT)
            .count(),
            "can_decide": p.can_decide_enterprise_correction(user, correction),
            "errors": errors,
            "form": request.POST if errors else {},
        },
        status=status,
    )
