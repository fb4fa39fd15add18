"""Contracts, invoices and payments a platform sends for a listed enterprise, and their terms."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from voucher.core import refusals
from voucher.core.audit import audit
from voucher.platforms.actions.common import Refused, _actor, _listed_project
from voucher.platforms.models import ApiToken, PlatformContract
from voucher.policy import format as fmt

# PlatformContract.contract_id, and the consumption file's contract_id column
CONTRACT_ID_MAX = 64
EVIDENCE_KINDS = ("invoices", "payments")


def contract_submit(
    *,
    token: ApiToken,
    uscc: str,
    document: dict[str, Any],
    keep_evidence: tuple[str, ...] = (),
) -> PlatformContract:
    """Create or replace a listed enterprise's contract (deliveries come from consumption).

    `keep_evidence`: the kinds ("invoices", "payments") the new document leaves out, which the
    stored contract keeps; a platform correcting the total must not lose the evidence it added
    one by one (`contract_add_evidence`)."""
    _listed_project(token.platform, uscc)
    contract_id = str(document.get("id", ""))
    if len(contract_id) > CONTRACT_ID_MAX:
        raise Refused(
            f"合同编号最多 {CONTRACT_ID_MAX} 个字符 (a contract id has at most {CONTRACT_ID_MAX} "
            "characters)",
            code=refusals.INVALID,
            errors=[{"location": "path.contract_id", "message": f"最多 {CONTRACT_ID_MAX} 个字符"}],
        )
    with transaction.atomic():
        existing = (
            PlatformContract.objects.select_for_update()
            .filter(platform=token.platform, enterprise_uscc=uscc, contract_id=contract_id)
            .first()
        )
        if existing is not None:
            document = {
                **document,
                **{k: existing.document.get(k, []) for k in keep_evidence if k in EVIDENCE_KINDS},
            }
        _refuse_repeated_invoices(document.get("invoices") or [])
        contract = fmt.Contract.model_validate({**document, "deliveries": []})
        stored, created = PlatformContract.objects.update_or_create(
            platform=token.platform,
            enterprise_uscc=uscc,
            contract_id=contract.id,
            defaults={"document": contract.model_dump(mode="json", exclude={"deliveries"})},
        )
        audit(
            actor=None,
            action="platform_contract_submit",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract.id, "created": created},
        )
    return stored


def _contract(token: ApiToken, uscc: str, contract_id: str) -> PlatformContract:
    _listed_project(token.platform, uscc)
    found = PlatformContract.objects.filter(
        platform=token.platform, enterprise_uscc=uscc, contract_id=contract_id
    ).first()
    if found is None:
        raise Refused("没有该合同 (no such contract)", code=refusals.NOT_FOUND)
    return found


def contract_add_evidence(
    *, token: ApiToken, uscc: str, contract_id: str, kind: str, item: dict[str, Any]
) -> PlatformContract:
    """Add an invoice (`kind="invoices"`) or a payment record (`"payments"`) to a contract."""
    with transaction.atomic():
        stored = _contract(token, uscc, contract_id)
        stored = PlatformContract.objects.select_for_update().get(pk=stored.pk)
        document = dict(stored.document)
        if kind == "invoices":
            _refuse_a_known_invoice(document, item)
        document[kind] = [*document.get(kind, []), item]
        contract = fmt.Contract.model_validate({**document, "deliveries": []})
        stored.document = contract.model_dump(mode="json", exclude={"deliveries"})
        stored.save(update_fields=["document", "updated_at"])
        audit(
            actor=None,
            action=f"platform_contract_{kind}",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract_id, "item": item},
        )
    return stored


def _refuse_repeated_invoices(invoices: list[dict[str, Any]]) -> None:
    """One invoice number twice in a contract counts its amount twice: refused."""
    seen: set[str] = set()
    for index, invoice in enumerate(invoices):
        key = fmt.invoice_key(invoice.get("number"))
        if key in seen:
            raise Refused(
                "同一发票号码出现两次 (the same invoice number twice)",
                code=refusals.INVALID,
                errors=[{"location": f"body.invoices.{index}.number", "message": "发票号码重复"}],
            )
        seen.add(key)


def _refuse_a_known_invoice(document: dict[str, Any], item: dict[str, Any]) -> None:
    """An invoice number is the invoice: the same one sent again (a retry after a lost answer)
    would count its amount twice in the reconciliation."""

    known = {fmt.invoice_key(i.get("number")) for i in document.get("invoices", [])}
    if fmt.invoice_key(item.get("number")) in known:
        raise Refused(
            "该合同已有此号码的发票 (the contract already has an invoice with this number)",
            code=refusals.CONFLICT,
            detail="an invoice is added once; a retry that repeats it is refused, not counted twice",
            errors=[{"location": "body.number", "message": "发票号码重复"}],
        )


def contract_terms_submit(
    *, token: ApiToken, uscc: str, contract_id: str, lines: list[dict[str, Any]]
) -> PlatformContract:
    """Replace the contracted scale and unit price per device and unit of a contract."""
    keys = [(line.get("device", ""), line["unit"]) for line in lines]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        index = keys.index(duplicated[0], keys.index(duplicated[0]) + 1)
        raise Refused(
            "同一设备和单位只能约定一次 (one line per device and unit)",
            code=refusals.INVALID,
            errors=[{"location": f"body.lines.{index}", "message": f"duplicate {duplicated[0]}"}],
        )
    with transaction.atomic():
        stored = _contract(token, uscc, contract_id)
        stored = PlatformContract.objects.select_for_update().get(pk=stored.pk)
        stored.terms = lines
        stored.save(update_fields=["terms", "updated_at"])
        audit(
            actor=None,
            action="platform_contract_terms",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract_id, "lines": lines},
        )
    return stored
