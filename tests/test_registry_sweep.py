"""The sweep: applications checked many at a time must give what each checked alone gives."""

from __future__ import annotations

import pytest

from tests.test_registry_queries import code, companies, hold, officer
from voucher.registry import actions
from voucher.registry.actions import PairGroup, sweep_groups
from voucher.registry.queries import relation

pytestmark = pytest.mark.django_db


def test_a_shared_view_of_many_applications_gives_each_pair_its_own_verdict(monkeypatch):
    a, b, c, d, e, f, h = (code(200 + i) for i in range(7))
    companies(a, b, c, d, e, f, h)
    hold(h, a, "0.5")  # h holds a (pair a/b) and d (pair c/d): no pair shares it
    hold(h, d, "0.5")
    hold("P-1", b, "0.5")
    hold("P-1", c, "0.5")
    hold(e, f, "0.3")  # pair e/f: related
    officer("P-2", a, "director")
    officer("P-2", d, "director")  # a key person of a and d: no pair has both
    pairs = [(a, b), (c, d), (e, f), (a, d)]
    monkeypatch.setattr(actions, "SWEEP_CHUNK", 3)  # one shared view, then one of its own
    run, _ = sweep_groups(
        round_code="t",
        groups=[PairGroup(applicant=x, suppliers=[y]) for x, y in pairs],
        excluded=frozenset(),
    )
    got = {(r.applicant, r.supplier): (r.equity, r.personnel) for r in run.results.all()}
    assert got == {
        (a, b): ("pass", "pass"),
        (c, d): ("pass", "pass"),
        (e, f): ("fail", "pass"),
        (a, d): ("review", "fail"),
    }
    for x, y in pairs:
        alone = relation(x, y)
        assert got[(x, y)] == (alone.equity, alone.personnel)
