"""The canonical reader checks a struct's fields in one match (voucher/policy/canonical.py,
`_fields`: the fields joined by a format character, None written as another); the reader it
replaced checked each field by its own msgspec pattern (tests/canonical_reference.py, kept as it
was). Both must take the same documents, as the same values; tests/test_policy_canonical.py
checks the reader against the models themselves."""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.bench_evaluate import make_application
from voucher.policy import canonical
from voucher.policy.format_base import EMAIL_RE

from . import canonical_reference as reference
from .builders import APPLICANT_USCC, base_document
from .strategies import applications
from .test_policy_canonical import MORE_VARIANTS, _documents, _plain, _replaced, _string_paths
from .test_policy_format_fast import VARIANTS

SEP, NONE = canonical.SEP, canonical.NONE
ASCII_SEP, ASCII_NONE = canonical.ASCII_SEP, canonical.ASCII_NONE
ABSENT = object()  # a key left out of its object

# values that a joined check could be fooled by: the separators inside, around or instead of a
# value; the empty string (a missing field's place); a value of every other kind
JOINED_VARIANTS = [
    SEP,
    NONE,
    SEP + NONE,
    NONE + SEP,
    f"C1{SEP}",
    f"{SEP}C1",
    f"C1{NONE}",
    f"{NONE}C1",
    f"C1{SEP}C2",
    f"1.00{SEP}1.00",
    f"北京{SEP}北京",
    f"北京{NONE}",
    "C1",
    "1.00",
    "12",
    "0.5",
    "中文",
    "91110108MA01C3QX7B",
    "P-1",
    "13912345678",
    "lisi@example.cn",
    "A",
    "https://example.org/p",
    "\u2062",  # the format characters beside the two
    "\u2065",
    "None",
    ASCII_SEP,
    ASCII_NONE,
    f"C1{ASCII_SEP}",
    f"{ASCII_SEP}C1",
    f"C1{ASCII_NONE}",
    f"C1{ASCII_SEP}C2",
    f"1.00{ASCII_SEP}1.00",
    f"12{ASCII_SEP}1.00{ASCII_SEP}1.00",
    f"北京{ASCII_SEP}北京",
]
VALUES: list[Any] = [*VARIANTS, *MORE_VARIANTS, *JOINED_VARIANTS, None, 1, 1.5, True, [], {}]


def _same(raw: bytes) -> bool:
    """The reader takes `raw` exactly when the reference does, as the same values."""
    new = canonical.read_canonical(raw)
    old = reference.read_canonical(raw)
    assert (new is None) == (old is None), raw.decode()
    if new is not None:
        assert _plain(new) == _plain(old), raw.decode()
    return new is not None


def _encoded(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _full_document(direction: int) -> dict[str, Any]:
    """base_document with every optional checked field there: a device, a topic note, a
    requested amount, shareholdings and officers, the open source and the model filing."""
    doc = base_document(direction)
    doc["contracts"][0]["deliveries"][0]["device"] = "H800"
    doc["project"]["topic_note"] = "世界模型"
    doc["project"]["open_source"] = {
        "platform": "modelscope",
        "url": "https://modelscope.cn/models/x",
        "scenario_aligned": True,
    }
    doc["project"]["model_filing"] = {"number": "Beijing-1", "date": "2026-02-15", "kind": "model"}
    doc["requested_amount"] = "1000.00"
    doc["registry"] = {
        "shareholdings": [{"holder": "P-1", "held": APPLICANT_USCC, "ratio": "0.5"}],
        "officers": [{"person": "P-2", "company": APPLICANT_USCC, "role": "director"}],
        "companies": [APPLICANT_USCC],
    }
    return doc


def test_the_reader_takes_the_examples_and_generated_documents_as_the_reference_does():
    documents = _documents()
    rng = random.Random(11)
    documents += [make_application(rng, i) for i in range(300)]
    assert all(_same(_encoded(d)) for d in documents)
    assert all(_same(json.dumps(d).encode()) for d in documents)  # \u escapes


def test_every_string_replaced_by_every_value_is_read_as_the_reference_reads_it():
    taken = 0
    for direction in (2, 3, 4):
        doc = _full_document(direction)
        assert _same(_encoded(doc))
        for path in list(_string_paths(doc)):
            for value in VALUES:
                taken += _same(_encoded(_replaced(doc, path, value)))
    assert taken > 300


def _set(doc: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is ABSENT:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return doc


# the optional fields of the joined checks, each with a valid value
OPTIONAL = {
    ("project", "topic_note"): "世界模型",
    ("project", "open_source"): {
        "platform": "modelscope",
        "url": "https://x",
        "scenario_aligned": True,
    },
    ("project", "model_filing"): {"number": "Beijing-1", "date": "2026-02-15", "kind": "model"},
    ("requested_amount",): "1000.00",
    ("contracts", 0, "deliveries", 0, "device"): "H800",
}


def test_every_mix_of_optional_fields_given_null_or_left_out_is_read_as_the_reference_reads_it():
    """A None is written NONE in the joined string: a value in the place of another optional
    field, or an empty one, must not pass as that field or as None."""
    base = base_document(2)
    base["project"]["topic"] = "agent"
    project_fields = [p for p in OPTIONAL if p[0] == "project"]
    for states in itertools.product([ABSENT, None, "valid"], repeat=len(project_fields)):
        doc = base
        for path, state in zip(project_fields, states, strict=True):
            doc = _set(doc, path, OPTIONAL[path] if state == "valid" else state)
        assert _same(_encoded(doc))
        for path in list(_string_paths(doc["project"])):
            for value in VALUES:
                _same(_encoded(_replaced(doc, ("project", *path), value)))
    for path in OPTIONAL:
        for value in [ABSENT, None, *VALUES]:
            _same(_encoded(_set(base, path, value)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(applications(), st.data())
def test_a_mutated_document_is_read_as_the_reference_reads_it(doc, data):
    """Property: strings replaced by any text (often with the separators in it) or any JSON
    scalar, optional fields left out or null, keys added: read as the reference reads it."""
    for path, value in OPTIONAL.items():
        state = data.draw(st.sampled_from(["keep", "keep", ABSENT, None, value]))
        there = path[0] != "contracts" or (doc["contracts"] and doc["contracts"][0]["deliveries"])
        if state != "keep" and there:
            doc = _set(doc, path, state)
    paths = list(_string_paths(doc))
    separators = st.text(
        alphabet=st.sampled_from([SEP, NONE, ASCII_SEP, ASCII_NONE, "a", "1", ".", " ", "北"])
    )
    for _ in range(data.draw(st.integers(0, 4))):
        path = data.draw(st.sampled_from(paths))
        value = data.draw(
            st.one_of(
                st.text(max_size=12),
                separators,
                st.sampled_from(VALUES),
                st.integers(),
                st.none(),
            )
        )
        doc = _replaced(doc, path, value)
    if data.draw(st.booleans()):
        containers = [doc, doc["applicant"], doc["project"], *doc["contracts"][:1]]
        container = data.draw(st.sampled_from(containers))
        key = data.draw(st.sampled_from(sorted(container)))
        if data.draw(st.booleans()):
            container.pop(key)
        else:
            container[key + "_x"] = container[key]
    _same(_encoded(doc) if data.draw(st.booleans()) else json.dumps(doc).encode())


def test_the_separators_are_characters_their_kinds_refuse():
    import unicodedata

    for ch in (ASCII_SEP, ASCII_NONE):
        assert not ("\x20" <= ch <= "\x7e")  # the ASCII kinds are printable ASCII
    for ch in (SEP, NONE):
        assert unicodedata.category(ch) == "Cf"
        assert (
            canonical.read_canonical(
                _encoded(_set(base_document(), ("applicant", "name"), f"a{ch}"))
            )
            is None
        )


NOT = canonical._NOT_IN_TEXT
# each kind as the reference wrote it (searched with \A and \Z), and as the reader matches it
# now (possessive repeats); the e-mail as the models' own EMAIL_RE
KINDS = {
    "money": (r"[0-9]{1,13}\.[0-9]{2}", canonical._MONEY),
    "decimal": (r"[0-9]+(?:\.[0-9]+)?", canonical._DECIMAL),
    "uscc": (r"[0-9A-HJ-NPQRTUWXY]{18}", canonical._USCC),
    "person": (r"P-[A-Za-z0-9_-]+", canonical._PERSON),
    "party": (r"P-[A-Za-z0-9_-]+|[0-9A-HJ-NPQRTUWXY]{18}", canonical._PARTY),
    "email": (EMAIL_RE.pattern, canonical._EMAIL),
    "code": (r"[!-~](?:[ -~]*[!-~])?", canonical._CODE),
    "text": (rf"[^\S{NOT}]*+[^\s{NOT}][^{NOT}]*+", canonical._TEXT),
}
# the characters that matter to the kinds, and some that none takes
ODD = [
    SEP,
    NONE,
    ASCII_SEP,
    ASCII_NONE,
    "北",
    "١",
    "\u3000",
    "\x1c",
    "\u200b",
    "\u202e",
    "\U0001f600",
    "\u00a0",
    "\u2028",
]
ALPHABET = st.sampled_from([*'0123456789.-_@%+ PpAZaIiOoxy-~!"\\\t\n', *ODD, "\U000e0001"])


# a text's language is too large for from_regex to draw from quickly: texts are drawn from
# these characters (any text of them, then changed a little, as the other kinds' values are)
TEXT_CHARACTERS = st.sampled_from([*"北京市 a1-", *ODD, "\t", "\U000e0001"])


@st.composite
def _near(draw, kind: str, pattern: str) -> str:
    """A string of `pattern`'s language, then perhaps changed a little: a character put in,
    left out or doubled."""
    if kind == "text":
        text = draw(st.text(TEXT_CHARACTERS, min_size=1, max_size=8))
    else:
        text = draw(st.from_regex(rf"\A(?:{pattern})\Z"))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["put", "drop", "double"]))
        if edit == "put":
            text = text[:at] + draw(ALPHABET) + text[at:]
        elif edit == "drop":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + text[at : at + 1] * 2 + text[at + 1 :]
    return text


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.data())
def test_each_kind_takes_the_strings_its_plain_pattern_takes(kind, data):
    """Strings of either pattern's language, changed a little, or of any of their characters;
    alone, and as a field between others (`_fields`)."""
    plain, possessive = KINDS[kind]
    text = data.draw(
        st.one_of(_near(kind, plain), _near(kind, possessive), st.text(ALPHABET, max_size=24)),
        label="text",
    )
    expected = re.search(rf"\A(?:{plain})\Z", text) is not None
    assert (re.fullmatch(f"(?:{possessive})", text) is not None) is expected, (kind, text)
    separators = [(SEP, NONE)] if kind == "text" else [(SEP, NONE), (ASCII_SEP, ASCII_NONE)]
    for sep, none in separators:
        between = re.compile(f"C1{sep}(?:{possessive})(?:{sep}C1|{none})")
        assert (between.fullmatch(f"C1{sep}{text}{none}") is not None) is expected, (kind, text)
        assert (between.fullmatch(f"C1{sep}{text}{sep}C1") is not None) is expected, (kind, text)
