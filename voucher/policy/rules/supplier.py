"""The supplier must be a non-related party (一（五）and its footnote 1). A fail excludes the contract.

The agreements and the hierarchy are declarations: the applicant's (in the application) and,
where the suppliers' word is at hand, the supplier's (附件14-1 三, issue 22)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voucher.policy.context import SupplierWord, SupplierWords
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
from voucher.policy.rules.base import Rule, Texts, define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application, Contract

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
# the project's reading, not a rule of RULES.md (docs/policy/supplier-confirmation.md): made only
# where the suppliers' word is at hand (the bureau's store), for directions 1, 2 and 4
SUPPLIER_CONFIRMATION = define(
    "SUPPLIER_CONFIRMATION", "14-1 三, 14-1 五", "contract", "算力供给方逐行确认合同"
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


# --- what both parties declare (一（五）注1; 附件14-1 三: the supplier's word, issue 22) ---------


@dataclass(frozen=True, slots=True)
class _Relation:
    rule: Rule
    what: str  # the relation, as both parties' declarations name it
    applicant_says: Callable[[Contract], bool]
    supplier_says: Callable[[SupplierWord], bool]


_AGREEMENTS = _Relation(
    SUPPLIER_AGREEMENTS,
    "收益分成、风险共担协议",
    lambda c: c.relationship.revenue_or_risk_sharing,
    lambda w: w.revenue_or_risk_sharing,
)
_HIERARCHY = _Relation(
    SUPPLIER_HIERARCHY,
    "行政/业务上下级关系",
    lambda c: c.relationship.hierarchy,
    lambda w: w.hierarchy,
)


def supplier_agreements(
    app: Application, contract: Contract, words: SupplierWords | None = None
) -> Finding:
    return _both_declare(_AGREEMENTS, app, contract, words)


def supplier_hierarchy(
    app: Application, contract: Contract, words: SupplierWords | None = None
) -> Finding:
    return _both_declare(_HIERARCHY, app, contract, words)


def _both_declare(
    relation: _Relation, app: Application, contract: Contract, words: SupplierWords | None
) -> Finding:
    """Either party declaring the relation fails the contract (naming who); the supplier's
    silence, where its word is asked, is review; both declaring none passes, naming both.
    Without any source of supplier declarations (a file evaluated alone) the applicant's word
    is judged and the finding says the supplier's was not at hand."""
    rule, what, cid = relation.rule, relation.what, contract.id
    by_applicant = relation.applicant_says(contract)
    if words is None and not by_applicant:  # the usual case of a file evaluated alone, first
        return rule.passed(_NO_SOURCE[what], cid, supplier_declaration="no_source")
    asked = words is not None and words.asks(app)
    word = words.of(app, contract) if words is not None and asked else None
    by_supplier = word is not None and word.declared and relation.supplier_says(word)
    if by_applicant or by_supplier:
        who = [w for w, said in (("申报单位", by_applicant), ("供给方", by_supplier)) if said]
        declared_by = [
            d for d, said in (("applicant", by_applicant), ("supplier", by_supplier)) if said
        ]
        return rule.failed(
            f"{'和'.join(who)}{'均' if len(who) > 1 else ''}声明与对方存在{what}"
            f"{_by(word) if by_supplier else ''}。",
            cid,
            declared_by=declared_by,
        )
    if not asked:
        return rule.passed(
            f"申报单位声明与供应商无{what}；方向{_DIRECTION_NAMES[app.direction]}的算力供给方"
            "不逐合同声明（数据来自登记平台）。",
            cid,
            supplier_declaration="not_asked",
        )
    if word is None or not word.declared:
        return rule.review(
            f"申报单位声明与供应商无{what}，供给方尚未声明（附件14-1 三）：无法证明双方均无此类关系，"
            "请待供给方声明或由审核人员核实（the supplier has not declared yet）。",
            cid,
            supplier_declaration="silent",
        )
    return rule.passed(
        f"申报单位和供给方{_by(word)}均声明双方无{what}。",
        cid,
        supplier_declaration="none",
        supplier_declared_by=word.declared_by,
        supplier_declared_on=word.declared_on,
    )


_DIRECTION_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
# every contract of a file evaluated alone says this: made once per relation
_NO_SOURCE = Texts(
    lambda what: (
        f"申报单位声明与供应商无{what}；本次评估没有供给方声明的来源，未核对供给方的声明"
        "（no source of supplier declarations in this evaluation）。"
    )
)


def _by(word: SupplierWord | None) -> str:
    if word is None or not (word.declared_by or word.declared_on):
        return ""
    return f"（{'，'.join(x for x in (word.declared_by, word.declared_on) if x)}）"


# --- the supplier's confirmation of each line (附件14-1 三、五; issue 22) -----------------------


def supplier_confirmation(
    app: Application, contract: Contract, words: SupplierWords | None
) -> Finding | None:
    """Every line of the contract confirmed by its supplier, or `review` naming the lines still
    unconfirmed or disputed. None where the supplier's word is not asked (direction 3) or there
    is no source of it (a file evaluated alone)."""
    if words is None or not words.asks(app):
        return None
    word = words.of(app, contract)
    if word is None:
        return SUPPLIER_CONFIRMATION.review(
            "算力供给方尚未确认该合同的任何一行（the supplier has not confirmed the contract）。",
            contract.id,
            open_lines=[],
        )
    if word.open_lines:
        return SUPPLIER_CONFIRMATION.review(
            f"算力供给方尚未确认：{'；'.join(word.open_lines)}（not confirmed by the supplier）。",
            contract.id,
            open_lines=list(word.open_lines),
        )
    return SUPPLIER_CONFIRMATION.passed(
        f"算力供给方已逐行确认该合同（共 {word.lines} 行）。", contract.id, lines=word.lines
    )
