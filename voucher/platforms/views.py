"""The centre's screening page: published projects, each screened against D3_QUALIFICATION and
D3_PLATFORM with the reasons written down; a listed project's application is built from the
platform's contracts and consumption and evaluated by the engine."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from voucher.platforms import actions, selectors
from voucher.platforms.models import Project, ShortlistEntry
from voucher.review import permissions as p
from voucher.review.views import staff_verified


@staff_verified  # the review site's login: password and TOTP
@require_http_methods(["GET", "POST"])
def screening_page(request: HttpRequest) -> HttpResponse:
    check = p.can_screen(request.user)
    if not check:
        raise PermissionDenied(check.reason)
    if request.method == "POST":
        project = get_object_or_404(Project, pk=request.POST.get("project"))
        try:
            if "build" in request.POST:
                stored = actions.d3_application_build(
                    entry=get_object_or_404(ShortlistEntry, project=project),
                    acting_user=request.user,
                )
                flagged = sum(
                    r.differences for r in selectors.reconciliations_of(stored.application)
                )
                messages.success(
                    request,
                    f"已生成申报 #{stored.application_id}，审查结论 {stored.outcome}；"
                    f"平台数据核对差异 {flagged} 处 (reconciliation differences: {flagged})",
                )
            else:
                entry = actions.project_screen(
                    project=project,
                    acting_user=request.user,
                    open_source=bool(request.POST.get("open_source")),
                    scenario_aligned=bool(request.POST.get("scenario_aligned")),
                    action_plan_aligned=bool(request.POST.get("action_plan_aligned")),
                    reasons=request.POST.get("reasons", ""),
                )
                messages.success(request, f"{project}: {entry.get_decision_display()}")
        except actions.Refused as refused:
            messages.error(request, refused.title)
        return redirect("platforms:screening")
    return render(request, "platforms/screening.html", {"projects": selectors.screening_queue()})
