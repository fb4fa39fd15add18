"""Writes of this app: one action each, in a transaction, with one audit row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from voucher.applications.models import Application, Contract, Invoice
from voucher.core.audit import audit
from voucher.documents.models import DocumentJob


def invoice_add(
    *,
    contract: Contract,
    number: str,
    date: date,
    amount: Decimal,
    acting_user: Any,
    source: dict[str, Any] | None = None,
) -> Invoice:
    """Add an invoice record to a contract (from a prefilled e-invoice, checked by a person)."""
    with transaction.atomic():
        position = contract.invoices.count()
        invoice = Invoice.objects.create(
            contract=contract, position=position, number=number, date=date, amount=amount
        )
        # the application's data changed: its version (updated_at) moves on
        contract.application.save(update_fields=["updated_at"])
        audit(
            actor=acting_user,
            action="invoice_add",
            obj=invoice,
            data={
                "application": contract.application_id,
                "contract": contract.contract_id,
                "number": number,
                "date": date.isoformat(),
                "amount": str(amount),
                "source": source or {},
            },
        )
    return invoice


def document_request(
    *, application: Application, document: str, extension: str, data_hash: str, acting_user: Any
) -> tuple[DocumentJob, bool]:
    """The job rendering this document from this data: the one there is (queued, running, done
    or failed), else a new one in the queue, audited. (job, created)."""
    found = DocumentJob.objects.filter(
        application=application, document=document, extension=extension, data_hash=data_hash
    ).first()
    if found is not None:
        return found, False
    user = acting_user if getattr(acting_user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            job = DocumentJob.objects.create(
                application=application,
                document=document,
                extension=extension,
                data_hash=data_hash,
                requested_by=user,
            )
            audit(
                actor=acting_user,
                action="document_request",
                obj=job,
                data={
                    "application": application.pk,
                    "document": f"{document}.{extension}",
                    "data_hash": data_hash,
                },
            )
    except IntegrityError:  # another request queued the same one a moment ago
        return (
            DocumentJob.objects.get(
                application=application,
                document=document,
                extension=extension,
                data_hash=data_hash,
            ),
            False,
        )
    return job, True
