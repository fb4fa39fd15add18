"""A refusal of a form's input that names the field, for the administrator's forms."""

from __future__ import annotations

from voucher.applications import permissions as p
from voucher.core.refusals import INVALID, Refused


class FieldRefusal(Refused):
    """The one refusal (core/refusals.py), made as the administrator's forms make it:
    `field` first (empty: the whole form), then the message that says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field, code=INVALID if field else None)

    @classmethod
    def unless(cls, check: p.Check) -> None:
        """Raise this refusal, with the permission's reason, when the check refuses."""
        if not check.allowed:
            raise cls("", check.reason)
