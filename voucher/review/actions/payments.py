"""Money after the decision: payments, clawbacks (退还), refunds, overdue clawbacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import (
    ReviewError,
    application_transition,
    lock,
    notify_transition,
    record_transition,
    require,
)
from voucher.applications.models import Application, Clawback, PaymentRecord
from voucher.applications.selectors import confirmed_decision
from voucher.core import clock
from voucher.core.audit import audit
from voucher.policy.dates import iso_date
from voucher.policy.money import format_yuan_grouped
from voucher.review.actions.common import _money
from voucher.review.months import REFUND_MONTHS, add_months


def payment_record(
    *, application: Application, paid_on: date, amount: Any, reference: str, acting_user: Any
) -> PaymentRecord:
    """A payment (date, amount, reference); never more than the confirmed amount."""
    value = _money(amount)
    if value <= 0:
        raise ReviewError(_("拨付金额须大于零"))
    if not reference.strip():
        raise ReviewError(_("请填写拨付凭证号"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_record_payment(acting_user, locked))
        decision = confirmed_decision(locked)
        if decision is None or decision.kind != "approval":
            raise ReviewError(_("没有已确认的予以支持决定"))
        if value > decision.amount:
            raise ReviewError(
                _("拨付金额 %(value)s 元超过核定金额 %(amount)s 元")
                % {"value": value, "amount": decision.amount}
            )
        record = PaymentRecord.objects.create(
            application=locked,
            paid_on=paid_on,
            amount=value,
            reference=reference.strip(),
            recorded_by=acting_user,
        )
        before = locked.state
        application_transition(
            application=locked, transition="pay", acting_user=acting_user, record=False
        )
        record_transition(
            locked,
            "pay",
            before,
            acting_user,
            action="payment_record",
            data={
                "payment": record.pk,
                "paid_on": paid_on,
                "amount": value,
                "reference": record.reference,
            },
            note=f"拨付金额：{format_yuan_grouped(value)} 元，拨付日期：{iso_date(paid_on)}。",
        )
    return record


def clawback_request(
    *, application: Application, notice_date: date, amount: Any, reason: str, acting_user: Any
) -> Clawback:
    """退还通知: the refund is due six calendar months after the notice (承诺书 第7条)."""
    value = _money(amount)
    if not reason.strip():
        raise ReviewError(_("请填写要求退还的原因"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_request_clawback(acting_user, locked))
        paid = sum((x.amount for x in locked.payment_records.all()), Decimal("0"))
        if value <= 0 or value > paid:
            raise ReviewError(_("应退金额须大于零且不超过已拨付的 %(paid)s 元") % {"paid": paid})
        clawback = Clawback.objects.create(
            application=locked,
            notice_date=notice_date,
            due_date=add_months(notice_date, REFUND_MONTHS),
            amount=value,
            reason=reason.strip(),
            requested_by=acting_user,
        )
        before = locked.state
        application_transition(
            application=locked, transition="request_clawback", acting_user=acting_user, record=False
        )
        record_transition(
            locked,
            "request_clawback",
            before,
            acting_user,
            action="clawback_request",
            data={
                "clawback": clawback.pk,
                "notice_date": notice_date,
                "due_date": clawback.due_date,
                "amount": value,
                "reason": clawback.reason,
            },
            note=f"请于 {iso_date(clawback.due_date)} 前退还 {format_yuan_grouped(value)} 元（承诺书第7条）。"
            f"原因：{clawback.reason}",
            snapshot=False,
        )
    return clawback


def clawback_refund(
    *, clawback: Clawback, refunded_on: date, amount: Any, acting_user: Any
) -> Clawback:
    value = _money(amount)
    with transaction.atomic():
        locked = lock(clawback.application)
        current = Clawback.objects.select_for_update().get(pk=clawback.pk)
        if value != current.amount:
            raise ReviewError(_("退还金额须为应退的 %(amount)s 元") % {"amount": current.amount})
        current.refunded_on = refunded_on
        current.refunded_amount = value
        current.save(update_fields=["refunded_on", "refunded_amount"])
        before = locked.state
        application_transition(
            application=locked, transition="record_refund", acting_user=acting_user, record=False
        )
        record_transition(
            locked,
            "record_refund",
            before,
            acting_user,
            action="clawback_refund",
            data={"clawback": current.pk, "refunded_on": refunded_on, "amount": value},
            snapshot=False,
        )
    return current


def clawbacks_mark_overdue(*, acting_user: Any) -> list[Application]:
    """Every clawback past its due date and not refunded: the application becomes `overdue`."""
    require(p.can_mark_overdue(acting_user))
    today = clock.today()
    with transaction.atomic():
        ids = list(
            Clawback.objects.filter(
                refunded_on__isnull=True,
                due_date__lt=today,
                application__state="clawback_requested",
            ).values_list("application_id", flat=True)
        )
        marked = []
        for application in Application.objects.filter(pk__in=ids).order_by("pk"):
            locked = lock(application)
            application_transition(
                application=locked, transition="mark_overdue", acting_user=acting_user, record=False
            )
            marked.append(locked)
            notify_transition(locked, "mark_overdue")
        audit(
            actor=acting_user,
            action="clawbacks_mark_overdue",
            data={"applications": [a.reference for a in marked], "today": today},
        )
    return marked
