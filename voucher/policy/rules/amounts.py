"""Steps 3–7 of the calculation and the application's caps (二（一）,（三）,（四）)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from voucher.policy.money import ZERO, format_yuan_grouped, round_down_to_fen
from voucher.policy.results import ContractAmounts, Finding, SubsidyAmounts
from voucher.policy.round import DirectionTerms, PolicyRound
from voucher.policy.rules.base import define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application, Contract

RATE_CAP = define("RATE_CAP", "二（一）", "info", "补贴比例不超过方向上限")
STACKING_CAP = define("STACKING_CAP", "二（四）", "info", "各级财政资金支持不超过核定算力成本的50%")
AMOUNT_CAP = define("AMOUNT_CAP", "二（一）, 二（三）", "info", "累计补贴金额不超过方向支持上限")
REQUESTED = define("REQUESTED", "14-2", "info", "不超过申请金额")


_PERCENTS: dict[Decimal, str] = {}  # a round's few rates, formatted once


def _percent(share: Decimal) -> str:
    """`f"{share:.0%}"`, kept: a round has a handful of rates, formatted once per contract."""
    text = _PERCENTS.get(share)
    if text is None:
        text = _PERCENTS[share] = f"{share:.0%}"
    return text


def contract_amounts(
    contract: Contract,
    delivered: Decimal,
    eligible: bool,
    terms: DirectionTerms,
    rnd: PolicyRound,
) -> tuple[ContractAmounts, Finding]:
    # loops rather than sum() over lists: a contract has a few of each (the same additions, in
    # the same order, from 0.00)
    invoiced = paid = other = ZERO
    for i in contract.invoices:
        invoiced += i.amount
    for p in contract.payments:
        paid += p.amount
    for s in contract.other_subsidies:
        other += s.amount
    # the comparisons below are max() and min() written out (each picks the same operand the
    # call would pick: max keeps the first unless the second is greater, min unless smaller),
    # some four times cheaper than the calls
    # 14-1 四 accepts invoices *or* payment proof, so the larger of the two evidences the cost.
    evidenced = paid if paid > invoiced else invoiced  # max(invoiced, paid)
    verified_cost = evidenced if evidenced < delivered else delivered  # min(delivered, evidenced)
    rate_limit = terms.rate * verified_cost
    stacking_limit = rnd.stacking_share * verified_cost - other
    if not stacking_limit > ZERO:  # max(ZERO, 50 % × cost − other)
        stacking_limit = ZERO
    bound = stacking_limit if stacking_limit < rate_limit else rate_limit  # min(rate, stacking)
    subsidy = round_down_to_fen(bound) if eligible else ZERO

    cid = contract.id
    # the verified cost is one of the two amounts it is the smaller of: formatted once
    cost_text = format_yuan_grouped(verified_cost)
    if stacking_limit < rate_limit:
        explained = STACKING_CAP.info(
            f"核定算力成本 {cost_text} 元的 {_percent(rnd.stacking_share)} "
            f"减去其他财政补贴 {format_yuan_grouped(other)} 元，"
            f"余 {format_yuan_grouped(stacking_limit)} 元，低于比例上限，按此计。",
            cid,
            verified_cost=verified_cost,
            other_subsidies=other,
            stacking_limit=stacking_limit,
            rate_limit=rate_limit,
        )
    else:
        evidenced_text = cost_text if verified_cost is evidenced else format_yuan_grouped(evidenced)
        delivered_text = cost_text if verified_cost is delivered else format_yuan_grouped(delivered)
        explained = RATE_CAP.info(
            f"核定算力成本 {cost_text} 元 × {_percent(terms.rate)} = "
            f"{format_yuan_grouped(rate_limit)} 元（发票/付款 {evidenced_text} 元，"
            f"补贴期内交付 {delivered_text} 元，取较小者为核定成本）。",
            cid,
            verified_cost=verified_cost,
            rate=terms.rate,
            rate_limit=rate_limit,
            stacking_limit=stacking_limit,
        )
    # positional (id, delivered, evidenced, verified_cost, rate_limit, stacking_limit, subsidy,
    # eligible): keywords cost a quarter more, once per contract
    amounts = ContractAmounts(
        cid, delivered, evidenced, verified_cost, rate_limit, stacking_limit, subsidy, eligible
    )
    return amounts, explained


def application_subsidy(
    app: Application, contracts: list[ContractAmounts], terms: DirectionTerms, ineligible: bool
) -> tuple[SubsidyAmounts, list[Finding]]:
    computed = ZERO  # sum() of a generator, written out: the same additions in the same order
    for c in contracts:
        computed += c.subsidy
    cap = terms.amount_cap
    requested = app.requested_amount
    findings = []
    approved = cap if cap < computed else computed  # min(computed, cap)
    if computed > cap:
        findings.append(
            AMOUNT_CAP.info(
                f"各合同补贴合计 {format_yuan_grouped(computed)} 元，超过本方向支持上限 "
                f"{format_yuan_grouped(cap)} 元，按上限计。",
                computed=computed,
                cap=cap,
            )
        )
    if requested is not None and requested < approved:
        findings.append(
            REQUESTED.info(
                f"申请金额 {format_yuan_grouped(requested)} 元低于可核定金额 "
                f"{format_yuan_grouped(approved)} 元，按申请金额计。",
                requested=requested,
                computable=approved,
            )
        )
        approved = requested
    if ineligible:
        approved = ZERO
    return SubsidyAmounts(computed, cap, requested, approved), findings
