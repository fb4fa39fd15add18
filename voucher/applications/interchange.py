"""The interchange format <-> the database, losslessly.

`application_export(application_import(document=doc))` gives `doc` back, field for field: the
test suite checks `dump_application(...)` against every example file. What the format leaves
out when undeclared (submitted_on, requested_amount, registry, materials, a delivery's device)
is stored as NULL (or `has_registry`), and decimals keep the places they were written with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import models
from voucher.applications.absent_rows import has_none
from voucher.applications.rounds import rounds_sync
from voucher.core import precompiled
from voucher.core.audit import audit
from voucher.core.refusals import CONFLICT, Refused
from voucher.policy import format as fmt
from voucher.policy.round import get_rounds


def canonical_json(document: fmt.Application) -> str:
    """One byte sequence per document, whatever the key order or spacing of the file."""
    return json.dumps(
        fmt.dump_application(document), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def document_sha256(document: fmt.Application) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


# --- import -----------------------------------------------------------------------------------


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # the format admits only finite decimals
    return max(0, -exponent)


class _Fit:
    """Collects the values the format accepts but the columns cannot hold exactly."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def decimal(self, value: Decimal, path: str, *, digits: int, places: int) -> Decimal:
        value_places = _places(value)
        integer_digits = len(value.as_tuple().digits) - value_places
        if value_places > places:
            self.problems.append(
                (path, f"最多 {places} 位小数，实为 {value_places} 位 (too many decimals)")
            )
        elif integer_digits > digits - places:
            self.problems.append((path, f"数值过大，整数部分最多 {digits - places} 位 (too large)"))
        return value

    def money(self, value: Decimal, path: str) -> Decimal:
        return self.decimal(value, path, digits=models.MONEY_DIGITS, places=models.MONEY_PLACES)

    def text(self, value: str, path: str, field: str, model: type[Any]) -> str:
        limit = model._meta.get_field(field).max_length
        if limit is not None and len(value) > limit:
            self.problems.append((path, f"最多 {limit} 个字符，实为 {len(value)} 个 (too long)"))
        return value


def _round_record(code: str) -> models.PolicyRoundRecord:
    record = models.PolicyRoundRecord.objects.filter(code=code).first()
    if record is None and code in get_rounds():
        rounds_sync()
        record = models.PolicyRoundRecord.objects.filter(code=code).first()
    if record is None:
        known = ", ".join(sorted(get_rounds()))
        raise fmt.FormatError(
            [("round", f"未知的政策轮次 {code!r}，已知: {known} (unknown round)")]
        )
    return record


def _application_row(document: fmt.Application, fit: _Fit) -> models.Application:
    a, p, d = document.applicant, document.project, document.declarations
    A = models.Application
    return A(
        direction=document.direction,
        submitted_on=document.submitted_on,
        requested_amount=(
            None
            if document.requested_amount is None
            else fit.money(document.requested_amount, "requested_amount")
        ),
        applicant_name=fit.text(a.name, "applicant.name", "applicant_name", A),
        registered_address=fit.text(
            a.registered_address, "applicant.registered_address", "registered_address", A
        ),
        business_address=fit.text(
            a.business_address, "applicant.business_address", "business_address", A
        ),
        entity_type=a.entity_type,
        independent_legal_person=a.independent_legal_person,
        industry=a.industry,
        ai_new_rd_institution=a.ai_new_rd_institution,
        contact_name=fit.text(a.contact.name, "applicant.contact.name", "contact_name", A),
        contact_mobile=a.contact.mobile,
        contact_address=fit.text(
            a.contact.address, "applicant.contact.address", "contact_address", A
        ),
        contact_email=fit.text(a.contact.email, "applicant.contact.email", "contact_email", A),
        project_name=fit.text(p.name, "project.name", "project_name", A),
        project_start_date=p.start_date,
        project_overview=p.overview,
        ai_field=p.ai_field,
        topic=p.topic,
        topic_note=p.topic_note,
        miit_2025_list=p.miit_2025_list,
        action_plan_aligned=p.action_plan_aligned,
        open_source_platform=(
            None
            if p.open_source is None
            else fit.text(
                p.open_source.platform,
                "project.open_source.platform",
                "open_source_platform",
                A,
            )
        ),
        open_source_url=(
            None
            if p.open_source is None
            else fit.text(p.open_source.url, "project.open_source.url", "open_source_url", A)
        ),
        open_source_scenario_aligned=(
            None if p.open_source is None else p.open_source.scenario_aligned
        ),
        model_filing_number=(
            None
            if p.model_filing is None
            else fit.text(
                p.model_filing.number,
                "project.model_filing.number",
                "model_filing_number",
                A,
            )
        ),
        model_filing_date=None if p.model_filing is None else p.model_filing.date,
        model_filing_kind=None if p.model_filing is None else p.model_filing.kind,
        other_municipal_compute_support=d.other_municipal_compute_support,
        dishonest_entity=d.dishonest_entity,
        has_registry=document.registry is not None,
        registry_companies=(
            None
            if document.registry is None or document.registry.companies is None
            else list(document.registry.companies)
        ),
        inline_lists=(None if document.lists is None else document.lists.model_dump(mode="json")),
        materials=None if document.materials is None else list(document.materials),
    )


_ContractChild = models.Invoice | models.Payment | models.OtherSubsidy


def _contract_rows(
    document: fmt.Application, fit: _Fit
) -> list[tuple[models.Contract, list[models.Delivery], list[_ContractChild]]]:
    out: list[tuple[models.Contract, list[models.Delivery], list[_ContractChild]]] = []
    for i, c in enumerate(document.contracts):
        at = f"contracts[{i}]"
        contract = models.Contract(
            position=i,
            contract_id=fit.text(c.id, f"{at}.id", "contract_id", models.Contract),
            supplier_name=fit.text(
                c.supplier.name, f"{at}.supplier.name", "supplier_name", models.Contract
            ),
            supplier_uscc=c.supplier.uscc,
            signed_on=c.signed_on,
            valid_from=c.valid_from,
            valid_to=c.valid_to,
            total_amount=fit.money(c.total_amount, f"{at}.total_amount"),
            revenue_or_risk_sharing=c.relationship.revenue_or_risk_sharing,
            hierarchy=c.relationship.hierarchy,
        )
        deliveries = []
        for j, dl in enumerate(c.deliveries):
            here = f"{at}.deliveries[{j}]"
            deliveries.append(
                models.Delivery(
                    position=j,
                    start=dl.start,
                    end=dl.end,
                    service=dl.service,
                    device=(
                        None
                        if dl.device is None
                        else fit.text(dl.device, f"{here}.device", "device", models.Delivery)
                    ),
                    quantity=fit.decimal(
                        dl.quantity,
                        f"{here}.quantity",
                        digits=models.QUANTITY_DIGITS,
                        places=models.QUANTITY_PLACES,
                    ),
                    quantity_places=_places(dl.quantity),
                    unit=fit.text(dl.unit, f"{here}.unit", "unit", models.Delivery),
                    unit_price=fit.decimal(
                        dl.unit_price,
                        f"{here}.unit_price",
                        digits=models.QUANTITY_DIGITS,
                        places=models.QUANTITY_PLACES,
                    ),
                    unit_price_places=_places(dl.unit_price),
                    amount=fit.money(dl.amount, f"{here}.amount"),
                )
            )
        others: list[_ContractChild] = []
        for j, inv in enumerate(c.invoices):
            others.append(
                models.Invoice(
                    position=j,
                    number=fit.text(
                        inv.number, f"{at}.invoices[{j}].number", "number", models.Invoice
                    ),
                    date=inv.date,
                    amount=fit.money(inv.amount, f"{at}.invoices[{j}].amount"),
                )
            )
        for j, pay in enumerate(c.payments):
            others.append(
                models.Payment(
                    position=j,
                    date=pay.date,
                    amount=fit.money(pay.amount, f"{at}.payments[{j}].amount"),
                )
            )
        for j, sub in enumerate(c.other_subsidies):
            others.append(
                models.OtherSubsidy(
                    position=j,
                    level=sub.level,
                    policy=fit.text(
                        sub.policy,
                        f"{at}.other_subsidies[{j}].policy",
                        "policy",
                        models.OtherSubsidy,
                    ),
                    amount=fit.money(sub.amount, f"{at}.other_subsidies[{j}].amount"),
                    status=sub.status,
                )
            )
        out.append((contract, deliveries, others))
    return out


def _registry_rows(
    document: fmt.Application, fit: _Fit
) -> tuple[list[models.RegistryShareholding], list[models.RegistryOfficer]]:
    if document.registry is None:
        return [], []
    shareholdings = [
        models.RegistryShareholding(
            position=i,
            holder=fit.text(
                s.holder,
                f"registry.shareholdings[{i}].holder",
                "holder",
                models.RegistryShareholding,
            ),
            held=s.held,
            ratio=fit.decimal(
                s.ratio,
                f"registry.shareholdings[{i}].ratio",
                digits=models.RATIO_DIGITS,
                places=models.RATIO_PLACES,
            ),
            ratio_places=_places(s.ratio),
        )
        for i, s in enumerate(document.registry.shareholdings)
    ]
    officers = [
        models.RegistryOfficer(
            position=i,
            person=fit.text(
                o.person, f"registry.officers[{i}].person", "person", models.RegistryOfficer
            ),
            company=o.company,
            role=o.role,
        )
        for i, o in enumerate(document.registry.officers)
    ]
    return shareholdings, officers


def application_import(
    *, document: fmt.Application, acting_user: Any = None, source_name: str = ""
) -> models.Application:
    """Store one validated document as an application with all its children.

    Raises FormatError (nothing stored) for a round the system does not know or a value the
    columns cannot hold exactly.
    """
    fit = _Fit()
    application = _application_row(document, fit)
    contracts = _contract_rows(document, fit)
    shareholdings, officers = _registry_rows(document, fit)
    fit.text(source_name, "(source)", "source_name", models.Application)
    if fit.problems:
        raise fmt.FormatError(fit.problems)

    with transaction.atomic():
        application.round = _round_record(document.round)
        enterprise, created = models.Enterprise.objects.get_or_create(
            uscc=document.applicant.uscc, defaults={"name": document.applicant.name}
        )
        application.enterprise = enterprise
        application.source_name = source_name
        application.source_sha256 = document_sha256(document)
        application.save()
        for contract, deliveries, others in contracts:
            contract.application = application
            contract.save()
            for delivery in deliveries:
                delivery.contract = contract
                delivery.save()
            for row in others:
                row.contract = contract
                row.save()
        for shareholding in shareholdings:
            shareholding.application = application
        for officer in officers:
            officer.application = application
        models.RegistryShareholding.objects.bulk_create(shareholdings)
        models.RegistryOfficer.objects.bulk_create(officers)
        audit(
            actor=acting_user,
            action="application_import",
            obj=application,
            data={
                "round": document.round,
                "uscc": document.applicant.uscc,
                "enterprise_created": created,
                "direction": document.direction,
                "contracts": len(contracts),
                "source": source_name,
                "sha256": application.source_sha256,
            },
        )
    return application


# --- export -----------------------------------------------------------------------------------


def _as_written(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


class StoredDataRefused(fmt.FormatError, Refused):
    """An application whose stored data does not fit the format: a FormatError to the callers
    that list its problems (the portal's self-check, the direction-3 build), a conflict to the
    rest (RefusedPageMiddleware, the APIs' problem documents)."""

    code = CONFLICT

    def __init__(self, application: models.Application, problems: list[tuple[str, str]]):
        fmt.FormatError.__init__(self, problems)
        Refused.__init__(
            self,
            _(
                "申报 %(reference)s 的已存数据不符合现行申报格式（%(problems)s），"
                "请退回申报单位补正后再办理"
            )
            % {
                "reference": application.reference,
                "problems": "；".join(f"{path}：{what}" for path, what in problems[:5]),
            },
            errors=[{"location": path, "message": what} for path, what in problems],
        )


EXPORTED_CONTRACT_ROWS = ("deliveries", "invoices", "payments", "other_subsidies")
_ROW_MODELS: dict[str, Any] = {
    "deliveries": models.Delivery,
    "invoices": models.Invoice,
    "payments": models.Payment,
    "other_subsidies": models.OtherSubsidy,
}


@dataclass(frozen=True)
class ContractRows:
    """An application's contracts in their order, and each kind of their rows
    (EXPORTED_CONTRACT_ROWS) by contract, in their order: what application_export reads, read by
    `contract_rows` in one query a kind, as prefetch_related would, without its machinery (a
    queryset and a related manager for each contract and kind: a third of a submission's export)."""

    contracts: list[models.Contract]
    rows: dict[str, dict[int, list[Any]]]

    def of(self, contract: models.Contract, kind: str) -> list[Any]:
        return self.rows[kind].get(contract.pk, [])


def contract_rows(
    application: models.Application, kinds: Sequence[str] = EXPORTED_CONTRACT_ROWS
) -> ContractRows:
    """The application's contracts and their rows (`kinds` of them: all that the export reads
    unless told) as they are now (not kept on it: an export after a change must read the
    change)."""
    # each query's SQL written once per process (decision 0050): the same five queries on every
    # status page and submission, compiling them was half their CPU (decision 0055)
    pk = application.pk
    contracts = precompiled.rows(
        "interchange.contract_rows.contracts",
        models.Contract,
        lambda application_id: models.Contract.objects.filter(application_id=application_id),
        application_id=pk,
    )
    for contract in contracts:  # as application.contracts.all() leaves each
        contract.application = application
    rows: dict[str, dict[int, list[Any]]] = {kind: {} for kind in kinds}
    if contracts:  # the rows of no contract need no query
        for kind in kinds:
            if has_none(application, f"contracts__{kind}"):  # noted absent: none to read
                continue
            model = _ROW_MODELS[kind]
            # in the model's order (position, id), as each contract's own would be
            by_contract = rows[kind]
            for row in precompiled.rows(
                f"interchange.contract_rows.{kind}",
                model,
                lambda application_id, model=model: model.objects.filter(
                    contract__application_id=application_id
                ),
                application_id=pk,
            ):
                by_contract.setdefault(row.contract_id, []).append(row)
    return ContractRows(contracts, rows)


def _contracts_with_rows(application: models.Application) -> Any:
    """The application's contracts with their rows: those already fetched onto it, all of them
    (selectors.DOCUMENT_PREFETCH), or else read here (contract_rows)."""
    cache = getattr(application, "_prefetched_objects_cache", {})
    if "contracts" in cache:
        contracts = list(cache["contracts"])
        if all(
            kind in getattr(c, "_prefetched_objects_cache", {})
            for c in contracts
            for kind in EXPORTED_CONTRACT_ROWS
        ):
            return contracts
    return contract_rows(application)


def application_export(
    application: models.Application,
    contracts: Sequence[models.Contract] | ContractRows | None = None,
) -> fmt.Application:
    """The application as the interchange document (validated again on the way out).
    `contracts`: its contracts in their order with EXPORTED_CONTRACT_ROWS prefetched, or its
    ContractRows, when the caller read them already (the status page shows them too, a
    submission checks that there is one); else those fetched onto the application (the review
    screen), else each kind of row in one query, not four per contract (a season's applications
    carry ten contracts)."""
    a = application
    if contracts is None:
        contracts = _contracts_with_rows(a)
    if isinstance(contracts, ContractRows):
        rows_of = contracts.of
        contracts = contracts.contracts
    else:

        def rows_of(contract: models.Contract, kind: str) -> Any:
            return getattr(contract, kind).all()

    exported = []
    for c in contracts:
        exported.append(
            {
                "id": c.contract_id,
                "supplier": {"name": c.supplier_name, "uscc": c.supplier_uscc},
                "signed_on": c.signed_on,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
                "total_amount": c.total_amount,
                "relationship": {
                    "revenue_or_risk_sharing": c.revenue_or_risk_sharing,
                    "hierarchy": c.hierarchy,
                },
                "deliveries": [
                    {
                        "start": d.start,
                        "end": d.end,
                        "service": d.service,
                        "device": d.device,
                        "quantity": _as_written(d.quantity, d.quantity_places),
                        "unit": d.unit,
                        "unit_price": _as_written(d.unit_price, d.unit_price_places),
                        "amount": d.amount,
                    }
                    for d in rows_of(c, "deliveries")
                ],
                "invoices": [
                    {"number": i.number, "date": i.date, "amount": i.amount}
                    for i in rows_of(c, "invoices")
                ],
                "payments": [{"date": p.date, "amount": p.amount} for p in rows_of(c, "payments")],
                "other_subsidies": [
                    {"level": s.level, "policy": s.policy, "amount": s.amount, "status": s.status}
                    for s in rows_of(c, "other_subsidies")
                ],
            }
        )
    open_source = (
        None
        if a.open_source_platform is None
        else {
            "platform": a.open_source_platform,
            "url": a.open_source_url,
            "scenario_aligned": a.open_source_scenario_aligned,
        }
    )
    model_filing = (
        None
        if a.model_filing_number is None
        else {
            "number": a.model_filing_number,
            "date": a.model_filing_date,
            "kind": a.model_filing_kind,
        }
    )
    registry = (
        {
            "shareholdings": [
                {"holder": s.holder, "held": s.held, "ratio": _as_written(s.ratio, s.ratio_places)}
                for s in a.shareholdings.all()
            ],
            "officers": [
                {"person": o.person, "company": o.company, "role": o.role} for o in a.officers.all()
            ],
            **({} if a.registry_companies is None else {"companies": a.registry_companies}),
        }
        if a.has_registry
        else None
    )
    data: dict[str, Any] = {
        "format": fmt.FORMAT_ID,
        "round": a.round.code,
        "submitted_on": a.submitted_on,
        "direction": a.direction,
        "requested_amount": a.requested_amount,
        "applicant": {
            "name": a.applicant_name,
            "uscc": a.enterprise.uscc,
            "registered_address": a.registered_address,
            "business_address": a.business_address,
            "entity_type": a.entity_type,
            "independent_legal_person": a.independent_legal_person,
            "industry": a.industry,
            "ai_new_rd_institution": a.ai_new_rd_institution,
            "contact": {
                "name": a.contact_name,
                "mobile": a.contact_mobile,
                "address": a.contact_address,
                "email": a.contact_email,
            },
        },
        "project": {
            "name": a.project_name,
            "start_date": a.project_start_date,
            "overview": a.project_overview,
            "ai_field": a.ai_field,
            "topic": a.topic,
            **({} if a.topic_note is None else {"topic_note": a.topic_note}),
            "miit_2025_list": a.miit_2025_list,
            "action_plan_aligned": a.action_plan_aligned,
            "open_source": open_source,
            "model_filing": model_filing,
        },
        "declarations": {
            "other_municipal_compute_support": a.other_municipal_compute_support,
            "dishonest_entity": a.dishonest_entity,
        },
        "contracts": exported,
        "registry": registry,
        **({} if a.inline_lists is None else {"lists": a.inline_lists}),
        "materials": a.materials,
    }
    # The models are strict (JSON types only) and validate strings, so hand them JSON.
    try:
        return fmt.parse_application(json.loads(json.dumps(data, default=_json_default)))
    except fmt.FormatError as exc:
        # stored under an older format (a compute row saved without a device before RULES.md
        # v2), or a draft not filled in yet: the portal lists the problems; anywhere else it is
        # a refusal naming the fields (a 409 page), never a traceback
        raise StoredDataRefused(a, exc.problems) from None


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
