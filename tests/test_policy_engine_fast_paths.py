"""The engine's and the printer's cheaper paths (docs/performance.md, "Fifth round") give what
the plain code they replace gave: each is compared here with that code, kept as the reference,
on values far beyond what an application holds (any exponent, negative, special)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.policy.money import FEN, ZERO, days_inclusive, format_yuan, overlap_days, pro_rate
from voucher.policy.results import ContractAmounts, Evaluation, SubsidyAmounts, decimal_text, plain
from voucher.policy.round import get_round
from voucher.policy.rules.base import Texts
from voucher.policy.rules.contract import claim_period, delivered_compute, delivery_part

decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.builds(
        lambda sign, digits, exponent: Decimal(
            (sign, tuple(int(c) for c in str(digits)), exponent)
        ),
        st.integers(0, 1),
        st.integers(0, 10**32),
        st.integers(-12, 8),
    ),
)


def _outcome(fn, value):
    try:
        return "ok", fn(value)
    except Exception as exc:  # the same refusal counts as the same result
        return "raises", type(exc)


def _former_decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." not in text or text[-3:-2] == ".":
        return text
    whole, frac = text.split(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


@settings(max_examples=2000, deadline=None)
@given(decimals)
def test_a_decimal_prints_as_format_f_trimmed_printed_it(value):
    assert _outcome(decimal_text, value) == _outcome(_former_decimal_text, value)
    if value.is_finite():
        assert plain(value) == _former_decimal_text(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1E+2", "100"),  # str() would write an exponent
        ("1E-7", "0.0000001"),
        ("0.000001", "0.000001"),
        ("370.3680", "370.368"),
        ("0.30", "0.30"),
        ("-0.00", "-0.00"),
        ("5", "5"),
    ],
)
def test_decimals_that_str_writes_otherwise(value, text):
    assert decimal_text(Decimal(value)) == text


def test_decimal_text_refuses_what_is_not_a_decimal():
    # it is orjson's default=: what it does not know must still be refused
    with pytest.raises(TypeError):
        decimal_text({1, 2})


@settings(max_examples=2000, deadline=None)
@given(decimals)
def test_money_prints_as_quantize_printed_it(value):
    assert _outcome(format_yuan, value) == _outcome(
        lambda v: str(v.quantize(FEN, ROUND_DOWN)), value
    )


days = st.dates(date(2024, 1, 1), date(2027, 12, 31))


@given(days, days, days, days)
def test_overlap_days_as_days_inclusive_of_max_and_min(a, b, c, d):
    assert overlap_days(a, b, c, d) == days_inclusive(max(a, c), min(b, d))


@given(
    st.decimals(min_value=0, max_value=Decimal("9999999999999.99"), places=2),
    st.integers(0, 400),
    st.integers(1, 400),
)
def test_pro_rating_gives_the_former_number(amount, overlap, record):
    result = pro_rate(amount, overlap, record)
    if overlap >= record:
        assert result is amount
        return
    quotient, remainder = divmod(int(amount * 100) * overlap, record)
    expected = Decimal(quotient + (2 * remainder >= record)).scaleb(-2)
    assert str(result) == str(expected)


# --- delivered compute: the lines told inline are told as delivery_part tells them ----------

services = st.sampled_from(["compute", "compute", "storage", "network", "security"])
devices = st.sampled_from([None, "H800", "h 800", "A100", "Ｈ８００"])


@st.composite
def lines(draw):
    start = draw(st.dates(date(2025, 6, 1), date(2026, 6, 30)))
    return SimpleNamespace(
        start=start,
        end=start + timedelta(days=draw(st.integers(0, 120))),
        service=draw(services),
        device=draw(devices),
        amount=draw(st.decimals(min_value=0, max_value=10**9, places=2)),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(lines(), max_size=8),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.booleans(),
)
def test_delivered_compute_sums_delivery_parts(deliveries, valid_from, valid_to, flag_h800):
    rnd = get_round("bj-2026")
    if flag_h800:
        rnd = rnd.with_overrides(flagged_devices={"h800": "某通知"})
    contract = SimpleNamespace(deliveries=deliveries, valid_from=valid_from, valid_to=valid_to)
    period = claim_period(contract, rnd)
    start, end = max(rnd.window_start, valid_from), min(rnd.window_end, valid_to)
    assert period == ((start, end) if start <= end else None)

    got = delivered_compute(contract, period, rnd)
    amount = not_compute = flagged = outside = ZERO
    names, flagged_names = [], []
    for d in deliveries:
        part = delivery_part(d, period, rnd)
        amount += part.counted
        if part.reason == "not_compute":
            not_compute += part.excluded
            names += [d.service] if d.service not in names else []
        elif part.reason == "flagged":
            flagged += part.excluded
            flagged_names += [d.device] if d.device not in flagged_names else []
        elif part.reason == "outside_period":
            outside += part.excluded
    expected = (amount, not_compute, tuple(names), flagged, tuple(flagged_names), outside)
    assert (
        got.amount,
        got.not_compute,
        got.not_compute_services,
        got.flagged,
        got.flagged_devices,
        got.outside_period,
    ) == expected
    assert [str(x) for x in (got.amount, got.not_compute, got.outside_period)] == [
        str(x) for x in (amount, not_compute, outside)
    ]


# --- the messages made once, the results' quicker __init__ ----------------------------------


def test_texts_are_made_once_per_key_and_bounded():
    made = []

    def make(*parts):
        made.append(parts)
        return "|".join(map(str, parts))

    texts = Texts(make, limit=3)
    assert texts[date(2026, 1, 2), 3] == "2026-01-02|3"
    assert texts[date(2026, 1, 2), 3] == "2026-01-02|3"
    assert texts["x"] == "x"  # a key that is not a tuple is passed as it is
    assert made == [(date(2026, 1, 2), 3), ("x",)]
    texts[1], texts[2]
    assert len(texts) <= 3  # started again past the limit


def test_the_results_are_still_frozen_dataclasses_made_as_before():
    one = Decimal("1.00")
    amounts = ContractAmounts("C1", one, one, one, one, one, ZERO, True)
    assert amounts == ContractAmounts(
        id="C1",
        delivered=one,
        evidenced=one,
        verified_cost=one,
        rate_limit=one,
        stacking_limit=one,
        subsidy=ZERO,
        eligible=True,
    )
    assert dataclasses.replace(amounts, id="C2").id == "C2"
    with pytest.raises(dataclasses.FrozenInstanceError):
        amounts.id = "C3"
    with pytest.raises(TypeError):
        ContractAmounts("C1", one)
    subsidy = SubsidyAmounts(one, one, None, one)
    evaluation = Evaluation("bj-2026", "1", 2, "eligible", [], [amounts], subsidy, [])
    assert evaluation.contracts == [amounts] and evaluation.subsidy.requested is None
    assert hash(subsidy) == hash(SubsidyAmounts(one, one, None, one))
