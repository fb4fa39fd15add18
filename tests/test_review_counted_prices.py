"""crosscheck._CountedPrices (branch screen4, decision 0057): a device's round prices read from
their counts give the quantiles, the band and the outliers of the list of every row's price."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from voucher.review.crosscheck import _CountedPrices, _device_price, _quantile


def _repeated(counts: dict[Decimal, int]) -> list[Decimal]:
    prices: list[Decimal] = []
    for price in sorted(counts):
        prices += [price] * counts[price]
    return prices


@pytest.mark.parametrize("seed", range(200))
def test_the_counted_prices_are_the_repeated_list(seed):
    chance = random.Random(seed)
    counts = {
        Decimal(chance.randrange(1, 4000)) / Decimal(100): chance.choice((1, 1, 2, 3, 17, 250))
        for _ in range(chance.randrange(1, 12))
    }
    expected = _repeated(counts)
    counted = _CountedPrices(counts)
    assert len(counted) == len(expected)
    assert [counted[i] for i in range(len(expected))] == expected
    for q in ("0", "0.25", "0.5", "0.75", "1"):
        assert _quantile(counted, Decimal(q)) == _quantile(expected, Decimal(q))
    samples = [(1, "R-1", price) for price in counts]
    assert _device_price("H100", "卡时", counted, samples) == _device_price(
        "H100", "卡时", expected, samples
    )


def test_a_position_outside_the_prices_is_refused():
    counted = _CountedPrices({Decimal("1.5"): 2})
    with pytest.raises(IndexError):
        counted[2]
    with pytest.raises(IndexError):
        counted[-1]
