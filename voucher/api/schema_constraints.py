"""The OpenAPI documents say what the interchange format checks (voucher/policy/format.py).

pydantic writes a field checked by a function (`BeforeValidator(_uscc)`, `AfterValidator(_text)`)
as a bare `"type": "string"`, so a client, or schemathesis, reading the document would send
values the server refuses with 422. Each such check is written here once as JSON Schema, in the
canonical form the format stores (the server also reads a few lenient spellings, e.g. full-width
digits, which it normalises): `constrain(schema)` finds every component that is a model of the
format and adds the constraints of each field's check to its property. A check with no JSON
Schema here fails the document's generation (`UnknownCheck`), so a new check cannot slip
through undocumented.

What JSON Schema cannot say (an end on or after a start, a compute row naming its device) is in
the component's description; tests/test_api_schemathesis.py teaches schemathesis the same.
"""

from __future__ import annotations

import types
import typing
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from voucher.policy import format as fmt
from voucher.policy.money import INTEGER_DIGITS


def _visible_class() -> str:
    """A regular-expression class of the characters that make a text not blank: any of the Basic
    Multilingual Plane but spaces, control characters, surrogates and the format characters
    (category Cf) voucher.policy.text removes. Written as \\uXXXX ranges, which ECMA-262 (what
    JSON Schema's `pattern` is) and Python read alike; a text of only characters beyond the
    BMP is refused here though the server takes it (stricter, never looser)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        ch = chr(code)
        keep = not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
        if keep:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return (
        "["
        + "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
        + "]"
    )


VISIBLE = _visible_class()


def _space_class() -> str:
    """The characters of a regular expression's `\\s` in any of the three engines that read our
    patterns: Python's `re` (adds U+001C-U+001F and U+0085), ECMA-262, which a client or
    schemathesis reads the document with (adds U+FEFF), and pydantic's Rust `regex`, which
    checks a `Field(pattern=...)` on the server. `\\s` alone means three different things, so a
    URL or a reason with such a character was allowed by the document and refused by the
    server; written out, the three agree."""
    codes = [c for c in range(0x10000) if chr(c).isspace() or c == 0xFEFF]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


SPACE = _space_class()  # the inside of a class: [{SPACE}] a space, [^{SPACE}] anything else
NOT_BLANK = f"[^{SPACE}]"  # a text with this somewhere is not only spaces
LINE_BREAK = "\\u000a-\\u000d\\u001c-\\u001e\\u0085\\u2028-\\u2029"  # str.splitlines's, and ECMA's
USCC = r"^[0-9A-HJ-NPQRTUWXY]{18}$"

TEXT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "pattern": VISIBLE,
    "description": "free text, not blank",
}
CODE: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "pattern": VISIBLE,
    "description": "an identifier, not blank (spaces around it are removed)",
}
MONEY: dict[str, Any] = {
    "type": "string",
    "pattern": rf"^[0-9]{{1,{INTEGER_DIGITS}}}(\.[0-9]{{1,2}})?$",
    "description": 'yuan as a decimal string, at most two decimals ("1234.50"), never a number',
    "examples": ["1234.50"],
}
QUANTITY: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[0-9]+(\.[0-9]+)?$",
    "description": 'a non-negative decimal string ("216000"), never a number',
}
RATIO: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(0\.[0-9]*[1-9][0-9]*|1(\.0+)?)$",
    "description": "a share in (0, 1] as a decimal string",
}
DAY: dict[str, Any] = {
    "type": "string",
    "format": "date",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "description": "YYYY-MM-DD",
}
USCC_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": USCC,
    "minLength": 18,
    "maxLength": 18,
    "description": "统一社会信用代码: 18 characters of 0-9A-HJ-NPQRTUWXY (no I, O, Z, S, V)",
}
MOBILE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^1[3-9][0-9]{9}$",
    "description": "a mainland China mobile number, 11 digits (+86, spaces and dashes are "
    "also read and removed)",
}
EMAIL: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
    "description": "an e-mail address",
}
PERSON: dict[str, Any] = {
    "type": "string",
    "pattern": r"^P-[A-Za-z0-9_-]+$",
    "description": "a person id of the registry's data provider, P-…",
}
PARTY: dict[str, Any] = {
    "type": "string",
    "pattern": rf"({USCC})|(^P-[A-Za-z0-9_-]+$)",
    "description": "a company's USCC or a person id P-…",
}
INDUSTRY: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[A-T]$",
    "description": "GB/T 4754 section letter",
}

# the format's check functions -> what they accept
CHECKS: dict[Callable[..., Any], dict[str, Any]] = {
    fmt._text: TEXT,
    fmt._code: CODE,
    fmt._money: MONEY,
    fmt._decimal: QUANTITY,
    fmt._ratio: RATIO,
    fmt._date: DAY,
    fmt._uscc: USCC_SCHEMA,
    fmt._mobile: MOBILE,
    fmt._email: EMAIL,
    fmt._person: PERSON,
    fmt._party: PARTY,
    fmt._nfkc: {},  # normalises only; its field's own constraints say the rest
}
FIELDS: dict[tuple[str, str], dict[str, Any]] = {
    ("Applicant", "industry"): INDUSTRY,  # pydantic drops a pattern behind a BeforeValidator
}
# rules across fields, which JSON Schema cannot say
RULES: dict[str, str] = {
    "Delivery": "`end` is on or after `start`; a `compute` row names its `device`.",
    "Contract": "`valid_to` is on or after `valid_from`.",
}


class UnknownCheck(Exception):
    pass


def _is_check(meta: Any) -> bool:
    """A pydantic validator (Before-, After-, Plain-, WrapValidator); not a serializer."""
    return type(meta).__name__.endswith("Validator") and hasattr(meta, "func")


def _checks(annotation: Any) -> list[Callable[..., Any]]:
    """The check functions of a field, through Optional and Annotated."""
    found = []
    for meta in getattr(annotation, "__metadata__", ()):
        if _is_check(meta):
            found.append(meta.func)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            found.extend(_checks(arg))
    elif origin is typing.Annotated:
        found.extend(_checks(typing.get_args(annotation)[0]))
    return found


def field_schema(model: type[BaseModel], name: str) -> dict[str, Any] | None:
    """The JSON Schema of the checks of `model.name`; None when it has none."""
    if (model.__name__, name) in FIELDS:
        return FIELDS[(model.__name__, name)]
    info = model.model_fields[name]
    annotation = info.annotation
    funcs = [m.func for m in info.metadata if _is_check(m)] + _checks(annotation)
    merged: dict[str, Any] = {}
    for func in funcs:
        if func not in CHECKS:
            raise UnknownCheck(f"{model.__name__}.{name}: no JSON Schema for {func.__qualname__}")
        merged |= CHECKS[func]
    return merged or None


def format_models() -> dict[str, type[BaseModel]]:
    return {
        value.__name__: value
        for value in vars(fmt).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == fmt.__name__
        and not value.__name__.startswith("_")
    }


def _apply(prop: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` on a property: on its string branch where it may also be null (Optional)."""
    branches = prop.get("anyOf")
    kept = [b for b in branches or () if b.get("type") == "null"]
    if kept:
        title = {k: v for k, v in prop.items() if k != "anyOf"}
        return title | {"anyOf": [{"type": "string"} | _constraints(extra), *kept]}
    return {k: v for k, v in prop.items() if k not in ("type", "format", "anyOf")} | extra


def _constraints(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if k != "description"}


def constrain(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the format's checks on its components (in place, returned)."""
    components = schema.get("components", {}).get("schemas", {})
    for name, model in format_models().items():
        component = components.get(name)
        if component is None:
            continue
        for field_name, prop in component.get("properties", {}).items():
            extra = field_schema(model, field_name)
            if extra:
                described = dict(extra)
                if "description" in prop:
                    described["description"] = prop["description"]
                component["properties"][field_name] = _apply(prop, described)
        if name in RULES:
            component["description"] = RULES[name]
    return schema
