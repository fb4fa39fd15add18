"""What the documents print, read from the database once and shaped for a template or a DOCX.

Every function here takes an Application (ideally from `load_application`, which fetches its
children in a fixed number of queries) and returns plain strings: the PDF templates and the
DOCX builders print the same values, so a test can look for the same text in both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from voucher.applications.interchange import application_export
from voucher.applications.models import Application, StoredEvaluation
from voucher.documents import source_text as src
from voucher.documents.models import ImplementationReport
from voucher.documents.report_sections import CHAPTERS, SECTIONS
from voucher.policy import dates
from voucher.policy.format import dumps_application
from voucher.policy.money import FEN, format_wan, format_yuan_grouped


def load_application(application_id: int) -> Application:
    return (
        Application.objects.select_related("round", "enterprise")
        .prefetch_related(
            "contracts__deliveries",
            "contracts__invoices",
            "contracts__payments",
            "contracts__other_subsidies",
            "shareholdings",
            "officers",
        )
        .get(pk=application_id)
    )


def wan(amount: Decimal | None) -> str:
    """Yuan as 万元 for the forms, every digit kept (policy.money.format_wan); "" for none."""
    return "" if amount is None else format_wan(amount)


def yuan(amount: Decimal | None) -> str:
    """`12,345,678.90`, exact (money is stored to the fen)."""
    if amount is None:
        return ""
    return format_yuan_grouped(amount) if amount == amount.quantize(FEN) else f"{amount:,f}"


def chinese_date(value: date | None) -> str:
    if value is None:
        return ""
    return dates.chinese_date(value)


# --- identity ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    """Printed in every footer: which application, which version of it, from which data."""

    reference: str  # e.g. bj-2026-00012
    application_id: int
    version: str  # the application's updated_at, or "评估#<id>" for evaluation-based documents
    sha256: str  # of the canonical interchange JSON the document was made from

    @property
    def lines(self) -> tuple[str, str]:
        return (
            f"申报编号 {self.reference}（ID {self.application_id}） · 版本 {self.version}",
            f"数据 SHA-256 {self.sha256}",
        )


def interchange_sha256(application: Application) -> str:
    text = dumps_application(application_export(application))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_identity(
    application: Application, *, evaluation: StoredEvaluation | None = None
) -> DocumentIdentity:
    updated = timezone.localtime(application.updated_at).strftime("%Y-%m-%d %H:%M:%S%z")
    version = updated if evaluation is None else f"{updated} / 评估#{evaluation.pk}"
    return DocumentIdentity(
        reference=application.reference,
        application_id=application.pk,
        version=version,
        sha256=interchange_sha256(application),
    )


# --- 14-2 -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageTable:
    enterprise_rows: tuple[tuple[tuple[str, str], tuple[str, str]], ...]  # ((label, value), …)
    project_name: str
    total_wan: str
    requested_wan: str
    start_date: str
    other_funds: str  # "否" or "是：policy（level，status）；…"
    other_amount_wan: str
    overview: str


_LEVELS = {"national": "国家级", "municipal": "市级", "district": "区级"}
_STATUSES = {"granted": "已获得", "applied": "已申请未拨付"}


def usage_table(application: Application) -> UsageTable:
    a = application
    values = (
        (a.applicant_name, a.enterprise.uscc),
        (a.registered_address, a.business_address),
        (a.contact_name, a.contact_mobile),
        (a.contact_address, a.contact_email),
    )
    rows = tuple(
        ((labels[0][0], vals[0]), (labels[1][0], vals[1]))
        for labels, vals in zip(src.USAGE_ENTERPRISE_ROWS, values, strict=True)
    )
    contracts = list(a.contracts.all())
    # 消耗算力总额: the compute the project consumed = its compute delivery records, as declared
    # (storage, network and security are not compute: 一（五）).
    total = sum(
        (d.amount for c in contracts for d in c.deliveries.all() if d.service == "compute"),
        Decimal("0.00"),
    )
    subsidies = [s for c in contracts for s in c.other_subsidies.all()]
    if subsidies:
        other_funds = "是：" + "；".join(
            f"{s.policy}（{_LEVELS.get(s.level, s.level)}，{_STATUSES.get(s.status, s.status)}，"
            f"{wan(s.amount)}万元）"
            for s in subsidies
        )
    else:
        other_funds = "否"
    granted = [s.amount for s in subsidies if s.status == "granted"]
    applied = [s.amount for s in subsidies if s.status == "applied"]
    other_amount = wan(sum(granted, Decimal("0.00"))) if granted else ("0.00" if subsidies else "")
    if applied:
        other_amount += f"（另已申请未拨付 {wan(sum(applied, Decimal('0.00')))}）"
    return UsageTable(
        enterprise_rows=rows,
        project_name=a.project_name,
        total_wan=wan(total),
        requested_wan=wan(a.requested_amount),
        start_date=chinese_date(a.project_start_date),
        other_funds=other_funds,
        other_amount_wan=other_amount,
        overview=a.project_overview,
    )


# --- 14-3 -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportPart:
    heading: str
    hint: str
    text: str


@dataclass(frozen=True, slots=True)
class ReportChapter:
    heading: str
    parts: list[ReportPart] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportData:
    project_name: str
    company: str
    date: str  # "2026年4月10日", or "" for the applicant to write
    chapters: list[ReportChapter]


def implementation_report(application: Application) -> ReportData:

    written = ImplementationReport.objects.filter(application=application).first()
    chapters = {key: ReportChapter(heading) for key, heading in CHAPTERS.items()}
    for s in SECTIONS:
        text = getattr(written, s.field, "") if written is not None else ""
        chapters[s.chapter].parts.append(ReportPart(s.heading, s.hint, text))
    return ReportData(
        project_name=application.project_name,
        company=application.applicant_name,
        date=chinese_date(application.submitted_on),
        chapters=list(chapters.values()),
    )


def split_date(value: str) -> tuple[str, str, str]:
    """("2026", "4", "10") from "2026年4月10日"; blanks for the applicant to write otherwise."""
    if not value:
        return ("", "", "")
    y, rest = value.split("年")
    m, rest = rest.split("月")
    return (y, m, rest.rstrip("日"))
