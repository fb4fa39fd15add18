"""`audit(...)`: the one way actions write the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models

from voucher.core.models import AuditEntry

SYSTEM_ACTOR = "system"


def audit(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one action. `actor` is a user or None (the system: commands, the demo)."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=user.get_username() if user is not None else SYSTEM_ACTOR,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        data=data or {},
    )
