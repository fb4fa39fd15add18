"""Days as documents and people write them: one parse (`parse_date`) and the prints, `iso_date`
(2026-04-10: documents, APIs, notes) and `chinese_date` (2026年4月10日: pages and letters;
`english_date`, 10 April 2026, for an English reader).

Like voucher.policy.money, free of Django: a refusal (`DateError`) names the field and says why
in Chinese and English (`str()`), or in the reader's language (`message(gettext)`; the messages
are in voucher/locale, listed again in voucher/core/inputs.py).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from voucher.policy.money import gettext_noop


class DateError(ValueError):
    """A day refused. `field` names the input; `message(gettext)` says why in the reader's
    language, `str()` in Chinese and English."""

    def __init__(
        self, field: str, template: str, english: str, params: dict[str, Any], label: str = ""
    ) -> None:
        self.field, self.template, self.english, self.params = field, template, english, params
        self.label = label
        super().__init__(f"{self.message()} ({english})")

    def message(self, translate: Callable[[str], str] = str) -> str:
        label = self.label or translate(LABEL)
        return translate(self.template) % {"label": label, **self.params}


LABEL = gettext_noop("日期")
NOT_A_DATE = gettext_noop("%(label)s“%(value)s”格式应为 YYYY-MM-DD")
NO_SUCH_DATE = gettext_noop("%(label)s“%(value)s”是不存在的日期")
MESSAGES = (LABEL, NOT_A_DATE, NO_SUCH_DATE)

_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# what people type (and spreadsheets show): 2026-4-10, 2026/4/10, 2026.4.10, 2026年4月10日, 20260410
_TYPED = re.compile(
    r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?|([0-9]{4})([0-9]{2})([0-9]{2})"
)


def parse_date(value: Any, *, field: str = "date", label: str = "", strict: bool = False) -> date:
    """The one parse of a day: a `date`, or `DateError` naming `field`.

    A document or an API (`strict=True`) writes YYYY-MM-DD (the interchange format NFKC-normalises
    its values itself). What people type (`strict=False`: forms, spreadsheets, the review pages)
    is NFKC-normalised, so full-width digits are digits, and may also be 2026/4/10, 2026.4.10,
    2026年4月10日 or 20260410; year, month, day in that order only (04/10/2026 is ambiguous).
    A `date` is taken as it is, a `datetime` (a spreadsheet's cell) as its day.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    shown = value.strip() if isinstance(value, str) else repr(value)
    if isinstance(value, str) and not strict:
        shown = unicodedata.normalize("NFKC", value).strip()
    match = (_ISO if strict else _TYPED).fullmatch(shown) if isinstance(value, str) else None
    if match is None:
        raise DateError(field, NOT_A_DATE, "date must be YYYY-MM-DD", {"value": shown}, label)
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(field, NO_SUCH_DATE, "no such date", {"value": shown}, label) from None


def iso_date(day: date) -> str:
    """2026-04-10: documents, APIs and the notes of the record."""
    return day.isoformat()


def chinese_date(day: date) -> str:
    """2026年4月10日: pages and letters."""
    return f"{day.year}年{day.month}月{day.day}日"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def english_date(day: date) -> str:
    """10 April 2026: the pages for an English reader."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def add_months(day: date, months: int) -> date:
    """Calendar months as a person counts them ("six months later", 承诺书 第7条): 31 August + 6
    months is 28 (or 29) February, the day clamped to the end of the target month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))
