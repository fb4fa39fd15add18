"""Money and day arithmetic exactly as RULES.md ("Money") prescribes.

Amounts are `Decimal` yuan. Only two roundings exist in the whole calculation:
pro-rating a delivery record to the claim period (half-up to the fen) and a
contract's subsidy (down to the fen, so public money is never overpaid).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def pro_rate(amount: Decimal, overlap_days: int, record_days: int) -> Decimal:
    """`amount × overlap_days / record_days`, rounded half-up to the fen.

    Done in integer fen so the half-up tie is decided exactly, not after a
    28-digit Decimal division has already rounded once.
    """
    if overlap_days >= record_days:
        return amount
    numerator = int(amount * 100) * overlap_days
    quotient, remainder = divmod(numerator, record_days)
    if 2 * remainder >= record_days:
        quotient += 1
    return Decimal(quotient).scaleb(-2)


def round_down_to_fen(amount: Decimal) -> Decimal:
    """A contract's subsidy is rounded down to the fen (RULES.md, "Money")."""
    return amount.quantize(FEN, rounding=ROUND_DOWN)


def days_inclusive(start: date, end: date) -> int:
    """Whole days from start to end, both included; 0 when end is before start."""
    days = (end - start).days + 1
    return days if days > 0 else 0


def overlap_days(start: date, end: date, period_start: date, period_end: date) -> int:
    return days_inclusive(max(start, period_start), min(end, period_end))


def format_yuan(amount: Decimal) -> str:
    """Exactly two decimals, as the interchange format prints money.

    Intermediate limits (rate × cost, 50 % × cost − other) can carry a third
    decimal; they are shown rounded down, so that the printed subsidy is always
    the smaller of the two printed limits (floor(min(a, b)) = min(floor a, floor b)).
    """
    return str(amount.quantize(FEN, rounding=ROUND_DOWN))


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
    return f"{amount.quantize(FEN, rounding=ROUND_DOWN):,}"
