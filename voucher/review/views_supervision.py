"""跟踪管理: the follow-up reports owed (overdue first), the spot checks, and recording one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voucher.applications.access import staff_verified
from voucher.applications.models import Application, SpotCheck
from voucher.applications.supervision import reports_of_round, spot_check_record
from voucher.core import clock
from voucher.core.refusals import Refused
from voucher.review import views


@staff_verified
def supervision(request: HttpRequest) -> HttpResponse:
    record = views.round_asked(request)
    today = clock.today()
    reports = sorted(
        reports_of_round(record.pk),
        key=lambda d: (d.submitted, not d.overdue(today), d.due_on, d.application.pk),
    )
    return render(
        request,
        "review/supervision.html",
        {
            "round": record,
            "today": today,
            "reports": [(d, d.overdue(today)) for d in reports],
            "overdue": sum(1 for d in reports if d.overdue(today)),
            "checks": SpotCheck.objects.filter(application__round=record)
            .select_related("application", "checked_by")
            .order_by("-checked_on", "-id")[:200],
        },
    )


@staff_verified
@require_POST
def spot_check(request: HttpRequest, application_id: int) -> HttpResponse:
    application = get_object_or_404(Application, pk=application_id)
    try:
        spot_check_record(
            application=application,
            checked_on=views._date(request.POST.get("checked_on"), clock.today()),
            finding=request.POST.get("finding", ""),
            problem=request.POST.get("problem") == "1",
            acting_user=request.user,
        )
    except Refused as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, str(_done(request.POST.get("problem") == "1")))
    return redirect(f"{reverse('review:supervision')}?round={application.round.code}")


def _done(problem: bool) -> str:
    if problem:
        return _("已登记抽查；发现问题的，可在该申报的审核页面发起退还。")
    return _("已登记抽查")
