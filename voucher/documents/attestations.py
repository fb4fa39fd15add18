"""The supplier's declaration of 附件14-1 三 as a signed PDF (issue 22 item 3): from the declaration
the supplier made online for one contract (`SupplierAttestation`), in the layout of the project's
other documents (WeasyPrint, documents/supplier_attestation.html), signed with the bureau's key
like the decision notice and the receipt (signing.py); `voucher documents verify` checks it.

The footer names the contract and the SHA-256 of what was declared (the declaration, who and
when, and the content hash of each line it covers): the same declaration on the same lines gives
the same figure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from voucher.applications import supplier
from voucher.applications.models import Contract, Delivery, SupplierAttestation
from voucher.documents.data import chinese_date, yuan
from voucher.documents.pdf import html_to_pdf
from voucher.documents.signing import sign_pdf

ATTESTATION_TITLE = "算力供给企业声明"
STATE_WORDS = {"confirmed": "已确认", "disputed": "有异议", "unconfirmed": "未确认"}


@dataclass(frozen=True, slots=True)
class _Footer:
    lines: tuple[str, str]


def _quantity(value: Any) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def declaration_sha256(
    contract: Contract, attestation: SupplierAttestation, lines: list[supplier.Line]
) -> str:
    content = {
        "contract": contract.pk,
        "compliant": attestation.compliant,
        "no_sharing": attestation.no_sharing,
        "no_hierarchy": attestation.no_hierarchy,
        "by": attestation.by_id,
        "at": attestation.at.isoformat(),
        "lines": {line.key: supplier.content_hash(line.row) for line in lines},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def attestation_html(contract: Contract, attestation: SupplierAttestation) -> str:
    application: Any = contract.application
    lines = supplier.lines_of(contract)
    sha = declaration_sha256(contract, attestation, lines)
    declared_at = timezone.localtime(attestation.at)
    deliveries = []
    for line in lines:
        if isinstance(line.row, Delivery):
            d = line.row
            deliveries.append(
                {
                    "start": chinese_date(d.start),
                    "end": chinese_date(d.end),
                    "service": d.get_service_display(),
                    "device": d.device,
                    "quantity": _quantity(d.quantity),
                    "unit": d.unit,
                    "amount": yuan(d.amount),
                    "state": STATE_WORDS.get(line.state, line.state),
                }
            )
    ctx = {
        "title": ATTESTATION_TITLE,
        "identity": _Footer(
            (
                f"申报编号 {application.reference}（ID {application.pk}） · 合同 {contract.contract_id}",
                f"声明 SHA-256 {sha}",
            )
        ),
        "a": application,
        "c": contract,
        "att": attestation,
        "signed_on": chinese_date(contract.signed_on),
        "valid_from": chinese_date(contract.valid_from),
        "valid_to": chinese_date(contract.valid_to),
        "total": yuan(contract.total_amount),
        "deliveries": deliveries,
        "contract_state": STATE_WORDS.get(lines[0].state, lines[0].state),
        "declared_by": attestation.by.get_username(),
        "declared_at": declared_at.strftime("%Y-%m-%d %H:%M:%S"),
        "sha256": sha,
        "issued": chinese_date(declared_at.date()),
    }
    return render_to_string("documents/supplier_attestation.html", ctx)


def attestation_pdf(contract: Contract) -> bytes | None:
    """The declaration as a PDF signed by the bureau's key, or None while the supplier has not
    declared on this contract."""
    attestation = supplier.attestation_of(contract)
    if attestation is None:
        return None
    pdf = html_to_pdf(attestation_html(contract, attestation))
    return sign_pdf(
        pdf,
        reason=f"算力供给企业声明 {contract.application.reference} 合同 {contract.contract_id}",
    )
