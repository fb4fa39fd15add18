"""Parameters of a policy round, loaded from `rounds/<id>.toml` and validated at start.

A round file is data, not code: a second round is a second file. Every
parameter table names the clause it comes from, and the loader refuses unknown
keys, missing values, bad money and rounds whose subsidy windows overlap.
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
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from voucher.policy.clauses import CLAUSES, clause_ids
from voucher.policy.money import parse_yuan

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


Money = Annotated[Decimal, BeforeValidator(_money)]
Ratio = Annotated[Decimal, BeforeValidator(_ratio)]
ClauseRef = Annotated[str, BeforeValidator(_clause)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Region(_Strict):
    clause: ClauseRef
    name: str
    address_prefixes: list[str]
    uscc_division_prefix: str


class _Window(_Strict):
    clause: ClauseRef
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class _Direction(_Strict):
    clause: ClauseRef
    rate: Ratio
    amount_cap: Money


class _MinimumTotal(_Strict):
    clause: ClauseRef
    amount: Money


class _FilingDate(_Strict):
    clause: ClauseRef
    on_or_after: date


class _Stacking(_Strict):
    clause: ClauseRef
    max_share_of_verified_cost: Ratio


class _Named(BaseModel):
    """A table of `id = "中文名"` entries plus the clause they come from."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    clause: ClauseRef

    @property
    def names(self) -> dict[str, str]:
        extra = self.__pydantic_extra__ or {}
        for key, value in extra.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{key}: must be a non-empty name")
        return dict(extra)


class _FlaggedDevice(_Strict):
    model: str
    notice: str


class _FlaggedDevices(_Strict):
    clause: ClauseRef
    devices: list[_FlaggedDevice]


class _Band(_Strict):
    device: str
    unit: str
    min: Money
    max: Money

    @model_validator(mode="after")
    def _ordered(self) -> _Band:
        if self.max < self.min:
            raise ValueError("max is below min")
        return self


class _Bands(_Strict):
    clause: ClauseRef
    bands: list[_Band]


class _Holders(_Strict):
    clause: ClauseRef
    holders: list[str]


class _Materials(_Strict):
    clause: ClauseRef
    all_directions: list[str]

    @model_validator(mode="after")
    def _known(self) -> _Materials:
        unknown = sorted(set(self.all_directions) - set(MATERIAL_IDS))
        if unknown:
            raise ValueError(f"unknown material ids {unknown}; known: {list(MATERIAL_IDS)}")
        return self


class _RoundFile(_Strict):
    id: str
    title: str
    jurisdiction: str
    source: str
    region: _Region
    subsidy_window: _Window
    directions: dict[str, _Direction]
    direction_2_minimum_contract_total: _MinimumTotal
    direction_4_model_filing: _FilingDate
    stacking: _Stacking
    direction_1_topics: _Named
    direction_3_platforms: _Named
    eligible_industries: _Named
    flagged_devices: _FlaggedDevices
    unit_price_bands: _Bands
    state_asset_holders: _Holders
    materials: _Materials

    @model_validator(mode="after")
    def _all_directions(self) -> _RoundFile:
        if sorted(self.directions) != [str(d) for d in DIRECTIONS]:
            raise ValueError("directions must define exactly 1, 2, 3 and 4")
        for table in (
            self.direction_1_topics,
            self.direction_3_platforms,
            self.eligible_industries,
        ):
            table.names  # noqa: B018 - validates the entries
        return self


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


def _build(parsed: _RoundFile) -> PolicyRound:
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


def _describe(error: ValidationError) -> str:
    lines = []
    for e in error.errors():
        path = ".".join(str(p) for p in e["loc"]) or "(top)"
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = "unknown key"
        elif e["type"] == "missing":
            message = "missing value"
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def parse_round(text: str, *, name: str = "<round>") -> PolicyRound:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RoundError(f"{name}: not valid TOML: {exc}") from None
    try:
        parsed = _RoundFile.model_validate(raw)
    except ValidationError as exc:
        raise RoundError(f"{name}: {_describe(exc)}") from None
    return _build(parsed)


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
