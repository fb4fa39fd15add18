"""Every write of the bureau's side: keyword-only, one transaction, one audit entry each.

Each action locks the application row (SELECT … FOR UPDATE) before it checks anything, so two
people acting on the same application at once are serialised: the second one sees what the first
did and is refused with a conflict message instead of overwriting it. Permission checks are in
permissions.py; e-mails go after commit (notify.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications import permissions as p
from voucher.applications.lifecycle import (
    CONFLICT,
    ConflictError,
    ReviewError,
    application_transition,
    lock,
    notify_transition,
    record_transition,
    require,
    take_snapshot,
)
from voucher.applications.models import (
    CONFIRMED,
    PROPOSED,
    WITHDRAWN,
    Application,
    Budget,
    Clawback,
    Decision,
    FindingResolution,
    ListedEnterprise,
    Objection,
    PaymentRecord,
    PolicyRoundRecord,
    PublicityList,
    ReviewCase,
    StoredEvaluation,
    SupplementItem,
    SupplementRequest,
)
from voucher.applications.notify import notify_after_commit
from voucher.applications.selectors import latest_evaluation
from voucher.core.audit import audit
from voucher.policy.dates import iso_date
from voucher.policy.money import MoneyError, parse_yuan
from voucher.policy.uscc import is_well_formed
from voucher.review.months import REFUND_MONTHS, add_months


def _listing(items: Iterable[Any]) -> str:
    return pgettext("list separator", "、").join(str(x) for x in items)


def application_assign(*, application: Application, assignee: Any, acting_user: Any) -> ReviewCase:
    """Hand an application to a colleague; the colleague is told by e-mail after commit."""
    with transaction.atomic():
        locked = lock(application)  # two people taking it at once: the second sees the first
        existing = ReviewCase.objects.filter(application=locked).select_related("assignee").first()
        current = existing.assignee if existing is not None else None
        require(p.can_assign(acting_user, assignee, locked, current))
        if existing is not None and current is not None and current.pk == assignee.pk:
            return existing  # already theirs: nothing to write, nobody to tell again
        case, _created = ReviewCase.objects.update_or_create(
            application=locked, defaults={"assignee": assignee, "assigned_at": timezone.now()}
        )
        audit(
            actor=acting_user,
            action="application_assign",
            obj=locked,
            data={"assignee": assignee.get_username()},
        )
        notify_after_commit(
            event="staff:assign",
            recipients=[assignee.email],
            subject=f"分配给您的申报：{locked.reference}",
            body=f"{locked.applicant_name} 的申报 {locked.reference} 已分配给您审核。",
            application=locked,
        )
    return case


def finding_resolve(
    *,
    application: Application,
    rule: str,
    contract: str | None,
    resolution: str,
    reason: str,
    acting_user: Any,
) -> FindingResolution:
    """Answer one `review` finding of the latest evaluation, with the reason on record."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("请填写处理理由"))
    if resolution not in ("accept", "reject"):
        raise ReviewError(_("处理结果只能是认可或不认可"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_resolve_finding(acting_user, locked))
        evaluation = latest_evaluation(locked)
        if evaluation is None:
            raise ReviewError(_("该申报尚未评估"))
        finding = next(
            (
                f
                for f in evaluation.findings
                if f["rule"] == rule and (f.get("contract") or "") == (contract or "")
            ),
            None,
        )
        if finding is None or finding["status"] != "review":
            raise ReviewError(
                _("最新评估中没有待审核项 %(rule)s") % {"rule": f"{rule} {contract or ''}".strip()}
            )
        resolved, created = FindingResolution.objects.update_or_create(
            evaluation=evaluation,
            rule=rule,
            contract=contract or "",
            defaults={
                "application": locked,
                "resolution": resolution,
                "reason": reason,
                "resolved_by": acting_user,
            },
        )
        audit(
            actor=acting_user,
            action="finding_resolve",
            obj=locked,
            data={
                "evaluation": evaluation.pk,
                "rule": rule,
                "contract": contract,
                "resolution": resolution,
                "reason": reason,
                "changed": not created,
            },
        )
    return resolved


def supplement_request(
    *,
    application: Application,
    items: Sequence[str],
    due_on: date,
    acting_user: Any,
    note: str = "",
) -> SupplementRequest:
    """补正: the list of what is missing or wrong, item by item, and the deadline."""
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise ReviewError(_("请逐项列出需要补正的内容"))
    if due_on <= timezone.localdate():
        raise ReviewError(_("补正截止日期须晚于今天"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_request_supplement(acting_user, locked))
        if SupplementRequest.objects.filter(application=locked, answered_at__isnull=True).exists():
            raise ConflictError(CONFLICT)
        request = SupplementRequest.objects.create(
            application=locked, requested_by=acting_user, due_on=due_on, note=note
        )
        SupplementItem.objects.bulk_create(
            SupplementItem(request=request, position=n, text=text)
            for n, text in enumerate(items, start=1)
        )
        before = locked.state
        application_transition(
            application=locked,
            transition="request_supplement",
            acting_user=acting_user,
            record=False,
        )
        listing = "\n".join(f"{n}. {t}" for n, t in enumerate(items, start=1))
        record_transition(
            locked,
            "request_supplement",
            before,
            acting_user,
            action="supplement_request",
            data={"items": items, "due_on": due_on},
            note=f"请于 {iso_date(due_on)} 前逐项补正：\n{listing}\n{note}",
        )
    return request


def _reasons_for_rejection(
    evaluation: StoredEvaluation, resolutions: Iterable[FindingResolution]
) -> list[dict[str, str]]:
    reasons = [
        {"rule": f["rule"], "clause": f["clause"], "text": f["message"]}
        for f in evaluation.findings
        if f["status"] == "fail"
    ]
    rejected = {(x.rule, x.contract): x.reason for x in resolutions if x.resolution == "reject"}
    for f in evaluation.findings:
        key = (f["rule"], f.get("contract") or "")
        if f["status"] == "review" and key in rejected:
            reasons.append(
                {
                    "rule": f["rule"],
                    "clause": f["clause"],
                    "text": f"{f['message']}（{rejected[key]}）",
                }
            )
    return reasons


def _money(value: Any) -> Decimal:
    """An amount as the bureau types it (voucher.policy.money.parse_yuan), or refused naming it."""
    try:
        return parse_yuan(value)
    except MoneyError as refused:
        raise ReviewError(refused.message(_), field="amount") from None


def decision_propose(
    *,
    application: Application,
    kind: str,
    acting_user: Any,
    amount: Any = None,
    lowered_reason: str = "",
    reason: str = "",
) -> Decision:
    """A reviewer proposes: approval with the amount (approved_max, or lower with a reason), or
    rejection with the failed rules and their clauses. A different approver confirms."""
    if kind not in ("approval", "rejection"):
        raise ReviewError(_("审核意见只能是予以支持或不予支持"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_propose(acting_user, locked))
        evaluation = latest_evaluation(locked)
        if evaluation is None:
            raise ReviewError(_("该申报尚未评估"))
        if Decision.objects.filter(application=locked, status=PROPOSED).exists():
            raise ConflictError(_("该申报已有待复核的审核意见，请先由复核人员确认或退回。"))
        resolutions = list(FindingResolution.objects.filter(evaluation=evaluation))
        resolved = {(x.rule, x.contract): x for x in resolutions}
        open_reviews = [
            f["rule"]
            for f in evaluation.findings
            if f["status"] == "review" and (f["rule"], f.get("contract") or "") not in resolved
        ]
        maximum = evaluation.approved_max
        reasons = _reasons_for_rejection(evaluation, resolutions)
        if kind == "approval":
            if open_reviews:
                raise ReviewError(
                    _("还有待审核项未处理：%(rules)s") % {"rules": _listing(open_reviews)}
                )
            if reasons:
                raise ReviewError(
                    _("有不通过的规则，不能予以支持：%(rules)s")
                    % {"rules": _listing(x["rule"] for x in reasons)}
                )
            value = maximum if amount in (None, "") else _money(amount)
            if value > maximum:
                raise ReviewError(
                    _(
                        "核定金额 %(value)s 元超过最高可核定金额 %(maximum)s 元：金额只能调减，不能调增"
                    )
                    % {"value": value, "maximum": maximum},
                    field="amount",
                )
            if value <= 0:
                raise ReviewError(_("核定金额须大于零；不予支持请拟定“不予支持”"), field="amount")
            lowered_reason = lowered_reason.strip()
            if value < maximum and not lowered_reason:
                raise ReviewError(_("调减核定金额须填写理由"), field="lowered_reason")
            if value == maximum:
                lowered_reason = ""
        else:
            value = Decimal("0.00")
            lowered_reason = ""
            if reason.strip():
                reasons.append({"rule": "", "clause": "", "text": reason.strip()})
            if not reasons:
                raise ReviewError(
                    _("不予支持须列明理由：没有不通过的规则时请填写理由"), field="reason"
                )
        decision = Decision.objects.create(
            application=locked,
            evaluation=evaluation,
            kind=kind,
            amount=value,
            approved_max_at_decision=maximum,
            lowered_reason=lowered_reason,
            reasons=reasons,
            proposed_by=acting_user,
        )
        audit(
            actor=acting_user,
            action="decision_propose",
            obj=locked,
            data={
                "decision": decision.pk,
                "kind": kind,
                "amount": value,
                "approved_max": maximum,
                "lowered_reason": lowered_reason,
                "reasons": reasons,
                "evaluation": evaluation.pk,
            },
        )
        approvers = _approver_addresses()
        notify_after_commit(
            event="staff:proposal",
            recipients=approvers,
            subject=f"待复核：{locked.reference} {decision.get_kind_display()}",
            body=f"{locked.applicant_name} 的申报 {locked.reference} 已拟定"
            f"“{decision.get_kind_display()}”，金额 {value} 元，请复核。",
            application=locked,
        )
    return decision


def _approver_addresses() -> list[str]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(groups__name=p.r.APPROVER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def decision_confirm(*, decision: Decision, acting_user: Any) -> Decision:
    """The second pair of eyes: a different approver confirms; the application is decided."""
    with transaction.atomic():
        locked = lock(decision.application)
        current = Decision.objects.select_for_update().get(pk=decision.pk)
        if current.status != PROPOSED:
            raise ConflictError(
                _("%(conflict)s（该审核意见已%(status)s）")
                % {"conflict": CONFLICT, "status": _(current.get_status_display())}
            )
        name = "approve" if current.kind == "approval" else "reject"
        latest = latest_evaluation(locked)
        if latest is None or latest.pk != current.evaluation_id:
            raise ConflictError(_("拟定后申报已重新评估，请退回审核人员重新拟定。"))
        if current.amount > latest.approved_max:
            raise ReviewError(_("核定金额超过最高可核定金额"))
        if current.kind == "approval":
            require(p.platform_data_current(locked))  # _transition checks the rest
        before = locked.state
        application_transition(
            application=locked, transition=name, acting_user=acting_user, record=False
        )
        current.status = CONFIRMED
        current.confirmed_by = acting_user
        current.confirmed_at = timezone.now()
        current.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        record_transition(
            locked,
            name,
            before,
            acting_user,
            action="decision_confirm",
            data={
                "decision": current.pk,
                "kind": current.kind,
                "amount": current.amount,
                "proposed_by": current.proposed_by.get_username(),
            },
            note=(
                f"核定补贴金额：{current.amount} 元。"
                if current.kind == "approval"
                else "不予支持的理由：\n"
                + "\n".join(f"- {x['text']}（{x['clause']}）" for x in current.reasons)
            ),
        )
    return current


def decision_return(*, decision: Decision, reason: str, acting_user: Any) -> Decision:
    """An approver sends a proposal back to the reviewers (it is withdrawn, with the reason)."""
    if not reason.strip():
        raise ReviewError(_("退回须填写理由"))
    with transaction.atomic():
        locked = lock(decision.application)
        current = Decision.objects.select_for_update().get(pk=decision.pk)
        require(p.can_return(acting_user))
        if current.status != PROPOSED:
            raise ConflictError(CONFLICT)
        current.status = WITHDRAWN
        current.save(update_fields=["status"])
        audit(
            actor=acting_user,
            action="decision_return",
            obj=locked,
            data={"decision": current.pk, "reason": reason.strip()},
        )
    return current


def confirmed_decision(application: Application) -> Decision | None:
    return (
        Decision.objects.filter(application=application, status=CONFIRMED)
        .order_by("-confirmed_at", "-id")
        .first()
    )


def publicity_publish(
    *,
    round: PolicyRoundRecord,
    applications: Sequence[Application],
    starts_on: date,
    ends_on: date,
    acting_user: Any,
) -> PublicityList:
    """公示: every listed application goes to `publicized`; the period is recorded."""
    require(p.can_publish_publicity(acting_user))
    if ends_on < starts_on:
        raise ReviewError(_("公示结束日期不能早于开始日期"))
    if starts_on < timezone.localdate():
        # a period already over when published would let the payment follow at once: the
        # public never had the days to object that 公示 exists for
        raise ReviewError(_("公示开始日期不能早于今天"))
    if not applications:
        raise ReviewError(_("没有可公示的申报"))
    with transaction.atomic():
        publicity = PublicityList.objects.create(
            round=round, starts_on=starts_on, ends_on=ends_on, published_by=acting_user
        )
        moved = []
        for application in sorted(applications, key=lambda a: a.pk):
            locked = lock(application)
            if locked.round_id != round.pk:
                raise ReviewError(_("%(reference)s 不属于本轮") % {"reference": locked.reference})
            application_transition(
                application=locked, transition="publicize", acting_user=acting_user, record=False
            )
            take_snapshot(locked, "publicize")
            publicity.applications.add(locked)
            moved.append(locked.reference)
            notify_transition(
                locked, "publicize", f"公示期：{iso_date(starts_on)} 至 {iso_date(ends_on)}。"
            )
        audit(
            actor=acting_user,
            action="publicity_publish",
            obj=publicity,
            data={
                "transition": "publicize",
                "from": "approved",
                "to": "publicized",
                "applications": moved,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )
    return publicity


def objection_record(
    *, application: Application, received_on: date, text: str, acting_user: Any
) -> Objection:
    require(p.can_record_objection(acting_user))
    if not text.strip():
        raise ReviewError(_("请填写异议内容"))
    with transaction.atomic():
        locked = lock(application)
        objection = Objection.objects.create(
            application=locked, received_on=received_on, text=text.strip(), recorded_by=acting_user
        )
        audit(
            actor=acting_user,
            action="objection_record",
            obj=locked,
            data={"objection": objection.pk, "received_on": received_on, "text": objection.text},
        )
    return objection


def objection_resolve(*, objection: Objection, resolution: str, acting_user: Any) -> Objection:
    require(p.can_record_objection(acting_user))
    if not resolution.strip():
        raise ReviewError(_("请填写处理结果"))
    with transaction.atomic():
        current = Objection.objects.select_for_update().get(pk=objection.pk)
        current.resolution = resolution.strip()
        current.resolved_at = timezone.now()
        current.save(update_fields=["resolution", "resolved_at"])
        audit(
            actor=acting_user,
            action="objection_resolve",
            obj=current.application,
            data={"objection": current.pk, "resolution": current.resolution},
        )
    return current


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
            note=f"拨付金额：{value} 元，拨付日期：{iso_date(paid_on)}。",
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
            note=f"请于 {iso_date(clawback.due_date)} 前退还 {value} 元（承诺书第7条）。"
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
    today = timezone.localdate()
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


def budget_set(
    *, round: PolicyRoundRecord, direction: int, amount: Any, acting_user: Any
) -> Budget:
    require(p.can_manage_round(acting_user))
    value = _money(amount)  # never negative
    with transaction.atomic():
        budget, created = Budget.objects.update_or_create(
            round=round, direction=direction, defaults={"amount": value}
        )
        audit(
            actor=acting_user,
            action="budget_set",
            obj=round,
            data={"direction": direction, "amount": value, "created": created},
        )
    return budget


@dataclass
class ListImport:
    kind: str
    count: int = 0
    errors: list[str] = field(default_factory=list)


USCC_HEADERS = ("统一社会信用代码", "信用代码", "uscc", "社会信用代码")
NAME_HEADERS = ("名称", "企业名称", "单位名称", "name")


def _rows(content: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [
            ["" if v is None else str(v).strip() for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return rows
    text = content.decode("utf-8-sig", errors="replace")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def outside_list_import(
    *, kind: str, content: bytes, filename: str, acting_user: Any
) -> ListImport:
    """Replace one outside list (other municipal compute support, or the dishonesty list).

    The file is Excel or CSV; the column headed 统一社会信用代码 (or the first column) holds the
    codes, a column headed 名称 the names. Malformed codes are reported by row and left out.
    """
    require(p.can_manage_round(acting_user))
    if kind not in dict(ListedEnterprise._meta.get_field("kind").choices or []):
        raise ReviewError(_("未知的名单：%(kind)s") % {"kind": kind})
    try:
        rows = _rows(content, filename)
    except Exception as exc:
        raise ReviewError(
            _("无法读取文件 %(filename)s：%(error)s") % {"filename": filename, "error": exc}
        ) from None
    result = ListImport(kind)
    if not rows:
        raise ReviewError(_("文件是空的"))
    header = [h.lower() for h in rows[0]]
    uscc_col = next((i for i, h in enumerate(header) if h in USCC_HEADERS), None)
    name_col = next((i for i, h in enumerate(header) if h in NAME_HEADERS), None)
    body = rows[1:] if uscc_col is not None else rows
    uscc_col = uscc_col or 0
    entries: dict[str, ListedEnterprise] = {}
    for number, row in enumerate(body, start=2 if body is not rows else 1):
        code = (row[uscc_col] if uscc_col < len(row) else "").upper().replace(" ", "")
        if not code:
            continue
        if not is_well_formed(code):
            result.errors.append(
                _("第 %(row)s 行：“%(code)s”不是统一社会信用代码") % {"row": number, "code": code}
            )
            continue
        name = row[name_col] if name_col is not None and name_col < len(row) else ""
        entries[code] = ListedEnterprise(
            kind=kind, uscc=code, name=name[:200], source_name=filename[:300]
        )
    with transaction.atomic():
        ListedEnterprise.objects.filter(kind=kind).delete()
        ListedEnterprise.objects.bulk_create(entries.values())
        result.count = len(entries)
        audit(
            actor=acting_user,
            action="outside_list_import",
            data={
                "kind": kind,
                "file": filename,
                "count": result.count,
                "errors": result.errors[:100],
            },
        )
    return result


def contact_view(*, application: Application, acting_user: Any) -> None:
    """A staff member looked at the applicant's personal contact data: recorded, every time."""
    require(p.can_view_contact(acting_user, application))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="contact_view",
            obj=application,
            data={"fields": ["contact_name", "contact_mobile", "contact_email", "contact_address"]},
        )


def export_record(*, what: str, filters: Mapping[str, Any], rows: int, acting_user: Any) -> None:
    """Every export is audited with its filters and its size."""
    require(p.can_export(acting_user))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="export",
            data={"what": what, "filters": dict(filters), "rows": rows},
        )


__all__ = [
    "ConflictError",
    "IntegrityError",
    "ReviewError",
    "application_assign",
    "application_transition",
    "budget_set",
    "clawback_refund",
    "clawback_request",
    "clawbacks_mark_overdue",
    "contact_view",
    "decision_confirm",
    "decision_propose",
    "decision_return",
    "export_record",
    "finding_resolve",
    "objection_record",
    "objection_resolve",
    "outside_list_import",
    "payment_record",
    "publicity_publish",
    "supplement_request",
]
