"""拨付批次: the payments handed to the finance system in one file, and the bank's result read back.

An application is payable when its publicity is over without an open objection, its approval is
confirmed, its enterprise has a payee account in force (confirmed by two members of staff) and no
line of another batch is waiting for it or paid it. A batch freezes, per line, the account and the
amount; its CSV is written the same way every time and its SHA-256 is kept, so the file the
finance system received can be told from any other. The result file (CSV or Excel, the layout in
docs/payments.md) says per line 成功 (paid: the payment is recorded and the application moves to
`paid`) or 退回 with the bank's reason (the application stays payable and goes into a later
batch, typically after the enterprise corrected its account). A result file with one bad row is
refused whole, naming every bad row: nothing is half-read.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ConflictError, ReviewError, require
from voucher.applications.models import (
    BATCH_SETTLED,
    LINE_EXPORTED,
    LINE_PAID,
    LINE_RETURNED,
    Application,
    PayeeAccount,
    PaymentBatch,
    PaymentInstruction,
    PolicyRoundRecord,
)
from voucher.applications.payees import account_number_plain, payees_in_force
from voucher.applications.selectors import confirmed_decisions
from voucher.applications.workflow import pay_guards
from voucher.core.audit import audit
from voucher.core.spreadsheets import row as safe_row
from voucher.policy.dates import DateError, parse_date
from voucher.policy.money import MoneyError, format_yuan, parse_yuan
from voucher.review.actions.official_lists import read_table
from voucher.review.actions.payments import payment_record
from voucher.review.exports import workbook_bytes

PURPOSE = "北京市算力券补贴"
BATCH_HEADERS = (
    "批次号",
    "序号",
    "申报编号",
    "收款户名",
    "开户银行",
    "开户网点",
    "收款账号",
    "金额（元）",
    "用途",
)
RESULT_HEADERS = (
    "批次号",
    "序号",
    "收款账号",
    "金额（元）",
    "结果",
    "退回原因",
    "银行流水号",
    "处理日期",
)
RESULT_WORDS = {
    "成功": LINE_PAID,
    "已支付": LINE_PAID,
    "paid": LINE_PAID,
    "退回": LINE_RETURNED,
    "失败": LINE_RETURNED,
    "returned": LINE_RETURNED,
}


@dataclass(frozen=True)
class Payable:
    application: Application
    amount: Decimal | None
    payee: PayeeAccount | None
    waiting_for: str  # empty when payable now

    @property
    def ready(self) -> bool:
        return not self.waiting_for


def payables(round: PolicyRoundRecord) -> list[Payable]:
    """Every publicized application of the round with what it still waits for (if anything).
    A fixed number of queries however many there are (their decisions, accounts and
    publicity guards read together)."""
    open_or_paid = PaymentInstruction.objects.filter(state__in=(LINE_EXPORTED, LINE_PAID))
    applications = list(
        Application.objects.filter(round=round, state="publicized")
        .exclude(pk__in=open_or_paid.values("application_id"))
        .select_related("enterprise", "round")  # the page shows each one's reference
        .order_by("pk")
    )
    decisions = confirmed_decisions(applications)
    payees = payees_in_force({a.enterprise_id for a in applications})
    guards = pay_guards(applications)
    rows = []
    for application in applications:
        decision = decisions.get(application.pk)
        payee = payees.get(application.enterprise_id)
        waiting = guards[application.pk] or ""
        if not waiting and (decision is None or decision.kind != "approval"):
            waiting = _("没有已确认的予以支持决定")
        if not waiting and payee is None:
            waiting = _("企业的收款账户尚未填报或尚未经工作人员确认")
        rows.append(Payable(application, decision.amount if decision else None, payee, waiting))
    return rows


def _lines(batch: PaymentBatch) -> list[PaymentInstruction]:
    return list(batch.lines.select_related("application", "payee").order_by("position"))


def batch_rows(batch: PaymentBatch) -> list[list[Any]]:
    return [
        [
            batch.pk,
            line.position,
            line.application.reference,
            line.payee.account_name,
            line.payee.bank,
            line.payee.branch,
            line.payee.account_number,
            format_yuan(line.amount),
            PURPOSE,
        ]
        for line in _lines(batch)
    ]


def batch_csv(batch: PaymentBatch) -> bytes:
    """The batch for the finance system: UTF-8 with a BOM (Excel opens it), CRLF, one line per
    payment, cells that could be read as a formula quoted. The same bytes every time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BATCH_HEADERS)
    for values in batch_rows(batch):
        writer.writerow(safe_row(str(v) for v in values))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def batch_xlsx(batch: PaymentBatch) -> bytes:

    rows = batch_rows(batch)
    rows.append(["合计", len(rows), "", "", "", "", "", format_yuan(batch.total), ""])
    rows.append(["CSV SHA-256", batch.csv_sha256, "", "", "", "", "", "", ""])
    return workbook_bytes(f"拨付批次{batch.pk}", BATCH_HEADERS, rows)


def batch_create(*, round: PolicyRoundRecord, acting_user: Any) -> PaymentBatch:
    """A batch of every application payable now (none: refused)."""
    require(p.can_manage_payment_batches(acting_user))
    with transaction.atomic():
        ready = [row for row in payables(round) if row.ready]
        if not ready:
            raise ReviewError(_("目前没有可以拨付的申报"))
        locked = {
            a.pk: a
            for a in Application.objects.select_for_update().filter(
                pk__in=[r.application.pk for r in ready]
            )
        }
        batch = PaymentBatch.objects.create(
            round=round,
            count=len(ready),
            total=sum((r.amount or Decimal(0) for r in ready), Decimal(0)),
            csv_sha256="",
            created_by=acting_user,
        )
        for position, row in enumerate(ready, start=1):
            assert row.payee is not None and row.amount is not None  # ready: both known
            if locked[row.application.pk].state != "publicized":
                raise ConflictError(
                    _("申报 %(ref)s 刚刚已被他人处理，请刷新页面")
                    % {"ref": row.application.reference}
                )
            PaymentInstruction.objects.create(
                batch=batch,
                position=position,
                application=row.application,
                payee=row.payee,
                amount=row.amount,
            )
        batch.csv_sha256 = hashlib.sha256(batch_csv(batch)).hexdigest()
        batch.save(update_fields=["csv_sha256"])
        audit(
            actor=acting_user,
            action="payment_batch_create",
            obj=batch,
            data={
                "count": batch.count,
                "total": batch.total,
                "csv_sha256": batch.csv_sha256,
                "applications": [r.application.reference for r in ready],
            },
        )
    return batch


@dataclass(frozen=True)
class BatchResult:
    paid: int
    returned: int
    unchanged: int
    waiting: int


def _result_rows(
    batch: PaymentBatch, table: list[list[str]]
) -> list[tuple[PaymentInstruction, str, str, str, date]]:
    if not table:
        raise ReviewError(_("结果文件是空的"), field="file")
    header = [h.strip() for h in table[0]]
    missing = [
        h for h in RESULT_HEADERS if h not in header and h != "退回原因" and h != "银行流水号"
    ]
    if missing:
        raise ReviewError(
            _("结果文件缺少列：%(columns)s（格式见 docs/payments.md）")
            % {"columns": "、".join(missing)},
            field="file",
        )
    at = {h: header.index(h) for h in RESULT_HEADERS if h in header}
    lines = {line.position: line for line in _lines(batch)}
    errors: list[str] = []
    seen: set[int] = set()
    parsed = []

    def get(values: list[str], name: str) -> str:
        index = at.get(name)
        return (values[index] if index is not None and index < len(values) else "").strip()

    for number, values in enumerate(table[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        problems = []
        if get(values, "批次号") != str(batch.pk):
            problems.append(_("批次号应为 %(batch)s") % {"batch": batch.pk})
        position = get(values, "序号")
        line = lines.get(int(position)) if position.isdigit() else None
        if line is None:
            problems.append(_("本批次没有序号 %(n)s") % {"n": position or "?"})
        elif line.position in seen:
            problems.append(_("序号 %(n)s 重复") % {"n": position})
        result = RESULT_WORDS.get(get(values, "结果"))
        if result is None:
            problems.append(_("结果应为“成功”或“退回”"))
        reason = get(values, "退回原因")
        if result == LINE_RETURNED and not reason:
            problems.append(_("退回的须写明退回原因"))
        when: date | None = None
        try:
            when = parse_date(get(values, "处理日期"), field="处理日期")
        except DateError as exc:
            problems.append(exc.message(_))
        if line is not None:
            if account_number_plain(get(values, "收款账号")) != line.payee.account_number:
                problems.append(_("收款账号与批次不一致"))
            try:
                if parse_yuan(get(values, "金额（元）"), field="金额（元）") != line.amount:
                    problems.append(
                        _("金额与批次不一致（应为 %(amount)s）")
                        % {"amount": format_yuan(line.amount)}
                    )
            except MoneyError as exc:
                problems.append(exc.message(_))
            if line.state != LINE_EXPORTED and line.state != result:
                problems.append(
                    _("该笔已读入为“%(state)s”，与本文件不一致")
                    % {"state": line.get_state_display()}
                )
        if problems:
            errors.append(
                _("第 %(row)d 行：%(problems)s") % {"row": number, "problems": "；".join(problems)}
            )
            continue
        assert line is not None and result is not None and when is not None
        seen.add(line.position)
        parsed.append((line, result, reason, get(values, "银行流水号"), when))
    if errors:
        raise ReviewError(
            _("结果文件有 %(n)d 行有误，未读入任何一行：") % {"n": len(errors)}
            + " ".join(errors[:50]),
            field="file",
            errors=[{"location": "file", "message": e} for e in errors],
        )
    return parsed


def batch_result_import(
    *, batch: PaymentBatch, content: bytes, filename: str, acting_user: Any
) -> BatchResult:
    """Read the bank's result file into the batch: all rows or none."""
    require(p.can_manage_payment_batches(acting_user))
    table = read_table(content, filename)
    with transaction.atomic():
        current = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        rows = _result_rows(current, table)
        paid = returned = unchanged = 0
        for line, result, reason, reference, when in rows:
            if line.state != LINE_EXPORTED:
                unchanged += 1  # read before: the same result again changes nothing
                continue
            if result == LINE_PAID:
                payment_record(
                    application=line.application,
                    paid_on=when,
                    amount=line.amount,
                    reference=reference or f"批次{current.pk}-{line.position}",
                    acting_user=acting_user,
                )
                paid += 1
            else:
                returned += 1
            line.state = result
            line.result_reason = reason if result == LINE_RETURNED else ""
            line.bank_reference = reference
            line.settled_on = when
            line.save(update_fields=["state", "result_reason", "bank_reference", "settled_on"])
        waiting = current.lines.filter(state=LINE_EXPORTED).count()
        if not waiting:
            current.state = BATCH_SETTLED
        current.result_sha256 = hashlib.sha256(content).hexdigest()
        current.settled_by = acting_user
        current.settled_at = timezone.now()
        current.save(update_fields=["state", "result_sha256", "settled_by", "settled_at"])
        audit(
            actor=acting_user,
            action="payment_batch_result",
            obj=current,
            data={
                "file": filename,
                "sha256": current.result_sha256,
                "paid": paid,
                "returned": returned,
                "unchanged": unchanged,
                "waiting": waiting,
                "returned_lines": [
                    {"position": line.position, "reason": reason}
                    for line, result, reason, _ref, _when in rows
                    if result == LINE_RETURNED
                ],
            },
        )
    return BatchResult(paid, returned, unchanged, waiting)


def batch_paid_total(batch: PaymentBatch) -> Decimal:
    return batch.lines.filter(state=LINE_PAID).aggregate(s=Sum("amount"))["s"] or Decimal(0)
