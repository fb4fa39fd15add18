"""The canonical reader as it was before its structs checked their fields in one match (main at
1db5344, voucher/policy/canonical.py): every field checked by its own msgspec pattern. Kept
unchanged as the reference that tests/test_policy_canonical_fields.py compares the reader with.

A document written canonically, read in one native pass: `voucher evaluate`'s fast reader.

The format's models (voucher/policy/format.py) check every money, date, code, USCC and text
field in Python, or natively through pydantic-core (their "fast path"), building some twenty
frozen models per application: validating cost about twice parsing the JSON. `voucher evaluate`
only reads a document to evaluate it, so it first reads the bytes with msgspec into plain
structs of the same fields, each field checked by a pattern that accepts only the canonical
form of what the models accept (a subset, giving the same value):

- money: ASCII digits, a point and exactly two decimals, at most 13 digits before it
  (`parse_yuan(strict=True)` gives that very value); quantities and ratios ASCII decimals;
- dates: YYYY-MM-DD (msgspec's own date, as `parse_date(strict=True)` reads it);
- codes, USCCs, person ids, mobiles, e-mails: printable ASCII already in the form the models
  would make of them (NFKC, stripped, upper case: nothing left for them to change);
- text: no format character (the models remove them, voucher.policy.text), nothing beyond
  the Basic Multilingual Plane, and not blank.

The models' own checks (dates in order, a compute row's device, the topic `other` named, no
contract id twice, ratios in (0, 1]) are made here too. Whatever this reader refuses (full-width
digits, "5.5" yuan, a lowercase USCC, a bidi control in a name, and every real error) is read
again by the models (`read_application`), so values, error messages and paths are exactly
theirs. tests/test_policy_canonical.py checks the subset and the values on mutated documents.

The engine reads these structs as it reads the models: the same attribute names, the same
types of values (Decimal, date, str, bool, lists).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, cast

import msgspec
from msgspec import Meta, Struct
from msgspec.structs import force_setattr as _set

from voucher.policy import format_base as base
from voucher.policy.format_base import EMAIL_RE

if TYPE_CHECKING:
    from voucher.policy import format as models

# Every format character (Unicode category Cf, Unicode 14: Python 3.11's unicodedata), as
# ranges of code points (a long class is slow to search; tests/test_policy_canonical.py checks
# the list against unicodedata). The models remove all of them but the zero-width (non-)joiners
# from a Text; a text with any of them here goes to the models.
FORMAT_RANGES = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
# The class a Text may not hold: the format characters of the Basic Multilingual Plane, and
# every character beyond it (an emoji, a CJK Extension B name: read by the models instead), so
# that `re` matches it by a bitmap: a class with the astral ranges of Cf is searched range by
# range, twice as slow for every character.
_NOT_IN_TEXT = (
    "".join(f"\\u{first:04x}-\\u{last:04x}" for first, last in FORMAT_RANGES if last <= 0xFFFF)
    + "\\U00010000-\\U0010ffff"
)
# Patterns are searched (re.search) with \A and \Z: `$` would also match before a final "\n"
_MONEY = r"\A[0-9]{1,13}\.[0-9]{2}\Z"
_DECIMAL = r"\A[0-9]+(?:\.[0-9]+)?\Z"
_USCC = r"[0-9A-HJ-NPQRTUWXY]{18}"
_PERSON = r"P-[A-Za-z0-9_-]+"

if TYPE_CHECKING:  # what the engine reads once a struct is made (__post_init__)
    Money = Decimal
    Quantity = Decimal
else:
    Money = Annotated[str, Meta(pattern=_MONEY)]
    Quantity = Annotated[str, Meta(pattern=_DECIMAL)]
Uscc = Annotated[str, Meta(pattern=rf"\A{_USCC}\Z")]
Party = Annotated[str, Meta(pattern=rf"\A(?:{_PERSON}|{_USCC})\Z")]
Person = Annotated[str, Meta(pattern=rf"\A{_PERSON}\Z")]
Mobile = Annotated[str, Meta(pattern=r"\A1[3-9][0-9]{9}\Z")]
Email = Annotated[str, Meta(pattern=rf"\A(?:{EMAIL_RE.pattern})\Z")]
# printable ASCII (NFKC leaves it as it is), nothing to strip at either end, not empty
Code = Annotated[str, Meta(pattern=r"\A[!-~](?:[ -~]*[!-~])?\Z")]
# no format character, and one character at least that str.strip() keeps (\s is str.isspace):
# spaces, then that character, then any
Text = Annotated[
    str, Meta(pattern=rf"\A[^\S{_NOT_IN_TEXT}]*+[^\s{_NOT_IN_TEXT}][^{_NOT_IN_TEXT}]*+\Z")
]

# the format's own closed sets (msgspec reads typing.Literal as the models do)
Topic = base.Topic
Service = base.Service
MaterialId = base.MaterialId


class _Struct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """Frozen like the models (each class says so again, for mypy); no cycles, so outside the
    cyclic collector."""


class Contact(_Struct, frozen=True):
    name: Text
    mobile: Mobile
    address: Text
    email: Email


class Applicant(_Struct, frozen=True):
    name: Text
    uscc: Uscc
    registered_address: Text
    business_address: Text
    entity_type: Literal["enterprise", "new_rd_institution"]
    independent_legal_person: bool
    industry: Annotated[str, Meta(pattern=r"\A[A-T]\Z")]
    ai_new_rd_institution: bool
    contact: Contact


class OpenSource(_Struct, frozen=True):
    platform: Code
    url: Text
    scenario_aligned: bool


class ModelFiling(_Struct, frozen=True):
    number: Code
    date: dt.date
    kind: Literal["model", "agent"]


class Project(_Struct, frozen=True):
    name: Text
    start_date: dt.date
    overview: Annotated[str, Meta(max_length=base.OVERVIEW_MAX_CHARS)]
    ai_field: bool
    topic: Topic | None = None
    topic_note: Text | None = None
    miit_2025_list: bool = False
    action_plan_aligned: bool = False
    open_source: OpenSource | None = None
    model_filing: ModelFiling | None = None

    def __post_init__(self) -> None:
        if self.topic == "other" and self.topic_note is None:
            raise ValueError("topic `other` needs topic_note")


class Declarations(_Struct, frozen=True):
    other_municipal_compute_support: bool
    dishonest_entity: bool = False


class Supplier(_Struct, frozen=True):
    name: Text
    uscc: Uscc


class Relationship(_Struct, frozen=True):
    revenue_or_risk_sharing: bool
    hierarchy: bool


class Delivery(_Struct, frozen=True):
    start: dt.date
    end: dt.date
    service: Service
    quantity: Quantity
    unit: Code
    unit_price: Quantity
    amount: Money
    device: Code | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.service == "compute" and self.device is None:
            raise ValueError("device is required for a compute row")
        _set(self, "quantity", Decimal(self.quantity))
        _set(self, "unit_price", Decimal(self.unit_price))
        _set(self, "amount", Decimal(self.amount))


class Invoice(_Struct, frozen=True):
    number: Code
    date: dt.date
    amount: Money

    def __post_init__(self) -> None:
        _set(self, "amount", Decimal(self.amount))


class Payment(_Struct, frozen=True):
    date: dt.date
    amount: Money

    def __post_init__(self) -> None:
        _set(self, "amount", Decimal(self.amount))


class OtherSubsidy(_Struct, frozen=True):
    level: Literal["national", "municipal", "district"]
    policy: Text
    amount: Money
    status: Literal["granted", "applied"]

    def __post_init__(self) -> None:
        _set(self, "amount", Decimal(self.amount))


class Contract(_Struct, frozen=True):
    id: Code
    supplier: Supplier
    valid_from: dt.date
    valid_to: dt.date
    total_amount: Money
    relationship: Relationship
    signed_on: dt.date | None = None
    deliveries: list[Delivery] = []
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    other_subsidies: list[OtherSubsidy] = []

    def __post_init__(self) -> None:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        _set(self, "total_amount", Decimal(self.total_amount))


class Shareholding(_Struct, frozen=True):
    holder: Party
    held: Uscc
    ratio: Quantity

    def __post_init__(self) -> None:
        _set(self, "ratio", Decimal(self.ratio))
        if not 0 < self.ratio <= 1:
            raise ValueError("ratio must be in (0, 1]")


class Officer(_Struct, frozen=True):
    person: Person
    company: Uscc
    role: Literal["director", "supervisor", "executive", "legal_representative"]


class Registry(_Struct, frozen=True):
    shareholdings: list[Shareholding] = []
    officers: list[Officer] = []
    companies: list[Uscc] | None = None


class ListedFiling(_Struct, frozen=True):
    number: Code
    date: dt.date


class OfficialLists(_Struct, frozen=True):
    ai_new_rd_institutions: list[Uscc] | None = None
    miit_2025_list: list[Uscc] | None = None
    model_filings: list[ListedFiling] | None = None


class Application(_Struct, frozen=True):
    format: Literal["compute-voucher/application@1"]
    round: Code
    direction: Literal[1, 2, 3, 4]
    applicant: Applicant
    project: Project
    declarations: Declarations
    contracts: list[Contract]
    submitted_on: dt.date | None = None
    requested_amount: Money | None = None
    registry: Registry | None = None
    lists: OfficialLists | None = None
    materials: list[MaterialId] | None = None

    def __post_init__(self) -> None:
        if len({c.id for c in self.contracts}) != len(self.contracts):
            raise ValueError("duplicate contract id")
        if self.requested_amount is not None:
            _set(self, "requested_amount", Decimal(self.requested_amount))


_DECODER = msgspec.json.Decoder(Application)


def read_canonical(raw: bytes) -> Application | None:
    """The document of `raw` when it is written canonically and valid; None otherwise."""
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError:  # ValidationError is one
        return None


def read_application(raw: bytes) -> models.Application:
    """A document's bytes as the engine reads them: canonical ones straight from this reader,
    any other through the models (`parse_application_json`), which raise FormatError naming
    every bad field. The struct stands for the model it mirrors (the same fields and values).
    The models (pydantic) are imported here, by the first document this reader does not take:
    a batch of canonical documents never needs them."""
    document = read_canonical(raw)
    if document is not None:
        return cast("models.Application", document)
    from voucher.policy.format import parse_application_json

    return parse_application_json(raw)
