"""Applications for tests: one valid base document, changed only where a test says so."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from voucher.policy.engine import evaluate
from voucher.policy.format import Application, parse_application
from voucher.policy.results import Evaluation, Finding
from voucher.policy.round import PolicyRound, get_round

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BJ_2026 = get_round("bj-2026")

APPLICANT_USCC = "91110108MA01C3QX7B"
SUPPLIER_USCC = "91110105MA02D4RY0J"
OTHER_USCC = "91110115MA03E5TUX0"
PARENT_USCC = "91110000MA00AAAA4N"


def base_document(direction: int = 2) -> dict[str, Any]:
    """A valid, eligible application (one contract of 24,000,000.00); its declarations are on
    the official lists the file carries (`lists`, RULES.md v2), as in the shared examples."""
    doc = json.loads((EXAMPLES / "d2-common-shareholder-review" / "application.json").read_text())
    doc["registry"] = {"shareholdings": [], "officers": []}
    doc["direction"] = direction
    uscc = doc["applicant"]["uscc"]
    doc["lists"] = {"miit_2025_list": [uscc]}
    if direction == 1:
        doc["applicant"]["entity_type"] = "new_rd_institution"
        doc["applicant"]["ai_new_rd_institution"] = True
        doc["project"]["topic"] = "agent"
        doc["lists"] = {"ai_new_rd_institutions": [uscc]}
    if direction == 3:
        doc["project"]["open_source"] = {
            "platform": "modelscope",
            "url": "https://modelscope.cn/models/x",
            "scenario_aligned": True,
        }
    if direction == 4:
        doc["project"]["model_filing"] = {
            "number": "Beijing-1",
            "date": "2026-02-15",
            "kind": "model",
        }
        doc["lists"] = {"model_filings": [{"number": "Beijing-1", "date": "2026-02-15"}]}
    return doc


def delivery(
    start: str = "2025-10-01",
    end: str = "2025-10-31",
    amount: str = "1000000.00",
    service: str = "compute",
    device: str | None = "H800",
    unit_price: str = "1000000.00",
    unit: str = "lot",
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "start": start,
        "end": end,
        "service": service,
        "quantity": "1",
        "unit": unit,
        "unit_price": unit_price,
        "amount": amount,
    }
    if device is not None:
        d["device"] = device
    return d


def contract(
    cid: str = "C1",
    *,
    supplier: str = SUPPLIER_USCC,
    total: str = "24000000.00",
    deliveries: list[dict[str, Any]] | None = None,
    invoiced: str | None = "3000000.00",
    paid: str | None = "3000000.00",
    other_subsidies: list[dict[str, Any]] | None = None,
    valid_from: str = "2025-09-01",
    valid_to: str = "2026-08-31",
    signed_on: str | None = "2025-08-28",
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "id": cid,
        "supplier": {"name": f"供应商{cid}", "uscc": supplier},
        "signed_on": signed_on,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "total_amount": total,
        "relationship": {"revenue_or_risk_sharing": False, "hierarchy": False},
        "deliveries": deliveries
        if deliveries is not None
        else [delivery("2025-09-08", "2025-12-31", "3000000.00")],
        "invoices": []
        if invoiced is None
        else [{"number": "25112000004495444840", "date": "2026-04-01", "amount": invoiced}],
        "payments": [] if paid is None else [{"date": "2026-04-02", "amount": paid}],
        "other_subsidies": other_subsidies or [],
    }
    if signed_on is None:
        del c["signed_on"]
    return c


def subsidy(amount: str, level: str = "district", status: str = "granted") -> dict[str, Any]:
    return {"level": level, "policy": "区级算力补贴", "amount": amount, "status": status}


def build(doc: dict[str, Any]) -> Application:
    return parse_application(copy.deepcopy(doc))


def run(doc: dict[str, Any], policy_round: PolicyRound = BJ_2026, **kwargs: Any) -> Evaluation:
    return evaluate([build(doc)], policy_round, **kwargs)[0]


def finding(
    ev: Evaluation, rule: str, contract: str | None = None, status: str | None = None
) -> Finding:
    """The one finding of `rule` (and contract); fails the test if there is not exactly one."""
    found = [
        f
        for f in ev.findings
        if f.rule == rule
        and (contract is None or f.contract == contract)
        and (status is None or f.status == status)
    ]
    assert len(found) == 1, f"expected one {rule} finding, got {found}"
    return found[0]


def statuses(ev: Evaluation, rule: str) -> list[str]:
    return [f.status for f in ev.findings if f.rule == rule]


def yuan(text: str) -> Decimal:
    return Decimal(text)


def uscc(first17: str) -> str:
    """A well-formed USCC with the right check character (GB 32100-2015)."""
    from voucher.policy.uscc import expected_check_character

    return first17 + expected_check_character(first17 + "0")
