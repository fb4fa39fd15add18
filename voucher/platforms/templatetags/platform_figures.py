"""The reconciliation's figures for people: `¥2,999,000.00`, `-¥1,000.00`, `14,048`."""

from __future__ import annotations

from typing import Any

from django import template

from voucher.platforms.reconcile import figure

register = template.Library()


@register.filter
def comparison_figure(value: Any, kind: str) -> str:
    return figure(value, kind)
