"""Every spreadsheet cell the system writes (Excel exports, CSV reports and templates) goes
through `cell`: a text that a spreadsheet program would read as a formula is written as text.

A name typed by an applicant such as `=HYPERLINK("http://evil.example/","点此领取")` would
otherwise become a live formula in the bureau's Excel (CSV/formula injection). OWASP's advice:
a text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote.
Numbers, dates and empty cells are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value to write into a cell: a formula-like text quoted, anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]
