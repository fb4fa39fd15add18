"""Single-line text people type (names, addresses, file names): the invisible format characters
are removed.

A right-to-left override makes "李\\u202egnp.exe" look like "李exe.png"; the other bidirectional
controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) reorder text as well, and the
other format characters (Unicode category Cf: zero-width spaces, the BOM, soft hyphens…) hide
what a name really is. All of them go, except the zero-width (non-)joiners U+200C/U+200D that
some scripts and emoji need to be written at all.
"""

from __future__ import annotations

import unicodedata
from typing import Any

KEPT_FORMAT = frozenset("\u200c\u200d")


def strip_format(value: str) -> str:
    """`value` without its Cf format characters (bidi controls among them)."""
    return "".join(ch for ch in value if ch in KEPT_FORMAT or unicodedata.category(ch) != "Cf")


def clean_line(value: Any) -> Any:
    """A typed single-line text cleaned: format characters removed (anything else unchanged)."""
    return strip_format(value) if isinstance(value, str) else value
