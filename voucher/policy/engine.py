"""evaluate(applications, round) -> [Evaluation]. Being written; interface fixed."""

from __future__ import annotations

from collections.abc import Sequence

from voucher.policy.context import EMPTY_CONTEXT, EvaluationContext
from voucher.policy.format import Application
from voucher.policy.results import Evaluation
from voucher.policy.round import PolicyRound


def evaluate(
    applications: Sequence[Application],
    policy_round: PolicyRound,
    context: EvaluationContext = EMPTY_CONTEXT,
) -> list[Evaluation]:
    raise NotImplementedError
