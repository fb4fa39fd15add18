"""Payee accounts (four eyes) and payment batches: the bureau's side of paying the subsidy."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voucher.applications import permissions as p
from voucher.applications.access import staff_verified, staff_verified_by
from voucher.applications.models import (
    PAYEE_CHECKED,
    PAYEE_PENDING,
    PayeeAccount,
    PaymentBatch,
)
from voucher.core.http import too_large, upload_limit, upload_limit_bytes
from voucher.policy.money import format_yuan
from voucher.review import actions, views


@staff_verified_by(p.can_check_payee)
def payees(request: HttpRequest) -> HttpResponse:
    waiting = (
        PayeeAccount.objects.filter(state__in=(PAYEE_PENDING, PAYEE_CHECKED))
        .select_related("enterprise", "entered_by", "checked_by")
        .order_by("entered_at", "id")
    )
    return render(
        request,
        "review/payees.html",
        {
            "waiting": waiting,
            "may_check": p.can_check_payee(request.user).allowed,
            "may_confirm": p.can_confirm_payee(request.user, None).allowed,
        },
    )


@staff_verified_by(p.can_check_payee)
@require_POST
def payee_act(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PayeeAccount, pk=account_id)
    step = request.POST.get("step", "")
    done = {
        "check": _("已核验，待另一名工作人员确认"),
        "confirm": _("收款账户已确认，即日起用于拨付"),
        "reject": _("已退回企业修改"),
    }
    run = {
        "check": lambda: actions.payee_check(account=account, acting_user=request.user),
        "confirm": lambda: actions.payee_confirm(account=account, acting_user=request.user),
        "reject": lambda: actions.payee_reject(
            account=account, reason=request.POST.get("reason", ""), acting_user=request.user
        ),
    }.get(step)
    if run is None:
        messages.error(request, _("未知的操作"))
    else:
        views._run(request, done[step], run)
    return redirect("review:payees")


@staff_verified
def payment_batches(request: HttpRequest) -> HttpResponse:
    record = views.round_asked(request)
    if request.method == "POST":
        batch = views._run(
            request,
            _("拨付批次已生成"),
            lambda: actions.batch_create(round=record, acting_user=request.user),
        )
        if batch is not None:
            return redirect("review:payment_batch", batch.pk)
        return redirect(f"{reverse('review:payment_batches')}?round={record.code}")
    rows = actions.payables(record)
    return render(
        request,
        "review/payment_batches.html",
        {
            "round": record,
            "ready": [r for r in rows if r.ready],
            "waiting": [r for r in rows if not r.ready],
            "batches": PaymentBatch.objects.filter(round=record),
            "may_manage": p.can_manage_payment_batches(request.user).allowed,
        },
    )


@upload_limit("list")
@staff_verified
def payment_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(PaymentBatch, pk=batch_id)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择银行结果文件"))
        elif (upload.size or 0) > upload_limit_bytes("list"):
            messages.error(request, str(too_large("list", upload.size or 0)))
        else:
            result = views._run(
                request,
                _("银行结果已读入"),
                lambda: actions.batch_result_import(
                    batch=batch,
                    content=upload.read(),
                    filename=upload.name or "result.csv",
                    acting_user=request.user,
                ),
            )
            if result is not None:
                messages.info(
                    request,
                    _(
                        "成功 %(paid)d 笔，退回 %(returned)d 笔，此前已读入 %(unchanged)d 笔，待结果 %(waiting)d 笔"
                    )
                    % result.__dict__,
                )
        return redirect("review:payment_batch", batch.pk)
    return render(
        request,
        "review/payment_batch.html",
        {
            "batch": batch,
            "lines": batch.lines.select_related("application", "payee").order_by("position"),
            "may_manage": p.can_manage_payment_batches(request.user).allowed,
            "total_text": format_yuan(batch.total),
        },
    )


def _download(request: HttpRequest, batch: PaymentBatch, kind: str) -> HttpResponse:
    actions.export_record(
        what=f"payment_batch_{kind}",
        filters={"batch": batch.pk},
        rows=batch.count,
        acting_user=request.user,
    )
    if kind == "csv":
        body, content_type = actions.batch_csv(batch), "text/csv; charset=utf-8"
    else:
        body = actions.batch_xlsx(batch)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename=payment-batch-{batch.pk}.{kind}"
    return response


@staff_verified_by(p.can_manage_payment_batches)
def payment_batch_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(PaymentBatch, pk=batch_id)
    return _download(request, batch, "csv")


@staff_verified_by(p.can_manage_payment_batches)
def payment_batch_xlsx(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(PaymentBatch, pk=batch_id)
    return _download(request, batch, "xlsx")
