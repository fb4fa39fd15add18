"""Dates as 2026年4月10日 (in English: 10 April 2026); sizes as KB/MB."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone, translation

from voucher.policy.dates import chinese_date, english_date

register = template.Library()


@register.filter
def cn_date(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    if not isinstance(value, date):
        return str(value)
    if translation.get_language() == "en":
        return english_date(value)
    return chinese_date(value)


@register.filter
def cn_datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        return cn_date(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{cn_date(local)} {local:%H:%M}"


@register.filter
def filesize(value: Any) -> str:
    size = int(value or 0)
    if size < 1024:
        return f"{size} B"
    if size < 2**20:
        return f"{size / 1024:.0f} KB"
    return f"{size / 2**20:.1f} MB"


@register.filter
def percent(value: Any) -> str:
    from decimal import Decimal

    return f"{(Decimal(str(value)) * 100).normalize():f}%"
