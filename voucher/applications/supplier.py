"""The supplier's word on a contract, line by line (issue 22; docs/policy/supplier-confirmation.md).

A contract has one line for its terms (contract number, supplier, signing date, validity, total),
one per delivery line (period, service, device, quantity, unit, unit price, amount), one per
invoice issued (number, date, amount) and one per payment received (date, amount). The
supplier confirms or disputes each line; its word is kept with the line's content hash, so a line
the applicant changed is unconfirmed again. A confirmed line is locked for the applicant
(`refuse_if_confirmed`); the review's approval gate asks `open_lines`, and the engine reads the
supplier's word through the evaluation's context (`supplier_words_for`): its declaration for
SUPPLIER_AGREEMENTS and SUPPLIER_HIERARCHY, its open lines for SUPPLIER_CONFIRMATION.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications.models import (
    LINE_CONFIRMED,
    LINE_DISPUTED,
    Application,
    Contract,
    Delivery,
    Invoice,
    LineConfirmation,
    Payment,
    SupplierAttestation,
    SupplierMember,
)
from voucher.applications.notify import notify_after_commit
from voucher.applications.parameters import UNDECIDED_STATES
from voucher.applications.roles import supplier_uscc_of
from voucher.core.audit import audit
from voucher.core.refusals import Refused
from voucher.policy.context import SupplierWord, SupplierWords
from voucher.policy.format import FormatError

if TYPE_CHECKING:
    from voucher.applications.interchange import ContractRows

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
INVOICE_LINE_FIELDS = ("number", "date", "amount")
PAYMENT_LINE_FIELDS = ("date", "amount")
Row = Contract | Delivery | Invoice | Payment
# line kind -> (the rows of a contract, the fields its content hash covers)
ROW_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "delivery": ("deliveries", DELIVERY_LINE_FIELDS),
    "invoice": ("invoices", INVOICE_LINE_FIELDS),
    "payment": ("payments", PAYMENT_LINE_FIELDS),
}
_KIND_OF: dict[type, str] = {Delivery: "delivery", Invoice: "invoice", Payment: "payment"}


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())  # 100 and 100.00 are one amount
    return None if value is None else str(value)


def content_hash(obj: Row) -> str:
    fields: tuple[str, ...]
    if isinstance(obj, Contract):
        fields = CONTRACT_LINE_FIELDS
    else:
        fields = ROW_KINDS[_KIND_OF[type(obj)]][1]
    content = {name: _text(getattr(obj, name)) for name in fields}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def delivery_line(delivery: Delivery | int) -> str:
    return f"delivery:{delivery if isinstance(delivery, int) else delivery.pk}"


def row_line(kind: str, row: Delivery | Invoice | Payment | int) -> str:
    """The line of a delivery, an invoice or a payment: "<kind>:<pk>"."""
    return f"{kind}:{row if isinstance(row, int) else row.pk}"


@dataclass(frozen=True)
class Line:
    key: str  # "contract", "delivery:<pk>", "invoice:<pk>" or "payment:<pk>"
    row: Row
    state: str  # confirmed, disputed, unconfirmed
    reason: str = ""

    @property
    def is_contract(self) -> bool:
        return self.key == CONTRACT_LINE

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]


def row_of_line(contract: Contract, line: str) -> Row | None:
    """The row a line key names (`contract`, `delivery:<pk>`, `invoice:<pk>`, `payment:<pk>`) in
    this contract, or None when there is no such row (deleted, or another contract's)."""
    if line == CONTRACT_LINE:
        return contract
    kind, _, pk = line.partition(":")
    if kind not in ROW_KINDS or not pk.isdigit():
        return None
    related = ROW_KINDS[kind][0]
    row: Row | None = getattr(contract, related).filter(pk=int(pk)).first()
    return row


def lines_of(
    contract: Contract, words: dict[str, Any] | None = None, read: ContractRows | None = None
) -> list[Line]:
    """The contract's lines with the supplier's word on each, where it still matches the line;
    `words` (line → LineConfirmation) when the caller read them for several contracts at once,
    `read` the contracts' rows when it read those (interchange.contract_rows)."""
    if words is None:
        words = {c.line: c for c in LineConfirmation.objects.filter(contract=contract)}
    rows: list[tuple[str, Row]] = [(CONTRACT_LINE, contract)]
    for kind, (related, _fields) in ROW_KINDS.items():
        of_kind = (
            read.of(contract, related) if read is not None else getattr(contract, related).all()
        )
        rows += [(row_line(kind, r), r) for r in of_kind]
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
    row: Any = line.row
    if line.is_contract:
        return _("合同 %(id)s 的签订日期、有效期和总额") % {"id": contract.contract_id}
    if line.kind == "invoice":
        return _("合同 %(id)s 的发票 %(number)s（%(date)s，%(amount)s 元）") % {
            "id": contract.contract_id,
            "number": row.number,
            "date": row.date,
            "amount": row.amount,
        }
    if line.kind == "payment":
        return _("合同 %(id)s 的付款 %(date)s（%(amount)s 元）") % {
            "id": contract.contract_id,
            "date": row.date,
            "amount": row.amount,
        }
    return _("合同 %(id)s 的交付记录 %(start)s 至 %(end)s") % {
        "id": contract.contract_id,
        "start": row.start,
        "end": row.end,
    }


def line_engine_label(contract: Contract, line: Line) -> str:
    """A line as the engine's finding names it: in Chinese, whatever the reader's language (the
    engine's messages are stored once, in Chinese, with the evaluation)."""
    row: Any = line.row
    if line.is_contract:
        label = "合同条款（签订日期、有效期、总额）"
    elif line.kind == "invoice":
        label = f"发票 {row.number}（{row.date}，{row.amount} 元）"
    elif line.kind == "payment":
        label = f"付款 {row.date}（{row.amount} 元）"
    else:
        label = f"交付记录 {row.start} 至 {row.end}（{row.amount} 元）"
    if line.state == LINE_DISPUTED:
        return f"{label}，有异议：{line.reason}"
    return label


def open_lines(application: Any) -> list[str]:
    """The lines the supplier has not confirmed (or disputed), named, for the approval's gate;
    none for a direction whose contracts the supplier does not confirm."""
    if application.direction not in CONFIRMED_DIRECTIONS:
        return []
    named = []
    for contract in application.contracts.prefetch_related("deliveries", "invoices", "payments"):
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


def usccs_with_members(usccs: Iterable[str]) -> set[str]:
    """Which of these suppliers have an account (a member) on the system."""
    return set(SupplierMember.objects.filter(uscc__in=set(usccs)).values_list("uscc", flat=True))


def contracts_of_supplier(user: Any) -> list[Contract]:
    """Only the contracts that name the user's supplier's USCC, across applicants."""
    return list(
        supplier_contracts_query(user).prefetch_related("deliveries", "invoices", "payments")
    )


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
    contract = Contract.objects.prefetch_related("deliveries", "invoices", "payments").get(
        pk=contract_pk
    )
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
    evaluate: bool = True,
) -> LineConfirmation:
    """The supplier confirms (`state` confirmed) or disputes (with a reason) one line;
    `expected_hash` the content the supplier saw (an exported file's 内容校验码): refused when the
    line has changed since, so a word is never given on content the supplier did not see;
    `refresh_state` False when the caller refreshes `Contract.supplier_state` once for many words
    (the upload of a file: `supplier_state_refresh` per contract at its end). The application is
    evaluated again (SUPPLIER_CONFIRMATION) unless `evaluate` is False (a caller giving many words
    at once calls `evaluate_after_supplier_word` once at the end)."""
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
        row: Row
        if line == CONTRACT_LINE:
            row = contract
        else:
            kind, _sep, pk = line.partition(":")
            found = (
                getattr(contract, ROW_KINDS[kind][0]).filter(pk=int(pk)).first()
                if kind in ROW_KINDS and pk.isdigit()
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
        if evaluate:
            evaluate_after_supplier_word([contract.application_id])
    return word


def confirmed_keys(contract: Contract) -> set[str]:
    return {line.key for line in lines_of(contract) if line.state == LINE_CONFIRMED}


def disputed_keys(contract: Contract) -> set[str]:
    return {line.key for line in lines_of(contract) if line.state == LINE_DISPUTED}


# --- the supplier is told (issue 22 item 2: "the supplier is notified") -------------------------


def _tell_supplier(
    *, uscc: str, application: Any, event: str, subject: str, body: str, acting_user: Any
) -> bool:
    """E-mail the members of the supplier `uscc`, audited; False (nothing sent) without any."""
    members = SupplierMember.objects.filter(uscc=uscc).select_related("user")
    addresses = sorted({m.user.email for m in members if m.user.email})
    if not addresses:
        return False
    notify_after_commit(
        event=event, recipients=addresses, subject=subject, body=body, application=application
    )
    audit(
        actor=acting_user,
        action="supplier_notified",
        obj=application,
        data={"event": event, "supplier_uscc": uscc, "recipients": len(addresses)},
    )
    return True


def notify_submission(*, application: Any, acting_user: Any) -> list[str]:
    """On submission: the suppliers its contracts name, those with members, are asked to
    confirm each line and declare (directions 1, 2 and 4). The USCCs told."""
    if application.direction not in CONFIRMED_DIRECTIONS:
        return []
    by_supplier: dict[str, list[str]] = {}
    for contract in application.contracts.order_by("position", "id"):
        by_supplier.setdefault(contract.supplier_uscc, []).append(contract.contract_id)
    told = []
    for uscc, numbers in by_supplier.items():
        if _tell_supplier(
            uscc=uscc,
            application=application,
            event="supplier:submitted",
            subject=f"算力券申报 {application.reference}：请确认合同 {'、'.join(numbers)}",
            body=(
                f"{application.applicant_name} 已提交算力券申报 {application.reference}，"
                f"其中列明贵单位（{uscc}）为算力供给方的合同：{'、'.join(numbers)}。\n"
                "请登录申报系统，在“算力供给方”页面逐行确认或提出异议（合同条款、交付记录、"
                "发票和付款），并作出附件14-1 三的声明。\n"
            ),
            acting_user=acting_user,
        ):
            told.append(uscc)
    return told


def notify_correction(*, contract: Contract, line: str, acting_user: Any) -> bool:
    """The applicant changed (or removed to add again) a line its supplier disputed: the
    supplier's members are asked to look again."""
    application = contract.application
    if application.direction not in CONFIRMED_DIRECTIONS:
        return False
    named = next((x for x in lines_of(contract) if x.key == line), None)
    what = line_engine_label(contract, named) if named is not None else line
    return _tell_supplier(
        uscc=contract.supplier_uscc,
        application=application,
        event="supplier:corrected",
        subject=f"算力券申报 {application.reference}：合同 {contract.contract_id} 已更正",
        body=(
            f"{application.applicant_name} 已更正合同 {contract.contract_id} 中贵单位提出异议的内容"
            f"：{what}。\n请登录申报系统，在“算力供给方”页面重新确认。\n"
        ),
        acting_user=acting_user,
    )


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
    *,
    contract: Contract,
    compliant: bool,
    no_sharing: bool,
    no_hierarchy: bool,
    acting_user: Any,
    evaluate: bool = True,
) -> SupplierAttestation:
    """附件14-1 三 online: the supplier's declaration on one contract, with who and when (a new
    declaration replaces the last; the audit chain keeps every one). The application is
    evaluated again (`evaluate`): the declaration is evidence of SUPPLIER_AGREEMENTS and
    SUPPLIER_HIERARCHY."""
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
                "supplier_uscc": contract.supplier_uscc,
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
        if evaluate:
            evaluate_after_supplier_word([contract.application_id])
    return attestation


def attestation_counts(attestation: SupplierAttestation | None, contract: Contract) -> bool:
    """A declaration counts while the contract still names the supplier that made it."""
    return attestation is not None and attestation.supplier_uscc == contract.supplier_uscc


def words_of(contracts: Iterable[Contract]) -> dict[int, dict[str, Any]]:
    """The supplier's words on several contracts' lines (contract → line → LineConfirmation),
    in one query."""
    ids = [c.pk for c in contracts]
    words: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    for word in LineConfirmation.objects.filter(contract_id__in=ids):
        words[word.contract_id][word.line] = word
    return words


def words_and_attestations(
    contracts: Iterable[Contract], *, words: bool = True, attestations: bool = True
) -> tuple[dict[int, dict[str, Any]], dict[int, SupplierAttestation]]:
    """The supplier's words and declarations on several contracts, in two queries (the review
    screen: its cost does not grow with the contracts). `words`, `attestations`: False when the
    caller knows there are none (no query then)."""
    contracts = list(contracts)
    ids = [c.pk for c in contracts]
    said = words_of(contracts) if words else {pk: {} for pk in ids}
    declared = (
        {
            a.contract_id: a
            for a in SupplierAttestation.objects.filter(contract_id__in=ids).select_related("by")
        }
        if attestations
        else {}
    )
    return said, declared


def attestation_of(contract: Contract) -> SupplierAttestation | None:
    """The supplier's declaration on the contract, while it counts (`attestation_counts`)."""
    found = SupplierAttestation.objects.filter(contract=contract).select_related("by").first()
    return found if attestation_counts(found, contract) else None


# --- the supplier's word as evidence of the engine (docs/policy/supplier-confirmation.md) ---------


def supplier_words_for(applications: Iterable[Any]) -> SupplierWords:
    """What the suppliers said on the contracts of `applications` (directions 1, 2 and 4), for
    the evaluation's context: a few queries for the whole batch."""
    ids = [a.pk for a in applications if a.direction in CONFIRMED_DIRECTIONS]
    contracts = list(
        Contract.objects.filter(application_id__in=ids)
        .select_related("application__enterprise")
        .prefetch_related("deliveries", "invoices", "payments")
    )
    words, declared = words_and_attestations(contracts)
    found: dict[tuple[str, int, str, str], SupplierWord] = {}
    for contract in contracts:
        application = contract.application
        lines = lines_of(contract, words=words[contract.pk])
        attestation = declared.get(contract.pk)
        counts = attestation_counts(attestation, contract)
        word = SupplierWord(
            declared=counts,
            revenue_or_risk_sharing=counts and not attestation.no_sharing,  # type: ignore[union-attr]
            hierarchy=counts and not attestation.no_hierarchy,  # type: ignore[union-attr]
            declared_on=timezone.localdate(attestation.at).isoformat() if counts else "",  # type: ignore[union-attr]
            lines=len(lines),
            open_lines=tuple(
                line_engine_label(contract, line) for line in lines if line.state != LINE_CONFIRMED
            ),
        )
        key = (
            application.enterprise.uscc,
            application.direction,
            contract.contract_id,
            contract.supplier_uscc,
        )
        found[key] = found[key].merged(word) if key in found else word
    return SupplierWords(directions=frozenset(CONFIRMED_DIRECTIONS), words=found)


def evaluate_after_supplier_word(application_ids: Iterable[int]) -> None:
    """The supplier's word is evidence of the evaluation: an undecided application is evaluated
    again (a decided one keeps the evaluation its decision was made on; a draft the format
    cannot read yet has nothing to evaluate)."""
    # actions imports this module (the store's supplier words): imported here, not above
    from voucher.applications.actions import application_evaluate

    for application in Application.objects.filter(
        pk__in=set(application_ids), state__in=UNDECIDED_STATES
    ).select_related("round", "enterprise"):
        try:
            application_evaluate(application=application, acting_user=None)
        except FormatError:
            continue
