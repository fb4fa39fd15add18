"""evaluate(applications, round) -> [Evaluation]: every rule of RULES.md, in order.

Pure Python: no Django, no I/O. The batch matters only for ONE_DIRECTION; every
other rule looks at one application (and the context) at a time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from voucher.policy import ENGINE_VERSION
from voucher.policy.context import EMPTY_CONTEXT, EvaluationContext
from voucher.policy.money import ZERO
from voucher.policy.relations import RelatedParties, RelatedPartyIndex
from voucher.policy.results import ContractAmounts, Evaluation, Finding, Outcome
from voucher.policy.round import PolicyRound
from voucher.policy.rules import applicant, contract, directions, supplier
from voucher.policy.rules.amounts import application_subsidy, contract_amounts
from voucher.policy.rules.base import define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application

NO_ELIGIBLE_CONTRACT = define(
    "NO_ELIGIBLE_CONTRACT", "一（六）", "application", "至少一份合同符合全部合同条件"
)
MATERIALS = define("MATERIALS", "14-1", "info", "申报材料齐全")

MATERIAL_NAMES = {
    "contract": "算力合同",
    "demand_qualification": "算力需求企业资质证明",
    "supply_qualification": "算力供给企业资质证明",
    "invoice_or_payment": "支付发票或付款证明",
    "settlement": "算力结算单",
    "usage_table": "算力使用情况说明（附件14-2）",
    "implementation_report": "算力项目实施情况报告（附件14-3）",
    "commitment_letter": "北京市高精尖产业发展资金承诺书（附件14-4）",
}


def evaluate(
    applications: Sequence[Application],
    policy_round: PolicyRound,
    context: EvaluationContext = EMPTY_CONTEXT,
    references: Sequence[str] | None = None,
) -> list[Evaluation]:
    """Evaluate a batch under one round; ONE_DIRECTION is judged across the batch and context.

    `references` name the batch's applications in findings (file names, application
    numbers); by default they are `#1`, `#2` …
    """
    one_direction = _one_direction(applications, context, references)
    # The engine makes many small objects and no reference cycles, so the cyclic garbage
    # collector has nothing to find; left on, it rescans every live application of a large
    # batch again and again (a fifth of the time for 10,000). It is only ever re-enabled here,
    # never disabled at the end, so threads evaluating at once cannot leave it off.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [
            evaluate_one(app, policy_round, context, one_direction[i])
            for i, app in enumerate(applications)
        ]
    finally:
        if collecting:
            gc.enable()


def evaluate_each(
    applications: Sequence[Application],
    policy_round: PolicyRound,
    context: EvaluationContext = EMPTY_CONTEXT,
    references: Sequence[str] | None = None,
) -> Iterator[Evaluation]:
    """`evaluate`, one evaluation at a time, for a caller that prints each and lets it go
    (`voucher evaluate --json`): the same evaluations. ONE_DIRECTION is judged across the
    batch before the first; the garbage collector is left as the caller has it."""
    one_direction = _one_direction(applications, context, references)
    for i, app in enumerate(applications):
        yield evaluate_one(app, policy_round, context, one_direction[i])


def _one_direction(
    applications: Sequence[Application],
    context: EvaluationContext,
    references: Sequence[str] | None,
) -> list[Finding]:
    if references is None:
        references = [f"#{i + 1}" for i in range(len(applications))]
    return directions.one_direction(applications, references, context)


def evaluate_one(
    app: Application,
    rnd: PolicyRound,
    ctx: EvaluationContext,
    one_direction: Finding,
) -> Evaluation:
    index = _related_party_index(app, ctx)
    terms = rnd.directions[app.direction]

    contract_findings: list[Finding] = []
    info_findings: list[Finding] = []
    amounts: list[ContractAmounts] = []
    eligible_totals = []
    for c in app.contracts:
        period = contract.claim_period(c, rnd)
        checks = [
            contract.contract_signed(app, c),
            contract.contract_period(c, period, rnd),
            supplier.supplier_equity(app, c, index, rnd),
            supplier.supplier_personnel(app, c, index),
            supplier.supplier_agreements(app, c, ctx.supplier_words),
            supplier.supplier_hierarchy(app, c, ctx.supplier_words),
            contract.evidence_present(c),
        ]
        confirmation = supplier.supplier_confirmation(app, c, ctx.supplier_words)
        if confirmation is not None:
            checks.append(confirmation)
        price = contract.unit_prices_in_band(c, rnd)
        if price is not None:
            checks.append(price)
        eligible = "fail" not in [f.status for f in checks]
        delivered = contract.delivered_compute(c, period, rnd)
        amount, explained = contract_amounts(c, delivered.amount, eligible, terms, rnd)
        contract_findings += checks
        info_findings += contract.exclusion_findings(c, delivered, rnd)
        info_findings.append(explained)
        amounts.append(amount)
        if eligible:
            eligible_totals.append(c.total_amount)

    app_findings = [
        applicant.applicant_registered_in_region(app, rnd),
        applicant.applicant_uscc_check_character(app),
        applicant.applicant_entity_qualifies(app, rnd),
        applicant.project_in_ai_direction(app),
        applicant.no_other_municipal_support(app, ctx),
        applicant.credit_record_clean(app, ctx),
        one_direction,
        *_direction_findings(app, rnd, ctx, eligible_totals),
        _some_contract_eligible(amounts),
    ]
    municipal = applicant.municipal_subsidies_on_contracts(app)
    if municipal is not None:
        info_findings.append(municipal)

    ineligible = "fail" in [f.status for f in app_findings]
    subsidy, cap_findings = application_subsidy(app, amounts, terms, ineligible)
    info_findings += cap_findings

    missing = _missing_materials(app, rnd)
    if missing is not None:
        info_findings.append(_materials_finding(missing))

    findings = app_findings + contract_findings + info_findings
    return Evaluation(
        round=rnd.id,
        engine_version=ENGINE_VERSION,
        direction=app.direction,
        outcome=_outcome(ineligible, findings, missing),
        findings=findings,
        contracts=amounts,
        subsidy=subsidy,
        missing_materials=missing or [],
    )


def _related_party_index(app: Application, ctx: EvaluationContext) -> RelatedParties | None:
    inline = app.registry
    if inline is None and ctx.registry is None and not ctx.shareholdings and not ctx.officers:
        return None  # nothing known (a file evaluated alone): as below, without the lists
    extra_shareholdings = [*ctx.shareholdings, *(inline.shareholdings if inline else ())]
    extra_officers = [*ctx.officers, *(inline.officers if inline else ())]
    # the companies the file's extract says it covers (RULES.md v2: outside them, no evidence)
    covers = None if inline is None or inline.companies is None else frozenset(inline.companies)
    if ctx.registry is not None:
        companies = [app.applicant.uscc, *(c.supplier.uscc for c in app.contracts)]
        return ctx.registry.related_parties(
            companies, extra_shareholdings, extra_officers, extra_companies=covers
        )
    if not extra_shareholdings and not extra_officers and covers is None:
        return None  # nothing known: every related-party search would come back empty
    return RelatedPartyIndex(extra_shareholdings, extra_officers, covered=covers)


def _direction_findings(
    app: Application, rnd: PolicyRound, ctx: EvaluationContext, eligible_totals: list
) -> list[Finding]:
    lists = ctx.official_lists
    match app.direction:
        case 1:
            return [directions.d1_institution(app, lists), directions.d1_topic(app, rnd)]
        case 2:
            return [
                directions.d2_qualification(app, lists),
                directions.d2_contract_total(eligible_totals, rnd),
            ]
        case 3:
            return [directions.d3_qualification(app), directions.d3_platform(app, rnd)]
        case 4:
            return [directions.d4_model_filing(app, rnd, lists)]
    raise AssertionError(f"direction {app.direction} is not one of 1–4")


def _some_contract_eligible(amounts: list[ContractAmounts]) -> Finding:
    usable = [c.id for c in amounts if c.eligible and c.verified_cost > ZERO]
    if not usable:
        return NO_ELIGIBLE_CONTRACT.failed(
            "没有一份合同同时符合全部合同条件且核定算力成本大于0。",
            contracts=len(amounts),
        )
    return NO_ELIGIBLE_CONTRACT.passed(f"符合条件的合同：{'、'.join(usable)}。", contracts=usable)


def _missing_materials(app: Application, rnd: PolicyRound) -> list[str] | None:
    """None when the application does not list its materials (they are then not checked)."""
    if app.materials is None:
        return None
    present = set(app.materials)
    return [m for m in rnd.required_materials if m not in present]


def _materials_finding(missing: list[str]) -> Finding:
    if missing:
        names = "、".join(MATERIAL_NAMES[m] for m in missing)
        return MATERIALS.info(f"缺少申报材料：{names}。", missing=missing)
    return MATERIALS.passed("附件14-1所列申报材料齐全。", missing=[])


def _outcome(ineligible: bool, findings: list[Finding], missing: list[str] | None) -> Outcome:
    if ineligible:
        return "ineligible"
    if "review" in [f.status for f in findings]:  # a list is quicker than any() over a generator
        return "needs_review"
    if missing:
        return "incomplete"
    return "eligible"
