"""What `voucher evaluate` prints: the JSON of APPLICATION_FORMAT.md, or a Chinese report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from voucher.policy.clauses import clause_text
from voucher.policy.money import format_wan, format_yuan_grouped
from voucher.policy.results import OUTCOME_LABELS, STATUS_LABELS, Evaluation, decimal_text
from voucher.policy.rules.directions import DIRECTION_NAMES


def batch_json(results: Sequence[tuple[str, Evaluation]]) -> dict[str, Any]:
    return {"applications": [{"file": name, **ev.to_json()} for name, ev in results]}


def batch_payload(results: Sequence[tuple[str, Evaluation]]) -> dict[str, Any]:
    """`batch_json` for `dumps_batch` only, made faster: each finding's values as they are.

    Some thirty findings per application: rather than a converted copy of every finding's
    values (Finding.to_json), orjson is given the values as they are, ISO-formatting dates
    itself and asking `_json_default` only for what it does not know (Decimal), which it
    converts as Finding.to_json does (tests/test_policy_output.py compares the two)."""
    return {"applications": [_entry(name, ev) for name, ev in results]}


def dump_entry(name: str, ev: Evaluation) -> bytes:
    """One entry of `dumps_batch`'s compact "applications" list, as it writes it."""
    return orjson.dumps(_entry(name, ev), default=_json_default)


def dumps_batch(payload: dict[str, Any], *, pretty: bool = False) -> bytes:
    """What `voucher evaluate --json` prints of `batch_payload(results)`: the same bytes as
    `orjson.dumps(batch_json(results))`, indented by two with `pretty`."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(payload, default=_json_default, option=option)


def _entry(name: str, ev: Evaluation) -> dict[str, Any]:
    return {
        "file": name,
        "outcome": ev.outcome,
        "findings": [
            {
                "rule": rule,
                "status": status,
                "clause": clause,
                "contract": contract,
                "message": message,
                "values": values,
            }
            for rule, status, clause, contract, message, values in ev.findings
        ],
        "contracts": [c.to_json() for c in ev.contracts],
        "subsidy": ev.subsidy.to_json(),
    }


# What orjson does not serialise itself: a finding's Decimal, as Finding.to_json writes it
# (what plain() does with a Decimal); anything else raises TypeError. Called for some thirteen
# values per application: the function itself, without a wrapper's call.
_json_default = decimal_text


def text_report(name: str, applicant: str, uscc: str, ev: Evaluation) -> str:
    lines = [
        f"━━ {name}",
        f"申报单位：{applicant}（{uscc}）　{DIRECTION_NAMES[ev.direction]}　轮次：{ev.round}",
        f"结论：{OUTCOME_LABELS[ev.outcome]}（{ev.outcome}）",
    ]
    serious = ev.findings_with("fail", "review")
    if serious:
        lines.append("")
        lines.append("需要关注的审查结果：")
        for f in serious:
            where = f" 合同 {f.contract}" if f.contract else ""
            lines.append(f"  [{STATUS_LABELS[f.status]}] {f.rule}{where}：{f.message}")
            for clause_line in clause_text(f.clause).splitlines():
                lines.append(f"      依据 {clause_line}")
    notes = ev.findings_with("info")
    if notes:
        lines.append("")
        lines.append("说明：")
        for f in notes:
            where = f" 合同 {f.contract}" if f.contract else ""
            lines.append(f"  · {f.rule}{where}：{f.message}")
    lines.append("")
    lines.append("各合同金额（元）：")
    header = ("合同", "补贴期内交付", "发票/付款", "核定算力成本", "比例上限", "叠加上限", "补贴")
    rows = [header] + [
        (
            c.id + ("" if c.eligible else "（不计）"),
            format_yuan_grouped(c.delivered),
            format_yuan_grouped(c.evidenced),
            format_yuan_grouped(c.verified_cost),
            format_yuan_grouped(c.rate_limit),
            format_yuan_grouped(c.stacking_limit),
            format_yuan_grouped(c.subsidy),
        )
        for c in ev.contracts
    ]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append(
            "  "
            + "  ".join(
                _pad(cell, w, i > 0) for i, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    s = ev.subsidy
    requested = "未填写" if s.requested is None else f"{format_yuan_grouped(s.requested)} 元"
    lines.append("")
    lines.append(
        f"核算合计 {format_yuan_grouped(s.computed)} 元；方向上限 {format_yuan_grouped(s.cap)} 元；"
        f"申请金额 {requested}"
    )
    lines.append(
        f"可核定补贴上限 {format_yuan_grouped(s.approved_max)} 元（{format_wan(s.approved_max, grouped=True, min_places=0)} 万元）"
    )
    return "\n".join(lines)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap
