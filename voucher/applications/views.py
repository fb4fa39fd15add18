from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from voucher.applications import selectors
from voucher.applications.access import is_public_demo, staff_or_public_demo
from voucher.applications.models import Application


@staff_or_public_demo
def application_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.application_rows()
    return render(
        request,
        "applications/list.html",
        {"rows": rows, "public_demo": is_public_demo()},
    )


@staff_or_public_demo
def application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    try:
        detail = selectors.application_detail(application_id)
    except Application.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "applications/detail.html",
        {"d": detail, "a": detail.application, "e": detail.evaluation},
    )
