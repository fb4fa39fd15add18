"""Money in the portal's forms and spreadsheet import: the one parse (voucher.policy.money), each
site's errors as it reports them (a form error on the field; sheet, row and column)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django import forms as django_forms
from django.utils import translation

from voucher.policy.money import FEN, MAX_YUAN
from voucher.portal import forms
from voucher.portal.imports import ImportFailed, read_spreadsheet

D = Decimal
BELOW, AT, ABOVE = str(MAX_YUAN - FEN), str(MAX_YUAN), str(MAX_YUAN + FEN)


def _payment(amount: str) -> forms.PaymentForm:
    return forms.PaymentForm({"version": "0", "date": "2026-01-15", "amount": amount})


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1234.50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("¥1,234.50", "1234.50"),  # refused before: ¥ is what the pages print
        ("￥1,234.50", "1234.50"),
        ("¥ 12,000,000", "12000000.00"),
        ("１２３４．５", "1234.50"),
        ("１，２３４", "1234.00"),
        ("1,234.500", "1234.50"),
        (" 7 ", "7.00"),
        (BELOW, BELOW),
        (AT, AT),
    ],
)
def test_a_yuan_field_accepts_what_people_type(typed, amount):
    form = _payment(typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == D(amount)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (ABOVE, "金额（元）过大，整数部分最多 13 位"),
        ("1.001", "金额（元）最多两位小数（精确到分）"),
        ("-1", "金额（元）不能为负数"),
        ("1e3", "金额（元）“1e3”不是有效金额"),
        ("NaN", "不是有效金额"),
        ("1234元", "不是有效金额"),
    ],
)
def test_a_yuan_field_refuses_with_a_form_error_naming_the_field(typed, says):
    form = _payment(typed)
    assert not form.is_valid()
    assert list(form.errors) == ["amount"]
    assert says in form.errors["amount"][0]


def test_a_yuan_field_refuses_in_english_for_an_english_reader():
    with translation.override("en"):
        form = _payment(ABOVE)
        assert not form.is_valid()
        message = form.errors["amount"][0]
    assert "too large" in message and "金额" not in message and "过大" not in message


def test_a_yuan_field_shows_an_amount_that_reads_back_as_itself():
    field = forms.YuanField()
    for amount in (D("0.00"), D("1234.50"), MAX_YUAN):
        shown = field.prepare_value(amount)
        assert shown == f"{amount:,.2f}"
        assert field.clean(shown) == amount


class _Requested(django_forms.Form):
    requested_amount = forms.WanField(label="对应申请金额（万元）", required=False)


def _project(requested: str) -> django_forms.Form:
    return _Requested({"requested_amount": requested})


@pytest.mark.parametrize(
    ("typed", "yuan"),
    [
        ("400", "4000000.00"),
        ("85.5", "855000.00"),
        ("１，２００", "12000000.00"),
        ("999999999.999998", BELOW),
        ("999999999.999999", AT),
    ],
)
def test_a_wan_field_reads_wan_as_yuan(typed, yuan):
    form = _project(typed)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["requested_amount"] == D(yuan)
    assert forms.WanField().clean(forms.WanField().prepare_value(D(yuan))) == D(yuan)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("1000000000", "过大"),  # one fen above MAX_YUAN
        ("0.0000001", "万元最多六位小数"),
        ("-1", "不能为负数"),
        ("abc", "以万元为单位"),
    ],
)
def test_a_wan_field_refuses_naming_the_field(typed, says):
    form = _project(typed)
    assert not form.is_valid()
    assert says in form.errors["requested_amount"][0]


# --- the spreadsheet import --------------------------------------------------------------------


def _payments(*amounts: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["合同编号", "支付日期", "金额（元）"])
    for amount in amounts:
        writer.writerow(["C1", "2026-01-15", amount])
    return out.getvalue().encode("utf-8")


def _imported(*amounts: str) -> list[Decimal]:
    rows = read_spreadsheet("付款.csv", _payments(*amounts), existing_contract_ids=["C1"]).rows
    return [values["amount"] for _cid, values in rows["payments"]]


def test_a_spreadsheet_amount_is_read_as_a_person_typed_it():
    # "¥1,234.50" and "1.500" were refused before: the cell went to the format's strict reading
    assert _imported("¥1,234.50", "1.500", "１，２３４．５", "7", BELOW, AT) == [
        D("1234.50"),
        D("1.50"),
        D("1234.50"),
        D("7.00"),
        D(BELOW),
        D(AT),
    ]


@pytest.mark.parametrize(
    ("typed", "says"),
    [(ABOVE, "过大"), ("1.001", "最多两位小数"), ("-5", "不能为负数"), ("abc", "不是有效金额")],
)
def test_a_bad_spreadsheet_amount_is_reported_at_its_row_and_column(typed, says):
    with pytest.raises(ImportFailed) as failed:
        _imported("1.00", typed)
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("付款", 3, "金额（元）")
    assert says in error.message


def test_a_number_cell_of_a_workbook_is_read_as_the_cell_shows_it():
    from .test_portal_import import workbook

    data = workbook({"付款": [["C1", "2026-01-15", 1234.5], ["C1", "2026-01-15", 7]]})
    rows = read_spreadsheet("x.xlsx", data, existing_contract_ids=["C1"]).rows["payments"]
    assert [values["amount"] for _cid, values in rows] == [D("1234.50"), D("7.00")]
    with pytest.raises(ImportFailed) as failed:
        read_spreadsheet(
            "x.xlsx",
            workbook({"付款": [["C1", "2026-01-15", 1e20]]}),
            existing_contract_ids=["C1"],
        )
    [error] = failed.value.errors
    assert error.column == "金额（元）" and "过大" in error.message  # not "1E+20" unread


def test_a_quantity_in_digits_of_another_script_is_not_a_number():
    field = forms.DecimalText()
    assert field.clean("１２.５") == D("12.5")
    with pytest.raises(django_forms.ValidationError):
        field.clean("١٢")


# --- days (voucher.policy.dates): the same forms and the same import ---------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "2026-01-15",
        "2026-1-15",
        "2026/1/15",
        "2026年1月15日",  # refused before: Django's zh-hans format "%Y年%n月%j日" never matches
        "２０２６-０１-１５",
        "2026.1.15",
        "20260115",
    ],
)
def test_a_day_field_accepts_what_people_type(typed):
    form = forms.PaymentForm({"version": "0", "date": typed, "amount": "1"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["date"] == date(2026, 1, 15)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("01/15/2026", "支付日期“01/15/2026”格式应为 YYYY-MM-DD"),
        ("2026-02-30", "支付日期“2026-02-30”是不存在的日期"),
    ],
)
def test_a_day_field_refuses_with_a_form_error_naming_the_field(typed, says):
    form = forms.PaymentForm({"version": "0", "date": typed, "amount": "1"})
    assert not form.is_valid()
    assert form.errors["date"] == [says]


def test_a_day_field_accepts_the_us_order_no_more_in_english():
    """Django's English formats read 01/15/2026 month first; a Chinese reader means no such
    thing, and the date picker sends YYYY-MM-DD in every language."""
    with translation.override("en"):
        form = forms.PaymentForm({"version": "0", "date": "01/15/2026", "amount": "1"})
        assert not form.is_valid()
        assert "should be in the form YYYY-MM-DD" in form.errors["date"][0]


def _payment_days(*days: str) -> list[date]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["合同编号", "支付日期", "金额（元）"])
    for day in days:
        writer.writerow(["C1", day, "1.00"])
    data = out.getvalue().encode("utf-8")
    rows = read_spreadsheet("付款.csv", data, existing_contract_ids=["C1"]).rows
    return [values["date"] for _cid, values in rows["payments"]]


def test_a_spreadsheet_day_is_read_as_a_person_typed_it():
    # 20260115 was refused before
    assert (
        _payment_days("2026-01-15", "2026/1/15", "2026年1月15日", "20260115")
        == [date(2026, 1, 15)] * 4
    )


@pytest.mark.parametrize(("typed", "says"), [("2026/13/01", "不存在"), ("15.1.2026", "YYYY-MM-DD")])
def test_a_bad_spreadsheet_day_is_reported_at_its_row_and_column(typed, says):
    with pytest.raises(ImportFailed) as failed:
        _payment_days("2026-01-15", typed)
    [error] = failed.value.errors
    assert (error.sheet, error.row, error.column) == ("付款", 3, "支付日期")
    assert says in error.message
