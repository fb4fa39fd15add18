"""The dashboard's pro-rata scaling in whole fen (prorata_fen) against the Decimal reference
(prorata): the same rows, totals and factor, to the fen and to the Decimal's places."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from voucher.core.columns import unscaled
from voucher.review.budget import Simulation, prorata, prorata_fen

LARGEST_FEN = 2**63 - 1  # what a money column holds


def _seen(simulation: Simulation) -> tuple[object, ...]:
    """All a simulation shows, the Decimals as text (so that 100 and 100.00 differ)."""
    return (
        str(simulation.budget),
        str(simulation.total),
        str(simulation.factor),
        str(simulation.scaled_total),
        simulation.over_budget,
        len(simulation.rows),
        [(r.key, str(r.approved), str(r.scaled)) for r in simulation.rows],
        [(r.key, str(r.approved), str(r.scaled)) for r in simulation.rows[3:7]],
    )


def _both(fen: dict[int, int], budget_fen: int) -> None:
    budget = unscaled(budget_fen, 2)
    reference = prorata({k: unscaled(v, 2) for k, v in fen.items()}, budget)
    assert _seen(prorata_fen(fen, budget)) == _seen(reference)


amounts = st.dictionaries(
    st.integers(min_value=1, max_value=10**6),
    st.one_of(
        st.integers(min_value=1, max_value=10**4),
        st.integers(min_value=1, max_value=10**12),
        st.integers(min_value=1, max_value=LARGEST_FEN // 2**11),
    ),
    max_size=60,
)


@given(amounts, st.integers(min_value=0, max_value=LARGEST_FEN), st.data())
@example({}, 0, None)
@example({1: 1}, 0, None)
def test_the_fen_scaling_is_the_decimal_scaling(fen, budget_fen, data):
    _both(fen, budget_fen)
    total = sum(fen.values())
    # at the budget, one fen over it, and a budget drawn under the total
    for budget in (total, max(total - 1, 0), total + 1):
        _both(fen, budget)
    if total > 1 and data is not None:
        _both(fen, data.draw(st.integers(min_value=0, max_value=total - 1)))


@pytest.mark.parametrize(
    ("fen", "budget_fen"),
    [
        ({}, 100_00),  # no candidate: a total of Decimal("0"), not scaled
        ({1: 100_00, 2: 33333_33, 3: 3}, 100_00),
        ({1: 1, 2: 1, 3: 1}, 2),  # a fen each, two fen: each rounded down to nothing
        ({7: 10_000_000_00, 3: 1}, 10_000_000_00),  # one fen over
        ({7: 10_000_000_00, 3: 1}, 10_000_000_01),  # exactly at the budget
        ({5: 92_233_720_368_547_758_07 // 2, 6: 92_233_720_368_547_758_07 // 2}, 1),
    ],
)
def test_the_fen_scaling_on_the_edges(fen, budget_fen):
    _both(fen, budget_fen)
    simulation = prorata_fen(fen, unscaled(budget_fen, 2))
    assert simulation.scaled_total <= max(simulation.budget, simulation.total)
