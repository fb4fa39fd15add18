"""The supplier must be a non-related party (一（五）and its footnote 1). A fail excludes the contract."""

from __future__ import annotations

from voucher.policy.format import Application, Contract
from voucher.policy.relations import (
    ROLE_NAMES,
    RelatedParties,
    cut_short,
    describe_path,
    effective_ratio,
    not_covered,
)
from voucher.policy.results import Finding
from voucher.policy.round import PolicyRound
from voucher.policy.rules.base import define

SUPPLIER_EQUITY = define(
    "SUPPLIER_EQUITY", "一（五）注1", "contract", "与供应商无直接/间接持股关系"
)
SUPPLIER_PERSONNEL = define(
    "SUPPLIER_PERSONNEL", "一（五）注1", "contract", "与供应商无董事/监事/高管交叉任职"
)
SUPPLIER_AGREEMENTS = define(
    "SUPPLIER_AGREEMENTS", "一（五）注1", "contract", "与供应商无收益分成、风险共担协议"
)
SUPPLIER_HIERARCHY = define(
    "SUPPLIER_HIERARCHY", "一（五）注1", "contract", "与供应商无行政/业务上下级关系"
)


def supplier_equity(
    app: Application, contract: Contract, index: RelatedParties | None, rnd: PolicyRound
) -> Finding:
    applicant, supplier = app.applicant.uscc, contract.supplier.uscc
    cid = contract.id
    if applicant == supplier:
        return SUPPLIER_EQUITY.failed("供应商与申报单位是同一主体。", cid, supplier=supplier)
    if index is not None:
        for top, bottom, who in (
            (applicant, supplier, "申报单位"),
            (supplier, applicant, "供应商"),
        ):
            path = index.ownership_path(top, bottom)
            if path:
                return SUPPLIER_EQUITY.failed(
                    f"{who}直接或间接持有对方股权：{describe_path(path)}"
                    f"（穿透比例 {effective_ratio(path):.4%}）。",
                    cid,
                    path=[top, *(h.held for h in path)],
                    effective_ratio=effective_ratio(path),
                )
        common = index.common_holders(applicant, supplier, rnd.state_asset_holders)
        if common:
            holder, to_applicant, to_supplier = common[0]
            return SUPPLIER_EQUITY.review(
                f"申报单位与供应商有共同股东 {holder}：{describe_path(to_applicant)}；"
                f"{describe_path(to_supplier)}。请审核人员判断是否构成关联关系。",
                cid,
                common_holder=holder,
                path_to_applicant=[holder, *(h.held for h in to_applicant)],
                path_to_supplier=[holder, *(h.held for h in to_supplier)],
                other_common_holders=[h for h, _, _ in common[1:]],
            )
        missing = _no_evidence(app, contract, index)
        if missing:
            return SUPPLIER_EQUITY.review(missing, cid, **_no_evidence_values(app, contract, index))
    return SUPPLIER_EQUITY.passed("登记信息中未发现与供应商的持股关联。", cid)


def _no_evidence(app: Application, contract: Contract, index: RelatedParties) -> str:
    """Why the registry cannot say "no relation" (RULES.md v2, fail closed), or ""."""
    parties = (app.applicant.uscc, contract.supplier.uscc)
    absent = not_covered(index, parties)
    if absent:
        return (
            f"登记信息中没有 {'、'.join(absent)} 的记录：无法证明有无关联，请审核人员核实"
            "（not in the registry: no evidence either way）。"
        )
    if cut_short(index):
        return (
            "登记信息检索超过上限被截断，无法证明无关联，请审核人员核实"
            "（the registry search was cut short: no evidence of no relation）。"
        )
    return ""


def _no_evidence_values(
    app: Application, contract: Contract, index: RelatedParties
) -> dict[str, object]:
    return {
        "not_in_registry": not_covered(index, (app.applicant.uscc, contract.supplier.uscc)),
        "truncated": cut_short(index),
    }


def supplier_personnel(
    app: Application, contract: Contract, index: RelatedParties | None
) -> Finding:
    shared = index.shared_officers(app.applicant.uscc, contract.supplier.uscc) if index else []
    if shared:
        described = "；".join(
            f"{person} 在申报单位任{ROLE_NAMES[ra]}、在供应商任{ROLE_NAMES[rb]}"
            for person, ra, rb in shared
        )
        return SUPPLIER_PERSONNEL.failed(
            f"存在关键人员交叉任职：{described}。",
            contract.id,
            persons=[person for person, _, _ in shared],
        )
    if index is not None:
        missing = _no_evidence(app, contract, index)
        if missing:
            return SUPPLIER_PERSONNEL.review(
                missing, contract.id, **_no_evidence_values(app, contract, index)
            )
    return SUPPLIER_PERSONNEL.passed("登记信息中未发现关键人员交叉任职。", contract.id)


def supplier_agreements(contract: Contract) -> Finding:
    if contract.relationship.revenue_or_risk_sharing:
        return SUPPLIER_AGREEMENTS.failed(
            "申报单位声明与供应商存在收益分成或风险共担协议。", contract.id
        )
    return SUPPLIER_AGREEMENTS.passed("声明与供应商无收益分成、风险共担协议。", contract.id)


def supplier_hierarchy(contract: Contract) -> Finding:
    if contract.relationship.hierarchy:
        return SUPPLIER_HIERARCHY.failed(
            "申报单位声明与供应商存在行政或业务上下级关系。", contract.id
        )
    return SUPPLIER_HIERARCHY.passed("声明与供应商无行政/业务上下级关系。", contract.id)
