"""Invariants that hold for any valid application (hypothesis)."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voucher.policy.format import dump_application, parse_application

from .builders import BJ_2026, build, run
from .strategies import applications, day_range, deliveries

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _other(doc: dict, i: int) -> Decimal:
    return sum((Decimal(s["amount"]) for s in doc["contracts"][i]["other_subsidies"]), Decimal(0))


@FAST
@given(applications())
def test_a_contract_never_gets_more_than_its_rate_or_half_its_cost_less_other_funding(doc):
    ev = run(doc)
    rate = BJ_2026.directions[doc["direction"]].rate
    for i, c in enumerate(ev.contracts):
        assert c.subsidy <= rate * c.verified_cost
        assert c.subsidy <= max(Decimal(0), Decimal("0.5") * c.verified_cost - _other(doc, i))
        assert c.subsidy >= 0
        assert c.subsidy == c.subsidy.quantize(Decimal("0.01"))
        assert c.verified_cost <= c.delivered and c.verified_cost <= c.evidenced


@FAST
@given(applications())
def test_the_approval_never_exceeds_the_cap_or_the_request_and_an_ineligible_one_gets_nothing(doc):
    ev = run(doc)
    s = ev.subsidy
    assert s.approved_max <= s.cap
    assert s.approved_max <= s.computed
    if s.requested is not None:
        assert s.approved_max <= s.requested
    if ev.outcome == "ineligible":
        assert s.approved_max == 0
    assert s.computed == sum(c.subsidy for c in ev.contracts)


@FAST
@given(applications(), st.sampled_from(["storage", "network", "security"]), day_range(), st.data())
def test_adding_a_storage_network_or_security_line_never_changes_the_amounts(
    doc, service, days, data
):
    if not doc["contracts"]:
        return
    before = run(doc)
    changed = copy.deepcopy(doc)
    extra = data.draw(deliveries())
    extra.update(service=service, start=days[0], end=days[1])
    extra.pop("device", None)
    i = data.draw(st.integers(0, len(doc["contracts"]) - 1))
    changed["contracts"][i]["deliveries"].append(extra)
    after = run(changed)
    assert [c.to_json() for c in after.contracts] == [c.to_json() for c in before.contracts]
    assert after.subsidy == before.subsidy
    assert after.outcome == before.outcome


@FAST
@given(applications(), st.data())
def test_moving_a_delivery_outside_the_window_never_raises_the_amount(doc, data):
    with_lines = [
        (i, j) for i, c in enumerate(doc["contracts"]) for j in range(len(c["deliveries"]))
    ]
    if not with_lines:
        return
    i, j = data.draw(st.sampled_from(with_lines))
    before = run(doc)
    moved = copy.deepcopy(doc)
    line = moved["contracts"][i]["deliveries"][j]
    line["start"], line["end"] = data.draw(
        st.sampled_from([("2025-08-01", "2025-09-07"), ("2026-04-01", "2026-06-30")])
    )
    after = run(moved)
    assert after.contracts[i].delivered <= before.contracts[i].delivered
    assert after.contracts[i].subsidy <= before.contracts[i].subsidy
    assert after.subsidy.approved_max <= before.subsidy.approved_max


@FAST
@given(applications())
def test_writing_and_reading_back_gives_the_same_evaluation(doc):
    app = build(doc)
    again = parse_application(dump_application(app))
    assert again == app
    assert run(dump_application(again)).to_json() == run(doc).to_json()


@FAST
@given(applications())
def test_every_contract_is_reported_and_the_outcome_follows_the_findings(doc):
    ev = run(doc)
    assert [c.id for c in ev.contracts] == [c["id"] for c in doc["contracts"]]
    app_fail = any(f.status == "fail" and f.contract is None for f in ev.findings)
    assert (ev.outcome == "ineligible") == app_fail
    if not app_fail:
        has_review = any(f.status == "review" for f in ev.findings)
        assert (ev.outcome == "needs_review") == has_review
