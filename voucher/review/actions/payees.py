"""Staff on the enterprise's payee account: checked by one, confirmed by another (four eyes), or
rejected with a reason the enterprise's administrator reads. Confirming puts it in force and
retires the one in force before."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ConflictError, ReviewError, require
from voucher.applications.models import (
    PAYEE_CHECKED,
    PAYEE_CONFIRMED,
    PAYEE_PENDING,
    PAYEE_REJECTED,
    PAYEE_SUPERSEDED,
    PayeeAccount,
)
from voucher.core.audit import audit


def _locked(account: PayeeAccount) -> PayeeAccount:
    return PayeeAccount.objects.select_for_update().get(pk=account.pk)


def payee_check(*, account: PayeeAccount, acting_user: Any) -> PayeeAccount:
    """核验: the account matches the enterprise's papers (the first pair of eyes)."""
    require(p.can_check_payee(acting_user))
    with transaction.atomic():
        current = _locked(account)
        if current.state != PAYEE_PENDING:
            raise ConflictError(_("该收款账户已不是待核验状态，请刷新页面"))
        current.state = PAYEE_CHECKED
        current.checked_by = acting_user
        current.checked_at = timezone.now()
        current.save(update_fields=["state", "checked_by", "checked_at"])
        audit(actor=acting_user, action="payee_check", obj=current, data={"state": PAYEE_CHECKED})
    return current


def payee_confirm(*, account: PayeeAccount, acting_user: Any) -> PayeeAccount:
    """确认: a second member of staff puts the checked account in force."""
    with transaction.atomic():
        current = _locked(account)
        require(p.can_confirm_payee(acting_user, current))
        if current.state != PAYEE_CHECKED:
            raise ConflictError(_("该收款账户尚未核验或已处理，请刷新页面"))
        retired = list(
            PayeeAccount.objects.select_for_update()
            .filter(enterprise_id=current.enterprise_id, state=PAYEE_CONFIRMED)
            .values_list("pk", flat=True)
        )
        PayeeAccount.objects.filter(pk__in=retired).update(state=PAYEE_SUPERSEDED)
        current.state = PAYEE_CONFIRMED
        current.confirmed_by = acting_user
        current.confirmed_at = timezone.now()
        current.save(update_fields=["state", "confirmed_by", "confirmed_at"])
        audit(
            actor=acting_user,
            action="payee_confirm",
            obj=current,
            data={"state": PAYEE_CONFIRMED, "retired": retired},
        )
    return current


def payee_reject(*, account: PayeeAccount, reason: str, acting_user: Any) -> PayeeAccount:
    require(p.can_check_payee(acting_user))
    if not (reason or "").strip():
        raise ReviewError(_("请写明未通过的原因，企业管理员将看到它"), field="reason")
    with transaction.atomic():
        current = _locked(account)
        if current.state not in (PAYEE_PENDING, PAYEE_CHECKED):
            raise ConflictError(_("该收款账户已处理，请刷新页面"))
        current.state = PAYEE_REJECTED
        current.rejection_reason = reason.strip()
        current.save(update_fields=["state", "rejection_reason"])
        audit(
            actor=acting_user,
            action="payee_reject",
            obj=current,
            data={"state": PAYEE_REJECTED, "reason": current.rejection_reason},
        )
    return current
