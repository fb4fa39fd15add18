"""The round's official lists (RULES.md v2, fail closed): what is loaded, and the import."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified
from voucher.applications.models import (
    OFFICIAL_LIST_KINDS,
    OfficialList,
    OfficialListEntry,
    PolicyRoundRecord,
)
from voucher.core.http import too_large, upload_limit, upload_limit_bytes
from voucher.review import actions, typed, views

PAGE_SIZE = 200


@upload_limit("list")
@staff_verified
def official_lists(request: HttpRequest) -> HttpResponse:
    record = views.round_asked(request)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件"))
            typed.keep(request)
        elif (upload.size or 0) > upload_limit_bytes("list"):
            messages.error(request, str(too_large("list", upload.size or 0)))
            typed.keep(request)
        else:
            try:
                result = actions.official_list_import(
                    round=record,
                    kind=request.POST.get("kind", ""),
                    content=upload.read(),
                    filename=upload.name or "list",
                    source=request.POST.get("source", ""),
                    as_of=request.POST.get("as_of", ""),
                    acting_user=request.user,
                )
            except actions.ReviewError as exc:
                messages.error(request, str(exc))
                typed.keep(request)
            else:
                messages.success(
                    request,
                    _("名单已导入：%(count)s 条；%(errors)s 行有误未导入")
                    % {"count": result.count, "errors": len(result.errors)},
                )
                for error in result.errors[:20]:
                    messages.warning(request, error)
        return redirect(f"{reverse('review:official_lists')}?round={record.code}")
    loaded = {o.kind: o for o in OfficialList.objects.filter(round=record)}
    counts = {o.kind: o.entries.count() for o in loaded.values()}
    return render(
        request,
        "review/official_lists.html",
        {
            "round": record,
            "rounds": PolicyRoundRecord.objects.order_by("-window_start"),
            "kinds": [
                (k, label, loaded.get(k), counts.get(k, 0)) for k, label in OFFICIAL_LIST_KINDS
            ],
            "can_manage": p.can_manage_round(request.user),
        },
    )


@staff_verified
def official_list(request: HttpRequest, list_id: int) -> HttpResponse:
    official = get_object_or_404(OfficialList.objects.select_related("round"), pk=list_id)
    query = (request.GET.get("q") or "").strip()
    entries = OfficialListEntry.objects.filter(official_list=official)
    if query:
        entries = entries.filter(code__icontains=query) | entries.filter(name__icontains=query)
    page = Paginator(entries.order_by("row"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/official_list.html",
        {"official": official, "page": page, "query": query},
    )
