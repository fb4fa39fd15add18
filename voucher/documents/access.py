"""Who may download an application's documents: one function, so the portal can extend it."""

from __future__ import annotations

from typing import Any

from voucher.applications.access import is_public_demo
from voucher.applications.models import Application


def can_download_documents(user: Any, application: Application) -> bool:
    """Staff; anyone in a public demo (as the application pages are).

    The applicant portal adds: users of the enterprise that owns the application.
    """
    if is_public_demo():
        return True
    return bool(user.is_authenticated and user.is_staff)


def can_prefill_invoices(user: Any, application: Application) -> bool:
    """Adding an invoice record is a write: staff with the permission to add invoices."""
    return bool(
        user.is_authenticated and user.is_staff and user.has_perm("applications.add_invoice")
    )
