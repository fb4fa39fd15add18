from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from voucher.applications import permissions as p
from voucher.applications import selectors
from voucher.applications.access import evaluations_door, is_public_demo
from voucher.applications.models import Application


@evaluations_door
def application_list(request: HttpRequest) -> HttpResponse:
    directions = None if is_public_demo() else p.viewable_directions(request.user)
    rows = selectors.application_rows(directions)
    return render(
        request,
        "applications/list.html",
        {"rows": rows, "public_demo": is_public_demo()},
    )


@evaluations_door
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        detail = selectors.application_detail(application_id)
    except Application.DoesNotExist:
        raise Http404 from None
    if not is_public_demo():
        check = p.can_view_application(request.user, detail.application)
        if not check:
            raise PermissionDenied(check.reason)
    return render(
        request,
        "applications/detail.html",
        {"d": detail, "a": detail.application, "e": detail.evaluation},
    )
