"""The centre's screening page: published projects, each screened against D3_QUALIFICATION and
D3_PLATFORM with the reasons written down; a listed project's application is built from the
platform's contracts and consumption and evaluated by the engine."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified
from voucher.applications.states import UNDECIDED_STATES
from voucher.core import refusals
from voucher.core.http import row_id
from voucher.platforms import actions, selectors
from voucher.platforms.models import Project, ShortlistEntry
from voucher.policy.results import OUTCOME_LABELS


@staff_verified  # the review site's login: password and TOTP
@require_http_methods(["GET", "POST"])
def screening_page(request: HttpRequest) -> HttpResponse:
    check = p.can_screen(request.user)
    if not check:
        raise PermissionDenied(check.reason)
    if request.method == "POST":
        project = get_object_or_404(Project, pk=row_id(request.POST.get("project")))
        try:
            if "build" in request.POST:
                entry = get_object_or_404(ShortlistEntry, project=project)
                if _unsaved_changes(request, entry):
                    # the build stands on the saved screening: building from it while the form
                    # says otherwise would throw away what the screener just wrote
                    raise actions.Refused(
                        _("结论或理由已改动但未保存：请先“保存结论”，再生成申报"),
                        code=refusals.CONFLICT,
                    )
                stored = actions.d3_application_build(entry=entry, acting_user=request.user)
                flagged = sum(
                    r.differences for r in selectors.reconciliations_of(stored.application)
                )
                messages.success(
                    request,
                    ngettext(
                        "已生成申报 #%(number)s，审查结论 %(outcome)s；平台数据核对差异 %(flagged)s 处",
                        "已生成申报 #%(number)s，审查结论 %(outcome)s；平台数据核对差异 %(flagged)s 处",
                        flagged,
                    )
                    % {
                        "number": stored.application_id,
                        "outcome": _(OUTCOME_LABELS.get(stored.outcome, stored.outcome)),
                        "flagged": flagged,
                    },
                )
            else:
                entry = actions.project_screen(
                    project=project, acting_user=request.user, **_posted(request)
                )
                decision = {"listed": _("列入名单"), "refused": _("不予列入")}.get(
                    entry.decision, entry.get_decision_display()
                )
                messages.success(
                    request,
                    _("%(project)s：%(decision)s") % {"project": project, "decision": decision},
                )
        except actions.Refused as refused:
            messages.error(request, refused.title)
        return redirect("platforms:screening")
    projects = list(selectors.screening_queue())
    outdated = {
        p.screening.application_id
        for p in projects
        if getattr(p, "screening", None) is not None
        and p.screening.application is not None
        and p.screening.application.state in UNDECIDED_STATES
        and selectors.platform_data_changed(p.screening.application)
    }
    return render(
        request,
        "platforms/screening.html",
        {"projects": projects, "rebuildable": UNDECIDED_STATES, "outdated": outdated},
    )


def _posted(request: HttpRequest) -> dict[str, Any]:
    """The screening form as project_screen takes it (in ShortlistEntry.conclusion's order)."""
    return {
        "open_source": bool(request.POST.get("open_source")),
        "scenario_aligned": bool(request.POST.get("scenario_aligned")),
        "action_plan_aligned": bool(request.POST.get("action_plan_aligned")),
        "reasons": request.POST.get("reasons", ""),
    }


def _unsaved_changes(request: HttpRequest, entry: ShortlistEntry) -> bool:
    posted = _posted(request)
    posted["reasons"] = posted["reasons"].strip()
    return tuple(posted.values()) != entry.conclusion
