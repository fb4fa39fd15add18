"""Direction 3: the contract's terms through the API, its reconciliation with the processed
consumption, stored with the built application (flagged, not corrected) and shown to reviewers."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from voucher.platforms import actions
from voucher.platforms.models import ContractReconciliation

from . import test_api_platforms as api_tests
from .test_api_platforms import USCC, _post, _put, _submit

# the platform API tests' fixtures: two platforms, a token of each, a listed project
platforms, a, b = api_tests.platforms, api_tests.a, api_tests.b
listed, screener = api_tests.listed, api_tests.screener

TERMS = {
    "lines": [{"device": "H800", "unit": "card-hour", "quantity": "150", "unit_price": "12.00"}]
}


def test_terms_are_stored_and_refused_with_the_field_named(a, b, listed):
    url = f"/api/v1/enterprises/{USCC}/contracts/C1/terms"
    response = _put(a, url, TERMS)
    assert response.status_code == 200, response.content
    assert response.json()["terms"] == TERMS["lines"]
    twice = {"lines": TERMS["lines"] * 2}
    response = _put(a, url, twice)
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "body.lines.1"
    response = _put(a, url, {"lines": [{**TERMS["lines"][0], "unit_price": "-1"}]})
    assert response.status_code == 422 and "unit_price" in str(response.json()["errors"])
    assert _put(b, url, TERMS).status_code == 404  # another platform's contract
    response = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C9/terms", TERMS)
    assert response.status_code == 404


def test_the_consumption_is_reconciled_and_the_build_keeps_the_differences(a, listed, screener):
    _put(a, f"/api/v1/enterprises/{USCC}/contracts/C1/terms", TERMS)
    actions.batch_process(batch_id=_submit(a).json()["id"])
    response = a.get(f"/api/v1/enterprises/{USCC}/contracts/C1/reconciliation")
    assert response.status_code == 200, response.content
    body = response.json()
    flagged = {c["kind"]: c for c in body["comparisons"] if c["flagged"]}
    # the file's second compute row is priced 24.00 a card-hour, the contract says 12.00;
    # no invoice and no payment has been submitted yet
    assert set(flagged) == {"unit_price", "invoiced", "paid"}
    assert flagged["unit_price"]["expected"] == "12.00"
    assert flagged["unit_price"]["actual"] == "20.000000"  # 3,000.00 / 150 card-hours
    assert flagged["unit_price"]["sources"] == ["terms[0]"]
    assert [r["row_count"] for r in flagged["unit_price"]["rows"]] == [1, 1]  # Sep, Oct
    scale = next(c for c in body["comparisons"] if c["kind"] == "scale")
    assert (scale["expected"], scale["actual"], scale["flagged"]) == ("150", "150.000000", False)
    assert flagged["invoiced"]["expected"] == "4100.00"  # compute + storage, in and out

    payment = {"date": "2026-04-02", "amount": "4100.00"}
    _post(a, f"/api/v1/enterprises/{USCC}/contracts/C1/payments", payment)
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    (contract,) = stored.contracts
    assert contract["delivered"] == "3000.00"  # the platform's figures, not corrected
    (record,) = ContractReconciliation.objects.filter(application=stored.application)
    assert record.differences == 2  # unit price, invoiced
    kinds = [c["kind"] for c in record.result["comparisons"] if c["flagged"]]
    assert kinds == ["unit_price", "invoiced"]

    html = render_to_string("review/_settlement.html", {"a": stored.application})
    assert 'id="platform-reconciliation"' in html
    assert 'data-kind="unit_price"' in html and "¥20.00" in html and "20.000000" not in html
    assert "¥4,100.00" in html  # invoiced: expected Σ consumption, in yuan
    assert "= 0E-8" not in html


def test_without_terms_the_reconciliation_says_so(a, listed):
    actions.batch_process(batch_id=_submit(a).json()["id"])
    body = a.get(f"/api/v1/enterprises/{USCC}/contracts/C1/reconciliation").json()
    assert next(c["kind"] for c in body["comparisons"] if c["flagged"]) == "terms_missing"
    assert a.get(f"/api/v1/enterprises/{USCC}/contracts/C9/reconciliation").status_code == 404


def test_the_screening_page_shows_the_differences_of_the_built_application(
    client, a, listed, screener
):
    actions.batch_process(batch_id=_submit(a).json()["id"])
    from .review_support import verified_client

    verified_client(client, screener)
    saved = listed.screening
    response = client.post(
        "/platforms/screening/",
        {
            "project": listed.pk,
            "build": "1",
            "open_source": "on" if saved.open_source else "",
            "scenario_aligned": "on" if saved.scenario_aligned else "",
            "reasons": saved.reasons,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "核对差异" in page and "合同 C1：核对差异 3 处" in page


def test_the_built_application_is_submitted_and_a_rebuild_replaces_it(a, listed, screener):
    from .review_support import put_in_state

    actions.batch_process(batch_id=_submit(a).json()["id"])
    first = actions.d3_application_build(entry=listed.screening, acting_user=screener).application
    assert first.state == "submitted"  # the platform filed it: straight to the bureau's queue
    listed.screening.refresh_from_db()
    rebuilt = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    second = rebuilt.application
    first.refresh_from_db()
    assert (first.state, second.state) == ("withdrawn", "submitted")
    # the withdrawn build no longer counts: the rebuilt one is the enterprise's only application
    (one_direction,) = [f for f in rebuilt.findings if f["rule"] == "ONE_DIRECTION"]
    assert one_direction["status"] == "pass", one_direction
    from voucher.core.models import AuditEntry

    assert AuditEntry.objects.filter(
        action="application_withdraw", object_id=str(first.pk)
    ).exists()
    put_in_state(second, "approved")
    listed.screening.refresh_from_db()
    with pytest.raises(actions.Refused) as refused:
        actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert refused.value.code == "conflict"
