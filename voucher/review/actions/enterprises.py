"""Correcting an enterprise's USCC or name, with four eyes (issue 21 item 3).

A staff member proposes (`enterprise_correction_propose`: the new values and a reason); a second,
different staff member approves or rejects (`enterprise_correction_decide`); only an approval
changes the enterprise. Who may do which is permissions.can_propose_enterprise_correction and
can_decide_enterprise_correction; the proposer can never decide (also a database constraint).

What an approval changes: the enterprise's USCC and name (every page that reads the enterprise,
the members' next login through the identity service, which must assert the new USCC), and the
applicant block of the enterprise's drafts (their 申报单位名称 follows the new name). What it does
not change: an application already submitted keeps what was submitted — its applicant name and the
snapshots (the interchange documents) taken at submission and at every later step, receipts and
notices issued. Every step is audited with the old and the new values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.accounts.uscc import clean_uscc
from voucher.applications import permissions as p
from voucher.applications.models import (
    CORRECTION_APPROVED,
    CORRECTION_PENDING,
    CORRECTION_REJECTED,
    Application,
    Enterprise,
    EnterpriseCorrection,
)
from voucher.applications.states import DRAFT
from voucher.core.audit import audit
from voucher.core.refusals import FORBIDDEN, INVALID, Conflict, Refused
from voucher.policy import uscc as uscc_codes
from voucher.policy.text import strip_format

NAME_MAX = 200


def _allowed(check: p.Check) -> None:
    if not check:
        raise Refused(check.reason, code=FORBIDDEN)


def _new_uscc(value: str) -> str:
    """The corrected code: well formed and with the right check character (GB 32100-2015)."""
    try:
        code, _warnings = clean_uscc(value, applicant=True)
    except ValidationError as error:
        raise Refused(" ".join(error.messages), field="new_uscc", code=INVALID) from error
    if not uscc_codes.has_valid_check_character(code):
        raise Refused(
            _(
                "统一社会信用代码“%(uscc)s”的校验位与国家标准 GB 32100-2015 的计算结果"
                "（%(expected)s）不一致，请与营业执照核对。"
            )
            % {"uscc": code, "expected": uscc_codes.expected_check_character(code)},
            field="new_uscc",
            code=INVALID,
        )
    return code


def _new_name(value: str) -> str:
    name = " ".join(strip_format(str(value or "")).split())
    if not name:
        raise Refused(_("请填写单位名称"), field="new_name", code=INVALID)
    if len(name) > NAME_MAX:
        raise Refused(
            _("单位名称最长 %(n)d 个字符") % {"n": NAME_MAX}, field="new_name", code=INVALID
        )
    return name


def _uscc_free(code: str, enterprise: Enterprise) -> None:
    """A USCC belongs to one enterprise: never to this one and another at once."""
    other = Enterprise.objects.filter(uscc=code).exclude(pk=enterprise.pk).first()
    if other is not None:
        raise Conflict(
            _("统一社会信用代码 %(uscc)s 已属于另一家企业“%(name)s”，不能更正为此代码。")
            % {"uscc": code, "name": other.name},
            field="new_uscc",
        )


def _values(uscc: str, name: str) -> dict[str, str]:
    return {"uscc": uscc, "name": name}


def enterprise_correction_propose(
    *, enterprise: Enterprise, new_uscc: str, new_name: str, reason: str, acting_user: Any
) -> EnterpriseCorrection:
    """The first pair of eyes: the new USCC and/or name, and why. The enterprise is unchanged."""
    _allowed(p.can_propose_enterprise_correction(acting_user))
    code = _new_uscc(new_uscc)
    name = _new_name(new_name)
    reason = str(reason or "").strip()
    if not reason:
        raise Refused(_("请填写更正理由（依据，如营业执照）"), field="reason", code=INVALID)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if code == locked.uscc and name == locked.name:
            raise Refused(
                _("更正后的统一社会信用代码和名称与现在相同，没有需要更正的内容。"),
                field="new_uscc",
                code=INVALID,
            )
        _uscc_free(code, locked)
        pending = locked.corrections.filter(status=CORRECTION_PENDING).first()
        if pending is not None:
            raise Conflict(
                _("该企业已有一项待复核的更正（%(when)s 提出），请先复核或驳回。")
                % {"when": timezone.localtime(pending.proposed_at).strftime("%Y-%m-%d %H:%M")}
            )
        correction = EnterpriseCorrection.objects.create(
            enterprise=locked,
            old_uscc=locked.uscc,
            old_name=locked.name,
            new_uscc=code,
            new_name=name,
            reason=reason,
            proposed_by=acting_user,
        )
        audit(
            actor=acting_user,
            action="enterprise_correction_propose",
            obj=locked,
            data={
                "correction": correction.pk,
                "old": _values(locked.uscc, locked.name),
                "new": _values(code, name),
                "reason": reason,
            },
        )
    return correction


def enterprise_correction_decide(
    *, correction: EnterpriseCorrection, approve: bool, note: str, acting_user: Any
) -> EnterpriseCorrection:
    """The second pair of eyes: approve (the enterprise changes, its drafts follow) or reject
    (with a note; nothing changes)."""
    note = str(note or "").strip()
    with transaction.atomic():
        locked = EnterpriseCorrection.objects.select_for_update().get(pk=correction.pk)
        _allowed(p.can_decide_enterprise_correction(acting_user, locked))
        if locked.status != CORRECTION_PENDING:
            raise Conflict(_("这项更正已复核过了，请刷新页面。"))
        if not approve and not note:
            raise Refused(_("驳回时请填写复核意见"), field="note", code=INVALID)
        enterprise = Enterprise.objects.select_for_update().get(pk=locked.enterprise_id)
        drafts: list[int] = []
        if approve:
            if (enterprise.uscc, enterprise.name) != (locked.old_uscc, locked.old_name):
                raise Conflict(
                    _("提出更正后企业信息已有变化，请驳回这项更正并按现在的信息重新提出。")
                )
            _uscc_free(locked.new_uscc, enterprise)
            enterprise.uscc, enterprise.name = locked.new_uscc, locked.new_name
            try:
                with transaction.atomic():
                    enterprise.save(update_fields=["uscc", "name"])
            except IntegrityError:  # another enterprise took the code a moment ago
                raise Conflict(
                    _("统一社会信用代码 %(uscc)s 已属于另一家企业，不能更正为此代码。")
                    % {"uscc": locked.new_uscc},
                    field="new_uscc",
                ) from None
            drafts = _drafts_follow(enterprise, locked, acting_user)
        locked.status = CORRECTION_APPROVED if approve else CORRECTION_REJECTED
        locked.decided_by = acting_user
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit(
            actor=acting_user,
            action="enterprise_correction_approve" if approve else "enterprise_correction_reject",
            obj=enterprise,
            data={
                "correction": locked.pk,
                "old": _values(locked.old_uscc, locked.old_name),
                "new": _values(locked.new_uscc, locked.new_name),
                "reason": locked.reason,
                "note": note,
                "proposed_by": locked.proposed_by_id,
                "drafts_following": drafts,
            },
        )
    return locked


def _drafts_follow(
    enterprise: Enterprise, correction: EnterpriseCorrection, acting_user: Any
) -> list[int]:
    """The drafts' applicant name becomes the corrected one (their USCC is the enterprise's);
    each draft's version moves on, so a form opened before asks to be reloaded rather than
    writing the old name back. Submitted applications are not touched."""
    drafts = list(
        Application.objects.select_for_update()
        .filter(enterprise=enterprise, state=DRAFT)
        .order_by("pk")
    )
    for draft in drafts:
        if correction.changes_name and draft.applicant_name != correction.new_name:
            previous = draft.applicant_name
            Application.objects.filter(pk=draft.pk).update(
                applicant_name=correction.new_name, version=F("version") + 1
            )
            audit(
                actor=acting_user,
                action="application_applicant_corrected",
                obj=draft,
                data={
                    "correction": correction.pk,
                    "old": _values(correction.old_uscc, previous),
                    "new": _values(correction.new_uscc, correction.new_name),
                },
            )
    return [d.pk for d in drafts]
