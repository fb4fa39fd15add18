"""The JSON Schema the OpenAPI documents give each check of the interchange format
(voucher/api/schema_constraints.py) never allows what the check refuses: values drawn from each
pattern are accepted by the format's own check function."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voucher.api import schema_constraints as sc
from voucher.policy import format as fmt

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _drawn(schema):
    pattern = schema["pattern"]
    strategy = st.from_regex(pattern, fullmatch=pattern.startswith("^"))
    if "minLength" in schema:
        strategy = strategy.filter(lambda s: len(s) >= schema["minLength"])
    return strategy


@pytest.mark.parametrize(
    ("check", "schema"),
    [(fn, schema) for fn, schema in sc.CHECKS.items() if schema and fn is not fmt._date],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_what_the_pattern_allows_the_check_accepts(check, schema):
    @FAST
    @given(value=_drawn(schema))
    def run(value):
        check(value)  # raises ValueError (or MoneyError) when it refuses

    run()


@FAST
@given(day=st.dates(min_value=date(1, 1, 1)))
def test_a_day_the_document_allows_is_read(day):
    text = day.isoformat()
    assert re.fullmatch(sc.DAY["pattern"], text)
    assert fmt._date(text) == day


@pytest.mark.parametrize("blank", ["", " ", "\u3000", "\u202e", "\u200b\ufeff", "\x1d", "\t\n"])
def test_a_blank_text_is_refused_by_the_document_too(blank):
    assert not re.search(sc.VISIBLE, blank)
    with pytest.raises(ValueError):
        fmt._text(blank)


def test_every_checked_field_of_the_platform_document_is_constrained():
    """No field of a format model in the document is left a bare string."""
    import json
    from pathlib import Path

    document = json.loads(
        (Path(__file__).resolve().parent.parent / "docs/openapi.json").read_text(encoding="utf-8")
    )
    components = document["components"]["schemas"]
    seen = 0
    for name, model in sc.format_models().items():
        if name not in components:
            continue
        for field, prop in components[name]["properties"].items():
            if sc.field_schema(model, field):
                branch = prop["anyOf"][0] if "anyOf" in prop else prop
                assert "pattern" in branch, f"{name}.{field}"
                seen += 1
    assert seen >= 20


def test_a_check_without_a_json_schema_fails_the_generation(monkeypatch):
    monkeypatch.delitem(sc.CHECKS, fmt._mobile)
    with pytest.raises(sc.UnknownCheck, match=r"Contact\.mobile"):
        sc.field_schema(fmt.Contact, "mobile")
