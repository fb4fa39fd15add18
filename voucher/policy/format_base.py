"""The parts of the format `compute-voucher/application@1` that need no pydantic.

`voucher evaluate` reads well-formed documents with the canonical reader
(voucher/policy/canonical.py, msgspec) and the engine only reads their attributes: neither needs
the pydantic models of voucher/policy/format.py, whose import and schemas cost a tenth of a
second at every start. What they do need (the closed sets of values, the error type, reading a
file) is here, and format.py re-exports it: `from voucher.policy.format import X` keeps working.
The models are imported only when a document is not canonical (canonical.read_application).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from voucher.policy.round import MATERIAL_IDS

FORMAT_ID = "compute-voucher/application@1"

EMAIL_RE = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)

Direction = Literal[1, 2, 3, 4]
Topic = Literal["world_model", "embodied_ai", "ai_for_science", "agent", "other"]
Service = Literal["compute", "storage", "network", "security"]
Level = Literal["national", "municipal", "district"]
Role = Literal["director", "supervisor", "executive", "legal_representative"]
MaterialId = Literal[
    "contract",
    "demand_qualification",
    "supply_qualification",
    "invoice_or_payment",
    "settlement",
    "usage_table",
    "implementation_report",
    "commitment_letter",
]
assert set(MaterialId.__args__) == set(MATERIAL_IDS)  # type: ignore[attr-defined]

# 项目概述 (14-2): the form leaves a box; 2,000 characters is a page, and what the PDF renders
# in well under a second (an overview of 1,500,000 once kept a worker busy for 15 minutes)
OVERVIEW_MAX_CHARS = 2000


def invoice_key(number: object) -> str:
    """An invoice number as two records of the same invoice compare: spaces and case aside."""
    return str(number).strip().upper()


class FormatError(Exception):
    """A document that is not the format; `problems` are (JSON path, what is wrong) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{path}: {what}" for path, what in problems))


_Document = TypeVar("_Document")


def read_application_file(path: Path | str, parse: Callable[[bytes], _Document]) -> _Document:
    """The document of a file, read by `parse`; FormatError when the file cannot be read."""
    try:
        raw = read_bytes(path)
    except OSError as exc:
        raise FormatError([("(file)", f"无法读取文件: {exc.strerror}")]) from None
    return parse(raw)


_CHUNK = 65536


def read_bytes(path: Path | str) -> bytes:
    """The whole of a file, as `open(path, "rb").read()` gives it (and raising the same
    OSErrors), by system calls alone: no file object (an unbuffered `open` costs some 7 µs a
    file, with its fstat; this 5: `voucher evaluate` reads 10,000). Read until the end, so a
    pipe's short reads are joined as the file object joins them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        raw = os.read(fd, _CHUNK)
        more = os.read(fd, _CHUNK) if raw else b""
        if more:
            parts = [raw, more]
            while more := os.read(fd, _CHUNK):
                parts.append(more)
            raw = b"".join(parts)
    finally:
        os.close(fd)
    return raw
