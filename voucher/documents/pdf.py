"""The documents as PDF (WeasyPrint): forms 14-2, 14-3, 14-4, the package and decision notices.

Fonts: Noto Serif CJK SC (for 仿宋/宋体) and Noto Sans CJK SC (for 黑体) from Debian's
fonts-noto-cjk, the closest free faces to the ones government documents use; WeasyPrint embeds
the subset of glyphs each document uses (docs/decisions/0003-documents.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.template.loader import render_to_string
from django.utils import timezone

from voucher.applications.models import Application
from voucher.applications.selectors import latest_evaluation
from voucher.core import clock
from voucher.documents import source_text as src
from voucher.documents.data import (
    chinese_date,
    document_identity,
    implementation_report,
    split_date,
    usage_table,
    wan,
    yuan,
)
from voucher.documents.package import (
    materials_checklist,
    package_materials,
    self_check,
)
from voucher.documents.seal import seal_svg
from voucher.policy.clauses import CLAUSES, clause_ids


def html_to_pdf(html: str) -> bytes:
    import weasyprint  # imported late: it loads Pango, which the rest of the site never needs

    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def _form_context(application: Application) -> dict[str, Any]:
    report = implementation_report(application)
    return {
        "a": application,
        "src": src,
        "identity": document_identity(application),
        "usage": usage_table(application),
        "report": report,
        "report_date": split_date(report.date),
        "company": application.applicant_name,
    }


def usage_table_html(application: Application) -> str:
    ctx = _form_context(application) | {"title": f"{src.USAGE_TITLE} {application.reference}"}
    return render_to_string("documents/usage_table.html", ctx)


def usage_table_pdf(application: Application) -> bytes:
    """附件14-2 算力使用情况表."""
    return html_to_pdf(usage_table_html(application))


def implementation_report_pdf(application: Application) -> bytes:
    """附件14-3 算力项目实施情况报告: cover and sections 一 to 三."""
    ctx = _form_context(application) | {"title": f"{src.REPORT_TITLE} {application.reference}"}
    return html_to_pdf(render_to_string("documents/implementation_report.html", ctx))


def commitment_letter_pdf(application: Application) -> bytes:
    """附件14-4 北京市高精尖产业发展资金承诺书."""
    ctx = _form_context(application) | {"title": f"{src.COMMITMENT_TITLE} {application.reference}"}
    return html_to_pdf(render_to_string("documents/commitment_letter.html", ctx))


def package_html(application: Application) -> str:
    # the package prints the application's current content, so the evaluation of that content
    evaluation = latest_evaluation(application, with_correction_in_progress=True)
    materials, other_files = materials_checklist(application, package_materials(application))
    ctx = _form_context(application) | {
        "title": f"算力券申报材料 {application.reference}",
        "identity": document_identity(application, evaluation=evaluation),
        "submitted": chinese_date(application.submitted_on),
        "generated": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "materials": materials,
        "other_files": other_files,
        "check": self_check(evaluation),
    }
    return render_to_string("documents/package.html", ctx)


def package_pdf(application: Application) -> bytes:
    """One PDF to print or archive: cover, the three forms, the checklist, the self-check."""
    return html_to_pdf(package_html(application))


# --- decision notice --------------------------------------------------------------------------

DecisionKind = Literal["approval", "rejection"]


@dataclass(frozen=True, slots=True)
class NoticeReason:
    text: str
    clause: str = ""  # clause ids as findings name them: "一（五）注1" or "一（三）, 14-4 第4条"


NOTICE_TITLE = "算力券补贴申报审核结果通知书"


def decision_notice_html(
    application: Application,
    kind: DecisionKind,
    amount: Decimal | None,
    reasons: Sequence[NoticeReason | str],
    *,
    issued_on: Any = None,
) -> str:
    if kind == "approval":
        if amount is None:
            raise ValueError("an approval names the amount")
        lead = (
            "经审核，符合《算力券政策申报说明》（附件14）的相关要求，予以支持，核定算力券补贴金额为人民币"
            f"{yuan(amount)}元（{wan(amount)}万元）。"
        )
        reasons_lead = "核定说明如下："
        closing = "补贴资金将按有关规定拨付。"
    elif kind == "rejection":
        lead = "经审核，不符合《算力券政策申报说明》（附件14）的相关要求，不予支持。"
        reasons_lead = "理由如下："
        closing = "如有异议，可自收到本通知之日起依法提出。"
    else:
        raise ValueError(f"unknown decision kind {kind!r}")
    shaped = []
    for r in reasons:
        reason = NoticeReason(r) if isinstance(r, str) else r
        shaped.append(
            {
                "text": reason.text,
                "clauses": [
                    (CLAUSES[c].where, CLAUSES[c].text) if c in CLAUSES else (c, "")
                    for c in clause_ids(reason.clause)
                ],
            }
        )
    ctx = {
        "a": application,
        "title": NOTICE_TITLE,
        "identity": document_identity(application, evaluation=latest_evaluation(application)),
        "lead": lead,
        "reasons_lead": reasons_lead,
        "reasons": shaped,
        "closing": closing,
        "issued": chinese_date(issued_on or clock.today()),
        "seal": seal_svg(),
    }
    return render_to_string("documents/notice.html", ctx)


def decision_notice_pdf(
    application: Application,
    kind: DecisionKind,
    amount: Decimal | None,
    reasons: Sequence[NoticeReason | str],
    *,
    issued_on: Any = None,
) -> bytes:
    """A decision notice: approval (with the amount) or rejection, reasons citing clauses."""
    return html_to_pdf(
        decision_notice_html(application, kind, amount, reasons, issued_on=issued_on)
    )


# --- submission receipt -----------------------------------------------------------------------

RECEIPT_TITLE = "算力券申报提交回执"


def receipt_pdf(
    application: Application,
    *,
    receipt_number: str,
    submitted_at: Any,
    sha256: str,
    round_code: str,
    engine_version: str,
    applicant: dict[str, str] | None = None,
) -> bytes:
    """The receipt of one submission (提交回执), unsigned; the portal signs it (signing.py).
    `applicant` (name, uscc) is the submitted document's: an enterprise corrected since does
    not change what was submitted (review/actions/enterprises.py)."""
    submitted = applicant or {}
    ctx = {
        "a": application,
        "applicant_name": submitted.get("name") or application.applicant_name,
        "applicant_uscc": submitted.get("uscc") or application.enterprise.uscc,
        "title": RECEIPT_TITLE,
        "identity": document_identity(application),
        "receipt_number": receipt_number,
        "submitted_at": timezone.localtime(submitted_at).strftime("%Y-%m-%d %H:%M:%S"),
        "sha256": sha256,
        "round_code": round_code,
        "engine_version": engine_version,
        "issued": chinese_date(timezone.localtime(submitted_at).date()),
        "seal": seal_svg(),
    }
    return html_to_pdf(render_to_string("documents/receipt.html", ctx))
