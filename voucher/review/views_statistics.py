"""统计: the round's figures by district, industry, direction, month and supplier; Excel export."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified, staff_verified_by
from voucher.review import actions, exports, views
from voucher.review.selectors.statistics import round_statistics, supplier_statistics


@staff_verified
def statistics(request: HttpRequest) -> HttpResponse:
    record = views.round_asked(request)
    return render(
        request,
        "review/statistics.html",
        {
            "round": record,
            "tables": round_statistics(record),
            "suppliers": supplier_statistics(record),
            "may_export": p.can_export(request.user).allowed,
        },
    )


@staff_verified_by(p.can_export)
def statistics_export(request: HttpRequest) -> HttpResponse:
    record = views.round_asked(request)
    tables = round_statistics(record)
    suppliers = supplier_statistics(record, limit=None)
    actions.export_record(
        what="statistics",
        filters={"round": record.code},
        rows=sum(len(t.rows) for t in tables) + len(suppliers),
        acting_user=request.user,
    )
    response = HttpResponse(
        exports.statistics_workbook(tables, suppliers),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename=statistics-{record.code}.xlsx"
    return response
