"""A document written canonically, read in one native pass: `voucher evaluate`'s fast reader.

The format's models (voucher/policy/format.py) check every money, date, code, USCC and text
field in Python, or natively through pydantic-core (their "fast path"), building some twenty
frozen models per application: validating cost about twice parsing the JSON. `voucher evaluate`
only reads a document to evaluate it, so it first reads the bytes with msgspec into plain
structs of the same fields, each field checked by a pattern that accepts only the canonical
form of what the models accept (a subset, giving the same value); a struct of several such
fields matches them all at once, joined by a separator no value may hold (`_fields`, decision
0043), a rare one leaves each to msgspec:

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
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, cast

import msgspec
from msgspec import Meta, Struct
from msgspec.structs import force_setattr as _set

from voucher.policy import format_base as base

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
# The kinds of value, as patterns of one whole value (no anchors): a field checked alone is
# searched with \A and \Z (`$` would also match before a final "\n"), several fields of a
# struct are matched at once (`_fields`). Written so that `re` never backtracks (possessive
# repeats of classes that do not overlap what follows them: twice as fast as the plain
# patterns they equal, which tests/test_policy_canonical_fields.py compares them with)
_MONEY = r"[0-9]{1,13}+\.[0-9]{2}"
_DECIMAL = r"[0-9]++(?:\.[0-9]++)?+"
_USCC = r"[0-9A-HJ-NPQRTUWXY]{18}"
_PERSON = r"P-[A-Za-z0-9_-]++"
_PARTY = rf"{_PERSON}|{_USCC}"
_MOBILE = r"1[3-9][0-9]{9}"
# EMAIL_RE: a domain label is letters and digits, hyphens only inside
_LABEL = r"[A-Za-z0-9]++(?:-++[A-Za-z0-9]++)*+"
_EMAIL = rf"[A-Za-z0-9._%+-]++@{_LABEL}(?:\.{_LABEL})++"
_INDUSTRY = r"[A-T]"
# printable ASCII (NFKC leaves it as it is), nothing to strip at either end, not empty: words
# of [!-~] with spaces between them
_CODE = r"[!-~]++(?: ++[!-~]++)*+"
# no format character, and one character at least that str.strip() keeps (\s is str.isspace):
# after any spaces, a character that is none of them nor a separator of `_fields` (SEP, NONE:
# a format character there stops the run of the body, which then fails). One large class, not three as
# in `[^\S…]*+[^\s…][^…]*+`: each costs `re` some 0.15 ms to compile (its 64K bitmap), and a
# text is in five of the patterns below.
_TEXT = rf"(?=\s*+[^\s\u2063\u2064])[^{_NOT_IN_TEXT}]*+"


def _alone(kind: str) -> Meta:
    return Meta(pattern=rf"\A(?:{kind})\Z")


if TYPE_CHECKING:  # what the engine reads once a struct is made (__post_init__)
    Money = Decimal
    Quantity = Decimal
else:  # read as text, checked and made Decimal by the struct (__post_init__)
    Money = str
    Quantity = str
Uscc = Annotated[str, _alone(_USCC)]
Party = Annotated[str, _alone(_PARTY)]
Person = Annotated[str, _alone(_PERSON)]
Mobile = Annotated[str, _alone(_MOBILE)]
Email = Annotated[str, _alone(_EMAIL)]
Code = Annotated[str, _alone(_CODE)]
Text = Annotated[str, _alone(_TEXT)]

# A struct of several checked fields checks them in one match (a pattern per field costs msgspec
# a call of `re` each, ~0.3 µs: most of reading a document): its fields, declared `str` and
# commented with their kind, are written one after the other, each after a separator, or a
# None mark alone for an optional field that is None. Both are characters that none of the
# struct's kinds takes, so a match has exactly one of them between two fields, each field is
# matched whole by its kind, and the mark stands only for None: for a struct with a text, two
# format characters (Text refuses every format character of the Basic Multilingual Plane, the
# other kinds are ASCII); for a struct of printable ASCII kinds only (Code, Money, Decimal,
# USCC, Party), two ASCII control characters, which keep the joined text one byte a character
# (a tenth quicker to make and match than with the format characters).
SEP = "\u2063"  # INVISIBLE SEPARATOR (Cf)
NONE = "\u2064"  # INVISIBLE PLUS (Cf)
ASCII_SEP = "\x1f"  # UNIT SEPARATOR
ASCII_NONE = "\x1e"  # RECORD SEPARATOR


def _fields(
    first: str, *kinds: str, sep: str = SEP, none: str = NONE
) -> Callable[[str], re.Match[str] | None]:
    """The full match of fields of `kinds`; a kind "?X" is an optional field of kind X."""
    rest = [f"(?:{sep}(?:{k[1:]})|{none})" if k[0] == "?" else f"{sep}(?:{k})" for k in kinds]
    return re.compile("".join([f"(?:{first})", *rest])).fullmatch


def _ascii_fields(first: str, *kinds: str) -> Callable[[str], re.Match[str] | None]:
    """`_fields` of printable ASCII kinds, joined by ASCII_SEP (None: ASCII_NONE)."""
    return _fields(first, *kinds, sep=ASCII_SEP, none=ASCII_NONE)


_money = _ascii_fields(_MONEY)
# name, uscc, registered_address, business_address, industry; the contact's name, mobile,
# address, email
_applicant = _fields(_TEXT, _USCC, _TEXT, _TEXT, _INDUSTRY, _TEXT, _MOBILE, _TEXT, _EMAIL)
# name, topic_note?, the open source's platform and url?, the model filing's number?
_project = _fields(_TEXT, f"?{_TEXT}", f"?{_CODE}{SEP}{_TEXT}", f"?{_CODE}")
# id, total_amount, the supplier's name and uscc
_contract = _fields(_CODE, _MONEY, _TEXT, _USCC)
# quantity, unit_price, amount, unit, device?
_delivery = _ascii_fields(_DECIMAL, _DECIMAL, _MONEY, _CODE, f"?{_CODE}")
_invoice = _ascii_fields(_CODE, _MONEY)  # number, amount
_other_subsidy = _fields(_TEXT, _MONEY)  # policy, amount
_shareholding = _ascii_fields(_PARTY, _USCC, _DECIMAL)  # holder, held, ratio
_application = _ascii_fields(_CODE, f"?{_MONEY}")  # round, requested_amount?


class NotCanonical(ValueError):
    """A field that is not in the canonical form of its kind (the models read the document)."""


# the format's own closed sets (msgspec reads typing.Literal as the models do)
Topic = base.Topic
Service = base.Service
MaterialId = base.MaterialId


class _Struct(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """Frozen like the models (each class says so again, for mypy); no cycles, so outside the
    cyclic collector."""


class Contact(_Struct, frozen=True):
    # checked by Applicant
    name: str  # Text
    mobile: str  # Mobile
    address: str  # Text
    email: str  # Email


class Applicant(_Struct, frozen=True):
    name: str  # Text
    uscc: str  # Uscc
    registered_address: str  # Text
    business_address: str  # Text
    entity_type: Literal["enterprise", "new_rd_institution"]
    independent_legal_person: bool
    industry: str  # [A-T]
    ai_new_rd_institution: bool
    contact: Contact

    def __post_init__(self) -> None:
        c = self.contact
        if not _applicant(
            f"{self.name}\u2063{self.uscc}\u2063{self.registered_address}\u2063"
            f"{self.business_address}\u2063{self.industry}\u2063{c.name}\u2063{c.mobile}\u2063"
            f"{c.address}\u2063{c.email}"
        ):
            raise NotCanonical


class OpenSource(_Struct, frozen=True):
    # checked by Project
    platform: str  # Code
    url: str  # Text
    scenario_aligned: bool


class ModelFiling(_Struct, frozen=True):
    # checked by Project
    number: str  # Code
    date: dt.date
    kind: Literal["model", "agent"]


class Project(_Struct, frozen=True):
    name: str  # Text
    start_date: dt.date
    overview: Annotated[str, Meta(max_length=base.OVERVIEW_MAX_CHARS)]
    ai_field: bool
    topic: Topic | None = None
    topic_note: str | None = None  # Text
    miit_2025_list: bool = False
    action_plan_aligned: bool = False
    open_source: OpenSource | None = None
    model_filing: ModelFiling | None = None

    def __post_init__(self) -> None:
        note, source, filing = self.topic_note, self.open_source, self.model_filing
        if not _project(
            self.name
            + ("\u2064" if note is None else f"\u2063{note}")
            + ("\u2064" if source is None else f"\u2063{source.platform}\u2063{source.url}")
            + ("\u2064" if filing is None else f"\u2063{filing.number}")
        ):
            raise NotCanonical
        if self.topic == "other" and note is None:
            raise ValueError("topic `other` needs topic_note")


class Declarations(_Struct, frozen=True):
    other_municipal_compute_support: bool
    dishonest_entity: bool = False


class Supplier(_Struct, frozen=True):
    # checked by Contract
    name: str  # Text
    uscc: str  # Uscc


class Relationship(_Struct, frozen=True):
    revenue_or_risk_sharing: bool
    hierarchy: bool


class Delivery(_Struct, frozen=True):
    start: dt.date
    end: dt.date
    service: Service
    # the quantity and the unit price are checked here like every field, but kept as their
    # text and made Decimal when read (the properties below): the engine reads them only for
    # a round with price bands, and two Decimals made and stored per line were an eighth of
    # reading a document (some fifteen a file)
    quantity_text: str = msgspec.field(name="quantity")  # Quantity
    unit: str  # Code
    unit_price_text: str = msgspec.field(name="unit_price")  # Quantity
    amount: Money
    device: str | None = None  # Code

    def __post_init__(self) -> None:
        device = self.device
        amount = self.amount
        if not _delivery(
            f"{self.quantity_text}\x1f{self.unit_price_text}\x1f{amount}\x1f{self.unit}"
            + ("\x1e" if device is None else f"\x1f{device}")
        ):
            raise NotCanonical
        if self.end < self.start:
            raise ValueError("end is before start")
        if device is None and self.service == "compute":
            raise ValueError("device is required for a compute row")
        _set(self, "amount", Decimal(amount))

    @property
    def quantity(self) -> Decimal:
        """The models' value: `Decimal` of the checked text (an ASCII decimal)."""
        return Decimal(self.quantity_text)

    @property
    def unit_price(self) -> Decimal:
        """The models' value: `Decimal` of the checked text (an ASCII decimal)."""
        return Decimal(self.unit_price_text)


class Invoice(_Struct, frozen=True):
    number: str  # Code
    date: dt.date
    amount: Money

    def __post_init__(self) -> None:
        amount = self.amount
        if not _invoice(f"{self.number}\x1f{amount}"):
            raise NotCanonical
        _set(self, "amount", Decimal(amount))


class Payment(_Struct, frozen=True):
    date: dt.date
    amount: Money

    def __post_init__(self) -> None:
        amount = self.amount
        if not _money(f"{amount}"):
            raise NotCanonical
        _set(self, "amount", Decimal(amount))


class OtherSubsidy(_Struct, frozen=True):
    level: Literal["national", "municipal", "district"]
    policy: str  # Text
    amount: Money
    status: Literal["granted", "applied"]

    def __post_init__(self) -> None:
        amount = self.amount
        if not _other_subsidy(f"{self.policy}\u2063{amount}"):
            raise NotCanonical
        _set(self, "amount", Decimal(amount))


class Contract(_Struct, frozen=True):
    id: str  # Code
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
        total, supplier = self.total_amount, self.supplier
        if not _contract(f"{self.id}\u2063{total}\u2063{supplier.name}\u2063{supplier.uscc}"):
            raise NotCanonical
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        _set(self, "total_amount", Decimal(total))


class Shareholding(_Struct, frozen=True):
    holder: str  # Party
    held: str  # Uscc
    ratio: Quantity

    def __post_init__(self) -> None:
        if not _shareholding(f"{self.holder}\x1f{self.held}\x1f{self.ratio}"):
            raise NotCanonical
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
    round: str  # Code
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
        requested = self.requested_amount
        if not _application(self.round + ("\x1e" if requested is None else f"\x1f{requested}")):
            raise NotCanonical
        if len({c.id for c in self.contracts}) != len(self.contracts):
            raise ValueError("duplicate contract id")
        if requested is not None:
            _set(self, "requested_amount", Decimal(requested))


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
