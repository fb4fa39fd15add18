"""The payee account (收款账户): entered by the enterprise's administrator, checked and confirmed by
two members of staff before its first use; a change is a new account that waits for the same.

The checks an account must pass before anyone looks at it:
- 户名 is the enterprise's name: the subsidy goes to the enterprise that applied, never to a
  person or another company (compared after NFKC, so full-width brackets match half-width, and
  without spaces);
- the bank and the branch are named;
- the account number is 9 to 30 digits (spaces and hyphens as people group them are dropped):
  Chinese corporate accounts run from about 12 to 25 digits, and the bank confirms the rest by
  paying or returning the payment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.models import (
    PAYEE_CHECKED,
    PAYEE_CONFIRMED,
    PAYEE_PENDING,
    Enterprise,
    PayeeAccount,
)
from voucher.core.audit import audit
from voucher.core.refusals import FORBIDDEN, INVALID, Refused
from voucher.policy.text import clean_line

ACCOUNT_DIGITS = (9, 30)
_GROUPING = re.compile(r"[\s\-]")


def _plain_name(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))


def account_number_plain(value: str) -> str:
    return _GROUPING.sub("", unicodedata.normalize("NFKC", value or ""))


def payee_problems(
    *, enterprise: Enterprise, account_name: str, bank: str, branch: str, account_number: str
) -> list[dict[str, str]]:
    """What is wrong with an account as entered: [{location, message}], empty when nothing."""
    problems = []
    if not _plain_name(account_name):
        problems.append({"location": "account_name", "message": _("请填写户名")})
    elif _plain_name(account_name) != _plain_name(enterprise.name):
        problems.append(
            {
                "location": "account_name",
                "message": _("户名须与企业名称“%(name)s”一致：补贴只拨付到申报企业本身的账户")
                % {"name": enterprise.name},
            }
        )
    if not clean_line(bank or "").strip():
        problems.append({"location": "bank", "message": _("请填写开户银行")})
    if not clean_line(branch or "").strip():
        problems.append({"location": "branch", "message": _("请填写开户网点（支行）")})
    number = account_number_plain(account_number)
    low, high = ACCOUNT_DIGITS
    if not number:
        problems.append({"location": "account_number", "message": _("请填写银行账号")})
    elif not number.isascii() or not number.isdigit():
        problems.append(
            {"location": "account_number", "message": _("银行账号只能由数字组成（可用空格分组）")}
        )
    elif not low <= len(number) <= high:
        problems.append(
            {
                "location": "account_number",
                "message": _("银行账号应为 %(low)d 至 %(high)d 位数字，实为 %(n)d 位")
                % {"low": low, "high": high, "n": len(number)},
            }
        )
    elif len(set(number)) == 1:
        problems.append({"location": "account_number", "message": _("银行账号不正确，请核对")})
    return problems


def payee_in_force(enterprise_id: int) -> PayeeAccount | None:
    """The account payments go to now: the confirmed one (at most one, a constraint says)."""
    return PayeeAccount.objects.filter(enterprise_id=enterprise_id, state=PAYEE_CONFIRMED).first()


def payees_in_force(enterprise_ids: Iterable[int]) -> dict[int, PayeeAccount]:
    """`payee_in_force` of each enterprise that has one, in one query."""
    found: dict[int, PayeeAccount] = {}
    for account in PayeeAccount.objects.filter(
        enterprise_id__in=set(enterprise_ids), state=PAYEE_CONFIRMED
    ).order_by("enterprise_id", *(PayeeAccount._meta.ordering or ["pk"])):
        found.setdefault(account.enterprise_id, account)
    return found


def payee_waiting(enterprise_id: int) -> PayeeAccount | None:
    """An account entered and not yet confirmed or rejected (the newest)."""
    return (
        PayeeAccount.objects.filter(
            enterprise_id=enterprise_id, state__in=(PAYEE_PENDING, PAYEE_CHECKED)
        )
        .order_by("-entered_at", "-id")
        .first()
    )


def payee_enter(
    *,
    enterprise: Enterprise,
    account_name: str,
    bank: str,
    branch: str,
    account_number: str,
    acting_user: Any,
) -> PayeeAccount:
    """A new account for the enterprise, waiting for staff; an account still waiting is replaced
    by it (the newest word of the enterprise counts), the one in force stays until this is
    confirmed."""
    check = p.can_enter_payee(acting_user, enterprise)
    if not check:
        raise Refused(check.reason, code=FORBIDDEN)
    problems = payee_problems(
        enterprise=enterprise,
        account_name=account_name,
        bank=bank,
        branch=branch,
        account_number=account_number,
    )
    if problems:
        raise Refused(
            problems[0]["message"], code=INVALID, field=problems[0]["location"], errors=problems
        )
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        replaced = list(
            PayeeAccount.objects.filter(
                enterprise=enterprise, state__in=(PAYEE_PENDING, PAYEE_CHECKED)
            ).values_list("pk", flat=True)
        )
        PayeeAccount.objects.filter(pk__in=replaced).update(
            state="superseded", rejection_reason="企业提交了新的账户"
        )
        account = PayeeAccount.objects.create(
            enterprise=enterprise,
            account_name=clean_line(account_name).strip(),
            bank=clean_line(bank).strip(),
            branch=clean_line(branch).strip(),
            account_number=account_number_plain(account_number),
            entered_by=acting_user,
        )
        audit(
            actor=acting_user,
            action="payee_enter",
            obj=account,
            data={
                "enterprise": enterprise.uscc,
                "account_name": account.account_name,
                "bank": account.bank,
                "branch": account.branch,
                "account_number": account.account_number,
                "replaces_waiting": replaced,
            },
        )
    return account
