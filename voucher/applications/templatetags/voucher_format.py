"""Money for people: `¥12,345,678.90` and `1,234.56789 万元`, exact, from Decimal only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from voucher.policy.money import format_wan, format_yuan_grouped

register = template.Library()


@register.filter
def yuan(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"¥{format_yuan_grouped(Decimal(value))}"


@register.filter
def wan(value: Any) -> str:
    """Yuan as 万元 (forms 14-2 use it), exact to the fen, at least two decimals."""
    if value is None or value == "":
        return "—"
    return format_wan(Decimal(value), grouped=True)


@register.filter
def yuan_cn(value: Any) -> str:
    """Yuan in a sentence or a public list: `2,300,000.00 元`."""
    if value is None or value == "":
        return "—"
    return _("%(amount)s 元") % {"amount": format_yuan_grouped(Decimal(value))}
