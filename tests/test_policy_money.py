"""The one door money comes in by (voucher.policy.money.parse_yuan, parse_wan) and goes out by."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher.policy.money import (
    FEN,
    MAX_YUAN,
    MoneyError,
    format_wan,
    format_yuan,
    format_yuan_grouped,
    parse_wan,
    parse_yuan,
)

D = Decimal
ABOVE = MAX_YUAN + FEN


def test_a_money_column_keeps_the_limit_and_sums_far_beyond_it():
    from voucher.applications.models import MoneyField
    from voucher.core.columns import LARGEST_YUAN

    field = MoneyField("x")
    assert D("9999999999999.99") == MAX_YUAN
    assert field.get_prep_value(MAX_YUAN) == 999_999_999_999_999  # whole fen, exact
    # a 64-bit integer of fen: a sum of 9,000 amounts at the limit (an aggregate) still fits
    assert MAX_YUAN * 9_000 < LARGEST_YUAN < MAX_YUAN * 10_000


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(
    ("text", "accepted"),
    [(str(MAX_YUAN - FEN), True), (str(MAX_YUAN), True), (str(ABOVE), False)],
)
def test_one_fen_below_at_and_above_the_limit(text, accepted, strict):
    if accepted:
        assert parse_yuan(text, strict=strict) == D(text)
    else:
        with pytest.raises(MoneyError) as refused:
            parse_yuan(text, field="total_amount", strict=strict)
        assert refused.value.field == "total_amount"
        assert str(refused.value) == f"金额过大，整数部分最多 13 位: {text} (too large)"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1234.50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("12,345,678.9", "12345678.90"),
        ("¥1,234.50", "1234.50"),
        ("￥1234.5", "1234.50"),
        ("¥ 1,234.50", "1234.50"),
        ("  1234.50\u3000", "1234.50"),
        ("１２３４．５０", "1234.50"),  # the full-width forms of a Chinese input method
        ("１，２３４", "1234.00"),
        ("1.500", "1.50"),  # zeros after the fen change nothing
        ("5.", "5.00"),
        (".5", "0.50"),
        ("0", "0.00"),
        ("0" * 20 + "1.00", "1.00"),  # leading zeros are not digits of the amount
        (1234, "1234.00"),
        (D("1234.5"), "1234.50"),
        (D("1E+3"), "1000.00"),  # a JSON number 1e3 read as a Decimal
        (D("-0.00"), "0.00"),
    ],
)
def test_what_people_type_is_accepted(typed, amount):
    parsed = parse_yuan(typed)
    assert parsed == D(amount) and str(parsed) == amount


@pytest.mark.parametrize(
    ("typed", "english"),
    [
        ("1.001", "at most two decimals"),
        ("1,234.567", "at most two decimals"),
        ("-5", "must not be negative"),
        ("-0.01", "must not be negative"),
        ("¥-5", "must not be negative"),
        ("\u22121", "must not be negative"),
        (D("-1"), "must not be negative"),
        (-1, "must not be negative"),
        ("abc", "not a decimal amount"),
        ("", "not a decimal amount"),
        ("1e3", "not a decimal amount"),
        ("NaN", "not a decimal amount"),
        ("Infinity", "not a decimal amount"),
        (D("NaN"), "not a decimal amount"),
        (D("Infinity"), "not a decimal amount"),
        ("1 234", "not a decimal amount"),
        ("1234元", "not a decimal amount"),
        ("+5", "not a decimal amount"),
        ("0x10", "not a decimal amount"),
        ("١٢", "not a decimal amount"),  # other scripts' digits are not the amount's digits
        (True, "not a decimal amount"),
        (None, "not a decimal amount"),
        ([], "not a decimal amount"),
        (1.5, "never a float"),
        (float("nan"), "never a float"),
        ("9" * 30, "too large"),
    ],
)
def test_what_is_not_an_amount_is_refused_naming_the_field(typed, english):
    with pytest.raises(MoneyError) as refused:
        parse_yuan(typed, field="amount")
    assert refused.value.field == "amount"
    assert str(refused.value).endswith(f"{english})")


@pytest.mark.parametrize(
    "text", ["1,234.50", "¥1234.50", "１２３４.５", "1.500", "5.", ".5", D("1.230")]
)
def test_a_document_or_an_api_writes_the_amount_as_stored(text):
    with pytest.raises(MoneyError):
        parse_yuan(text, strict=True)
    assert parse_yuan(" 1234.5 ", strict=True) == D("1234.50")


def test_the_message_names_the_input_and_is_translated_by_the_site():
    with pytest.raises(MoneyError) as refused:
        parse_yuan("abc", field="minimum", label="单价下限")
    assert refused.value.message() == "单价下限“abc”不是有效金额，应如 1234.50"
    english = {
        "%(label)s“%(value)s”不是有效金额，应如 1234.50": "%(label)s “%(value)s” is no amount"
    }
    assert refused.value.message(lambda s: english.get(s, s)) == "单价下限 “abc” is no amount"
    with pytest.raises(MoneyError) as default:
        parse_yuan("-1")
    assert default.value.message() == "金额不能为负数: -1"


@pytest.mark.parametrize(
    ("typed", "yuan"),
    [
        ("400", "4000000.00"),
        ("85.5", "855000.00"),
        ("0.000001", "0.01"),
        ("１，２００．５", "12005000.00"),
        ("999999999.999999", str(MAX_YUAN)),
        ("999999999.999998", str(MAX_YUAN - FEN)),
    ],
)
def test_wan_are_read_as_yuan_to_the_fen(typed, yuan):
    assert parse_wan(typed) == D(yuan)


@pytest.mark.parametrize(
    ("typed", "english"),
    [
        ("0.0000001", "at most six decimals of 10,000 yuan"),
        ("1000000000", "too large"),
        ("-1", "must not be negative"),
        ("abc", "not a decimal amount"),
    ],
)
def test_wan_refused(typed, english):
    with pytest.raises(MoneyError) as refused:
        parse_wan(typed, field="requested_amount")
    assert refused.value.field == "requested_amount"
    assert str(refused.value).endswith(f"({english})")


# --- parse(format(x)) == x ---------------------------------------------------------------------

fen_amounts = st.integers(0, int(MAX_YUAN * 100)).map(lambda fen: D(fen).scaleb(-2))


@given(fen_amounts)
def test_an_amount_printed_for_a_document_reads_back_as_itself(amount):
    assert parse_yuan(format_yuan(amount), strict=True) == amount
    assert parse_yuan(format_yuan(amount)) == amount


@given(fen_amounts)
def test_an_amount_printed_for_people_reads_back_as_itself(amount):
    assert parse_yuan(format_yuan_grouped(amount)) == amount
    assert parse_yuan(f"¥{format_yuan_grouped(amount)}") == amount  # the `yuan` filter's text


@given(fen_amounts)
def test_an_amount_printed_in_wan_reads_back_as_itself(amount):
    assert parse_wan(format_wan(amount)) == amount
    assert parse_wan(format_wan(amount, grouped=True, min_places=0)) == amount


@given(st.integers(int(MAX_YUAN * 100) + 1, 10**40).map(lambda fen: D(fen).scaleb(-2)))
def test_every_amount_above_the_limit_is_refused(amount):
    with pytest.raises(MoneyError):
        parse_yuan(f"{amount:f}")


def test_every_message_is_in_the_catalogue_with_its_english():
    """The policy package is not scanned by makemessages: voucher.core.inputs lists its messages
    for the catalogue, and the pages show them in English too."""
    import gettext
    from pathlib import Path

    from voucher.core import inputs
    from voucher.policy import money

    assert set(inputs.MESSAGES) >= set(money.MESSAGES)
    catalogue = Path(__file__).resolve().parent.parent / "voucher/locale/en/LC_MESSAGES/django.mo"
    with catalogue.open("rb") as compiled:
        english = gettext.GNUTranslations(compiled)
    for message in inputs.MESSAGES:
        assert english.gettext(message) != message, message
