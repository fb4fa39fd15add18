"""A refusal of a form's input that names the field, for the administrator's forms."""

from __future__ import annotations

from voucher.applications import permissions as p


class FieldRefusal(Exception):
    """Refused; `field` names the form field (empty: the whole form), the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    @classmethod
    def unless(cls, check: p.Check) -> None:
        """Raise this refusal, with the permission's reason, when the check refuses."""
        if not check.allowed:
            raise cls("", check.reason)
