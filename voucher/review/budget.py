"""Pro-rata scaling when approvals exceed the budget: pure Decimal, rounded down to the fen.

The rates and caps are maxima ("最高不超过"): scaling only ever lowers an amount, and no one gets
more than their approved_max. Rounding down means the total never exceeds the budget; the fen
left over stay in the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext

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
    rows: list[Scaled]

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
