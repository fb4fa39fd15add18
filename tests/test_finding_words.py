"""The engine's findings on English pages (issue 19): each rule's messages have an English
rendering in the catalogue (voucher.applications.wording.FINDINGS_EN), made from the finding's
rule, status and values, so the engine stays pure and its Chinese output (the command line,
../shared/spec/examples) is unchanged."""

from __future__ import annotations

import ast
import re

import pytest
from django.utils import translation

from voucher.applications.wording import FINDINGS_EN, finding_in_english, finding_text
from voucher.policy.engine import evaluate
from voucher.policy.format import load_application_file
from voucher.policy.round import get_round

from .builders import EXAMPLES, ROOT

POLICY = ROOT / "voucher" / "policy"
HAN = re.compile(r"[\u4e00-\u9fff]")
STATUS = {"passed": "pass", "failed": "fail", "review": "review", "info": "info"}


def _written_by_the_engine() -> set[tuple[str, str]]:
    """Every (rule, status) the engine's source makes a finding of."""
    pairs: set[tuple[str, str]] = set()
    helper_rules: set[str] = set()  # rules passed to a helper that makes `rule.<status>(…)`
    helper_statuses: set[str] = set()
    for path in sorted(POLICY.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ids = {
            node.targets[0].id: node.value.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "define"
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in STATUS
                and isinstance(node.func.value, ast.Name)
            ):
                continue
            name = node.func.value.id
            if name == "rule":
                helper_statuses.add(STATUS[node.func.attr])
            else:
                pairs.add((_rule_id(name, ids), STATUS[node.func.attr]))
        for node in ast.walk(tree):  # _declared_on_list(D1_INSTITUTION, …)
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "_declared_on_list"
                and isinstance(node.args[0], ast.Name)
            ):
                helper_rules.add(_rule_id(node.args[0].id, ids))
    pairs |= {(r, s) for r in helper_rules for s in helper_statuses}
    return pairs


def _rule_id(name: str, ids: dict[str, str]) -> str:
    """A rule's variable as its id (defined in another module: the variable is the id)."""
    return ids.get(name, name)


def test_every_rule_and_status_the_engine_writes_has_an_english_rendering():
    written = _written_by_the_engine()
    assert len(written) > 40, written  # the scan found the engine's findings
    missing = sorted(written - set(FINDINGS_EN))
    assert not missing, missing
    for templates in FINDINGS_EN.values():
        for _condition, template in templates:
            assert not HAN.search(template), template


@pytest.mark.parametrize("folder", sorted(p.parent for p in EXAMPLES.glob("*/expected.json")))
def test_every_finding_of_the_examples_reads_in_english(folder):
    files = sorted(folder.glob("application*.json"))
    assert files, folder
    for evaluation in evaluate([load_application_file(f) for f in files], get_round("bj-2026")):
        for finding in evaluation.findings:
            f = finding.to_json()
            english = finding_in_english(f["rule"], f["status"], f["values"])
            assert english, f
            assert not HAN.search(english) or f["values"], (english, f)


def test_the_page_language_chooses_the_words():
    values = {"total": "19999999.99", "minimum": "20000000.00"}
    message = "符合条件的智能算力合同总额 19,999,999.99 元，低于 20,000,000.00 元；差 0.01 元。"
    with translation.override("en"):
        text, lang = finding_text("D2_CONTRACT_TOTAL", "fail", message, values)
    assert lang == "en"
    assert text == (
        "The eligible intelligent-compute contracts total CNY\u00a019,999,999.99, "
        "below CNY\u00a020,000,000.00."
    )
    with translation.override("zh-hans"):
        assert finding_text("D2_CONTRACT_TOTAL", "fail", message, values) == (message, "zh-Hans")
    # a finding the catalogue cannot render with its values stays Chinese, marked so
    with translation.override("en"):
        assert finding_text("D2_CONTRACT_TOTAL", "fail", message, {}) == (message, "zh-Hans")
        assert finding_text("NO_SUCH_RULE", "fail", message, {}) == (message, "zh-Hans")


def test_the_command_line_prints_the_engine_s_chinese_unchanged():
    """The catalogue is read by the pages only: the engine's messages stay its own."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in POLICY.rglob("*.py"))
    assert "wording" not in source and "FINDINGS_EN" not in source
