"""Decisions: a reviewer proposes (approval with its amount, or rejection with its reasons),
a different approver confirms or returns it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications import permissions as p
from voucher.applications import supplier
from voucher.applications.lifecycle import (
    CONFLICT,
    ConflictError,
    ReviewError,
    application_transition,
    lock,
    record_transition,
    require,
)
from voucher.applications.models import (
    CONFIRMED,
    PROPOSED,
    WITHDRAWN,
    Application,
    Decision,
    Direction3Consent,
    FindingResolution,
    StoredEvaluation,
)
from voucher.applications.notify import notify_after_commit
from voucher.applications.selectors import latest_evaluation
from voucher.core.audit import audit
from voucher.policy.money import format_yuan_grouped
from voucher.policy.rules.supplier import SUPPLIER_CONFIRMATION
from voucher.review.actions.common import _money
from voucher.review.actions.crossfindings import cross_findings_gate
from voucher.review.actions.materials import require_materials_checked


def _listing(items: Iterable[Any]) -> str:
    return pgettext("list separator", "、").join(str(x) for x in items)


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


def _gates_passed(application: Application, cross_refused: ReviewError | None) -> None:
    """An approval's gates: the cross-application findings resolved and every item of the 14-1
    materials' checklist 符合; refused naming everything still open, in one message."""
    refusals = [] if cross_refused is None else [cross_refused]
    try:
        require_materials_checked(application)  # 附件14-1: every item of the checklist 符合
    except ReviewError as refused:
        refusals.append(refused)
    if (
        application.direction == 3
        and not Direction3Consent.objects.filter(application=application).exists()
    ):
        # 免申即享: the enterprise has not said it wants the subsidy (voucher/portal/consent.py)
        refusals.append(
            ReviewError(
                _("企业尚未作出意愿确认（接受承诺书并填报收款账户），不能予以支持"),
                errors=[{"location": "d3_consent", "message": "the enterprise has not consented"}],
            )
        )
    unconfirmed = supplier.open_lines(application)
    if unconfirmed:
        # issue 22 (docs/policy/supplier-confirmation.md): on directions 1, 2 and 4 every line of
        # a contract is confirmed by the compute supplier before an approval is proposed
        refusals.append(
            ReviewError(
                _("算力供给方尚未确认以下内容，不能予以支持：%(lines)s")
                % {"lines": "；".join(unconfirmed)},
                errors=[
                    {"location": "supplier_confirmation", "message": line} for line in unconfirmed
                ],
            )
        )
    if len(refusals) == 1:
        raise refusals[0]
    if refusals:
        raise ReviewError(
            "\n".join(str(r) for r in refusals),
            errors=[e for r in refusals for e in r.errors],
        )


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
        # RULES.md v2 "Fail closed": no decision while a cross-application finding is unresolved;
        # an approval says so together with the materials still to check (one refusal, all gates)
        cross_refused: ReviewError | None = None
        try:
            cross_reasons = cross_findings_gate(locked)
        except ReviewError as refused:
            if kind != "approval":
                raise
            cross_reasons, cross_refused = [], refused
        resolutions = list(FindingResolution.objects.filter(evaluation=evaluation))
        resolved = {(x.rule, x.contract): x for x in resolutions}
        open_reviews = [
            f["rule"]
            for f in evaluation.findings
            if f["status"] == "review"
            and (f["rule"], f.get("contract") or "") not in resolved
            # the supplier's confirmation has a gate of its own (_gates_passed), which names
            # each line still open as the supplier's word stands now
            and not (kind == "approval" and f["rule"] == SUPPLIER_CONFIRMATION.id)
        ]
        maximum = evaluation.approved_max
        reasons = _reasons_for_rejection(evaluation, resolutions) + cross_reasons
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
        if kind == "approval":
            _gates_passed(locked, cross_refused)
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
            f"“{decision.get_kind_display()}”，金额 {format_yuan_grouped(value)} 元，请复核。",
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


def decision_confirm(
    *, decision: Decision, acting_user: Any, amount_seen: Decimal | None = None
) -> Decision:
    """The second pair of eyes: a different approver confirms; the application is decided.

    `amount_seen` is the amount the approver ticked as checked (the review screen asks for it,
    in words and figures): an approval is refused when it is not the proposal's amount."""
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
        if current.kind == "approval" and amount_seen is not None and amount_seen != current.amount:
            raise ConflictError(_("所核对的金额与拟定的核定金额不一致，请重新核对。"))
        if current.kind == "approval":
            require(p.platform_data_current(locked))  # _transition checks the rest
            # a duplicate claimed since the proposal is a new finding: the approver waits for it
            cross_findings_gate(locked)
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
                f"核定补贴金额：{format_yuan_grouped(current.amount)} 元。"
                + (f"\n调减理由：{current.lowered_reason}" if current.lowered_reason else "")
                + "\n审核结果通知书可在申报状态页下载。"
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
