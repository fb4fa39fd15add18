"""The public publicity page (公示): no login. The list in its period, the outcome of lists whose
period ended, and the objection form."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _lazy

from voucher.core import clock
from voucher.core.bearer import client_address
from voucher.core.http import megabytes, upload_limit, upload_limit_bytes
from voucher.core.refusals import Refused
from voucher.public import actions, selectors


def publicity(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    return render(
        request,
        "public/publicity.html",
        {
            "today": today,
            "current": selectors.publicity_now(today),
            "outcomes": selectors.publicity_outcomes(today),
        },
    )


@upload_limit(
    "objection",
    request_bytes=lambda: actions.FILES_MAX * upload_limit_bytes("objection"),
    request_what=_lazy("一件异议的附件"),
)
def objection(request: HttpRequest, application_id: int) -> HttpResponse:
    application = selectors.open_for_objection(application_id, clock.today())
    if application is None:
        raise Http404  # not in a publicity period today: nothing to object to here
    context = {
        "application": application,
        "stamp": actions.form_stamp(),
        "limits": {"reason": actions.REASON_MAX, "files": actions.FILES_MAX},
        "max_mb": megabytes(upload_limit_bytes("objection")),
    }
    if request.method != "POST":
        return render(request, "public/objection.html", context)
    typed = {k: request.POST.get(k, "") for k in ("name", "contact", "reason")}
    try:
        made = actions.objection_submit(
            application=application,
            name=typed["name"],
            contact=typed["contact"],
            reason=typed["reason"],
            files=[
                actions.SentFile(f.name or "", f.read()) for f in request.FILES.getlist("files")
            ],
            stamp=request.POST.get("stamp", ""),
            trap=request.POST.get("website", ""),
            address=client_address(request),
        )
    except Refused as refused:
        errors = {e["location"]: e["message"] for e in refused.errors} or {
            refused.field or "form": str(refused.message)
        }
        return render(
            request,
            "public/objection.html",
            {**context, "typed": typed, "errors": errors, "refused": str(refused.message)},
            status=422 if refused.code in ("invalid", "refused") else 400,
        )
    return render(
        request, "public/objection_sent.html", {"application": application, "objection": made}
    )
