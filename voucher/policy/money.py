"""Money and day arithmetic exactly as RULES.md ("Money") prescribes, and the one door money
comes in by (`parse_yuan`, `parse_wan`) and goes out by (`format_yuan`, `format_wan`).

Amounts are `Decimal` yuan. Only two roundings exist in the whole calculation:
pro-rating a delivery record to the claim period (half-up to the fen) and a
contract's subsidy (down to the fen, so public money is never overpaid).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

# The one limit on an amount the system reads: 9,999,999,999,999.99 yuan (13 digits before the
# point), far above any contract, budget or price; one fen more is refused where it comes in.
# The columns hold more: every amount is stored as whole fen in a 64-bit integer
# (voucher.core.columns.MoneyField, docs/decisions/0015-exact-money-in-storage.md), exact on
# SQLite and PostgreSQL up to 92 trillion yuan, so that a sum of many amounts (a consumption
# aggregate) is kept to the fen too. The limit was first the largest amount SQLite's decimal
# columns (floats read back to 15 significant digits) gave back exactly; it stays the bound the
# formats and the APIs document.
INTEGER_DIGITS = 13
MAX_YUAN = Decimal(10) ** INTEGER_DIGITS - FEN


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue (django makemessages finds `gettext_noop`) without
    importing Django here: the sites that show the message translate it with their gettext."""
    return message


class MoneyError(ValueError):
    """An amount refused. `field` names the input; `message(gettext)` says why in the reader's
    language (for forms and pages), `str()` in Chinese and English (for documents and APIs)."""

    def __init__(
        self, field: str, template: str, english: str, params: dict[str, Any], label: str = ""
    ) -> None:
        self.field, self.template, self.english, self.params = field, template, english, params
        self.label = label
        super().__init__(f"{self.message()} ({english})")

    def message(self, translate: Callable[[str], str] = str) -> str:
        label = self.label or translate(LABEL)
        return translate(self.template) % {"label": label, **self.params}


# The messages: Chinese, and msgids of voucher/locale (listed again in voucher/core/inputs.py)
LABEL = gettext_noop("金额")
NOT_AN_AMOUNT = gettext_noop("%(label)s“%(value)s”不是有效金额，应如 1234.50")
NOT_A_WAN_AMOUNT = gettext_noop(
    "%(label)s“%(value)s”不是有效金额，请填以万元为单位的数字，如 400 或 85.5"
)
FLOAT = gettext_noop('%(label)s须写作十进制数字或字符串，如 "1234.50"，不能是浮点数')
NEGATIVE = gettext_noop("%(label)s不能为负数: %(value)s")
TOO_MANY_PLACES = gettext_noop("%(label)s最多两位小数（精确到分）: %(value)s")
TOO_MANY_WAN_PLACES = gettext_noop("%(label)s精确到分即可：万元最多六位小数: %(value)s")
TOO_LARGE = gettext_noop("%(label)s过大，整数部分最多 %(digits)s 位: %(value)s")
MESSAGES = (
    LABEL,
    NOT_AN_AMOUNT,
    NOT_A_WAN_AMOUNT,
    FLOAT,
    NEGATIVE,
    TOO_MANY_PLACES,
    TOO_MANY_WAN_PLACES,
    TOO_LARGE,
)

_DIGITS = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # ASCII digits (after NFKC): no "1e3", no "NaN"
_TYPED = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")  # people also type "5." and ".5"
_MINUS = ("-", "\u2212")  # NFKC makes "－" and "﹣" a hyphen-minus, not "−"


def _places(amount: Decimal, *, written: bool) -> int:
    """Decimal places as written ("1.230": 3), or of the value (1.230: 2)."""
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite: checked before
    if exponent >= 0 or not any(digits):
        return 0
    if not written:
        exponent += len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent)


def _number(
    value: Any, field: str, label: str, *, strict: bool, not_a_number: str
) -> tuple[Decimal, str]:
    """(the number, the text to quote in a refusal) of a str, int or Decimal."""

    def refuse(template: str, english: str) -> MoneyError:
        return MoneyError(field, template, english, {"value": shown}, label)

    if isinstance(value, float):
        shown = repr(value)
        raise refuse(FLOAT, "a decimal amount, never a float")
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value), str(value)
    if isinstance(value, Decimal):
        shown = str(value)
        if not value.is_finite():
            raise refuse(not_a_number, "not a decimal amount")
        return value, shown
    if not isinstance(value, str):
        shown = str(value)
        raise refuse(not_a_number, "not a decimal amount")
    text = shown = value.strip()
    if not strict:
        # what people type: full-width digits (a Chinese input method's), ¥ or ￥, thousands
        # separators , or ， (NFKC makes the full-width forms ASCII)
        text = shown = unicodedata.normalize("NFKC", value).strip()
        text = text.removeprefix("¥").strip().replace(",", "")
    if text.startswith(_MINUS) and (_TYPED if not strict else _DIGITS).fullmatch(text[1:]):
        raise refuse(NEGATIVE, "must not be negative")
    if not (_DIGITS if strict else _TYPED).fullmatch(text):
        raise refuse(not_a_number, "not a decimal amount")
    return Decimal(text), shown


def _within_limit(yuan: Decimal, field: str, label: str, shown: str, digits: int) -> Decimal:
    if yuan > MAX_YUAN:
        raise MoneyError(field, TOO_LARGE, "too large", {"value": shown, "digits": digits}, label)
    return yuan.quantize(FEN) + ZERO  # + 0.00: never "-0.00"


def parse_yuan(
    value: Any, *, field: str = "amount", label: str = "", strict: bool = False
) -> Decimal:
    """The one parse of an amount in yuan: a `Decimal` to the fen, or `MoneyError` naming `field`.

    Accepts a str, an int or a Decimal (a JSON number read exactly); never a float, NaN or
    infinity, a negative amount, a fraction of a fen, or more than `MAX_YUAN`; text is stripped.
    What people type (`strict=False`: forms, spreadsheets, the review pages) is NFKC-normalised,
    so the full-width digits of a Chinese input method are digits, and may carry a leading ¥ or
    ￥, thousands separators ("¥1,234.50", "１，２３４．５") and zeros after the fen ("1.500").
    A document or an API (`strict=True`) writes the amount as it is stored: ASCII "1234.50",
    at most two decimals written (the interchange format NFKC-normalises its values itself).
    `label` (translated, as the reader reads it) names the input in the message; default 金额.
    """
    amount, shown = _number(value, field, label, strict=strict, not_a_number=NOT_AN_AMOUNT)
    if amount < 0:
        raise MoneyError(field, NEGATIVE, "must not be negative", {"value": shown}, label)
    if _places(amount, written=strict) > 2:
        raise MoneyError(field, TOO_MANY_PLACES, "at most two decimals", {"value": shown}, label)
    return _within_limit(amount, field, label, shown, INTEGER_DIGITS)


def parse_wan(value: Any, *, field: str = "amount", label: str = "") -> Decimal:
    """An amount typed in 万元 (forms 14-2 ask for it), as yuan: exact to the fen, so at most six
    decimals of 万元; spelt and limited as `parse_yuan` (typed) spells and limits yuan."""
    wan, shown = _number(value, field, label, strict=False, not_a_number=NOT_A_WAN_AMOUNT)
    if wan < 0:
        raise MoneyError(field, NEGATIVE, "must not be negative", {"value": shown}, label)
    if _places(wan, written=False) > 6:
        raise MoneyError(
            field,
            TOO_MANY_WAN_PLACES,
            "at most six decimals of 10,000 yuan",
            {"value": shown},
            label,
        )
    return _within_limit(wan.scaleb(4), field, label, shown, INTEGER_DIGITS - 4)


def pro_rate(amount: Decimal, overlap_days: int, record_days: int) -> Decimal:
    """`amount × overlap_days / record_days`, rounded half-up to the fen.

    Done in integer fen so the half-up tie is decided exactly, not after a
    28-digit Decimal division has already rounded once.
    """
    if overlap_days >= record_days:
        return amount
    numerator = int(amount * _HUNDRED) * overlap_days
    quotient, remainder = divmod(numerator, record_days)
    if 2 * remainder >= record_days:
        quotient += 1
    return Decimal(quotient) * FEN  # whole fen as yuan: the same number as .scaleb(-2), cheaper


_HUNDRED = Decimal(100)


# A delivery line whose amount differs from quantity × unit price by more than this is shown
# with a warning (not refused: RULES.md counts the amount as declared; the supplier's bill may
# round per line or per period, so one fen either way is not a difference).
LINE_AMOUNT_TOLERANCE = Decimal("0.01")


def line_amount_difference(quantity: Decimal, unit_price: Decimal, amount: Decimal) -> Decimal:
    """`amount − quantity × unit price` (the product rounded half-up to the fen); 0 within
    LINE_AMOUNT_TOLERANCE."""
    expected = (quantity * unit_price).quantize(FEN, rounding=ROUND_HALF_UP)
    difference = amount - expected
    return ZERO if abs(difference) <= LINE_AMOUNT_TOLERANCE else difference


_CAPITALS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _group_in_words(group: int) -> str:
    """0 < group < 10000 in capital numerals, with the zeros a cheque writes."""
    out = ""
    zero = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _CAPITALS[digit] + _SMALL_UNITS[position]
    return out


def yuan_in_words(amount: Decimal) -> str:
    """An amount in the capital numerals of a Chinese cheque or voucher (人民币大写):
    2300000.00 → 贰佰叁拾万元整, 1234.56 → 壹仟贰佰叁拾肆元伍角陆分."""
    fen_total = int(amount.quantize(FEN, rounding=ROUND_DOWN) * 100)
    if fen_total < 0:
        return "负" + yuan_in_words(-amount)
    yuan, fen = divmod(fen_total, 100)
    jiao, fen = divmod(fen, 10)
    words = ""
    if yuan:
        groups = []
        rest = yuan
        while rest:
            rest, group = divmod(rest, 10000)
            groups.append(group)
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero_pending = bool(words)
                continue
            if words and (zero_pending or group < 1000):
                words += "零"
            zero_pending = False
            words += _group_in_words(group) + _GROUP_UNITS[index]
        words += "元"
    if not jiao and not fen:
        return (words or "零元") + "整"
    if jiao:
        words += _CAPITALS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _CAPITALS[fen] + "分"
    else:
        words += "整"
    return words


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ("", " thousand", " million", " billion", " trillion")


def _english_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES[rest])
    return " ".join(words)


def _english_number(n: int) -> str:
    if n == 0:
        return "zero"
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            groups.append(_english_below_1000(group) + _SCALES[scale])
        scale += 1
    return " ".join(reversed(groups))


def yuan_in_english_words(amount: Decimal) -> str:
    """The English of yuan_in_words: 2300000.00 → two million three hundred thousand yuan."""
    fen_total = int(amount.quantize(FEN, rounding=ROUND_DOWN) * 100)
    if fen_total < 0:
        return "minus " + yuan_in_english_words(-amount)
    yuan, fen = divmod(fen_total, 100)
    words = f"{_english_number(yuan)} yuan"
    return f"{words} and {_english_number(fen)} fen" if fen else words


def round_down_to_fen(amount: Decimal) -> Decimal:
    """A contract's subsidy is rounded down to the fen (RULES.md, "Money")."""
    return amount.quantize(FEN, ROUND_DOWN)  # positional: the keyword costs twice the call


def days_inclusive(start: date, end: date) -> int:
    """Whole days from start to end, both included; 0 when end is before start."""
    days = (end - start).days + 1
    return days if days > 0 else 0


def overlap_days(start: date, end: date, period_start: date, period_end: date) -> int:
    # days_inclusive(max(start, period_start), min(end, period_end)), without the three calls
    # (a delivery line that straddles the claim period takes this)
    first = period_start if period_start > start else start
    last = period_end if period_end < end else end
    days = (last - first).days + 1
    return days if days > 0 else 0


def format_yuan(amount: Decimal) -> str:
    """Exactly two decimals, as the interchange format prints money.

    Intermediate limits (rate × cost, 50 % × cost − other) can carry a third
    decimal; they are shown rounded down, so that the printed subsidy is always
    the smaller of the two printed limits (floor(min(a, b)) = min(floor a, floor b)).
    """
    text = str(amount)
    if text[-3:-2] == "." and "E" not in text and len(text) < 30:
        # already to the fen (exponent −2), as nearly every amount is: quantize would give the
        # same number, and this costs half (some ten amounts per application are printed).
        # Beyond 28 digits quantize refuses (the context's precision): left to it.
        return text
    return str(amount.quantize(FEN, ROUND_DOWN))


def yuan_to_wan(amount: Decimal) -> Decimal:
    """Yuan as 万元 (the forms' unit), exact: the point moves four places, so a fen is the sixth
    decimal and no digit is ever rounded away."""
    return amount.scaleb(-4)


def format_wan(amount: Decimal, *, grouped: bool = False, min_places: int = 2) -> str:
    """万元 with every digit kept: trailing zeros trimmed down to `min_places` decimals."""
    text = f"{yuan_to_wan(amount):{',' if grouped else ''}f}"
    whole, _dot, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(min_places, "0")
    return f"{whole}.{decimals}" if decimals else whole


def format_yuan_grouped(amount: Decimal) -> str:
    """`12,345,678.90` for people reading a report."""
    return f"{amount.quantize(FEN, ROUND_DOWN):,}"
