"""Who may download an application's documents: one function, so the portal can extend it."""

from __future__ import annotations

from typing import Any

from voucher.applications.access import is_public_demo
from voucher.applications.models import Application


def can_download_documents(user: Any, application: Application) -> bool:
    """Staff; users of the enterprise that owns the application; anyone in a public demo."""
    if is_public_demo():
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    from voucher.accounts.access import membership_of

    membership = membership_of(user)
    return membership is not None and membership.enterprise_id == application.enterprise_id


def can_prefill_invoices(user: Any, application: Application) -> bool:
    """Adding an invoice record is a write: staff with the permission to add invoices."""
    return bool(
        user.is_authenticated and user.is_staff and user.has_perm("applications.add_invoice")
    )
