"""The four directions of 一（四）and who qualifies for each; ONE_DIRECTION across a batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from voucher.policy.context import EvaluationContext
from voucher.policy.lists import (
    LIST_NAMES,
    OfficialLists,
    find_enterprise,
    find_filing,
    is_loaded,
)
from voucher.policy.money import ZERO, format_yuan_grouped
from voucher.policy.results import Finding
from voucher.policy.round import PolicyRound
from voucher.policy.rules.base import Rule, define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application

DIRECTION_NAMES = {1: "方向一", 2: "方向二", 3: "方向三", 4: "方向四"}

ONE_DIRECTION = define("ONE_DIRECTION", "一（四）", "application", "同一企业只申报一个方向")
D1_INSTITUTION = define(
    "D1_INSTITUTION", "一（四）方向一", "application", "北京市人工智能领域的新型研发机构"
)
D1_TOPIC = define(
    "D1_TOPIC", "一（四）方向一", "application", "围绕世界模型、具身智能、AI for Science、Agent"
)
D2_QUALIFICATION = define(
    "D2_QUALIFICATION", "一（四）方向二", "application", "入围揭榜名单或符合两个行动方案"
)
D2_CONTRACT_TOTAL = define(
    "D2_CONTRACT_TOTAL", "一（四）方向二", "application", "智能算力合同总额不低于2000万元"
)
D3_QUALIFICATION = define(
    "D3_QUALIFICATION", "一（四）方向三", "application", "开源项目，符合开源场景或行动方案"
)
D3_PLATFORM = define("D3_PLATFORM", "二（二）", "application", "在指定平台发布")
D4_MODEL_FILING = define(
    "D4_MODEL_FILING", "一（四）方向四", "application", "2026年1月1日之后新备案登记的模型产品"
)

_NOT_SUBMITTED = date.max  # a draft counts as filed after every submitted application


def one_direction(
    batch: Sequence[Application], references: Sequence[str], ctx: EvaluationContext
) -> list[Finding]:
    """Every application of an enterprise but the earliest submitted fails; a tie fails all."""
    filed: dict[str, list[tuple[date, int, str]]] = {}
    for index, app in enumerate(batch):
        filed.setdefault(app.applicant.uscc, []).append(
            (app.submitted_on or _NOT_SUBMITTED, index, references[index])
        )
    for other in ctx.other_submissions:
        if other.uscc in filed:
            filed[other.uscc].append((other.submitted_on or _NOT_SUBMITTED, -1, other.reference))

    findings = []
    for index, app in enumerate(batch):
        entries = filed[app.applicant.uscc]
        if len(entries) == 1:
            findings.append(ONE_DIRECTION.passed("本轮次该企业只有这一份申报。"))
            continue
        mine = app.submitted_on or _NOT_SUBMITTED
        others = [(d, ref) for d, i, ref in entries if i != index]
        earliest_other = min(d for d, _ in others)
        shown = "、".join(ref if d == _NOT_SUBMITTED else f"{ref}（{d}提交）" for d, ref in others)
        if mine < earliest_other:
            findings.append(
                ONE_DIRECTION.passed(
                    f"该企业本轮次另有申报（{shown}），本申报提交最早，予以保留。",
                    others=[ref for _, ref in others],
                )
            )
        else:
            reason = "提交日期相同，均不予受理" if mine == earliest_other else "已有更早提交的申报"
            findings.append(
                ONE_DIRECTION.failed(
                    f"同一企业不可同时申报多个方向：该企业本轮次另有申报（{shown}），{reason}。",
                    others=[ref for _, ref in others],
                    submitted_on=None if mine == _NOT_SUBMITTED else mine,
                )
            )
    return findings


def d1_institution(app: Application, lists: OfficialLists) -> Finding:
    a = app.applicant
    if a.entity_type != "new_rd_institution" or not a.ai_new_rd_institution:
        return D1_INSTITUTION.failed(
            "方向一仅支持北京市人工智能领域的新型研发机构；申报单位未声明为该类机构。",
            entity_type=a.entity_type,
            ai_new_rd_institution=a.ai_new_rd_institution,
        )
    return _declared_on_list(
        D1_INSTITUTION,
        app,
        lists,
        "ai_new_rd_institutions",
        "申报单位声明为北京市人工智能领域的新型研发机构",
    )


def _declared_on_list(
    rule: Rule, app: Application, lists: OfficialLists, kind: str, declared: str
) -> Finding:
    """A declaration found on its list passes and names it; otherwise review (fail closed)."""
    found = find_enterprise(app, lists, kind)
    if found is not None:
        return rule.passed(f"{declared}，见{found.describe()}。", **found.values())
    if not is_loaded(app, lists, kind):
        return rule.review(
            f"{declared}，但尚未导入{LIST_NAMES[kind]}，无法核对，请审核人员核实"
            "（no official list of this kind is loaded: no evidence）。",
            list=kind,
            on_list=None,
        )
    return rule.review(
        f"{declared}，但{LIST_NAMES[kind]}中没有 {app.applicant.uscc}，请审核人员核实"
        "（not on the official list in force）。",
        list=kind,
        on_list=False,
    )


def d1_topic(app: Application, rnd: PolicyRound) -> Finding:
    topic = app.project.topic
    allowed = "、".join(rnd.d1_topics.values())
    if topic == "other":
        # 围绕世界模型、具身智能、AI for Science、Agent等方向: the list ends with 等
        return D1_TOPIC.review(
            f"项目方向为“其他”：{app.project.topic_note}。条款列举{allowed}等方向，"
            "是否属于同类方向由审核人员判断（the clause ends with 等: a person judges it）。",
            topic=topic,
            topic_note=app.project.topic_note,
        )
    if topic is None or topic not in rnd.d1_topics:
        return D1_TOPIC.failed(f"方向一项目须围绕{allowed}等方向开展研究攻关。", topic=topic)
    return D1_TOPIC.passed(f"项目方向：{rnd.d1_topics[topic]}。", topic=topic)


def d2_qualification(app: Application, lists: OfficialLists) -> Finding:
    p = app.project
    if p.miit_2025_list:
        found = _declared_on_list(
            D2_QUALIFICATION,
            app,
            lists,
            "miit_2025_list",
            "申报单位声明入围工信部2025年人工智能揭榜名单",
        )
        if found.status == "pass" or not p.action_plan_aligned:
            return found._replace(values={**found.values, "miit_2025_list": True})
    if p.action_plan_aligned:
        # 参照…所支持方向研发落地 is a judgment no list can settle
        return D2_QUALIFICATION.review(
            "申报单位声明项目参照两个行动方案所支持方向研发落地，是否符合由审核人员判断"
            "（alignment with the action plans is a judgment）。",
            action_plan_aligned=True,
            miit_2025_list=p.miit_2025_list,
        )
    return D2_QUALIFICATION.failed(
        "方向二须入围工信部2025年人工智能产业及赋能新型工业化创新任务揭榜名单，"
        "或参照两个行动方案所支持方向研发落地。"
    )


def d2_contract_total(eligible_totals: Sequence[Decimal], rnd: PolicyRound) -> Finding:
    """Only contracts that pass every contract rule count toward the 2000万 minimum."""
    total = sum(eligible_totals, ZERO)
    minimum = rnd.d2_minimum_contract_total
    if total < minimum:
        return D2_CONTRACT_TOTAL.failed(
            f"符合条件的智能算力合同总额 {format_yuan_grouped(total)} 元，"
            f"低于 {format_yuan_grouped(minimum)} 元；差 {format_yuan_grouped(minimum - total)} 元。",
            total=total,
            minimum=minimum,
        )
    return D2_CONTRACT_TOTAL.passed(
        f"符合条件的智能算力合同总额 {format_yuan_grouped(total)} 元，"
        f"不低于 {format_yuan_grouped(minimum)} 元。",
        total=total,
        minimum=minimum,
    )


def d3_qualification(app: Application) -> Finding:
    p = app.project
    if p.open_source is None:
        return D3_QUALIFICATION.failed("方向三仅支持开源项目；未填写开源发布信息。")
    if not (p.open_source.scenario_aligned or p.action_plan_aligned):
        return D3_QUALIFICATION.failed(
            "开源项目须符合《北京市开源生态体系建设实施方案（2026—2028年）》所提及的开源场景，"
            "或参照两个行动方案所支持方向研发落地。"
        )
    basis = "开源场景" if p.open_source.scenario_aligned else "行动方案"
    return D3_QUALIFICATION.passed(f"开源项目，符合{basis}。", url=p.open_source.url)


def d3_platform(app: Application, rnd: PolicyRound) -> Finding:
    source = app.project.open_source
    if source is None or source.platform not in rnd.d3_platforms:
        listed = "、".join(rnd.d3_platforms.values())
        return D3_PLATFORM.failed(
            f"项目须在指定平台（{listed}）发布。",
            platform=None if source is None else source.platform,
        )
    return D3_PLATFORM.passed(
        f"项目发布于{rnd.d3_platforms[source.platform]}。", platform=source.platform
    )


def d4_model_filing(app: Application, rnd: PolicyRound, lists: OfficialLists) -> Finding:
    filing = app.project.model_filing
    threshold = rnd.d4_filing_on_or_after
    if filing is None:
        return D4_MODEL_FILING.failed("方向四须有模型产品（含Agent）备案登记，未填写备案信息。")
    kind = "Agent" if filing.kind == "agent" else "模型"
    if filing.date < threshold:
        return D4_MODEL_FILING.failed(
            f"{kind}备案日期 {filing.date} 早于 {threshold}，不属于新备案登记的模型产品。",
            filing_date=filing.date,
            on_or_after=threshold,
        )
    declared = f"{kind}备案 {filing.number}，日期 {filing.date}，不早于 {threshold}"
    values: dict[str, Any] = {
        "filing_number": filing.number,
        "filing_date": filing.date,
        "on_or_after": threshold,
    }
    if not is_loaded(app, lists, "model_filings"):
        return D4_MODEL_FILING.review(
            f"{declared}；但尚未导入{LIST_NAMES['model_filings']}，无法核对，请审核人员核实"
            "（no official list of filings is loaded: no evidence）。",
            **values,
            on_list=None,
        )
    found = find_filing(app, lists, filing.number, filing.date)
    if found is None:
        return D4_MODEL_FILING.review(
            f"{declared}；但{LIST_NAMES['model_filings']}中没有该备案号，请审核人员核实"
            "（the filing is not on the official list in force）。",
            **values,
            on_list=False,
        )
    if found.filed_on is not None and found.filed_on != filing.date:
        return D4_MODEL_FILING.review(
            f"{declared}；但{found.describe()}所载备案日期为 {found.filed_on}，与申报不一致，"
            "请审核人员核实（the filing date differs from the list's）。",
            **values,
            **found.values(),
            listed_date=found.filed_on,
        )
    return D4_MODEL_FILING.passed(f"{declared}，见{found.describe()}。", **values, **found.values())
