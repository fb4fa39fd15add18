"""Pro-rata scaling when approvals exceed the budget: pure Decimal, rounded down to the fen.

The rates and caps are maxima ("最高不超过"): scaling only ever lowers an amount, and no one gets
more than their approved_max. Rounding down means the total never exceeds the budget; the fen
left over stay in the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import overload

from voucher.core.columns import MONEY_PLACES, scaled, unscaled

FEN = Decimal("0.01")


@dataclass(frozen=True)
class Scaled:
    key: int
    approved: Decimal
    scaled: Decimal


@dataclass(frozen=True)
class Simulation:
    budget: Decimal
    total: Decimal
    factor: Decimal  # 1 when the budget suffices
    rows: Sequence[Scaled]

    @property
    def scaled_total(self) -> Decimal:
        return sum((row.scaled for row in self.rows), Decimal("0"))

    @property
    def over_budget(self) -> bool:
        return self.total > self.budget


def prorata(amounts: Mapping[int, Decimal], budget: Decimal) -> Simulation:
    total = sum(amounts.values(), Decimal("0"))
    if total <= budget or total == 0:
        rows = [Scaled(k, v, v) for k, v in amounts.items()]
        return Simulation(budget, total, Decimal("1"), rows)
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.rounding = ROUND_DOWN  # the division itself never rounds up either
        rows = [
            Scaled(k, v, min(v, (v * budget / total).quantize(FEN, rounding=ROUND_DOWN)))
            for k, v in amounts.items()
        ]
    return Simulation(budget, total, budget / total, rows)


class ScaledRows(Sequence[Scaled]):
    """The rows of a scaling worked out in whole fen, each made a `Scaled` (its Decimals) only
    when read: the dashboard reads a page of 50 of a direction's ~1,250 rows."""

    def __init__(self, keys: list[int], approved: list[int], scaled: list[int]) -> None:
        self.keys, self.approved, self.scaled = keys, approved, scaled

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Scaled: ...

    @overload
    def __getitem__(self, index: slice) -> list[Scaled]: ...

    def __getitem__(self, index: int | slice) -> Scaled | list[Scaled]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.keys)))]
        return Scaled(
            self.keys[index],
            unscaled(self.approved[index], MONEY_PLACES),
            unscaled(self.scaled[index], MONEY_PLACES),
        )


@dataclass(frozen=True)
class FenSimulation(Simulation):
    """`prorata`'s result worked out in whole fen: `rows` a ScaledRows, the total scaled kept."""

    scaled_fen: int = 0

    @property
    def scaled_total(self) -> Decimal:
        return unscaled(self.scaled_fen, MONEY_PLACES) if self.rows else Decimal("0")


def prorata_fen(amounts: Mapping[int, int], budget: Decimal) -> Simulation:
    """`prorata` of amounts in whole fen (positive, as a money column holds them), the same
    result to the fen and the same Decimals, in integers: a / t × b rounded down to the fen is
    a_fen × b_fen // t_fen fen exactly (all of them positive, // rounds down as ROUND_DOWN
    does), where `prorata` divides Decimals at 40 digits for each row."""
    keys, approved = list(amounts), list(amounts.values())
    total_fen = sum(approved)
    # a sum of no amount is prorata's Decimal("0"), of some a Decimal with two places
    total = unscaled(total_fen, MONEY_PLACES) if approved else Decimal("0")
    if total <= budget or total == 0:
        return FenSimulation(
            budget, total, Decimal("1"), ScaledRows(keys, approved, approved), total_fen
        )
    budget_fen = scaled(budget, MONEY_PLACES)
    # a share is never more than its amount, so no min(a, …) as prorata takes: the budget is
    # under the total here (both exact in fen: budget_fen < total_fen), so a × b // t ≤ a for
    # every amount a ≥ 0 (a third of this function's time when it took the min of each)
    shares = [a * budget_fen // total_fen for a in approved]
    # the factor in the caller's decimal context, as prorata divides it
    rows = ScaledRows(keys, approved, shares)
    return FenSimulation(budget, total, budget / total, rows, sum(shares))
