"""Parameters of a policy round, loaded from `rounds/<id>.toml` and validated at start.

A round file is data, not code: a second round is a second file. Every
parameter table names the clause it comes from, and the loader refuses unknown
keys, missing values, bad money and rounds whose subsidy windows overlap.

The rounds are read at every start of `voucher evaluate`, which otherwise needs no pydantic
(a tenth of a second to import): a well-formed file is read here by plain checks of the same
fields as the models of voucher/policy/round_models.py, which read whatever these do not
take (every error among them), so that a refused file is described as the models describe it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from voucher.policy.clauses import CLAUSES, clause_ids
from voucher.policy.money import parse_yuan

if TYPE_CHECKING:
    from voucher.policy.round_models import _RoundFile

ROUNDS_DIR = Path(__file__).with_name("rounds")
MATERIAL_IDS = (
    "contract",
    "demand_qualification",
    "supply_qualification",
    "invoice_or_payment",
    "settlement",
    "usage_table",
    "implementation_report",
    "commitment_letter",
)
DIRECTIONS = (1, 2, 3, 4)


class RoundError(Exception):
    """A round file that cannot be used; the message names the file and the key."""


_RATIO_RE = re.compile(r"(0(\.\d+)?|1(\.0+)?)")


def _money(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(
            'must be a decimal string in yuan with at most two decimals, e.g. "1000.00"'
        )
    return parse_yuan(value, strict=True)


def _ratio(value: Any) -> Decimal:
    if not isinstance(value, str) or not _RATIO_RE.fullmatch(value) or Decimal(value) == 0:
        raise ValueError('must be a decimal string in (0, 1], e.g. "0.20"')
    return Decimal(value)


def _clause(value: Any) -> str:
    if not isinstance(value, str) or not all(cid in CLAUSES for cid in clause_ids(value)):
        raise ValueError(f"unknown clause {value!r}: add it to voucher/policy/clauses.py first")
    return value


@dataclass(frozen=True, slots=True)
class DirectionTerms:
    number: int
    rate: Decimal
    amount_cap: Decimal
    clause: str


@dataclass(frozen=True, slots=True)
class PriceBand:
    device: str
    unit: str
    min: Decimal
    max: Decimal


def device_key(device: str) -> str:
    """Device models are compared after NFKC, without spaces, case-folded (RULES.md v2):
    "H800" = "h 800" = "Ｈ８００" (full-width, as a Chinese input method types it)."""
    return "".join(unicodedata.normalize("NFKC", device).split()).casefold()


@dataclass(frozen=True)
class PolicyRound:
    """Everything the engine needs to know about one round, ready to use."""

    id: str
    title: str
    jurisdiction: str
    region_name: str
    address_prefixes: tuple[str, ...]
    uscc_division_prefix: str
    window_start: date
    window_end: date
    directions: Mapping[int, DirectionTerms]
    d2_minimum_contract_total: Decimal
    d4_filing_on_or_after: date
    stacking_share: Decimal
    d1_topics: Mapping[str, str]
    d3_platforms: Mapping[str, str]
    eligible_industries: Mapping[str, str]
    flagged_devices: Mapping[str, str]  # device_key -> notice
    unit_price_bands: Mapping[tuple[str, str], PriceBand]  # (device_key, unit) -> band
    state_asset_holders: frozenset[str]
    required_materials: tuple[str, ...]
    clauses: Mapping[str, str] = field(default_factory=dict)  # parameter -> clause

    def with_overrides(self, **changes: Any) -> PolicyRound:
        """A copy with some parameters changed: for administrators' what-ifs and tests."""
        from dataclasses import replace

        return replace(self, **changes)


def _build(parsed: _RoundFile | SimpleNamespace) -> PolicyRound:
    """The round of a validated file: the models' `_RoundFile`, or `_read_plain`'s namespace of
    the same attributes."""
    directions = {
        int(k): DirectionTerms(int(k), v.rate, v.amount_cap, v.clause)
        for k, v in parsed.directions.items()
    }
    return PolicyRound(
        id=parsed.id,
        title=parsed.title,
        jurisdiction=parsed.jurisdiction,
        region_name=parsed.region.name,
        address_prefixes=tuple(parsed.region.address_prefixes),
        uscc_division_prefix=parsed.region.uscc_division_prefix,
        window_start=parsed.subsidy_window.start,
        window_end=parsed.subsidy_window.end,
        directions=directions,
        d2_minimum_contract_total=parsed.direction_2_minimum_contract_total.amount,
        d4_filing_on_or_after=parsed.direction_4_model_filing.on_or_after,
        stacking_share=parsed.stacking.max_share_of_verified_cost,
        d1_topics=parsed.direction_1_topics.names,
        d3_platforms=parsed.direction_3_platforms.names,
        eligible_industries=parsed.eligible_industries.names,
        flagged_devices={device_key(d.model): d.notice for d in parsed.flagged_devices.devices},
        unit_price_bands={
            (device_key(b.device), b.unit): PriceBand(b.device, b.unit, b.min, b.max)
            for b in parsed.unit_price_bands.bands
        },
        state_asset_holders=frozenset(parsed.state_asset_holders.holders),
        required_materials=tuple(parsed.materials.all_directions),
        clauses={
            "region": parsed.region.clause,
            "subsidy_window": parsed.subsidy_window.clause,
            "direction_2_minimum_contract_total": parsed.direction_2_minimum_contract_total.clause,
            "direction_4_model_filing": parsed.direction_4_model_filing.clause,
            "stacking": parsed.stacking.clause,
            "direction_1_topics": parsed.direction_1_topics.clause,
            "direction_3_platforms": parsed.direction_3_platforms.clause,
            "eligible_industries": parsed.eligible_industries.clause,
            "flagged_devices": parsed.flagged_devices.clause,
            "unit_price_bands": parsed.unit_price_bands.clause,
            "state_asset_holders": parsed.state_asset_holders.clause,
            "materials": parsed.materials.clause,
        },
    )


# --- reading a well-formed round file without pydantic -------------------------------------
#
# Each table's keys and the check of each value, as the models of round_models.py declare them
# (strict: a string is a str, a day a TOML date, a list a TOML array; no key missing, none
# unknown). A check fails by raising; the file then goes to the models, which say why.


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value


def _strs(value: Any) -> list[str]:
    if type(value) is not list or any(type(item) is not str for item in value):
        raise ValueError("not a list of strings")
    return list(value)


def _day(value: Any) -> date:
    if type(value) is not date:  # a TOML date; a date-time is no day for the models either
        raise ValueError("not a date")
    return value


def _table(value: Any, fields: Mapping[str, Any]) -> SimpleNamespace:
    if type(value) is not dict or value.keys() != fields.keys():
        raise ValueError("not this table")
    return SimpleNamespace(**{key: check(value[key]) for key, check in fields.items()})


def _tables(fields: Mapping[str, Any]) -> Any:
    def check(value: Any) -> list[SimpleNamespace]:
        if type(value) is not list:
            raise ValueError("not a list")
        return [_table(item, fields) for item in value]

    return check


def _named(value: Any) -> SimpleNamespace:
    """A table of `id = "中文名"` entries plus its clause (the models' _Named)."""
    if type(value) is not dict or "clause" not in value:
        raise ValueError("not a table of names")
    names = {key: name for key, name in value.items() if key != "clause"}
    if any(type(name) is not str or not name for name in names.values()):
        raise ValueError("not a name")
    return SimpleNamespace(clause=_clause(value["clause"]), names=names)


_DIRECTION = {"clause": _clause, "rate": _ratio, "amount_cap": _money}


def _directions(value: Any) -> dict[str, SimpleNamespace]:
    if type(value) is not dict or sorted(value) != [str(d) for d in DIRECTIONS]:
        raise ValueError("not directions 1 to 4")
    return {key: _table(terms, _DIRECTION) for key, terms in value.items()}


_ROUND_FILE = {
    "id": _str,
    "title": _str,
    "jurisdiction": _str,
    "source": _str,
    "region": lambda v: _table(
        v,
        {
            "clause": _clause,
            "name": _str,
            "address_prefixes": _strs,
            "uscc_division_prefix": _str,
        },
    ),
    "subsidy_window": lambda v: _table(v, {"clause": _clause, "start": _day, "end": _day}),
    "directions": _directions,
    "direction_2_minimum_contract_total": lambda v: _table(
        v, {"clause": _clause, "amount": _money}
    ),
    "direction_4_model_filing": lambda v: _table(v, {"clause": _clause, "on_or_after": _day}),
    "stacking": lambda v: _table(v, {"clause": _clause, "max_share_of_verified_cost": _ratio}),
    "direction_1_topics": _named,
    "direction_3_platforms": _named,
    "eligible_industries": _named,
    "flagged_devices": lambda v: _table(
        v, {"clause": _clause, "devices": _tables({"model": _str, "notice": _str})}
    ),
    "unit_price_bands": lambda v: _table(
        v,
        {
            "clause": _clause,
            "bands": _tables({"device": _str, "unit": _str, "min": _money, "max": _money}),
        },
    ),
    "state_asset_holders": lambda v: _table(v, {"clause": _clause, "holders": _strs}),
    "materials": lambda v: _table(v, {"clause": _clause, "all_directions": _strs}),
}


def _read_plain(raw: dict[str, Any]) -> SimpleNamespace | None:
    """The file's tables as the models would give them, or None for a file these checks do
    not take (the models then describe what is wrong, or read what these are stricter about)."""
    try:
        parsed = _table(raw, _ROUND_FILE)
    except Exception:  # any doubt: the models decide, with their messages
        return None
    window = parsed.subsidy_window
    if window.end < window.start:
        return None
    if any(band.max < band.min for band in parsed.unit_price_bands.bands):
        return None
    if not set(parsed.materials.all_directions) <= set(MATERIAL_IDS):
        return None
    return parsed


def parse_round(text: str, *, name: str = "<round>") -> PolicyRound:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoundError(f"{name}: not valid TOML: {exc}") from None
    parsed = _read_plain(raw)
    if parsed is not None:
        return _build(parsed)
    from voucher.policy.round_models import validate_round

    return validate_round(raw, name=name)


def load_round_file(path: Path) -> PolicyRound:
    policy_round = parse_round(path.read_text(encoding="utf-8"), name=path.name)
    if policy_round.id != path.stem:
        raise RoundError(f"{path.name}: id {policy_round.id!r} must match the file name")
    return policy_round


def check_no_overlap(rounds: Iterable[PolicyRound]) -> None:
    """Two rounds of one jurisdiction may not claim the same days."""
    latest: dict[str, PolicyRound] = {}  # per jurisdiction, the round reaching furthest so far
    for r in sorted(rounds, key=lambda r: (r.jurisdiction, r.window_start)):
        before = latest.get(r.jurisdiction)
        if before is not None and r.window_start <= before.window_end:
            raise RoundError(
                f"rounds {before.id} and {r.id} overlap: {before.id} ends "
                f"{before.window_end}, {r.id} starts {r.window_start}"
            )
        if before is None or r.window_end > before.window_end:
            latest[r.jurisdiction] = r


def load_rounds(directory: Path = ROUNDS_DIR) -> dict[str, PolicyRound]:
    rounds = [load_round_file(p) for p in sorted(directory.glob("*.toml"))]
    check_no_overlap(rounds)
    return {r.id: r for r in rounds}


_cache: dict[str, PolicyRound] | None = None


def get_rounds() -> dict[str, PolicyRound]:
    """All rounds shipped with the code, loaded and validated once per process."""
    global _cache
    if _cache is None:
        _cache = load_rounds()
    return _cache


def get_round(round_id: str) -> PolicyRound:
    rounds = get_rounds()
    try:
        return rounds[round_id]
    except KeyError:
        known = ", ".join(sorted(rounds))
        raise RoundError(f"unknown round {round_id!r}; known rounds: {known}") from None
