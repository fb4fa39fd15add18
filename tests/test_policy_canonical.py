"""`voucher evaluate`'s reader of canonical documents (voucher/policy/canonical.py) accepts only
what the format's models accept, with the same values; everything else goes to the models,
whose errors stay as they are (tests/test_policy_format.py)."""

from __future__ import annotations

import copy
import json
import random
import sys
import tempfile
import unicodedata
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from benchmarks.bench_evaluate import make_application
from voucher.policy import canonical
from voucher.policy import format as fmt
from voucher.policy.engine import evaluate
from voucher.policy.report import dump_entry
from voucher.policy.round import get_round

from .builders import EXAMPLES, base_document
from .strategies import applications
from .test_policy_format_fast import VARIANTS


def _plain(value: Any) -> Any:
    """A model or a struct as its class name and fields; a leaf as its type and text (so that
    Decimal("1.5") and Decimal("1.50") differ, as they print differently)."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return type(value).__name__, {k: _plain(getattr(value, k)) for k in fields}
    if isinstance(value, msgspec.Struct):
        # by the names of the format (a delivery's quantity and unit price are properties that
        # make its checked text Decimal)
        fields = value.__struct_encode_fields__
        return type(value).__name__, {k: _plain(getattr(value, k)) for k in fields}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return type(value).__name__, str(value)


def _exact(raw: bytes) -> fmt.Application | None:
    """What the models themselves say: the application, or None when they refuse it."""
    try:
        return fmt.Application.model_validate(json.loads(raw))
    except (ValidationError, ValueError):
        return None


def _agree(raw: bytes) -> bool:
    """The reader accepts only what the models accept, as the same values; True if it did."""
    fast = canonical.read_canonical(raw)
    if fast is None:
        return False
    exact = _exact(raw)
    assert exact is not None, raw
    assert _plain(fast) == _plain(exact)
    return True


def _encoded(doc: Any, ensure_ascii: bool = False) -> bytes:
    return json.dumps(doc, ensure_ascii=ensure_ascii).encode()


def _documents() -> list[dict]:
    # examples/ holds the shared spec's examples (the same files), so a clone without the
    # shared folder beside it reads them too
    paths = sorted(EXAMPLES.glob("*/application*.json"))
    assert len(paths) >= 10
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    rng = random.Random(7)
    return documents + [make_application(rng, i) for i in range(200)]


def test_the_reader_takes_every_example_and_generated_document_as_the_models_read_it():
    documents = _documents()
    assert len(documents) >= 210
    assert all(_agree(_encoded(d)) for d in documents)
    assert all(_agree(_encoded(d, ensure_ascii=True)) for d in documents)


def _string_paths(doc: Any, path: tuple = ()):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _string_paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _string_paths(v, (*path, i))
    elif isinstance(doc, str):
        yield path


def _replaced(doc: Any, path: tuple, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


# beyond the models' fast path's variants: what only a Python pattern could let through
MORE_VARIANTS = [
    "C1\n",  # `$` matches before a final newline; \Z does not
    "1234.50\n",
    "2026-04-01\n",
    "91110108MA01C3QX7B\n",
    "北京\n",
    "\n北京",
    "李\u202egnp.exe",  # the models remove format characters from a text
    "\u200b北京",
    "北京\ufeff",
    "a\u200db",
    "\u00ad",
    "吉\U00020bb7",  # beyond the Basic Multilingual Plane: read by the models
    "\U0001f600",
    "𝟏𝟐𝟑𝟒.𝟓𝟎",  # mathematical digits: NFKC makes them ASCII
    "\u0661\u0662.\u0663\u0664",  # Arabic-Indic digits
    "1_000.00",
    "+1.50",
    "0.0",
    "1.",
    ".5",
    "0",
    "0.000",
    "1.00",
    "1.000001",
]


@pytest.mark.parametrize("direction", [1, 2, 3, 4])
def test_the_reader_accepts_no_value_the_models_refuse(direction):
    doc = base_document(direction)
    doc["contracts"][0]["deliveries"][0]["device"] = "H800"
    doc["registry"] = {
        "shareholdings": [{"holder": "P-1", "held": "91110108MA01C3QX7B", "ratio": "0.5"}],
        "officers": [{"person": "P-2", "company": "91110108MA01C3QX7B", "role": "director"}],
        "companies": ["91110108MA01C3QX7B"],
    }
    taken = 0
    for path in list(_string_paths(doc)):
        for value in [*VARIANTS, *MORE_VARIANTS]:
            taken += _agree(_encoded(_replaced(doc, path, value)))
        for value in (1, 1.5, True, None, [], {}):  # other JSON where a string is
            taken += _agree(_encoded(_replaced(doc, path, value)))
    assert taken > 100  # the canonical variants were read here, not all sent to the models


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(applications(), st.data())
def test_a_mutated_document_is_read_as_the_models_read_it_or_not_at_all(doc, data):
    """Property: any string of a generated application replaced by any text (or any JSON
    scalar), any key dropped or added: the reader takes it only as the models do."""
    paths = list(_string_paths(doc))
    for _ in range(data.draw(st.integers(0, 3))):
        path = data.draw(st.sampled_from(paths))
        value = data.draw(
            st.one_of(
                st.text(max_size=12),
                st.sampled_from([*VARIANTS, *MORE_VARIANTS]),
                st.integers(),
                st.floats(allow_nan=False),
                st.booleans(),
                st.none(),
            )
        )
        doc = _replaced(doc, path, value)
    if data.draw(st.booleans()):
        containers = [doc, doc["applicant"], *doc["contracts"][:1]]
        container = data.draw(st.sampled_from(containers))
        key = data.draw(st.sampled_from(sorted(container)))
        if data.draw(st.booleans()):
            container.pop(key)
        else:
            container[key + "_x"] = container[key]
    _agree(_encoded(doc, ensure_ascii=data.draw(st.booleans())))


def test_the_format_ranges_are_every_format_character():
    listed = {c for first, last in canonical.FORMAT_RANGES for c in range(first, last + 1)}
    assert listed == {c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"}


def test_the_text_pattern_refuses_a_blank_text_and_every_format_character():
    blank = msgspec.json.Decoder(canonical.Text)
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if ch.isspace():
            with pytest.raises(msgspec.ValidationError):
                blank.decode(json.dumps(ch * 3))
            assert blank.decode(json.dumps(f"{ch}a{ch}")) == f"{ch}a{ch}"
        if unicodedata.category(ch) == "Cf":
            with pytest.raises(msgspec.ValidationError):
                blank.decode(json.dumps(f"a{ch}b"))


def test_an_overview_is_counted_in_characters_as_the_models_count_it():
    doc = base_document()
    for text, fits in (("😀" * 2000, True), ("😀" * 2001, False), ("字" * 2000, True)):
        doc["project"]["overview"] = text
        assert _agree(_encoded(doc)) is fits
        assert (_exact(_encoded(doc)) is not None) is fits


def test_the_models_checks_are_the_readers_too():
    def refused(change) -> None:
        doc = base_document()
        change(doc)
        raw = _encoded(doc)
        assert canonical.read_canonical(raw) is None
        with pytest.raises(fmt.FormatError) as refusal:
            canonical.read_application(raw)
        assert refusal.value.problems == _problems(raw)

    def swap_dates(doc):
        line = doc["contracts"][0]["deliveries"][0]
        line["start"], line["end"] = "2026-01-02", "2026-01-01"

    def no_device(doc):
        doc["contracts"][0]["deliveries"][0].update(service="compute")
        doc["contracts"][0]["deliveries"][0].pop("device", None)

    def twice(doc):
        doc["contracts"].append(copy.deepcopy(doc["contracts"][0]))

    def other_topic(doc):
        doc["project"].update(topic="other")
        doc["project"].pop("topic_note", None)

    def validity(doc):
        contract = doc["contracts"][0]
        contract["valid_from"], contract["valid_to"] = "2026-01-02", "2026-01-01"

    def ratio(value):
        def change(doc):
            doc["registry"]["shareholdings"] = [
                {"holder": "P-1", "held": "91110108MA01C3QX7B", "ratio": value}
            ]

        return change

    for change in (swap_dates, no_device, twice, other_topic, validity, ratio("0"), ratio("1.5")):
        refused(change)


def _problems(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(fmt.FormatError) as refusal:
        fmt.parse_application_json(raw)
    return refusal.value.problems


def test_the_structs_mirror_the_models():
    """Every class of the format has its struct, with the same fields and defaults."""
    models = {m.__name__: m for m in fmt._models(fmt.Application.__pydantic_core_schema__)}
    for name, model in models.items():
        struct = getattr(canonical, name)
        assert set(struct.__struct_encode_fields__) == set(model.model_fields), name
        fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
        for field, info in model.model_fields.items():
            mirror = fields[field]
            assert mirror.required is info.is_required(), (name, field)
            if not info.is_required():
                default = mirror.default
                if default is msgspec.NODEFAULT:
                    default = mirror.default_factory()
                assert default == info.default, (name, field)


def test_a_bad_document_gets_the_models_messages():
    for raw in (b"{", b"[]", b'{"format": "x"}', "\u00ff".encode("latin-1")):
        assert canonical.read_canonical(raw) is None
        with pytest.raises(fmt.FormatError) as refusal:
            canonical.read_application(raw)
        assert refusal.value.problems == _problems(raw)


def test_the_engine_gives_the_same_evaluations_from_either_reader():
    rng = random.Random(17)
    raws = [_encoded(make_application(rng, i)) for i in range(120)]
    names = [f"f{i}.json" for i in range(len(raws))]
    rnd = get_round("bj-2026")
    by_models = evaluate([fmt.parse_application_json(r) for r in raws], rnd, references=names)
    by_reader = evaluate([canonical.read_application(r) for r in raws], rnd, references=names)
    assert by_reader == by_models
    assert [dump_entry(n, e) for n, e in zip(names, by_reader, strict=True)] == [
        dump_entry(n, e) for n, e in zip(names, by_models, strict=True)
    ]


def test_a_delivery_lines_quantity_and_unit_price_read_as_the_models_read_them():
    """The reader keeps a line's quantity and unit price as their checked text and makes them
    Decimal when read (properties): the engine reads the unit price only under a round with
    price bands, whose UNIT_PRICE findings (and messages, which print the price) must be the
    same from either reader."""
    from decimal import Decimal

    from voucher.policy.round import PriceBand, device_key

    rng = random.Random(23)
    raws = [_encoded(make_application(rng, i)) for i in range(120)]
    by_models = [fmt.parse_application_json(r) for r in raws]
    by_reader = [canonical.read_application(r) for r in raws]
    lines = 0
    for exact, fast in zip(by_models, by_reader, strict=True):
        for c_exact, c_fast in zip(exact.contracts, fast.contracts, strict=True):
            for d_exact, d_fast in zip(c_exact.deliveries, c_fast.deliveries, strict=True):
                for name in ("quantity", "unit_price", "amount"):
                    value = getattr(d_fast, name)
                    assert type(value) is Decimal, name
                    assert str(value) == str(getattr(d_exact, name)), name
                lines += 1
    assert lines > 500
    # a band for every device and unit the documents price, narrow enough that some lines
    # fall outside it
    prices: dict[tuple[str, str], list[Decimal]] = {}
    for app in by_models:
        for c in app.contracts:
            for d in c.deliveries:
                if d.service == "compute" and d.device is not None:
                    prices.setdefault((device_key(d.device), d.unit), []).append(d.unit_price)
    bands = {
        key: PriceBand(key[0], key[1], sorted(seen)[len(seen) // 4], sorted(seen)[-len(seen) // 4])
        for key, seen in prices.items()
    }
    rnd = get_round("bj-2026").with_overrides(unit_price_bands=bands)
    names = [f"f{i}.json" for i in range(len(raws))]
    models_evaluated = evaluate(by_models, rnd, references=names)
    reader_evaluated = evaluate(by_reader, rnd, references=names)
    assert reader_evaluated == models_evaluated
    statuses = {f.status for e in reader_evaluated for f in e.findings if f.rule == "UNIT_PRICE"}
    assert statuses == {"pass", "review"}
    assert [dump_entry(n, e) for n, e in zip(names, reader_evaluated, strict=True)] == [
        dump_entry(n, e) for n, e in zip(names, models_evaluated, strict=True)
    ]


def test_voucher_evaluate_imports_no_pydantic_until_a_document_needs_the_models():
    """The models (pydantic, a tenth of a second to import) are the fallback of this reader:
    a batch of canonical documents, and the round files, are read without them."""
    import subprocess

    canonical_files = sorted(str(p) for p in EXAMPLES.glob("*/application*.json"))
    lower = json.loads((EXAMPLES / "d4-small" / "application.json").read_text(encoding="utf-8"))
    lower["applicant"]["uscc"] = lower["applicant"]["uscc"].lower()  # the models' to read
    code = (
        "import io, json, sys\n"
        "from voucher.policy import cli\n"
        "def pydantic(): return sorted(m for m in sys.modules if m.startswith('pydantic'))\n"
        "out, err = io.BytesIO(), io.StringIO()\n"
        "code = cli.run(sys.argv[2:], as_json=True, round_id=None, pretty=False, out=out, err=err)\n"
        "assert code == 0 and not pydantic(), (code, err.getvalue(), pydantic())\n"
        "code = cli.run([sys.argv[1]], as_json=True, round_id=None, pretty=False, out=out, err=err)\n"
        "assert code == 0 and pydantic(), (code, err.getvalue())\n"
    )
    with tempfile.TemporaryDirectory() as directory:
        lowercase_uscc = f"{directory}/lowercase-uscc.json"
        with open(lowercase_uscc, "w", encoding="utf-8") as fh:
            json.dump(lower, fh, ensure_ascii=False)
        result = subprocess.run(
            [sys.executable, "-c", code, lowercase_uscc, *canonical_files],
            capture_output=True,
            text=True,
            cwd=EXAMPLES.parent,
            check=False,
        )
    assert len(canonical_files) > 5
    assert result.returncode == 0, result.stdout + result.stderr
