"""`voucher evaluate --json` prints through a faster path (voucher/policy/report.py
`batch_payload`/`dumps_batch`/`dump_entry`, voucher/policy/cli.py `_write_compact`, the engine's
`evaluate_each`): its bytes must be those of the reference, `orjson.dumps(batch_json(...))` of
`evaluate(...)`'s results, on every input."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import random
from datetime import date, datetime
from decimal import Decimal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.bench_evaluate import make_application
from voucher.policy import cli
from voucher.policy.engine import evaluate, evaluate_each
from voucher.policy.format import parse_application
from voucher.policy.report import batch_json, batch_payload, dump_entry, dumps_batch
from voucher.policy.results import Evaluation, Finding
from voucher.policy.round import get_round

from .strategies import applications

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(results: list[tuple[str, Evaluation]], pretty: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(batch_json(results), option=option)


def _fast(results: list[tuple[str, Evaluation]], pretty: bool = False) -> bytes:
    return dumps_batch(batch_payload(results), pretty=pretty)


def _compact(results: list[tuple[str, Evaluation]]) -> bytes:
    out = io.BytesIO()
    names = [name for name, _ in results]
    cli._write_compact(out, names, iter(ev for _, ev in results))
    return out.getvalue()


def _all_agree(results: list[tuple[str, Evaluation]]) -> None:
    reference = _reference(results)
    assert _fast(results) == reference
    assert _compact(results) == reference + b"\n"
    assert _fast(results, pretty=True) == _reference(results, pretty=True)


def _evaluated(documents: list[dict]) -> list[tuple[str, Evaluation]]:
    apps = [parse_application(d) for d in documents]
    names = [f"file-{i}.json" for i in range(len(apps))]
    return list(zip(names, evaluate(apps, get_round("bj-2026"), references=names), strict=True))


@FAST
@given(st.lists(applications(), min_size=1, max_size=4))
def test_the_fast_output_is_the_reference_on_generated_batches(documents):
    _all_agree(_evaluated(documents))


@pytest.mark.parametrize("count", [1, 63, 64, 65, 129, 200])
def test_the_compact_stream_is_the_reference_across_chunk_edges(count):
    rng = random.Random(count)
    _all_agree(_evaluated([make_application(rng, i) for i in range(count)]))


def test_evaluate_each_gives_what_evaluate_gives():
    rng = random.Random(11)
    apps = [parse_application(make_application(rng, i)) for i in range(150)]
    names = [f"n{i}" for i in range(150)]
    rnd = get_round("bj-2026")
    assert list(evaluate_each(apps, rnd, references=names)) == evaluate(apps, rnd, references=names)
    assert list(evaluate_each(apps, rnd)) == evaluate(apps, rnd)


# A finding's values: what the rules put there (Decimals of any exponent, dates, lists,
# tuples, nesting) and what JSON has already.
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d.adjusted()) < 30
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=8),
    _decimals,
    st.dates(),
    st.datetimes(),
)
_values = st.recursive(
    _scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner))
)


@functools.cache
def _some_evaluation() -> Evaluation:
    return _evaluated([make_application(random.Random(3), 0)])[0][1]


def _with_findings(*findings: Finding) -> Evaluation:
    return dataclasses.replace(_some_evaluation(), findings=list(findings))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=6), _values, max_size=5),
    st.sampled_from(["pass", "fail", "review", "info"]),
    st.one_of(st.none(), st.text(max_size=4)),
)
def test_a_findings_values_print_as_finding_to_json_writes_them(values, status, contract):
    finding = Finding("RULE", status, "一（一）", contract, "说明", values)
    ev = _with_findings(finding)
    assert dump_entry("f", ev) == orjson.dumps({"file": "f", **ev.to_json()})


def test_decimals_print_with_at_least_two_places_and_no_exponent():
    values = {
        "a": Decimal("1.5"),
        "b": Decimal("1E+3"),
        "c": [Decimal("0.125000"), (Decimal("-2"), date(2026, 1, 2))],
        "d": date(2026, 1, 2),
        "e": datetime(2026, 1, 2, 3, 4, 5, 600),
    }
    printed = json.loads(
        dump_entry("f", _with_findings(Finding("R", "info", "c", None, "m", values)))
    )
    assert printed["findings"][0]["values"] == {
        "a": "1.50",
        "b": "1000",
        "c": ["0.125", ["-2", "2026-01-02"]],
        "d": "2026-01-02",
        "e": "2026-01-02T03:04:05.000600",
    }


def test_a_value_that_is_not_json_is_refused_as_before():
    ev = _with_findings(Finding("R", "info", "c", None, "m", {"x": {1, 2}}))
    with pytest.raises(TypeError):
        orjson.dumps(batch_json([("f", ev)]))
    with pytest.raises(TypeError):
        dump_entry("f", ev)


def test_batches_of_several_rounds_come_back_in_file_order(monkeypatch):
    """Each round is its own batch (ONE_DIRECTION never crosses rounds); the streamed
    evaluations still follow the files' order."""
    bj = get_round("bj-2026")
    rounds = {rid: dataclasses.replace(bj, id=rid) for rid in ("r-a", "r-b")}
    monkeypatch.setattr(cli, "get_round", rounds.__getitem__)
    rng = random.Random(5)
    documents = []
    for i in range(40):
        doc = make_application(rng, i)
        doc["round"] = "r-a" if rng.random() < 0.5 else "r-b"
        if i % 7 == 3:  # the same applicant in both rounds: ONE_DIRECTION per round only
            doc["applicant"] = documents[0]["applicant"]
        documents.append(doc)
    apps = [parse_application(d) for d in documents]
    names = [f"f{i}" for i in range(len(apps))]
    expected: dict[int, Evaluation] = {}
    for rid, rnd in rounds.items():
        indexes = [i for i, a in enumerate(apps) if a.round == rid]
        batch = evaluate([apps[i] for i in indexes], rnd, references=[names[i] for i in indexes])
        expected.update(zip(indexes, batch, strict=True))
    streamed = list(cli._evaluate(apps, names, None))
    assert streamed == [expected[i] for i in range(len(apps))]
    assert [ev.round for ev in streamed] == [a.round for a in apps]


@pytest.mark.parametrize("size", [1, 17, 18, 4000, 10_000, 25_000, 1 << 20])
def test_the_compact_stream_is_the_reference_whatever_the_buffer_holds(monkeypatch, size):
    """Entries are copied into one buffer, written when the next would not fit; one larger
    than the buffer is written as it is (the opening is 17 bytes, an entry some 7,000)."""
    rng = random.Random(size)
    results = _evaluated([make_application(rng, i) for i in range(7)])
    monkeypatch.setattr(cli, "_OUTPUT_BUFFER", size)
    writes: list[int] = []

    class Out(io.BytesIO):
        def write(self, data) -> int:
            writes.append(len(data))
            return super().write(data)

    out = Out()
    cli._write_compact(out, [n for n, _ in results], iter(ev for _, ev in results))
    assert out.getvalue() == _reference(results) + b"\n"
    largest = max(len(dump_entry(n, ev)) for n, ev in results)
    assert max(writes) <= max(size, largest)
    assert len(writes) == 1 if size == 1 << 20 else len(writes) > 1
