"""A rule: its stable id, the clause it rests on, and how its findings are made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from voucher.policy.results import Finding

Scope = Literal["application", "contract", "info"]

# Finding(...) goes through a generated Python __new__; tuple.__new__ makes the same
# NamedTuple without it (some thirty findings per application)
_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    clause: str
    scope: Scope
    title: str  # what the rule demands, in the applicant's words

    def passed(self, message: str, contract: str | None = None, **values: Any) -> Finding:
        return _new(Finding, (self.id, "pass", self.clause, contract, message, values))

    def failed(self, message: str, contract: str | None = None, **values: Any) -> Finding:
        return _new(Finding, (self.id, "fail", self.clause, contract, message, values))

    def review(self, message: str, contract: str | None = None, **values: Any) -> Finding:
        return _new(Finding, (self.id, "review", self.clause, contract, message, values))

    def info(self, message: str, contract: str | None = None, **values: Any) -> Finding:
        return _new(Finding, (self.id, "info", self.clause, contract, message, values))


RULES: dict[str, Rule] = {}


def define(rule_id: str, clause: str, scope: Scope, title: str) -> Rule:
    """Register a rule once; ids are stable and unique."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id} defined twice")
    rule = RULES[rule_id] = Rule(rule_id, clause, scope, title)
    return rule
