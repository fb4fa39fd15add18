"""What several of the bureau's actions share: an amount as the bureau types it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from voucher.applications.lifecycle import ReviewError
from voucher.policy.money import MoneyError, parse_yuan


def _money(value: Any) -> Decimal:
    """An amount as the bureau types it (voucher.policy.money.parse_yuan), or refused naming it."""
    try:
        return parse_yuan(value)
    except MoneyError as refused:
        raise ReviewError(refused.message(_), field="amount") from None
