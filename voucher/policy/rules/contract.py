"""Contract rules (一（六）, 14-1) and the calculation of RULES.md, contract by contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, Protocol

from voucher.policy.money import ZERO, format_yuan_grouped, overlap_days, pro_rate
from voucher.policy.results import Finding
from voucher.policy.round import PolicyRound, device_key
from voucher.policy.rules.base import Texts, define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application, Contract

CONTRACT_SIGNED = define("CONTRACT_SIGNED", "一（六）", "contract", "已签订智算服务合同")
CONTRACT_PERIOD = define(
    "CONTRACT_PERIOD", "一（六）", "contract", "补贴期内合同有效（2025-09-08至2026-03-31）"
)
EVIDENCE = define("EVIDENCE", "14-1 四", "contract", "有发票或付款证明")
UNIT_PRICE = define("UNIT_PRICE", "14-1 一", "contract", "算力单价符合市场一般情况")
COMPUTE_ONLY = define("COMPUTE_ONLY", "一（五）", "info", "只计智能算力，不含存储、网络、安全")
FLAGGED_DEVICE = define("FLAGGED_DEVICE", "二（五）", "info", "不支持存在安全隐患的算力设备")

SERVICE_NAMES = {"storage": "存储", "network": "网络", "security": "安全"}
# the services a contract's lines leave out, named (a handful of combinations)
_SERVICE_LIST = Texts(lambda *services: "、".join([SERVICE_NAMES[s] for s in services]))


def contract_signed(app: Application, contract: Contract) -> Finding:
    signed = contract.signed_on
    if signed is None:
        return CONTRACT_SIGNED.failed("未填写合同签订日期。", contract.id)
    if app.submitted_on is not None and signed > app.submitted_on:
        return CONTRACT_SIGNED.failed(
            f"合同签订日期 {signed} 晚于申报提交日期 {app.submitted_on}。",
            contract.id,
            signed_on=signed,
            submitted_on=app.submitted_on,
        )
    return CONTRACT_SIGNED.passed(_SIGNED_ON[signed], contract.id, signed_on=signed)


# a round's contracts share a few signing dates and claim periods: their messages made once
_SIGNED_ON = Texts(lambda signed: f"合同于 {signed} 签订。")
_CLAIM_PERIOD = Texts(lambda start, end: f"申报补贴期为 {start} 至 {end}。")
_EVIDENCE = Texts(lambda invoices, payments: f"发票 {invoices} 张，付款记录 {payments} 笔。")


def claim_period(contract: Contract, rnd: PolicyRound) -> tuple[date, date] | None:
    """P = window ∩ [valid_from, valid_to]; None when empty."""
    # max(window_start, valid_from) and min(window_end, valid_to), without the calls
    start, end = contract.valid_from, contract.valid_to
    if not start > rnd.window_start:
        start = rnd.window_start
    if not end < rnd.window_end:
        end = rnd.window_end
    return (start, end) if start <= end else None


def contract_period(
    contract: Contract, period: tuple[date, date] | None, rnd: PolicyRound
) -> Finding:
    if period is None:
        return CONTRACT_PERIOD.failed(
            f"合同有效期 {contract.valid_from} 至 {contract.valid_to} 与补贴期 "
            f"{rnd.window_start} 至 {rnd.window_end} 没有重叠。",
            contract.id,
            valid_from=contract.valid_from,
            valid_to=contract.valid_to,
        )
    return CONTRACT_PERIOD.passed(
        _CLAIM_PERIOD[period],
        contract.id,
        claim_start=period[0],
        claim_end=period[1],
    )


def evidence_present(contract: Contract) -> Finding:
    invoices, payments = len(contract.invoices), len(contract.payments)
    if not invoices and not payments:
        return EVIDENCE.failed("既无发票也无付款证明。", contract.id)
    return EVIDENCE.passed(_EVIDENCE[invoices, payments], contract.id)


def unit_prices_in_band(contract: Contract, rnd: PolicyRound) -> Finding | None:
    """Review prices outside the administrator's band; None when no band applies."""
    if not rnd.unit_price_bands:
        return None
    checked = 0
    outside = []
    for line, d in enumerate(contract.deliveries, start=1):
        if d.service != "compute" or d.device is None:
            continue
        band = rnd.unit_price_bands.get((device_key(d.device), d.unit))
        if band is None:
            continue
        checked += 1
        if not band.min <= d.unit_price <= band.max:
            outside.append(
                f"第{line}行 {d.device} 单价 {d.unit_price} 元/{d.unit}，参考区间 {band.min}–{band.max}"
            )
    if outside:
        return UNIT_PRICE.review(
            "算力单价超出参考区间："
            + "；".join(outside)
            + "。请审核人员核实是否符合市场一般情况。",
            contract.id,
            lines=outside,
        )
    if checked:
        return UNIT_PRICE.passed(f"{checked} 行单价在参考区间内。", contract.id)
    return None


@dataclass(slots=True)
class Delivered:
    """Step 2 of the calculation: compute delivered in the claim period, and what was left out."""

    amount: Decimal = ZERO
    not_compute: Decimal = ZERO
    not_compute_services: tuple[str, ...] = ()
    flagged: Decimal = ZERO
    flagged_devices: tuple[str, ...] = ()
    outside_period: Decimal = ZERO


class DeliveryLine(Protocol):
    """A delivery line as the engine reads it (the format's, or a stored row's)."""

    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date: ...
    @property
    def service(self) -> str: ...
    @property
    def device(self) -> str | None: ...
    @property
    def amount(self) -> Decimal: ...


# why (part of) a delivery line is not counted
NOT_COMPUTE, FLAGGED, OUTSIDE_PERIOD = "not_compute", "flagged", "outside_period"


class DeliveryPart(NamedTuple):
    """Step 2 for one line: the part counted, the part left out and why ("" when none is).

    A NamedTuple made with tuple.__new__ (as findings are, rules/base.py): one per delivery
    line, and a frozen dataclass's __init__ costs several times as much."""

    counted: Decimal
    excluded: Decimal
    reason: str


_new = tuple.__new__


def delivery_part(
    d: DeliveryLine, period: tuple[date, date] | None, rnd: PolicyRound
) -> DeliveryPart:
    """Only compute counts; a flagged device's line does not; of a compute line, the days in
    the claim period P, pro-rated by day and rounded half-up to the fen (RULES.md step 2)."""
    if d.service != "compute":
        return _new(DeliveryPart, (ZERO, d.amount, NOT_COMPUTE))
    if rnd.flagged_devices and d.device is not None and device_key(d.device) in rnd.flagged_devices:
        return _new(DeliveryPart, (ZERO, d.amount, FLAGGED))
    if period is None:
        return _new(DeliveryPart, (ZERO, d.amount, OUTSIDE_PERIOD))
    p_start, p_end = period
    if p_start <= d.start and d.end <= p_end:
        return _new(DeliveryPart, (d.amount, ZERO, ""))
    record_days = (d.end - d.start).days + 1
    overlap = overlap_days(d.start, d.end, p_start, p_end)
    part = pro_rate(d.amount, overlap, record_days) if overlap else ZERO
    return _new(DeliveryPart, (part, d.amount - part, OUTSIDE_PERIOD))


def delivered_compute(
    contract: Contract, period: tuple[date, date] | None, rnd: PolicyRound
) -> Delivered:
    amount = not_compute = flagged = outside_period = ZERO
    services: list[str] = []
    devices: list[str] = []
    flagged_devices = rnd.flagged_devices
    # no claim period: bounds no line lies within (it would have to end before it starts,
    # which the format refuses)
    p_start, p_end = period if period is not None else (date.max, date.min)
    for d in contract.deliveries:
        # the two usual lines are told here as delivery_part tells them, without its call and
        # its tuple: a service that is not compute (left out whole; adding its counted 0.00 to
        # `amount`, which is never less exact than the fen, changes nothing), and compute on a
        # device not flagged wholly inside the claim period (counted whole)
        service = d.service
        if service != "compute":
            not_compute += d.amount
            if service not in services:
                services.append(service)
            continue
        if (
            p_start <= d.start
            and d.end <= p_end
            and not (
                flagged_devices and d.device is not None and device_key(d.device) in flagged_devices
            )
        ):
            amount += d.amount
            continue
        counted, excluded, reason = delivery_part(d, period, rnd)
        amount += counted
        if reason == NOT_COMPUTE:
            not_compute += excluded
            if d.service not in services:
                services.append(d.service)
        elif reason == FLAGGED:
            flagged += excluded
            if d.device is not None and d.device not in devices:
                devices.append(d.device)
        elif reason == OUTSIDE_PERIOD:
            outside_period += excluded
    return Delivered(amount, not_compute, tuple(services), flagged, tuple(devices), outside_period)


def exclusion_findings(contract: Contract, delivered: Delivered, rnd: PolicyRound) -> list[Finding]:
    findings = []
    cid = contract.id
    if delivered.not_compute:
        names = _SERVICE_LIST[delivered.not_compute_services]
        findings.append(
            COMPUTE_ONLY.info(
                f"{names}等非智能算力服务 {format_yuan_grouped(delivered.not_compute)} 元不计入补贴基数。",
                cid,
                excluded=delivered.not_compute,
            )
        )
    if delivered.flagged:
        notices = "；".join(
            f"{dev}（{rnd.flagged_devices[device_key(dev)]}）" for dev in delivered.flagged_devices
        )
        findings.append(
            FLAGGED_DEVICE.info(
                f"国家有关部门声明存在安全隐患或不建议使用的设备 {notices}，"
                f"{format_yuan_grouped(delivered.flagged)} 元不予支持。",
                cid,
                excluded=delivered.flagged,
                devices=list(delivered.flagged_devices),
            )
        )
    if delivered.outside_period:
        findings.append(
            CONTRACT_PERIOD.info(
                f"补贴期外交付的 {format_yuan_grouped(delivered.outside_period)} 元不计入"
                "（跨越补贴期边界的记录按天折算）。",
                cid,
                excluded=delivered.outside_period,
            )
        )
    return findings
