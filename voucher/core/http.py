"""Small helpers every app's views share."""

from __future__ import annotations

from django.http import Http404


def row_id(value: str | None) -> int:
    """A row id from a form; anything else is a missing row, not a server error."""
    if not value or not (value.isascii() and value.isdigit()):
        raise Http404("no such row")
    return int(value)
