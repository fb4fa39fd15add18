"""The interchange format `compute-voucher/application@1` as strict pydantic models.

Strict as docs/APPLICATION_FORMAT.md says: unknown keys, floats for money, more
than two decimals, negative amounts, impossible dates, end before start,
duplicate contract ids, malformed USCCs, bad mobiles and e-mails and ratios
outside (0, 1] are errors naming the JSON path. Identifier-like values (money,
dates, codes, phone numbers) are NFKC-normalised first, so the full-width digits
a Chinese input method produces (`９１１１…`) are accepted; free text (names,
addresses, the overview) is kept exactly as typed.

What needs no pydantic (the closed sets of values, FormatError, reading a file) lives in
voucher/policy/format_base.py and is imported from here as well: `voucher evaluate` reads
canonical documents without these models (voucher/policy/canonical.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)
from pydantic_core import CoreSchema, SchemaValidator, core_schema

from voucher.policy import uscc as uscc_codes
from voucher.policy.dates import parse_date
from voucher.policy.format_base import EMAIL_RE as _EMAIL_RE
from voucher.policy.format_base import (  # the format's names that need no pydantic, kept here too
    FORMAT_ID,
    OVERVIEW_MAX_CHARS,
    Direction,
    FormatError,
    Level,
    MaterialId,
    Role,
    Service,
    Topic,
    invoice_key,  # noqa: F401 - re-exported
    read_application_file,
)
from voucher.policy.money import parse_yuan
from voucher.policy.text import clean_line


def _nfkc(value: Any) -> Any:
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


_DECIMAL_RE = re.compile(r"[0-9]+(\.[0-9]+)?")  # after NFKC: no other script's digits
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_PERSON_RE = re.compile(r"P-[A-Za-z0-9_-]+")


def _money(value: Any) -> Decimal:
    """Yuan as `voucher.policy.money.parse_yuan` reads a document's: "1234.50", at most two
    decimals written, no more than MAX_YUAN (the one limit of every amount)."""
    value = _nfkc(value)
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            '金额须为字符串形式的元，如 "1234.50"，不能是数字或浮点数 (money must be a decimal string)'
        )
    return parse_yuan(value, strict=True)


def _decimal(value: Any) -> Decimal:
    value = _nfkc(value)
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('须为字符串形式的数，如 "216000" (must be a decimal string)')
    if value.startswith("-"):
        raise ValueError(f"不能为负数: {value} (must not be negative)")
    if not _DECIMAL_RE.fullmatch(value):
        raise ValueError(f"不是有效数字: {value!r} (not a decimal number)")
    return Decimal(value)


def _ratio(value: Any) -> Decimal:
    number = _decimal(value)
    if not (0 < number <= 1):
        raise ValueError(f"持股比例须在 (0, 1] 之间: {value} (ratio must be in (0, 1])")
    return number


def _date(value: Any) -> date:
    """A day as voucher.policy.dates.parse_date reads a document's: YYYY-MM-DD."""
    value = _nfkc(value)
    if not isinstance(value, str):  # a JSON number is no day (not a Unix time)
        raise ValueError(f"日期须为 YYYY-MM-DD 格式: {value!r} (date must be YYYY-MM-DD)")
    return parse_date(value, strict=True)


def _uscc(value: Any) -> str:
    value = _nfkc(value)
    if not isinstance(value, str):
        raise ValueError("统一社会信用代码须为字符串 (USCC must be a string)")
    value = value.upper()
    if len(value) != 18:
        raise ValueError(
            f"统一社会信用代码须为18位，实为{len(value)}位: {value} (USCC must have 18 characters)"
        )
    if not uscc_codes.is_well_formed(value):
        bad = sorted({ch for ch in value if ch not in uscc_codes.ALPHABET})
        raise ValueError(
            f"统一社会信用代码含不允许的字符 {''.join(bad)}（不使用 I、O、Z、S、V）: {value} "
            "(USCC has characters outside 0-9A-HJ-NPQRTUWXY)"
        )
    return value


def _party(value: Any) -> str:
    """A registry party: a company's USCC or a person id `P-…` given by the data provider."""
    value = _nfkc(value)
    if isinstance(value, str) and _PERSON_RE.fullmatch(value):
        return value
    return _uscc(value)


def _person(value: Any) -> str:
    value = _nfkc(value)
    if not isinstance(value, str) or not _PERSON_RE.fullmatch(value):
        raise ValueError(f"人员编号须为 P-… 形式: {value!r} (person id must look like P-0001)")
    return value


def _mobile(value: Any) -> str:
    value = _nfkc(value)
    if not isinstance(value, str):
        raise ValueError("手机号须为字符串 (mobile must be a string)")
    digits = re.sub(r"[\s-]", "", value).removeprefix("+86")
    if not _MOBILE_RE.fullmatch(digits):
        raise ValueError(
            f"不是有效的中国大陆手机号（11位，以1开头）: {value} (not a valid mobile number)"
        )
    return digits


def _email(value: Any) -> str:
    value = _nfkc(value)
    if not isinstance(value, str) or not _EMAIL_RE.fullmatch(value):
        raise ValueError(f"不是有效的电子邮箱: {value!r} (not a valid e-mail address)")
    return value


def _text(value: Any) -> Any:
    """Free text: required to be non-blank, kept as typed but for the invisible format characters
    (bidi overrides and the like, voucher.policy.text) that would disguise it."""
    value = clean_line(value)
    if isinstance(value, str) and not value.strip():
        raise ValueError("不能为空 (must not be blank)")
    return value


def _code(value: Any) -> Any:
    """Short identifiers (invoice numbers, contract ids, filing numbers) are NFKC-normalised."""
    value = _nfkc(value)
    if isinstance(value, str) and not value:
        raise ValueError("不能为空 (must not be blank)")
    return value


def _dump_money(value: Decimal) -> str:
    return str(value)


def _dump_decimal(value: Decimal) -> str:
    return str(value)


Money = Annotated[Decimal, BeforeValidator(_money), PlainSerializer(_dump_money, return_type=str)]
Quantity = Annotated[
    Decimal, BeforeValidator(_decimal), PlainSerializer(_dump_decimal, return_type=str)
]
Ratio = Annotated[Decimal, BeforeValidator(_ratio), PlainSerializer(_dump_decimal, return_type=str)]
Day = Annotated[
    date, BeforeValidator(_date), PlainSerializer(lambda d: d.isoformat(), return_type=str)
]
Uscc = Annotated[str, BeforeValidator(_uscc)]
Party = Annotated[str, BeforeValidator(_party)]
Person = Annotated[str, BeforeValidator(_person)]
Mobile = Annotated[str, BeforeValidator(_mobile)]
Email = Annotated[str, BeforeValidator(_email)]
Text = Annotated[str, AfterValidator(_text)]
Code = Annotated[str, BeforeValidator(_code)]


def _omit_none(value: Any) -> bool:
    return value is None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Contact(_Model):
    name: Text
    mobile: Mobile
    address: Text
    email: Email


class Applicant(_Model):
    name: Text
    uscc: Uscc
    registered_address: Text
    business_address: Text
    entity_type: Literal["enterprise", "new_rd_institution"]
    independent_legal_person: bool
    industry: Annotated[str, BeforeValidator(_nfkc), Field(pattern=r"^[A-T]$")]
    ai_new_rd_institution: bool
    contact: Contact


class OpenSource(_Model):
    platform: Code
    url: Text
    scenario_aligned: bool


class ModelFiling(_Model):
    number: Code
    date: Day
    kind: Literal["model", "agent"]


class Project(_Model):
    name: Text
    start_date: Day
    overview: str = Field(max_length=OVERVIEW_MAX_CHARS)
    ai_field: bool
    topic: Topic | None = None
    topic_note: Text | None = Field(None, exclude_if=_omit_none)  # what `other` is
    miit_2025_list: bool = False
    action_plan_aligned: bool = False
    open_source: OpenSource | None = None
    model_filing: ModelFiling | None = None

    @model_validator(mode="after")
    def _other_topic_named(self) -> Project:
        if self.topic == "other" and self.topic_note is None:
            raise ValueError("课题方向为“其他”时须说明具体方向 (topic `other` needs topic_note)")
        return self


class Declarations(_Model):
    other_municipal_compute_support: bool
    dishonest_entity: bool = False


class Supplier(_Model):
    name: Text
    uscc: Uscc


class Relationship(_Model):
    revenue_or_risk_sharing: bool
    hierarchy: bool


class Delivery(_Model):
    start: Day
    end: Day
    service: Service
    device: Code | None = Field(None, exclude_if=_omit_none)
    quantity: Quantity
    unit: Code
    unit_price: Quantity
    amount: Money

    @model_validator(mode="before")
    @classmethod
    def _blank_device_is_none(cls, data: Any) -> Any:
        """A device of spaces (full-width ones too) is no device: it is missing."""
        device = data.get("device") if isinstance(data, dict) else None
        if isinstance(device, str) and not unicodedata.normalize("NFKC", device).strip():
            data = {k: v for k, v in data.items() if k != "device"}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Delivery:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start} (end is before start)")
        return self

    @model_validator(mode="after")
    def _compute_names_its_device(self) -> Delivery:
        # RULES.md, Fail closed: without a device neither the flagged-device list nor the
        # unit-price bands can apply
        if self.service == "compute" and self.device is None:
            raise ValueError(
                "算力（compute）交付须填写设备型号 (device is required for a compute row)"
            )
        return self


class Invoice(_Model):
    number: Code
    date: Day
    amount: Money


class Payment(_Model):
    date: Day
    amount: Money


class OtherSubsidy(_Model):
    level: Level
    policy: Text
    amount: Money
    status: Literal["granted", "applied"]


class Contract(_Model):
    id: Code
    supplier: Supplier
    signed_on: Day | None = None
    valid_from: Day
    valid_to: Day
    total_amount: Money
    relationship: Relationship
    deliveries: list[Delivery] = []
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    other_subsidies: list[OtherSubsidy] = []

    @model_validator(mode="after")
    def _ordered(self) -> Contract:
        if self.valid_to < self.valid_from:
            raise ValueError(
                f"合同有效期结束 {self.valid_to} 早于开始 {self.valid_from} (valid_to is before valid_from)"
            )
        return self


class Shareholding(_Model):
    holder: Party
    held: Uscc
    ratio: Ratio


class Officer(_Model):
    person: Person
    company: Uscc
    role: Role


class Registry(_Model):
    shareholdings: list[Shareholding] = []
    officers: list[Officer] = []
    # the USCCs the extract covers: with it, a party outside them is "not in the registry"
    companies: list[Uscc] | None = Field(None, exclude_if=_omit_none)


class ListedFiling(_Model):
    number: Code
    date: Day


class OfficialLists(_Model):
    """Official lists carried by the file, added to the round's stored ones (RULES.md v2)."""

    ai_new_rd_institutions: list[Uscc] | None = Field(None, exclude_if=_omit_none)
    miit_2025_list: list[Uscc] | None = Field(None, exclude_if=_omit_none)
    model_filings: list[ListedFiling] | None = Field(None, exclude_if=_omit_none)


class Application(_Model):
    format: Literal["compute-voucher/application@1"]
    round: Code
    submitted_on: Day | None = Field(None, exclude_if=_omit_none)
    direction: Direction
    requested_amount: Money | None = Field(None, exclude_if=_omit_none)
    applicant: Applicant
    project: Project
    declarations: Declarations
    contracts: list[Contract]
    registry: Registry | None = Field(None, exclude_if=_omit_none)
    lists: OfficialLists | None = Field(None, exclude_if=_omit_none)
    materials: list[MaterialId] | None = Field(None, exclude_if=_omit_none)

    @model_validator(mode="after")
    def _unique_contract_ids(self) -> Application:
        seen: set[str] = set()
        for contract in self.contracts:
            if contract.id in seen:
                raise ValueError(f"合同编号重复: {contract.id} (duplicate contract id)")
            seen.add(contract.id)
        return self


# --- reading documents ---------------------------------------------------------------------


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段 (required field is missing)",
    "extra_forbidden": "不认识的字段 (unknown key)",
    "bool_type": "须为 true 或 false (must be a boolean)",
    "string_type": "须为字符串 (must be a string)",
    "list_type": "须为数组 (must be a list)",
    "model_type": "须为对象 (must be an object)",
    "model_attributes_type": "须为对象 (must be an object)",
    "dict_type": "须为对象 (must be an object)",
    "int_type": "须为整数 (must be an integer)",
    "string_pattern_mismatch": "格式不对 (does not match the expected pattern)",
}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        found = len(error.get("input") or "")
        return f"最多 {limit} 个字符，实为 {found} 个 (at most {limit} characters)"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"取值不在允许范围内，应为 {expected}，实为 {error.get('input')!r} (not one of the allowed values)"
    return _PYDANTIC_MESSAGES.get(kind, str(error["msg"]))


_MODEL_CHECK_FIELDS = {
    "(duplicate contract id)": "contracts",
    "(valid_to is before valid_from)": "valid_to",
    "(end is before start)": "end",
    "(topic `other` needs topic_note)": "topic_note",
    "(device is required for a compute row)": "device",
}


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for e in error.errors():
        loc = tuple(e["loc"])
        # Errors raised by a model-level check point at the field they are about.
        if e["type"] == "value_error":
            for marker, field_name in _MODEL_CHECK_FIELDS.items():
                if marker in e["msg"]:
                    loc = (*loc, field_name)
        problems.append((_path(loc), _message(e)))
    return problems


# --- the fast path ---------------------------------------------------------------------------
#
# The models above validate every money, date, code and USCC field in Python (NFKC, then the
# one parse of voucher.policy.money and .dates), some ninety calls for a typical application:
# validation cost several times the JSON parse. Most documents write every such value in its
# canonical ASCII form, which pydantic-core can check natively. So a document is first
# validated by the same models' schema with each Python validator replaced by a native one that
# accepts only canonical values (a subset of what the Python validator accepts, giving the same
# value), and straight from the JSON bytes. Anything it refuses (full-width digits, "5.5" yuan,
# a lowercase USCC, a Chinese device name, and every real error) is validated again by the
# models themselves, so values, error messages and paths are exactly theirs.
# tests/test_policy_format_fast.py checks the subset on mutated documents.

_ASCII_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
_USCC_PATTERN = r"[0-9A-HJ-NPQRTUWXY]{18}"
_PERSON_PATTERN = r"P-[A-Za-z0-9_-]+"


def _str(pattern: str) -> CoreSchema:
    return core_schema.str_schema(pattern=pattern, strict=True)


def _parsed(pattern: str, schema: CoreSchema) -> CoreSchema:
    """A string of `pattern`, then parsed (lax: from the string) by `schema`."""
    return core_schema.chain_schema([_str(pattern), schema])


_FAST_FIELDS: dict[Any, CoreSchema] = {
    # exactly two decimals and at most 13 digits: the value parse_yuan gives, to the fen
    _money: _parsed(r"^[0-9]{1,13}\.[0-9]{2}$", core_schema.decimal_schema(strict=False)),
    _decimal: _parsed(_ASCII_DECIMAL, core_schema.decimal_schema(strict=False)),
    _ratio: _parsed(
        _ASCII_DECIMAL, core_schema.decimal_schema(gt=Decimal(0), le=Decimal(1), strict=False)
    ),
    _date: _parsed(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", core_schema.date_schema(strict=False)),
    _uscc: _str(f"^{_USCC_PATTERN}$"),
    _party: _str(f"^(?:{_PERSON_PATTERN}|{_USCC_PATTERN})$"),
    _person: _str(f"^{_PERSON_PATTERN}$"),
    _mobile: _str(r"^1[3-9][0-9]{9}$"),
    _email: _str(f"^(?:{_EMAIL_RE.pattern})$"),
    # printable ASCII (NFKC leaves it as it is), nothing to strip at either end, not empty
    _code: _str(r"^[!-~](?:[ -~]*[!-~])?$"),
    # a character str.strip() keeps (not Unicode White_Space, nor the separators \x1c-\x1f),
    # and no format character anywhere (the models remove them: voucher.policy.text)
    _text: _str(r"^\P{Cf}*[^\s\x1c-\x1f\p{Cf}]\P{Cf}*$"),
}
# Checked once per document after validation instead (_fast_checks_pass): three Python calls
# per delivery line otherwise. A blank device fails the native Code pattern already.
_CHECKED_AFTER = {
    Delivery._blank_device_is_none.__func__,
    Delivery._ordered,
    Delivery._compute_names_its_device,
}


def _function_of(schema: dict[str, Any]) -> Any:
    function = schema["function"]["function"]
    return getattr(function, "__func__", function)


def _fast_schema(schema: Any) -> Any:
    """`schema` with the Python validators of _FAST_FIELDS and _CHECKED_AFTER made native."""
    if isinstance(schema, list):
        return [_fast_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind in ("function-before", "function-after"):
        function = _function_of(schema)
        if function in _FAST_FIELDS:
            return _FAST_FIELDS[function]
        if function in _CHECKED_AFTER:
            return _fast_schema(schema["schema"])
    if kind == "chain" and len(schema["steps"]) == 2:
        # Applicant.industry: NFKC, then the pattern of its Field (^[A-T]$)
        first, second = schema["steps"]
        pattern = second.get("schema", {}).get("pattern")
        if first["type"] == "function-before" and _function_of(first) is _nfkc and pattern:
            return _str(pattern)
    return {
        k: v if k in ("function", "serialization", "metadata", "cls") else _fast_schema(v)
        for k, v in schema.items()
    }


def _models(schema: Any) -> set[type[BaseModel]]:
    if isinstance(schema, list):
        return set().union(*(_models(s) for s in schema))
    if not isinstance(schema, dict):
        return set()
    found = {schema["cls"]} if schema.get("type") == "model" else set()
    for key, value in schema.items():
        if key not in ("function", "serialization", "metadata", "cls"):
            found |= _models(value)
    return found


def _fast_validator() -> SchemaValidator:
    """The validator of `_fast_schema`. pydantic-core would reuse each model class's own
    validator (its "prebuilt" one: the Python validators) for the models inside; it does so
    only for a class marked complete, so the mark is lifted while this one is built. Done once,
    while this module is imported: no other thread holds these classes yet."""
    schema = _fast_schema(Application.__pydantic_core_schema__)
    models = _models(schema)
    try:
        for model in models:
            model.__pydantic_complete__ = False
        return SchemaValidator(schema)
    finally:
        for model in models:
            model.__pydantic_complete__ = True


_FAST_VALIDATOR = _fast_validator()


def _fast_checks_pass(application: Application) -> bool:
    """Delivery's model checks, for the fast path: dates in order, a compute row's device."""
    for contract in application.contracts:
        for line in contract.deliveries:
            if line.end < line.start or (line.service == "compute" and line.device is None):
                return False
    return True


def _fast(validate: Any, data: Any) -> Application | None:
    try:
        application = validate(data)
    except ValidationError:
        return None
    return application if _fast_checks_pass(application) else None


def parse_application(data: Any) -> Application:
    """Validate a decoded JSON document; raise FormatError naming every bad field."""
    application = _fast(_FAST_VALIDATOR.validate_python, data)
    if application is not None:
        return application
    if not isinstance(data, dict):
        raise FormatError([("(document)", "须为 JSON 对象 (must be a JSON object)")])
    if data.get("format") != FORMAT_ID:
        # Without the right format marker the rest would only be a flood of errors.
        found = "缺少 format 字段" if "format" not in data else f"format 为 {data['format']!r}"
        raise FormatError([("format", f"{found}，不是 {FORMAT_ID} 文档 (not this format)")])
    try:
        return Application.model_validate(data)
    except ValidationError as exc:
        raise FormatError(_problems(exc)) from None


def parse_application_json(text: str | bytes) -> Application:
    """Validate a JSON document (its bytes as read, or text); raise FormatError naming every
    bad field, or the line and column where it is not JSON."""
    application = _fast(_FAST_VALIDATOR.validate_json, text)
    if application is not None:
        return application
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            [(f"line {exc.lineno} column {exc.colno}", f"不是有效的 JSON: {exc.msg}")]
        ) from None
    except UnicodeDecodeError:
        raise FormatError([("(document)", "不是 UTF-8 编码的文本 (not UTF-8 text)")]) from None
    return parse_application(data)


def load_application_file(
    path: Path | str, parse: Callable[[bytes], Application] = parse_application_json
) -> Application:
    """The document of a file, read by `parse` (by default the models)."""
    return read_application_file(path, parse)


def dump_application(application: Application) -> dict[str, Any]:
    """The canonical JSON-ready form: optional keys that were not declared are left out."""
    return application.model_dump(mode="json")


def dumps_application(application: Application) -> str:
    return json.dumps(dump_application(application), ensure_ascii=False, indent=2) + "\n"
