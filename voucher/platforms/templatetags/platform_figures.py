"""The reconciliation for people: figures as `¥2,999,000.00`, `-¥1,000.00`, `14,048`; sources
as the contract's parts (`terms[0]` is the contract's first agreed line)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import gettext as _

from voucher.platforms.reconcile import figure

register = template.Library()


@register.filter
def comparison_figure(value: Any, kind: str) -> str:
    return figure(value, kind)


_INDEXED = re.compile(r"^(terms|deliveries)\[(\d+)\]$")


@register.filter
def comparison_source(source: str) -> str:
    """Where a compared figure comes from, in words; the code itself when unknown."""
    named = {"total_amount": _("合同总额"), "invoices": _("发票"), "payments": _("付款记录")}
    if source in named:
        return named[source]
    indexed = _INDEXED.match(source)
    if indexed is None:
        return source
    number = int(indexed.group(2)) + 1
    if indexed.group(1) == "terms":
        return _("合同约定第 %(n)s 行") % {"n": number}
    return _("申报交付第 %(n)s 行") % {"n": number}
