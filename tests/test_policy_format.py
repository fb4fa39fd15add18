"""The interchange format is strict: every kind of bad input is an error naming its JSON path,
and `voucher evaluate` turns it into `file: path: what` lines and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from voucher.policy.format import (
    FormatError,
    dump_application,
    parse_application,
    parse_application_json,
)

from .builders import EXAMPLES, ROOT, base_document, delivery


def _problems(doc) -> list[tuple[str, str]]:
    with pytest.raises(FormatError) as caught:
        parse_application(doc)
    return caught.value.problems


def _paths(doc) -> list[str]:
    return [path for path, _ in _problems(doc)]


def _set(doc, path: str, value):
    """Set `contracts[0].deliveries[0].amount`-style paths."""
    target = doc
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return doc


BAD = [
    ("unknown top-level key", "colour", "blue", "colour", "不认识的字段"),
    (
        "unknown nested key",
        "contracts[0].supplier.phone",
        "123",
        "contracts[0].supplier.phone",
        "不认识的字段",
    ),
    (
        "float money",
        "contracts[0].total_amount",
        24000000.0,
        "contracts[0].total_amount",
        "不能是数字",
    ),
    ("integer money", "requested_amount", 5000, "requested_amount", "不能是数字"),
    (
        "three decimals",
        "contracts[0].deliveries[0].amount",
        "3000000.001",
        "contracts[0].deliveries[0].amount",
        "最多两位小数",
    ),
    (
        "negative amount",
        "contracts[0].invoices[0].amount",
        "-1.00",
        "contracts[0].invoices[0].amount",
        "负数",
    ),
    (
        "amount with a comma",
        "contracts[0].payments[0].amount",
        "3,000,000.00",
        "contracts[0].payments[0].amount",
        "不是有效金额",
    ),
    (
        "impossible date",
        "contracts[0].signed_on",
        "2026-02-30",
        "contracts[0].signed_on",
        "不存在的日期",
    ),
    ("date in another format", "submitted_on", "2026/04/10", "submitted_on", "YYYY-MM-DD"),
    (
        "contract ends before it starts",
        "contracts[0].valid_to",
        "2025-08-01",
        "contracts[0].valid_to",
        "早于",
    ),
    (
        "delivery ends before it starts",
        "contracts[0].deliveries[0].end",
        "2025-09-01",
        "contracts[0].deliveries[0].end",
        "早于",
    ),
    ("USCC too short", "applicant.uscc", "91110108MA01C3QX7", "applicant.uscc", "18位"),
    (
        "USCC with a letter O",
        "contracts[0].supplier.uscc",
        "91110105MA02D4RYOJ",
        "contracts[0].supplier.uscc",
        "不允许的字符",
    ),
    (
        "mobile too short",
        "applicant.contact.mobile",
        "1380013800",
        "applicant.contact.mobile",
        "手机号",
    ),
    (
        "landline as mobile",
        "applicant.contact.mobile",
        "010-62345678",
        "applicant.contact.mobile",
        "手机号",
    ),
    (
        "e-mail without domain",
        "applicant.contact.email",
        "zhang@",
        "applicant.contact.email",
        "电子邮箱",
    ),
    (
        "ratio zero",
        "registry.shareholdings[0].ratio",
        "0",
        "registry.shareholdings[0].ratio",
        "(0, 1]",
    ),
    (
        "ratio above one",
        "registry.shareholdings[0].ratio",
        "1.01",
        "registry.shareholdings[0].ratio",
        "(0, 1]",
    ),
    ("unknown direction", "direction", 5, "direction", "取值不在允许范围内"),
    ("direction as text", "direction", "2", "direction", "取值不在允许范围内"),
    (
        "unknown service",
        "contracts[0].deliveries[0].service",
        "gpu",
        "contracts[0].deliveries[0].service",
        "取值不在允许范围内",
    ),
    (
        "boolean as text",
        "declarations.other_municipal_compute_support",
        "否",
        "declarations.other_municipal_compute_support",
        "true 或 false",
    ),
    ("unknown material", "materials", ["contract", "photo"], "materials[1]", "取值不在允许范围内"),
]


@pytest.mark.parametrize(
    ("case", "path", "value", "reported_at", "says"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_is_an_error_naming_the_field(case, path, value, reported_at, says):
    doc = base_document()
    doc["registry"] = {
        "shareholdings": [{"holder": "P-1", "held": "91110108MA01C3QX7B", "ratio": "0.5"}]
    }
    doc["materials"] = []
    problems = _problems(_set(doc, path, value))
    assert any(p == reported_at and says in what for p, what in problems), problems


def test_a_missing_required_field_is_named():
    doc = base_document()
    del doc["applicant"]["contact"]["email"]
    assert _paths(doc) == ["applicant.contact.email"]


def test_duplicate_contract_ids_are_an_error():
    doc = base_document()
    doc["contracts"] = [doc["contracts"][0], dict(doc["contracts"][0])]
    problems = _problems(doc)
    assert problems[0][0] == "contracts"
    assert "C1" in problems[0][1]


NO_DEVICE = "算力（compute）交付须填写设备型号 (device is required for a compute row)"


@pytest.mark.parametrize("device", [None, "", "   ", "\u3000", "\t\n"])
def test_a_compute_row_without_a_device_is_an_error_naming_the_device(device):
    # RULES.md v2, Fail closed: without a device neither the flagged list nor the bands apply
    doc = base_document()
    doc["contracts"][0]["deliveries"].append(delivery(device=device))
    if device is None:
        doc["contracts"][0]["deliveries"][1].pop("device", None)
    assert _problems(doc) == [("contracts[0].deliveries[1].device", NO_DEVICE)]


def test_a_compute_row_with_device_null_is_an_error_naming_the_device():
    doc = base_document()
    doc["contracts"][0]["deliveries"][0]["device"] = None
    assert _problems(doc) == [("contracts[0].deliveries[0].device", NO_DEVICE)]


@pytest.mark.parametrize("service", ["storage", "network", "security"])
def test_other_services_may_name_a_device_or_not(service):
    doc = base_document()
    rows = doc["contracts"][0]["deliveries"]
    rows.append(delivery(service=service, device=None))
    rows.append(delivery(service=service, device="H800"))
    rows.append(delivery(service=service, device="  "))  # blank: no device, not an error
    parsed = parse_application(doc)
    assert [d.device for d in parsed.contracts[0].deliveries] == ["H800", None, "H800", None]
    written = dump_application(parsed)["contracts"][0]["deliveries"]
    assert ["device" in d for d in written] == [True, False, True, False]


def test_a_compute_device_is_kept_in_canonical_form():
    doc = base_document()
    doc["contracts"][0]["deliveries"][0]["device"] = " Ｈ８００ "
    assert parse_application(doc).contracts[0].deliveries[0].device == "H800"


def test_every_problem_of_a_document_is_reported_at_once():
    doc = base_document()
    doc["applicant"]["uscc"] = "123"
    doc["contracts"][0]["total_amount"] = 1.5
    assert _paths(doc) == ["applicant.uscc", "contracts[0].total_amount"]


def test_a_document_of_another_format_is_refused_without_a_flood():
    assert _paths({"format": "something/else@2"}) == ["format"]
    assert _paths([1, 2]) == ["(document)"]


def test_invalid_json_names_line_and_column():
    with pytest.raises(FormatError) as caught:
        parse_application_json('{"format": ')
    assert caught.value.problems[0][0].startswith("line 1 column")


def test_full_width_digits_and_letters_typed_by_chinese_users_are_normalised():
    doc = base_document()
    doc["applicant"]["uscc"] = "９１１１０１０８ＭＡ０１Ｃ３ＱＸ７Ｂ"
    doc["applicant"]["contact"]["mobile"] = "１３９１２３４５６７８"
    doc["contracts"][0]["total_amount"] = "２４００００００．００"
    doc["contracts"][0]["signed_on"] = "２０２５－０８－２８"
    app = parse_application(doc)
    assert app.applicant.uscc == "91110108MA01C3QX7B"
    assert app.applicant.contact.mobile == "13912345678"
    assert app.contracts[0].total_amount == Decimal("24000000.00")
    assert app.contracts[0].signed_on.isoformat() == "2025-08-28"


def test_lower_case_uscc_and_spaced_mobile_are_accepted_in_canonical_form():
    doc = base_document()
    doc["applicant"]["uscc"] = "91110108ma01c3qx7b"
    doc["applicant"]["contact"]["mobile"] = "+86 139-1234-5678"
    app = parse_application(doc)
    assert app.applicant.uscc == "91110108MA01C3QX7B"
    assert app.applicant.contact.mobile == "13912345678"


def test_free_text_keeps_full_width_punctuation_as_typed():
    doc = base_document()
    doc["applicant"]["name"] = "北京示例（科技）有限公司"
    assert parse_application(doc).applicant.name == "北京示例（科技）有限公司"


def test_money_without_decimals_is_read_as_yuan_and_written_with_two():
    doc = base_document()
    doc["contracts"][0]["total_amount"] = "24000000"
    assert dump_application(parse_application(doc))["contracts"][0]["total_amount"] == "24000000.00"


def test_unit_prices_may_be_finer_than_a_fen():
    doc = base_document()
    doc["contracts"][0]["deliveries"] = [delivery(unit_price="0.0035", unit="千tokens")]
    assert parse_application(doc).contracts[0].deliveries[0].unit_price == Decimal("0.0035")


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.glob("*/application*.json")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_each_example_reads_and_writes_back_unchanged(path):
    original = json.loads(path.read_text())
    assert dump_application(parse_application(original)) == original


# --- the command ------------------------------------------------------------------------------------


def _voucher(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "voucher", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "path", "value", "reported_at", "says"), BAD, ids=[b[0] for b in BAD]
)
def test_voucher_evaluate_exits_2_naming_file_and_field(
    tmp_path, case, path, value, reported_at, says
):
    doc = base_document()
    doc["registry"] = {
        "shareholdings": [{"holder": "P-1", "held": "91110108MA01C3QX7B", "ratio": "0.5"}]
    }
    doc["materials"] = []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_set(doc, path, value), ensure_ascii=False))
    result = _voucher("evaluate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}: {reported_at}: " in result.stderr
    assert says in result.stderr
    assert result.stdout == ""


def test_voucher_evaluate_refuses_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    result = _voucher("evaluate", "--json", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{bad}: line 1 column 2: 不是有效的 JSON")
    assert "Traceback" not in result.stderr


def test_voucher_evaluate_refuses_a_missing_file_and_an_unknown_round(tmp_path):
    result = _voucher("evaluate", str(tmp_path / "nowhere.json"))
    assert result.returncode == 2
    assert "nowhere.json: (file): 无法读取文件" in result.stderr
    doc = base_document()
    doc["round"] = "bj-2099"
    f = tmp_path / "a.json"
    f.write_text(json.dumps(doc))
    result = _voucher("evaluate", str(f))
    assert result.returncode == 2
    assert f"{f}: round: unknown round 'bj-2099'" in result.stderr
    result = _voucher("evaluate", "--round", "bj-2099", str(f))
    assert result.returncode == 2
    assert "--round" in result.stderr


def test_one_bad_file_in_a_batch_evaluates_nothing(tmp_path):
    good = EXAMPLES / "d4-small" / "application.json"
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    result = _voucher("evaluate", "--json", str(good), str(bad))
    assert result.returncode == 2
    assert result.stdout == ""


def test_the_readable_report_is_in_chinese_with_clause_text_and_amounts():
    result = _voucher(
        "evaluate", str(EXAMPLES / "d2-common-shareholder-review" / "application.json")
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "结论：需人工审核" in out
    assert "SUPPLIER_EQUITY" in out
    assert "非关联方：即不存在直接或间接的股权关联" in out  # the clause, verbatim
    assert "600,000.00" in out
    assert "可核定补贴上限 600,000.00 元（60 万元）" in out


@pytest.mark.parametrize(
    ("amount", "accepted"),
    [
        ("9" * 13 + ".98", True),  # one fen below the limit
        ("9" * 13 + ".99", True),  # the largest amount the database keeps exactly
        ("1" + "0" * 13 + ".00", False),  # one fen above
        ("0" * 20 + "1.00", True),  # leading zeros are not digits of the amount
        ("1" + "0" * 13, False),  # one digit more
        ("9" * 14 + ".99", False),  # 14 digits: PostgreSQL keeps it, SQLite reads it back changed
        ("9" * 30, False),  # found by schemathesis: once a server error (quantize overflow)
    ],
)
def test_an_amount_too_large_is_an_error_naming_the_field(amount, accepted):
    doc = base_document()
    doc["contracts"][0]["total_amount"] = amount
    if accepted:
        assert parse_application(doc).contracts[0].total_amount == Decimal(amount)
    else:
        problems = _problems(doc)
        assert (
            "contracts[0].total_amount",
            f"金额过大，整数部分最多 13 位: {amount} (too large)",
        ) in problems


@pytest.mark.parametrize("amount", ["١٢٣٤.٥٠", "१२३४.५०", "１２３４.٥٠"])
def test_digits_of_other_scripts_are_not_an_amount(amount):
    """NFKC makes full-width digits ASCII; Arabic-Indic or Devanagari digits stay what they are,
    and Decimal() would have read them (a regex \\d matched them) as 1234.50."""
    doc = base_document()
    doc["contracts"][0]["total_amount"] = amount
    problems = _problems(doc)
    assert [path for path, _ in problems] == ["contracts[0].total_amount"]
    assert "不是有效金额" in problems[0][1]


def test_a_quantity_in_digits_of_another_script_is_not_a_number():
    doc = base_document()
    doc["contracts"][0]["deliveries"][0]["quantity"] = "١٢"
    assert _paths(doc) == ["contracts[0].deliveries[0].quantity"]
