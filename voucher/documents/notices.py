"""The decision notice (审核结果通知书) of an application's confirmed decision: one function, for the
bureau's review screen and for the applicant's status page alike; and the submission receipt.
Both are signed (voucher/documents/signing.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from voucher.applications.models import Application, Decision
from voucher.applications.selectors import confirmed_decision
from voucher.core import clock
from voucher.documents.pdf import NoticeReason, decision_notice_pdf, receipt_pdf
from voucher.documents.signing import sign_pdf


def notice_reasons(decision: Decision) -> list[NoticeReason]:
    reasons = [NoticeReason(x["text"], x.get("clause", "")) for x in decision.reasons]
    if decision.kind == "approval" and decision.lowered_reason:
        reasons.append(NoticeReason(f"核定金额调减理由：{decision.lowered_reason}"))
    return reasons


def decision_notice(application: Application) -> bytes | None:
    """The notice as a PDF signed by the bureau's key (voucher/documents/signing.py), or None
    while no decision is confirmed."""
    decision = confirmed_decision(application)
    if decision is None:
        return None
    issued = (
        timezone.localtime(decision.confirmed_at).date() if decision.confirmed_at else clock.today()
    )
    pdf = decision_notice_pdf(
        application,
        "approval" if decision.kind == "approval" else "rejection",
        decision.amount if decision.kind == "approval" else None,
        notice_reasons(decision),
        issued_on=issued,
    )
    return sign_pdf(pdf, reason=f"审核结果通知书 {application.reference}")


def submission_receipt(
    application: Application,
    *,
    receipt_number: str,
    submitted_at: Any,
    sha256: str,
    round_code: str,
    engine_version: str,
    applicant: dict[str, str] | None = None,
) -> bytes:
    """The submission receipt as a PDF signed by the bureau's key; `applicant` is the submitted
    document's name and USCC."""
    pdf = receipt_pdf(
        application,
        receipt_number=receipt_number,
        submitted_at=submitted_at,
        sha256=sha256,
        round_code=round_code,
        engine_version=engine_version,
        applicant=applicant,
    )
    return sign_pdf(pdf, reason=f"提交回执 {receipt_number}")
