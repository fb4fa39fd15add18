"""What is recorded though it changes nothing: a look at contact data, an export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from voucher.applications import permissions as p
from voucher.applications.lifecycle import require
from voucher.applications.models import Application
from voucher.core.audit import audit


def contact_view(*, application: Application, acting_user: Any) -> None:
    """A staff member looked at the applicant's personal contact data: recorded, every time."""
    require(p.can_view_contact(acting_user, application))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="contact_view",
            obj=application,
            data={"fields": ["contact_name", "contact_mobile", "contact_email", "contact_address"]},
        )


def export_record(*, what: str, filters: Mapping[str, Any], rows: int, acting_user: Any) -> None:
    """Every export is audited with its filters and its size."""
    require(p.can_export(acting_user))
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="export",
            data={"what": what, "filters": dict(filters), "rows": rows},
        )
