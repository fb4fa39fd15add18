"""The supplier's word on a contract, line by line (issue 22; docs/policy/supplier-confirmation.md).

A contract has one line for its terms (contract number, supplier, signing date, validity, total)
and one per delivery line (period, service, device, quantity, unit, unit price, amount). The
supplier confirms or disputes each line; its word is kept with the line's content hash, so a line
the applicant changed is unconfirmed again. A confirmed line is locked for the applicant
(`refuse_if_confirmed`); the review's approval gate asks `open_lines`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications.models import (
    LINE_CONFIRMED,
    LINE_DISPUTED,
    Contract,
    Delivery,
    LineConfirmation,
    SupplierAttestation,
)
from voucher.applications.roles import supplier_uscc_of
from voucher.core.audit import audit
from voucher.core.refusals import Refused

UNCONFIRMED = "unconfirmed"
CONTRACT_LINE = "contract"
# the directions whose contracts the supplier confirms (direction 3's data come from the platform)
CONFIRMED_DIRECTIONS = (1, 2, 4)
CONTRACT_LINE_FIELDS = (
    "contract_id", "supplier_uscc", "signed_on", "valid_from", "valid_to", "total_amount",
)  # fmt: skip
DELIVERY_LINE_FIELDS = (
    "start", "end", "service", "device", "quantity", "unit", "unit_price", "amount",
)  # fmt: skip


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())  # 100 and 100.00 are one amount
    return None if value is None else str(value)


def content_hash(obj: Contract | Delivery) -> str:
    fields = CONTRACT_LINE_FIELDS if isinstance(obj, Contract) else DELIVERY_LINE_FIELDS
    content = {name: _text(getattr(obj, name)) for name in fields}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def delivery_line(delivery: Delivery | int) -> str:
    return f"delivery:{delivery if isinstance(delivery, int) else delivery.pk}"


@dataclass(frozen=True)
class Line:
    key: str  # "contract" or "delivery:<pk>"
    row: Contract | Delivery
    state: str  # confirmed, disputed, unconfirmed
    reason: str = ""

    @property
    def is_contract(self) -> bool:
        return self.key == CONTRACT_LINE


def lines_of(contract: Contract, words: dict[str, Any] | None = None) -> list[Line]:
    """The contract's lines with the supplier's word on each, where it still matches the line;
    `words` (line → LineConfirmation) when the caller read them for several contracts at once."""
    if words is None:
        words = {c.line: c for c in LineConfirmation.objects.filter(contract=contract)}
    rows: list[tuple[str, Contract | Delivery]] = [(CONTRACT_LINE, contract)]
    rows += [(delivery_line(d), d) for d in contract.deliveries.all()]
    lines = []
    for key, row in rows:
        word = words.get(key)
        if word is None or word.content_hash != content_hash(row):
            lines.append(Line(key, row, UNCONFIRMED))
        else:
            lines.append(Line(key, row, word.state, word.reason))
    return lines


def contract_state(lines: Iterable[Line]) -> str:
    """Disputed if any line is; confirmed if every line is; else unconfirmed."""
    states = {line.state for line in lines}
    if LINE_DISPUTED in states:
        return LINE_DISPUTED
    return LINE_CONFIRMED if states == {LINE_CONFIRMED} else UNCONFIRMED


def line_label(contract: Contract, line: Line) -> str:
    if line.is_contract:
        return _("合同 %(id)s 的签订日期、有效期和总额") % {"id": contract.contract_id}
    row: Any = line.row
    return _("合同 %(id)s 的交付记录 %(start)s 至 %(end)s") % {
        "id": contract.contract_id,
        "start": row.start,
        "end": row.end,
    }


def open_lines(application: Any) -> list[str]:
    """The lines the supplier has not confirmed (or disputed), named, for the approval's gate;
    none for a direction whose contracts the supplier does not confirm."""
    if application.direction not in CONFIRMED_DIRECTIONS:
        return []
    named = []
    for contract in application.contracts.prefetch_related("deliveries"):
        for line in lines_of(contract):
            if line.state == LINE_CONFIRMED:
                continue
            label = line_label(contract, line)
            if line.state == LINE_DISPUTED:
                label = _("%(line)s（供给方有异议：%(reason)s）") % {
                    "line": label,
                    "reason": line.reason,
                }
            named.append(label)
    return named


# --- who speaks for a supplier ------------------------------------------------------------------


def contracts_of_supplier(user: Any) -> list[Contract]:
    """Only the contracts that name the user's supplier's USCC, across applicants."""
    return list(supplier_contracts_query(user).prefetch_related("deliveries"))


# what the supplier's list filters on: its word on the contract as a whole (Contract.supplier_state)
SUPPLIER_STATES = (UNCONFIRMED, LINE_CONFIRMED, LINE_DISPUTED)


def supplier_contracts_query(
    user: Any, *, application_state: str = "", supplier_state: str = ""
) -> QuerySet[Contract]:
    """The contracts that name the user's supplier's USCC, across applicants, newest application
    first; filtered in SQL by the application's state and the supplier's word on the contract
    (issue 22 item 5: a supplier with hundreds of contracts pages through them)."""
    uscc = supplier_uscc_of(user)
    if uscc is None:
        return Contract.objects.none()
    contracts = (
        Contract.objects.filter(supplier_uscc=uscc)
        .select_related("application", "application__enterprise")
        .order_by("-application__created_at", "-application_id", "position", "id")
    )
    if application_state:
        contracts = contracts.filter(application__state=application_state)
    if supplier_state:
        contracts = contracts.filter(supplier_state=supplier_state)
    return contracts


def supplier_state_refresh(contract_pk: int) -> str:
    """Recompute the contract's `supplier_state` from its lines (the truth: `lines_of`); called by
    every action that changes a line or a word on it."""
    contract = Contract.objects.prefetch_related("deliveries").get(pk=contract_pk)
    state = contract_state(lines_of(contract))
    if contract.supplier_state != state:
        Contract.objects.filter(pk=contract_pk).update(supplier_state=state)
    return state


# --- the supplier's word ----------------------------------------------------------------------


class SupplierRefused(Refused):
    pass


def line_word(
    *,
    contract: Contract,
    line: str,
    state: str,
    reason: str,
    acting_user: Any,
    expected_hash: str | None = None,
    refresh_state: bool = True,
) -> LineConfirmation:
    """The supplier confirms (`state` confirmed) or disputes (with a reason) one line;
    `expected_hash` the content the supplier saw (an exported file's 内容校验码): refused when the
    line has changed since, so a word is never given on content the supplier did not see;
    `refresh_state` False when the caller refreshes `Contract.supplier_state` once for many words
    (the upload of a file: `supplier_state_refresh` per contract at its end)."""
    if state not in (LINE_CONFIRMED, LINE_DISPUTED):
        raise SupplierRefused(_("只能确认或提出异议。"), field="state")
    reason = reason.strip()
    if state == LINE_DISPUTED and not reason:
        raise SupplierRefused(_("提出异议须写明理由。"), field="reason")
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=contract.pk)
        )
        if supplier_uscc_of(acting_user) != contract.supplier_uscc:
            raise SupplierRefused(_("该合同未列明贵单位为算力供给方。"))
        row: Contract | Delivery
        if line == CONTRACT_LINE:
            row = contract
        else:
            kind, _sep, pk = line.partition(":")
            found = (
                Delivery.objects.filter(contract=contract, pk=int(pk)).first()
                if kind == "delivery" and pk.isdigit()
                else None
            )
            if found is None:
                raise SupplierRefused(_("该行已不存在，请刷新页面。"), field="line")
            row = found
        if expected_hash is not None and expected_hash != content_hash(row):
            raise SupplierRefused(
                _("该行内容已被申报单位修改，与您核对的内容不同，未保存；请核对修改后的内容。"),
                field="content_hash",
            )
        word, _created = LineConfirmation.objects.update_or_create(
            contract=contract,
            line=line,
            defaults={
                "content_hash": content_hash(row),
                "state": state,
                "reason": reason if state == LINE_DISPUTED else "",
                "by": acting_user,
                "at": timezone.now(),
            },
        )
        audit(
            actor=acting_user,
            action=f"supplier_line_{state}",
            obj=contract.application,
            data={
                "contract": contract.contract_id,
                "supplier_uscc": contract.supplier_uscc,
                "line": line,
                "content_hash": word.content_hash,
                "reason": word.reason,
            },
        )
        if refresh_state:
            supplier_state_refresh(contract.pk)
    return word


def confirmed_keys(contract: Contract) -> set[str]:
    return {line.key for line in lines_of(contract) if line.state == LINE_CONFIRMED}


def refuse_if_confirmed(contract: Contract, line: str, what: str) -> None:
    """The applicant may not change (or delete) a line the supplier confirmed."""
    if line in confirmed_keys(contract):
        refuse_confirmed(line, what)


def refuse_confirmed(line: str, what: str) -> None:
    raise Refused(
        _("算力供给方已确认%(what)s，不能再修改；如确需更正，请联系供给方。") % {"what": what},
        field=line,
    )


def attestation_make(
    *, contract: Contract, compliant: bool, no_sharing: bool, no_hierarchy: bool, acting_user: Any
) -> SupplierAttestation:
    """附件14-1 三 online: the supplier's declaration on one contract, with who and when (a new
    declaration replaces the last; the audit chain keeps every one)."""
    if not compliant:
        raise SupplierRefused(
            _("须声明申报单位所租智能算力属于合规的智算资源；如不属于，请就该合同提出异议。"),
            field="compliant",
        )
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if supplier_uscc_of(acting_user) != contract.supplier_uscc:
            raise SupplierRefused(_("该合同未列明贵单位为算力供给方。"))
        attestation, _created = SupplierAttestation.objects.update_or_create(
            contract=contract,
            defaults={
                "compliant": compliant,
                "no_sharing": no_sharing,
                "no_hierarchy": no_hierarchy,
                "by": acting_user,
                "at": timezone.now(),
            },
        )
        audit(
            actor=acting_user,
            action="supplier_attestation",
            obj=contract.application,
            data={
                "contract": contract.contract_id,
                "supplier_uscc": contract.supplier_uscc,
                "compliant": compliant,
                "no_sharing": no_sharing,
                "no_hierarchy": no_hierarchy,
            },
        )
    return attestation


def words_and_attestations(
    contracts: Iterable[Contract],
) -> tuple[dict[int, dict[str, Any]], dict[int, SupplierAttestation]]:
    """The supplier's words and declarations on several contracts, in two queries (the review
    screen: its cost does not grow with the contracts)."""
    ids = [c.pk for c in contracts]
    words: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    for word in LineConfirmation.objects.filter(contract_id__in=ids):
        words[word.contract_id][word.line] = word
    declared = {
        a.contract_id: a
        for a in SupplierAttestation.objects.filter(contract_id__in=ids).select_related("by")
    }
    return words, declared


def attestation_of(contract: Contract) -> SupplierAttestation | None:
    return SupplierAttestation.objects.filter(contract=contract).select_related("by").first()
