"""A rule: its stable id, the clause it rests on, and how its findings are made."""

from __future__ import annotations

from collections.abc import Callable, Hashable
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


class Texts(dict[Hashable, str]):
    """A message that depends on a few values only (a claim period, a signing date), made once
    per value and then looked up: formatting a date or an amount into a message costs about a
    microsecond, and most contracts of a round share the same few dates.

    A key must be equal to another only where both print the same: dates (not datetimes, whose
    time zones can differ between equal instants), ints, strings, tuples of these; never a
    Decimal (1.0 == 1.00). Bounded: past `limit` entries it starts again (a long-running process evaluating many
    rounds must not grow it for ever). A lookup that hits is a plain dict lookup."""

    __slots__ = ("limit", "make")

    def __init__(self, make: Callable[..., str], limit: int = 4096) -> None:
        super().__init__()
        self.make = make  # called with the key (a tuple key: with its items)
        self.limit = limit

    def __missing__(self, key: Hashable) -> str:
        text = self.make(*key) if type(key) is tuple else self.make(key)
        if len(self) >= self.limit:
            self.clear()
        self[key] = text
        return text


RULES: dict[str, Rule] = {}


def define(rule_id: str, clause: str, scope: Scope, title: str) -> Rule:
    """Register a rule once; ids are stable and unique."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id} defined twice")
    rule = RULES[rule_id] = Rule(rule_id, clause, scope, title)
    return rule
