"""Round parameters are data: validated at load, each with its clause; the clause registry is
verbatim; RULES.md's rules are all implemented; the engine imports no Django."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib
from datetime import date, datetime
from decimal import Decimal

import pytest

from voucher.policy.clauses import CLAUSES, clause_text
from voucher.policy.round import (
    ROUNDS_DIR,
    RoundError,
    check_no_overlap,
    load_rounds,
    parse_round,
)
from voucher.policy.rules import RULES

from .builders import EXAMPLES, ROOT

BJ = (ROUNDS_DIR / "bj-2026.toml").read_text(encoding="utf-8")
SOURCE = (
    ROOT / "voucher" / "policy" / "source" / "attachment-14-compute-voucher-guide.zh.txt"
).read_text(encoding="utf-8")
RULES_MD = (ROOT / "docs" / "policy" / "RULES.md").read_text(encoding="utf-8")
SHARED = ROOT.parent / "shared" / "policy"


def test_bj_2026_has_the_parameters_of_rules_md():
    r = parse_round(BJ)
    assert (r.window_start.isoformat(), r.window_end.isoformat()) == ("2025-09-08", "2026-03-31")
    assert {d: (t.rate, t.amount_cap) for d, t in r.directions.items()} == {
        1: (Decimal("0.50"), Decimal("30000000.00")),
        2: (Decimal("0.20"), Decimal("5000000.00")),
        3: (Decimal("0.20"), Decimal("1000000.00")),
        4: (Decimal("0.10"), Decimal("300000.00")),
    }
    assert r.d2_minimum_contract_total == Decimal("20000000.00")
    assert r.d4_filing_on_or_after.isoformat() == "2026-01-01"
    assert r.stacking_share == Decimal("0.50")
    assert set(r.d1_topics) == {"world_model", "embodied_ai", "ai_for_science", "agent"}
    assert set(r.d3_platforms) == {
        "baidu_cloud",
        "alibaba_cloud",
        "kingsoft_cloud",
        "volcano_cloud",
        "bj_compute_platform",
        "beilong_supercloud",
        "oschina",
        "modelscope",
    }
    assert set(r.eligible_industries) == {"I", "C", "M"}
    assert (
        r.flagged_devices == {}
        and r.unit_price_bands == {}
        and r.state_asset_holders == frozenset()
    )


def test_every_parameter_table_names_its_clause():
    r = parse_round(BJ)
    assert all(ref in CLAUSES for ref in r.clauses.values())
    assert {t.clause for t in r.directions.values()} == {"二（一）"}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t + '\ncolour = "blue"\n', "colour: unknown key"),
        (
            lambda t: t.replace('rate = "0.10"', 'rate = "0.10"\nbonus = "1"'),
            "directions.4.bonus: unknown key",
        ),
        (
            lambda t: t.replace('amount = "20000000.00"\n', ""),
            "direction_2_minimum_contract_total.amount: missing value",
        ),
        (
            lambda t: t.replace('rate = "0.20"', "rate = 0.20", 1),
            "directions.2.rate: must be a decimal string",
        ),
        (
            lambda t: t.replace('amount_cap = "300000.00"', 'amount_cap = "300000.001"'),
            "directions.4.amount_cap",
        ),
        (  # one fen above what the database keeps (voucher.policy.money.MAX_YUAN)
            lambda t: t.replace('amount_cap = "300000.00"', 'amount_cap = "100000000000000.00"'),
            "directions.4.amount_cap: 金额过大",
        ),
        (lambda t: t.replace('rate = "0.50"', 'rate = "1.5"'), "directions.1.rate"),
        (lambda t: t.replace('clause = "二（四）"', 'clause = "九（九）"'), "unknown clause"),
        (lambda t: t.replace("end = 2026-03-31", "end = 2025-01-01"), "end is before start"),
        (lambda t: t.replace("[directions.4]", "[directions.5]"), "exactly 1, 2, 3 and 4"),
        (lambda t: t.replace("id = ", "id = = "), "not valid TOML"),
    ],
)
def test_a_bad_round_file_is_refused_naming_the_key(change, says):
    with pytest.raises(RoundError) as caught:
        parse_round(change(BJ), name="bj-2026.toml")
    assert says in str(caught.value)
    assert str(caught.value).startswith("bj-2026.toml")


def test_a_second_round_is_a_second_file(tmp_path):
    (tmp_path / "bj-2026.toml").write_text(BJ, encoding="utf-8")
    (tmp_path / "bj-2027.toml").write_text(
        BJ.replace('id = "bj-2026"', 'id = "bj-2027"')
        .replace("start = 2025-09-08", "start = 2026-04-01")
        .replace("end = 2026-03-31", "end = 2027-03-31")
        .replace('amount_cap = "300000.00"', 'amount_cap = "500000.00"'),
        encoding="utf-8",
    )
    rounds = load_rounds(tmp_path)
    assert rounds["bj-2027"].directions[4].amount_cap == Decimal("500000.00")
    assert rounds["bj-2026"].directions[4].amount_cap == Decimal("300000.00")


def test_overlapping_rounds_of_one_jurisdiction_are_an_error(tmp_path):
    (tmp_path / "bj-2026.toml").write_text(BJ, encoding="utf-8")
    (tmp_path / "bj-2026b.toml").write_text(
        BJ.replace('id = "bj-2026"', 'id = "bj-2026b"').replace(
            "start = 2025-09-08", "start = 2026-03-31"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RoundError, match="overlap"):
        load_rounds(tmp_path)


def test_rounds_of_different_jurisdictions_may_share_days():
    bj = parse_round(BJ)
    sh = parse_round(
        BJ.replace('id = "bj-2026"', 'id = "sh-2026"').replace(
            'jurisdiction = "北京市"', 'jurisdiction = "上海市"'
        )
    )
    check_no_overlap([bj, sh])


def test_a_round_file_must_carry_its_own_name(tmp_path):
    (tmp_path / "other.toml").write_text(BJ, encoding="utf-8")
    with pytest.raises(RoundError, match="must match the file name"):
        load_rounds(tmp_path)


# --- the clause registry and RULES.md -----------------------------------------------------------


def test_every_clause_text_is_verbatim_from_the_source():
    source = SOURCE.replace("[footnoteRef:1]", "")  # the footnote marker of 一（五）
    for clause in CLAUSES.values():
        assert clause.text in source, clause.id


def test_the_copies_of_the_policy_match_the_shared_originals_when_present():
    if not SHARED.exists():
        pytest.skip("../shared is not beside this checkout (a clean clone in CI)")
    assert (SHARED / "RULES.md").read_text(encoding="utf-8") == RULES_MD
    assert (SHARED / "attachment-14-compute-voucher-guide.zh.txt").read_text(
        encoding="utf-8"
    ) == SOURCE


def _rules_md_table_rows() -> dict[str, str]:
    rows = {}
    for line in RULES_MD.splitlines():
        m = re.match(r"\| `([A-Z0-9_]+)` \| ([^|]+) \|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    return rows


def test_every_rule_of_rules_md_is_implemented_with_its_clause():
    rows = _rules_md_table_rows()
    assert len(rows) == 23
    for rule_id, clause in rows.items():
        assert rule_id in RULES, rule_id
        assert RULES[rule_id].clause == clause, rule_id


def test_the_engine_evaluates_every_rule_of_rules_md():
    """Registered is not enough: each of the 23 rules must come out of an evaluation. The
    examples cover every direction; a unit-price band (none ship with the round) wakes
    UNIT_PRICE."""
    from voucher.policy.engine import evaluate
    from voucher.policy.format import load_application_file
    from voucher.policy.round import PriceBand, device_key, get_round

    base = get_round("bj-2026")
    band = PriceBand("H800", "lot", Decimal("1.00"), Decimal("2.00"))
    policy_round = base.with_overrides(unit_price_bands={(device_key("H800"), "lot"): band})
    seen = set()
    for path in sorted(EXAMPLES.glob("*/application*.json")):
        for evaluation in evaluate([load_application_file(path)], policy_round):
            seen |= {finding.rule for finding in evaluation.findings}
    assert set(_rules_md_table_rows()) - seen == set()


def test_every_info_rule_of_rules_md_exists():
    info = re.search(r"### Info findings.*?\n\n(.*?)\n\n", RULES_MD, re.S).group(1)
    ids = re.findall(r"`([A-Z_]+)`", info)
    assert len(ids) == 7, ids  # the whole paragraph, not only its first line
    for rule_id in ids:
        assert rule_id in RULES


def test_clause_text_shows_every_clause_of_a_reference():
    text = clause_text("一（三）, 14-4 第4条")
    assert "申报企业在申报期内未获得其他市级财政资金的相关智能算力支持" in text
    assert "承诺书 第4条" in text


def test_the_engine_imports_no_django():
    code = (
        "import sys, voucher.policy.engine, voucher.policy.report;"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'django'];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_engine_files_never_import_django_or_use_float():
    for path in (ROOT / "voucher" / "policy").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import django" not in text and "from django" not in text, path
        assert "float(" not in text, path


def _round_read_both_ways(raw: dict) -> tuple[object, object]:
    """(the plain reader's round or None, the models' round or their RoundError text)."""
    from voucher.policy.round import _build, _read_plain
    from voucher.policy.round_models import validate_round

    plain = _read_plain(raw)
    try:
        models: object = validate_round(raw, name="bj-2026.toml")
    except RoundError as exc:
        models = str(exc)
    return (None if plain is None else _build(plain)), models


def _in_order(policy_round: object) -> list[object]:
    """Every field, a mapping as its items in order (dict equality ignores the order)."""
    values = [getattr(policy_round, f.name) for f in dataclasses.fields(policy_round)]  # type: ignore[arg-type]
    return [list(v.items()) if isinstance(v, dict) else v for v in values]


def _mutations(value: object, path: tuple = ()):
    """(path, mutated copy) of a parsed round file: each key dropped, an unknown key added,
    each value replaced by one of another kind, each list emptied and each string blanked."""
    others = [1, "", "0.50", "1000.00", date(2026, 1, 1), datetime(2026, 1, 1), [], ["x"], {}, True]
    if isinstance(value, dict):
        yield (*path, "+extra"), {**value, "extra": "x"}
        for key, item in value.items():
            yield (*path, key, "-"), {k: v for k, v in value.items() if k != key}
            for path_in, changed in _mutations(item, (*path, key)):
                yield path_in, {**value, key: changed}
    elif isinstance(value, list):
        yield (*path, "[]"), []
        for i, item in enumerate(value):
            for path_in, changed in _mutations(item, (*path, i)):
                yield path_in, [*value[:i], changed, *value[i + 1 :]]
    for other in others:
        if type(other) is not type(value) or other != value:
            yield (*path, repr(other)), other


def test_the_plain_reader_reads_a_round_file_as_the_models_do_or_leaves_it_to_them():
    raw = tomllib.loads(BJ)
    plain, models = _round_read_both_ways(raw)
    assert plain is not None, "the shipped round is read without pydantic"
    assert _in_order(plain) == _in_order(models)
    shipped, taken = plain, 0
    for path, mutated in _mutations(raw):
        plain, models = _round_read_both_ways(mutated)
        if plain is not None:  # what it takes, the models take too, with the same values
            assert not isinstance(models, str), (path, models)
            assert _in_order(plain) == _in_order(models), path
            taken += plain != shipped
    assert taken > 50  # not only refusals: many mutations are rounds the plain reader reads
