"""A round file's tables as strict pydantic models: what says why a round file is refused.

voucher/policy/round.py reads a well-formed round file without them (plain Python checks of the
same fields: `voucher evaluate` then never imports pydantic); a file it does not take is
validated here, so the error names the file, the key and the reason as these models put it.
tests/test_policy_round.py checks that both read the shipped round, and mutations of it, alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from voucher.policy.round import (
    DIRECTIONS,
    MATERIAL_IDS,
    PolicyRound,
    RoundError,
    _build,
    _clause,
    _money,
    _ratio,
)

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


def validate_round(raw: dict[str, Any], *, name: str) -> PolicyRound:
    """The round of a parsed TOML file, or RoundError naming every bad key."""
    try:
        parsed = _RoundFile.model_validate(raw)
    except ValidationError as exc:
        raise RoundError(f"{name}: {_describe(exc)}") from None
    return _build(parsed)
