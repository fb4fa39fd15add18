"""Small helpers every app's views share."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from voucher.core.refusals import BAD_REQUEST, Refused


def row_id(value: str | None) -> int:
    """A row id from a form; anything else is a missing row, not a server error."""
    if not value or not (value.isascii() and value.isdigit()):
        raise Http404("no such row")
    return int(value)


def int_param(params: Any, name: str, default: int | None = None) -> int:
    """An integer from a query string or a form (`request.GET`, `request.POST`, or a dict of
    them): `default` when it is missing or empty; anything else that is not a whole number is a
    bad request (400) naming the parameter, never a server error."""
    value = params.get(name, "") if hasattr(params, "get") else params
    return int_value(value, name, default)


def int_value(value: Any, name: str, default: int | None = None) -> int:
    text = str(value if value is not None else "").strip()
    if not text and default is not None:
        return default
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits and digits.isascii() and digits.isdigit() and len(digits) <= 18):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise Refused(
            _("参数 %(name)s 须为整数，收到“%(value)s”") % {"name": name, "value": shown},
            code=BAD_REQUEST,
            field=name,
        )
    return int(text)
