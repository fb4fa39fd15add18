"""The format's fast path (native checks straight from the JSON bytes) accepts only what the
models accept, with the same values; everything else goes to the models, whose errors stay as
they are (tests/test_policy_format.py)."""

from __future__ import annotations

import copy
import json
import random
import sys

import pytest
from pydantic import ValidationError
from pydantic_core import SchemaValidator, core_schema

from benchmarks.bench_evaluate import make_application
from voucher.policy import format as fmt

from .builders import EXAMPLES, base_document


def _exact(data):
    """What the models themselves say: the application, or None when they refuse it."""
    try:
        return fmt.Application.model_validate(data)
    except ValidationError:
        return None


def _fast(raw: bytes):
    return fmt._fast(fmt._FAST_VALIDATOR.validate_json, raw)


def _agree(data) -> bool:
    """The fast path accepts only what the models accept, as the same value; True if it did."""
    raw = json.dumps(data, ensure_ascii=False).encode()
    exact = _exact(json.loads(raw))
    taken = False
    # from the bytes (parse_application_json) and from the decoded document (parse_application)
    for fast in (_fast(raw), fmt._fast(fmt._FAST_VALIDATOR.validate_python, json.loads(raw))):
        if fast is None:
            continue
        assert exact is not None, raw
        assert fast == exact
        assert type(fast) is fmt.Application
        assert fmt.dump_application(fast) == fmt.dump_application(exact)
        taken = True
    return taken


def test_the_fast_path_takes_every_example_and_generated_document():
    documents = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(EXAMPLES.glob("*/application*.json"))
    ]
    rng = random.Random(7)
    documents += [make_application(rng, i) for i in range(200)]
    assert all(_agree(d) for d in documents)


VARIANTS = [
    "",
    " ",
    "\u3000",
    "\x1c",
    "\x1f x",
    "x\x1f",
    "\t",
    " 1234.50",
    "1234.50 ",
    "1234.5",
    "1234",
    "1234.500",
    "-1234.50",
    "１２３４.５０",
    "12345678901234.00",
    "9999999999999.99",
    "0.00",
    "00012.30",
    "1e3",
    "NaN",
    "0",
    "1",
    "1.0",
    "0.5",
    "2026-02-30",
    "2026-2-1",
    "２０２６-04-01",
    "2026-04-01T00:00:00",
    "20260401",
    "0000-01-01",
    "91110108ma01c3qx7b",
    "91110108MA01C3QX7I",
    "９1110108MA01C3QX7B",
    "P-1",
    "P-",
    "p-1",
    "+8613912345678",
    "139 1234 5678",
    "13912345678",
    "lisi@example.cn",
    "lisi@example",
    "ＡＢＣ",
    "昇腾910B",
    "H800",
    "card-hour",
    "C1",
    "I",
    "Z",
    "i",
    "北京市海淀区",
    " 北京 ",
    "\u00a0",
    "\u2028",
    "\u0085",
    "李\u202egnp.exe",  # the models remove format characters (bidi controls) from a text
    "\u200b北京",
    "北京\ufeff",
    "a\u200db",
]


def _string_paths(doc, path=()):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _string_paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _string_paths(v, (*path, i))
    elif isinstance(doc, str):
        yield path


def _replaced(doc, path, value):
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("direction", [1, 2, 3, 4])
def test_the_fast_path_accepts_no_value_the_models_refuse(direction):
    doc = base_document(direction)
    doc["contracts"][0]["deliveries"][0]["device"] = "H800"
    doc["registry"] = {
        "shareholdings": [{"holder": "P-1", "held": "91110108MA01C3QX7B", "ratio": "0.5"}],
        "officers": [{"person": "P-2", "company": "91110108MA01C3QX7B", "role": "director"}],
    }
    for path in list(_string_paths(doc)):
        for value in VARIANTS:
            _agree(_replaced(doc, path, value))
    for path in list(_string_paths(doc)):  # numbers, booleans and null where strings are
        for value in (1, 1.5, True, None, [], {}):
            _agree(_replaced(doc, path, value))


def test_the_text_pattern_keeps_what_str_strip_keeps():
    """A Text is refused when blank after str.strip(): every character Python calls space."""
    validator = SchemaValidator(core_schema.str_schema(pattern=r"[^\s\x1c-\x1f]"))
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if ch.isspace():
            with pytest.raises(ValidationError):
                validator.validate_python(ch * 3)


def test_model_checks_send_a_document_the_exact_way():
    doc = base_document()
    line = doc["contracts"][0]["deliveries"][0]
    line["end"], line["start"] = line["start"], line["end"]
    if line["end"] != line["start"]:
        assert _fast(json.dumps(doc).encode()) is None
    doc = base_document()
    doc["contracts"][0]["deliveries"][0]["service"] = "compute"
    doc["contracts"][0]["deliveries"][0].pop("device", None)
    assert _fast(json.dumps(doc).encode()) is None
    assert not _agree(doc)
