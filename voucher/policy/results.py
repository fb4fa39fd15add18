"""What the engine returns: findings, contract amounts and the application's subsidy."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from voucher.policy.money import format_yuan

Status = Literal["pass", "fail", "review", "info"]
Outcome = Literal["eligible", "ineligible", "needs_review", "incomplete"]

OUTCOME_LABELS = {
    "eligible": "符合条件",
    "ineligible": "不符合条件",
    "needs_review": "需人工审核",
    "incomplete": "材料不全",
}
STATUS_LABELS = {"pass": "通过", "fail": "不通过", "review": "待审核", "info": "说明"}


_AS_IS = frozenset({str, int, bool, type(None)})  # JSON as they are (exact types only)


def decimal_text(value: Decimal) -> str:
    """A finding's Decimal as JSON writes it: fixed-point, its decimals trimmed to two (money as
    it is), e.g. 370.3680 → "370.368", 0.30 → "0.30", 5 → "5". Anything else raises TypeError,
    so that this is orjson's `default=` for findings' values as they are (report.py): orjson
    serialises everything else they hold itself.

    `str` is fixed-point, the same text as `format(value, "f")`, unless it writes an exponent
    (a positive exponent, or a value below 10⁻⁶), and costs a quarter of it: some thirteen
    per application are printed."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{type(value).__name__} is not JSON")
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." not in text or text[-3:-2] == ".":
        return text  # no decimals, or two (money): as it is
    whole, frac = text.split(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{whole}.{frac}"


def plain(value: Any) -> Any:
    """JSON-ready form of a finding's value: exact decimals, ISO dates."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Finding(NamedTuple):
    """One rule's verdict on an application (contract is None) or on one contract.

    A NamedTuple rather than a frozen dataclass: an evaluation makes some thirty of
    these, and a frozen dataclass's __init__ costs three times as much.
    """

    rule: str
    status: Status
    clause: str
    contract: str | None
    message: str
    values: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        # some thirty per application in `voucher evaluate --json`: a value is converted only
        # when it is not JSON already
        rule, status, clause, contract, message, values = self
        return {
            "rule": rule,
            "status": status,
            "clause": clause,
            "contract": contract,
            "message": message,
            "values": {k: v if type(v) in _AS_IS else plain(v) for k, v in values.items()},
        }


def _quick_init(cls: type[Any]) -> type[Any]:
    """A frozen slotted dataclass's `__init__`, setting each slot through its descriptor.

    The one dataclasses generates goes through `object.__setattr__(self, name, value)` for each
    field (frozenness forbids plain assignment), which costs twice this: the engine makes a
    few of these per application (an Evaluation, its SubsidyAmounts, a ContractAmounts per
    contract), a twentieth of its time. The same parameters (no defaults here), the same
    object; assigning afterwards is still refused."""
    names = [f.name for f in fields(cls)]
    assert all(f.default is f.default_factory is MISSING for f in fields(cls)), "no defaults here"
    setters = {f"_set_{name}": cls.__dict__[name].__set__ for name in names}
    source = f"def __init__(self, {', '.join(names)}):\n" + "".join(
        f"    _set_{name}(self, {name})\n" for name in names
    )
    namespace: dict[str, Any] = {}
    exec(source, setters, namespace)  # as dataclasses makes its own __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init
    return cls


@_quick_init
@dataclass(frozen=True, slots=True)
class ContractAmounts:
    id: str
    delivered: Decimal
    evidenced: Decimal
    verified_cost: Decimal
    rate_limit: Decimal
    stacking_limit: Decimal
    subsidy: Decimal
    eligible: bool  # passes every contract rule

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "delivered": format_yuan(self.delivered),
            "evidenced": format_yuan(self.evidenced),
            "verified_cost": format_yuan(self.verified_cost),
            "rate_limit": format_yuan(self.rate_limit),
            "stacking_limit": format_yuan(self.stacking_limit),
            "subsidy": format_yuan(self.subsidy),
        }


@_quick_init
@dataclass(frozen=True, slots=True)
class SubsidyAmounts:
    computed: Decimal
    cap: Decimal
    requested: Decimal | None
    approved_max: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "computed": format_yuan(self.computed),
            "cap": format_yuan(self.cap),
            "requested": None if self.requested is None else format_yuan(self.requested),
            "approved_max": format_yuan(self.approved_max),
        }


@_quick_init
@dataclass(frozen=True, slots=True)
class Evaluation:
    round: str
    engine_version: str
    direction: int
    outcome: Outcome
    findings: list[Finding]
    contracts: list[ContractAmounts]
    subsidy: SubsidyAmounts
    missing_materials: list[str]

    def findings_with(self, *statuses: Status) -> list[Finding]:
        return [f for f in self.findings if f.status in statuses]

    def to_json(self) -> dict[str, Any]:
        """The shape of one entry of `voucher evaluate --json` (without `file`)."""
        return {
            "outcome": self.outcome,
            "findings": [f.to_json() for f in self.findings],
            "contracts": [c.to_json() for c in self.contracts],
            "subsidy": self.subsidy.to_json(),
        }
