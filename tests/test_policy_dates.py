"""The one parse and the prints of a day (voucher.policy.dates), and the sites that read days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher.policy.dates import (
    DateError,
    chinese_date,
    english_date,
    iso_date,
    parse_date,
)

DAY = date(2026, 4, 10)


@pytest.mark.parametrize(
    "typed",
    [
        "2026-04-10",
        " 2026-04-10 ",
        "2026-4-10",
        "2026/4/10",
        "2026/04/10",
        "2026.4.10",
        "2026年4月10日",
        "2026 年 4 月 10 日",
        "2026年04月10日",
        "20260410",
        "２０２６－０４－１０",  # full-width, as a Chinese input method types it
        "２０２６年４月１０日",
        DAY,
        datetime(2026, 4, 10, 15, 30),  # a spreadsheet's date cell
    ],
)
def test_what_people_type_is_a_day(typed):
    assert parse_date(typed) == DAY


@pytest.mark.parametrize(
    ("typed", "english"),
    [
        ("04/10/2026", "date must be YYYY-MM-DD"),  # month or day first: ambiguous
        ("10.4.2026", "date must be YYYY-MM-DD"),
        ("2026-W15-5", "date must be YYYY-MM-DD"),  # date.fromisoformat read it as 2026-04-10
        ("2026-04-10T00:00:00", "date must be YYYY-MM-DD"),
        ("٢٠٢٦-٠٤-١٠", "date must be YYYY-MM-DD"),
        ("", "date must be YYYY-MM-DD"),
        ("tomorrow", "date must be YYYY-MM-DD"),
        (1775779200, "date must be YYYY-MM-DD"),  # a Unix time
        (None, "date must be YYYY-MM-DD"),
        ("2026-02-30", "no such date"),
        ("2026年2月29日", "no such date"),
        ("0000-01-01", "no such date"),
        ("2026-13-01", "no such date"),
    ],
)
def test_what_is_not_a_day_is_refused_naming_the_field(typed, english):
    with pytest.raises(DateError) as refused:
        parse_date(typed, field="paid_on")
    assert refused.value.field == "paid_on"
    assert str(refused.value).endswith(f"({english})")


@pytest.mark.parametrize(
    "text", ["2026/04/10", "2026年4月10日", "20260410", "2026-4-10", "２０２６-04-10"]
)
def test_a_document_or_an_api_writes_yyyy_mm_dd(text):
    with pytest.raises(DateError):
        parse_date(text, strict=True)
    assert parse_date(" 2026-04-10 ", strict=True) == DAY


def test_the_message_names_the_input():
    with pytest.raises(DateError) as refused:
        parse_date("2026-02-30", field="opens_on", label="申报开始日期")
    assert refused.value.message() == "申报开始日期“2026-02-30”是不存在的日期"
    with pytest.raises(DateError) as default:
        parse_date("x")
    assert default.value.message() == "日期“x”格式应为 YYYY-MM-DD"


def test_the_prints():
    assert iso_date(DAY) == "2026-04-10"
    assert chinese_date(DAY) == "2026年4月10日"
    assert english_date(DAY) == "10 April 2026"


days = st.integers(0, (date(9999, 12, 31) - date(1000, 1, 1)).days).map(
    lambda n: date(1000, 1, 1) + timedelta(n)
)


@given(days)
def test_a_day_printed_reads_back_as_itself(day):
    assert parse_date(iso_date(day), strict=True) == day
    assert parse_date(iso_date(day)) == day
    assert parse_date(chinese_date(day)) == day


def test_every_message_is_in_the_catalogue_with_its_english():
    import gettext
    from pathlib import Path

    from voucher.core import inputs
    from voucher.policy import dates

    assert set(inputs.MESSAGES) >= set(dates.MESSAGES)
    catalogue = Path(__file__).resolve().parent.parent / "voucher/locale/en/LC_MESSAGES/django.mo"
    with catalogue.open("rb") as compiled:
        english = gettext.GNUTranslations(compiled)
    for message in dates.MESSAGES:
        assert english.gettext(message) != message, message
