"""Form fields that read what people type: amounts (元, 万元) and days.

The parsing is the engine's (voucher.policy.money, voucher.policy.dates): one parse, one limit; a
refusal is the form's error, in the reader's language, naming the field.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from voucher.policy.dates import DateError, parse_date
from voucher.policy.money import MoneyError, format_wan, format_yuan_grouped, parse_wan, parse_yuan
from voucher.policy.text import clean_line


def number_text(value: Any) -> str:
    return (
        unicodedata.normalize("NFKC", str(value or "")).replace(",", "").replace("，", "").strip()
    )


class YuanField(forms.CharField):
    """An amount in 元, at most two decimals, shown and typed with thousands separators; read by
    voucher.policy.money.parse_yuan (also ¥, full-width digits), up to its one limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if not number_text(value):
            return None
        try:
            return parse_yuan(value, label=str(self.label or ""))
        except MoneyError as refused:
            raise ValidationError(refused.message(gettext)) from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return format_yuan_grouped(value)
        return value


class WanField(forms.CharField):
    """An amount typed in 万元 and stored in 元: exact to the fen (six decimals of 万元)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if not number_text(value):
            return None
        try:
            return parse_wan(value, label=str(self.label or ""))
        except MoneyError as refused:
            raise ValidationError(refused.message(gettext)) from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return format_wan(value, min_places=0)
        return value


class DayField(forms.DateField):
    """A day as people type it (voucher.policy.dates.parse_date): YYYY-MM-DD from the date picker,
    or 2026/4/10, 2026年4月10日, full-width digits; a refusal names the field."""

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_date(value, label=str(self.label or ""))
        except DateError as refused:
            raise ValidationError(refused.message(gettext)) from None


class LineField(forms.CharField):
    """A single line people type (a name, an address, a number): Django's CharField, without the
    invisible format characters (bidi overrides and the like) that would disguise it
    (voucher.policy.text)."""

    def to_python(self, value: Any) -> str | None:
        return clean_line(super().to_python(value))
