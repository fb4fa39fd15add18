"""The application package's materials checklist and self-check summary."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, NotRequired, TypedDict

from voucher.applications.models import Application, StoredEvaluation
from voucher.documents import source_text as src
from voucher.documents.data import wan, yuan
from voucher.policy.clauses import CLAUSES, clause_ids
from voucher.policy.results import OUTCOME_LABELS, STATUS_LABELS
from voucher.policy.round import MATERIAL_IDS, get_rounds


class PackagedFile(TypedDict):
    name: str
    size: int
    sha256: str
    material: NotRequired[str]  # a material id of 14-1 (MATERIAL_IDS), when the upload says


MaterialSource = Callable[[Application], Iterable[PackagedFile]]
_MATERIAL_SOURCES: list[MaterialSource] = []


def register_material_source(source: MaterialSource) -> MaterialSource:
    """The portal's uploads register here (usable as a decorator); the package lists them."""
    _MATERIAL_SOURCES.append(source)
    return source


def package_materials(application: Application) -> list[PackagedFile]:
    """Every uploaded file of the application: name, size in bytes, SHA-256; [] when none.

    No upload model exists yet: until the portal registers a source, this is [].
    """
    files: list[PackagedFile] = []
    for source in _MATERIAL_SOURCES:
        files.extend(source(application))
    return files


def required_materials(application: Application) -> tuple[str, ...]:
    policy_round = get_rounds().get(application.round.code)
    return policy_round.required_materials if policy_round is not None else MATERIAL_IDS


def materials_checklist(
    application: Application, files: list[PackagedFile]
) -> tuple[list[dict[str, Any]], list[PackagedFile]]:
    declared = application.materials
    rows = []
    for material in required_materials(application):
        state = "未填报" if declared is None else ("已声明" if material in declared else "缺少")
        rows.append(
            {
                "id": material,
                "heading": src.MATERIAL_HEADINGS.get(material, material),
                "declared": state,
                "files": [f for f in files if f.get("material") == material],
            }
        )
    known = {r["id"] for r in rows}
    others = [f for f in files if f.get("material") not in known]
    return rows, others


def self_check(evaluation: StoredEvaluation | None) -> dict[str, Any] | None:
    if evaluation is None:
        return None
    e = evaluation
    amounts: list[tuple[str, str, str]] = [
        ("最高可核定补贴", yuan(e.approved_max), wan(e.approved_max)),
        ("按合同测算", yuan(e.computed), wan(e.computed)),
        ("方向上限", yuan(e.cap), wan(e.cap)),
        ("申请金额", yuan(e.requested), wan(e.requested))
        if e.requested is not None
        else ("申请金额", "未填写", ""),
    ]
    findings = []
    for f in e.findings:
        if f.get("status") not in ("fail", "review"):
            continue
        findings.append(
            {
                "rule": f.get("rule", ""),
                "status": STATUS_LABELS.get(f.get("status", ""), f.get("status", "")),
                "clause": f.get("clause", ""),
                "contract": f.get("contract"),
                "message": f.get("message", ""),
                "clauses": [
                    (CLAUSES[c].where, CLAUSES[c].text)
                    for c in clause_ids(f.get("clause", ""))
                    if c in CLAUSES
                ],
            }
        )
    findings.sort(key=lambda f: 0 if f["status"] == STATUS_LABELS["fail"] else 1)
    return {
        "id": e.pk,
        "engine_version": e.engine_version,
        "round_code": e.round_code,
        "created": e.created_at.strftime("%Y-%m-%d %H:%M"),
        "outcome": OUTCOME_LABELS.get(e.outcome, e.outcome),
        "amounts": amounts,
        "contracts": [
            {k: (c[k] if k == "id" else yuan(Decimal(c[k]))) for k in _CONTRACT_KEYS}
            for c in e.contracts
        ],
        "missing": [src.MATERIAL_HEADINGS.get(m, m) for m in e.missing_materials],
        "findings": findings,
    }


_CONTRACT_KEYS = (
    "id",
    "delivered",
    "evidenced",
    "verified_cost",
    "rate_limit",
    "stacking_limit",
    "subsidy",
)
