"""Unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

import re
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WELL_FORMED = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


def is_well_formed(code: str) -> bool:
    return WELL_FORMED.fullmatch(code) is not None


def expected_check_character(code: str) -> str:
    if len(code) < 17:
        raise ValueError(f"a USCC has 17 characters before its check character: {code!r}")
    # map over the C functions: a generator costs a fifth of an application's rule checks
    total = sum(map(mul, map(_VALUE.__getitem__, code[:17]), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def has_valid_check_character(code: str) -> bool:
    """Only meaningful for a well-formed code."""
    return expected_check_character(code) == code[17]


def division_code(code: str) -> str:
    """Characters 3–8: the registration authority's administrative division code."""
    return code[2:8]
