"""Writes of this app: one action each, in a transaction, with one audit row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from voucher.applications.models import Contract, Invoice
from voucher.core.audit import audit


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
