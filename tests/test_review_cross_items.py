"""Cross-application findings are `review` items of each application they name (RULES.md v2,
"Fail closed"): shown on its review screen and in the bureau API with their resolution, resolved
with a reason (audited), keyed to the finding's identity, and no decision (approval or
rejection) is proposed while one is unresolved, on the pages and through the API alike.

Duplicate invoices and contracts are looked for in every round; several applications of one
enterprise (in one direction or several) and unit-price outliers in the application's round.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from voucher.applications.models import (
    Application,
    Contract,
    CrossFindingResolution,
    Decision,
    Delivery,
    Enterprise,
    Invoice,
    PolicyRoundRecord,
)
from voucher.core.audit import verify_chain
from voucher.core.models import AuditEntry
from voucher.review import actions
from voucher.review.crosscheck import (
    application_checks,
    cross_items,
    round_checks,
)
from voucher.staffapi import actions as token_actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    make_staff,
    put_in_state,
    tick_materials,
    verified_client,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/bureau"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "reviewer2": make_staff(django_user_model, "reviewer2", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "auditor": make_staff(django_user_model, "auditor", "auditor"),
    }


@pytest.fixture
def in_review(team):
    """d4-small, under review, its materials checked: alone in its round it has no cross
    finding and can be proposed for approval at once (tests/test_review_decisions.py)."""
    application = put_in_state(application_from("d4-small"), "in_review")
    tick_materials(application, team["reviewer"])
    return application


def _alone(application: Application) -> Application:
    """The examples share one enterprise, one contract and one invoice number: `application`
    gets its own, so that only what a test sets up ties it to another."""
    enterprise = Enterprise.objects.create(
        uscc=f"91110000T{application.pk:09d}", name=f"测试企业{application.pk}"
    )
    Application.objects.filter(pk=application.pk).update(enterprise=enterprise)
    for contract in Contract.objects.filter(application=application):
        contract.contract_id = f"HT-{application.pk}-{contract.pk}"
        contract.save(update_fields=["contract_id"])
    for invoice in Invoice.objects.filter(contract__application=application):
        invoice.number = f"FP{application.pk:04d}{invoice.pk:08d}"
        invoice.save(update_fields=["number"])
    return Application.objects.select_related("round", "enterprise").get(pk=application.pk)


def _other(folder: str, state: str, record: PolicyRoundRecord | None = None) -> Application:
    """The example of `folder` in `state` (and `record`), tied to nothing."""
    application = _alone(application_from(folder))
    if record is not None:
        return _move(application, record, state)
    return put_in_state(application, state)


def _earlier_round() -> PolicyRoundRecord:
    return PolicyRoundRecord.objects.create(
        code="bj-2025",
        title="北京市算力券 2025",
        jurisdiction="北京市",
        window_start=date(2024, 9, 1),
        window_end=date(2025, 3, 31),
        source_sha256="0" * 64,
    )


def _move(application: Application, record: PolicyRoundRecord, state: str) -> Application:
    Application.objects.filter(pk=application.pk).update(round=record, state=state)
    return Application.objects.select_related("round", "enterprise").get(pk=application.pk)


def _claim_invoice_of(source: Application, target: Application, written: str | None = None):
    """`target`'s first invoice gets the number of `source`'s first (as `written`, if given)."""
    number = Invoice.objects.filter(contract__application=source).order_by("id").first().number
    invoice = Invoice.objects.filter(contract__application=target).order_by("id").first()
    invoice.number = number if written is None else written
    invoice.save(update_fields=["number"])
    return number


def _api(user) -> Client:
    _, secret = token_actions.token_issue(
        user=user, label="test", scopes=["read", "decide"], days=30, acting_user=user
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _post(client: Client, path: str, body: object):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


@pytest.fixture
def claimed_elsewhere(in_review):
    """in_review's invoice number, claimed in an application of an earlier round (approved
    there), written with other spacing and case."""
    other = _other("d1-cap-binds", "approved", _earlier_round())
    number = Invoice.objects.filter(contract__application=in_review).order_by("id").first().number
    _claim_invoice_of(in_review, other, written=f"  {number.lower()} ")
    return other


# --- the findings ---------------------------------------------------------------------------------


def test_an_invoice_claimed_in_another_round_is_a_review_item(in_review, claimed_elsewhere):
    items = cross_items(in_review)
    assert [i.finding.check for i in items] == ["DUPLICATE_INVOICE"]
    (item,) = items
    assert item.unresolved
    assert item.finding.applications == tuple(sorted((in_review.pk, claimed_elsewhere.pk)))
    assert claimed_elsewhere.reference.startswith("bj-2025-")
    assert claimed_elsewhere.reference in item.finding.references
    # the round's checks page says the same, naming the other round's application
    whole = round_checks(in_review.round)
    assert whole.for_application(in_review.pk) == application_checks(in_review)
    # the other round's application has the finding too, from its own round's checks
    assert [f.check for f in application_checks(claimed_elsewhere)] == ["DUPLICATE_INVOICE"]
    assert round_checks(claimed_elsewhere.round).for_application(
        claimed_elsewhere.pk
    ) == application_checks(claimed_elsewhere)


def test_drafts_and_withdrawn_applications_of_another_round_claim_nothing(in_review):
    other = _other("d1-cap-binds", "approved", _earlier_round())
    _claim_invoice_of(in_review, other)
    for state in ("draft", "withdrawn"):
        put_in_state(other, state)
        assert cross_items(in_review) == []
        assert round_checks(in_review.round).for_application(in_review.pk) == []


def test_a_contract_claimed_in_another_round_is_a_review_item(in_review):
    other = _other("d1-cap-binds", "paid", _earlier_round())
    mine = in_review.contracts.order_by("id").first()
    theirs = other.contracts.order_by("id").first()
    theirs.supplier_uscc = mine.supplier_uscc
    theirs.contract_id = f" {mine.contract_id.lower()} "
    theirs.save(update_fields=["supplier_uscc", "contract_id"])
    assert "DUPLICATE_CONTRACT" in {i.finding.check for i in cross_items(in_review)}
    assert round_checks(in_review.round).for_application(in_review.pk) == application_checks(
        in_review
    )


def test_several_applications_of_one_enterprise_in_one_direction_are_a_review_item(in_review):
    """Before, only several directions were found: two applications in direction 4 were not."""
    other = _other("d2-threshold-exact", "submitted")
    Application.objects.filter(pk=other.pk).update(
        enterprise=in_review.enterprise, direction=in_review.direction
    )
    (item,) = cross_items(in_review)
    assert item.finding.check == "ONE_DIRECTION"
    assert "2 个申报" in item.finding.message
    assert item.finding.applications == tuple(sorted((in_review.pk, other.pk)))
    # in another round it is not the same round's: nothing
    _move(other, _earlier_round(), "approved")
    assert cross_items(in_review) == []


def test_several_directions_of_one_enterprise_are_a_review_item_of_each(team):
    a = put_in_state(application_from("batch-two-directions", "application-1.json"), "in_review")
    b = put_in_state(application_from("batch-two-directions", "application-2.json"), "submitted")
    for application in (a, b):
        checks = {i.finding.check: i for i in cross_items(application)}
        assert "多个方向" in checks["ONE_DIRECTION"].finding.message
    with pytest.raises(actions.ReviewError, match="ONE_DIRECTION"):
        actions.decision_propose(application=a, kind="approval", acting_user=team["reviewer"])


def _priced(application: Application, price: str) -> None:
    Delivery.objects.filter(contract__application=application).update(
        device="H800", unit="卡时", unit_price=Decimal(price)
    )


def test_a_unit_price_outlier_is_a_review_item(team, in_review):
    others = ["d1-cap-binds", "d2-threshold-exact", "d3-modelscope", "d2-common-shareholder-review"]
    for folder, price in zip(others, ["10.00", "10.50", "11.00", "10.20"], strict=True):
        _priced(_other(folder, "submitted"), price)
    _priced(in_review, "55.00")
    items = [i for i in cross_items(in_review) if i.finding.check == "UNIT_PRICE_OUTLIER"]
    assert len(items) == 1
    assert "H800" in items[0].finding.message and "55" in items[0].finding.message
    assert items[0].identity == "UNIT_PRICE_OUTLIER|H800|卡时|55|"
    # the round's checks page lists the same outlier
    whole = round_checks(in_review.round)
    (band,) = [d for d in whole.prices if d.device == "H800"]
    assert [o[0] for o in band.outliers] == [in_review.pk]
    assert whole.for_application(in_review.pk) == application_checks(in_review)
    with pytest.raises(actions.ReviewError, match="UNIT_PRICE_OUTLIER"):
        actions.decision_propose(
            application=in_review, kind="approval", acting_user=team["reviewer"]
        )
    # in the band: no finding
    _priced(in_review, "10.40")
    assert [i for i in cross_items(in_review) if i.finding.check == "UNIT_PRICE_OUTLIER"] == []


# --- the gate, in the actions ---------------------------------------------------------------------


def test_the_issue_s_application_is_not_proposed(team, in_review):
    """Issue 17 item 2: every example submitted, d4-small's invoice is claimed in 7 other
    applications and its enterprise has 6 applications in 3 directions; it could be proposed
    for approval (only the engine's review findings blocked)."""
    for other in Application.objects.exclude(pk=in_review.pk):
        put_in_state(other, "submitted")
    checks = {i.finding.check: i.finding for i in cross_items(in_review)}
    # the examples (ten since RULES.md v2) share one invoice; all but one share the enterprise
    claims = Application.objects.count()
    assert f"被申报 {claims} 次" in checks["DUPLICATE_INVOICE"].message
    same = Application.objects.filter(enterprise=in_review.enterprise).count()
    assert len(checks["ONE_DIRECTION"].applications) == same >= 6
    assert "方向二、方向三、方向四" in checks["ONE_DIRECTION"].message
    for kind, extra in (("approval", {}), ("rejection", {"reason": "一个方向"})):
        with pytest.raises(actions.ReviewError) as refused:
            actions.decision_propose(
                application=in_review, kind=kind, acting_user=team["reviewer"], **extra
            )
        assert {"DUPLICATE_INVOICE", "DUPLICATE_CONTRACT", "ONE_DIRECTION"} <= {
            c for c in checks if c in str(refused.value)
        }
    assert not Decision.objects.exists()


def test_no_decision_is_proposed_while_a_cross_finding_is_unresolved(
    team, in_review, claimed_elsewhere
):
    for kind, extra in (("approval", {}), ("rejection", {"reason": "发票重复"})):
        with pytest.raises(actions.ReviewError, match="DUPLICATE_INVOICE") as refused:
            actions.decision_propose(
                application=in_review, kind=kind, acting_user=team["reviewer"], **extra
            )
        assert "跨申报核查项未处理" in str(refused.value)
        (error,) = refused.value.errors
        assert error["location"] == f"cross_findings.{cross_items(in_review)[0].key}"
    assert not Decision.objects.exists()


def test_resolved_with_a_reason_the_proposal_goes_ahead(team, in_review, claimed_elsewhere):
    (item,) = cross_items(in_review)
    with pytest.raises(actions.ReviewError, match="理由"):
        actions.cross_finding_resolve(
            application=in_review,
            key=item.key,
            resolution="accept",
            reason="  ",
            acting_user=team["reviewer"],
        )
    with pytest.raises(actions.ReviewError, match="审核人员"):
        actions.cross_finding_resolve(
            application=in_review,
            key=item.key,
            resolution="accept",
            reason="上一轮的申报未使用该发票金额",
            acting_user=team["approver"],
        )
    actions.cross_finding_resolve(
        application=in_review,
        key=item.key,
        resolution="accept",
        reason="上一轮的申报未使用该发票金额",
        acting_user=team["reviewer"],
    )
    (item,) = cross_items(in_review)
    assert item.resolution is not None and item.resolution.resolution == "accept"
    entry = AuditEntry.objects.get(action="cross_finding_resolve")
    assert entry.actor == team["reviewer"]
    assert entry.data["rule"] == "DUPLICATE_INVOICE"
    assert entry.data["reason"] == "上一轮的申报未使用该发票金额"
    assert claimed_elsewhere.reference in entry.data["applications"]
    decision = actions.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    assert decision.kind == "approval"
    assert not list(verify_chain())


def test_a_new_duplicate_later_is_a_new_unresolved_item(team, in_review, claimed_elsewhere):
    (item,) = cross_items(in_review)
    actions.cross_finding_resolve(
        application=in_review,
        key=item.key,
        resolution="accept",
        reason="已核实",
        acting_user=team["reviewer"],
    )
    assert not [i for i in cross_items(in_review) if i.unresolved]
    # a third application claims the same invoice
    third = _other("d2-threshold-exact", "submitted")
    _claim_invoice_of(in_review, third)
    (again,) = cross_items(in_review)
    assert again.unresolved and again.key != item.key
    assert third.pk in again.finding.applications
    with pytest.raises(actions.ReviewError, match="DUPLICATE_INVOICE"):
        actions.decision_propose(
            application=in_review, kind="approval", acting_user=team["reviewer"]
        )
    # the old answer is not lost; and answering the finding as it was is refused
    assert CrossFindingResolution.objects.filter(application=in_review, key=item.key).exists()
    with pytest.raises(actions.ReviewError, match="刷新"):
        actions.cross_finding_resolve(
            application=in_review,
            key=item.key,
            resolution="accept",
            reason="已核实",
            acting_user=team["reviewer"],
        )
    # the third one withdrawn: the finding is the one resolved before
    put_in_state(third, "withdrawn")
    (back,) = cross_items(in_review)
    assert back.key == item.key and not back.unresolved


def test_a_cross_finding_not_accepted_is_a_reason_to_reject_never_to_approve(
    team, in_review, claimed_elsewhere
):
    (item,) = cross_items(in_review)
    actions.cross_finding_resolve(
        application=in_review,
        key=item.key,
        resolution="reject",
        reason="同一发票已在上一轮获得支持",
        acting_user=team["reviewer"],
    )
    with pytest.raises(actions.ReviewError, match="DUPLICATE_INVOICE"):
        actions.decision_propose(
            application=in_review, kind="approval", acting_user=team["reviewer"]
        )
    decision = actions.decision_propose(
        application=in_review, kind="rejection", acting_user=team["reviewer"]
    )
    (reason,) = [r for r in decision.reasons if r["rule"] == "DUPLICATE_INVOICE"]
    assert "同一发票已在上一轮获得支持" in reason["text"] and reason["clause"] == "二（四）"


# --- the pages --------------------------------------------------------------------------------------


def test_the_review_screen_shows_resolves_and_refuses_to_propose(
    client, team, in_review, claimed_elsewhere
):
    verified_client(client, team["reviewer"])
    screen = f"/review/{in_review.pk}/"
    (item,) = cross_items(in_review)
    page = client.get(screen).content.decode()
    assert 'id="cross-findings"' in page and "DUPLICATE_INVOICE" in page
    assert f'value="{item.key}"' in page and "未处理的核查项 1" in page
    assert claimed_elsewhere.reference in page

    page = client.post(f"{screen}propose/", {"kind": "approval"}, follow=True).content.decode()
    assert "跨申报核查项未处理" in page and "DUPLICATE_INVOICE" in page
    assert not Decision.objects.exists()

    page = client.post(
        f"{screen}resolve-cross/",
        {"key": item.key, "resolution": "accept", "reason": "已核实，不重复使用"},
        follow=True,
    ).content.decode()
    assert "已记录处理意见" in page and "已核实，不重复使用" in page
    assert "未处理的核查项 0" in page

    client.post(f"{screen}propose/", {"kind": "approval"}, follow=True)
    assert Decision.objects.filter(application=in_review, kind="approval").exists()


def test_an_auditor_sees_the_cross_findings_but_cannot_resolve_them(
    client, team, in_review, claimed_elsewhere
):
    verified_client(client, team["auditor"])
    (item,) = cross_items(in_review)
    page = client.get(f"/review/{in_review.pk}/").content.decode()
    assert "DUPLICATE_INVOICE" in page and f'value="{item.key}"' not in page
    page = client.post(
        f"/review/{in_review.pk}/resolve-cross/",
        {"key": item.key, "resolution": "accept", "reason": "x"},
        follow=True,
    ).content.decode()
    assert "审核人员" in page
    assert not CrossFindingResolution.objects.exists()


def test_the_round_s_checks_page_names_the_other_round_s_application(
    client, team, in_review, claimed_elsewhere
):
    verified_client(client, team["reviewer"])
    page = client.get("/review/checks/").content.decode()
    assert "DUPLICATE_INVOICE" in page
    assert f"/review/{claimed_elsewhere.pk}/" in page


# --- the bureau API -------------------------------------------------------------------------------


def test_the_api_shows_resolves_and_refuses_to_propose(team, in_review, claimed_elsewhere):
    reviewer = _api(team["reviewer"])
    body = reviewer.get(f"{API}/applications/{in_review.pk}").json()
    (finding,) = body["cross_findings"]
    assert finding["rule"] == "DUPLICATE_INVOICE" and finding["resolution"] is None
    assert claimed_elsewhere.reference in finding["references"]

    response = _post(reviewer, f"/applications/{in_review.pk}/decisions", {"kind": "approval"})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert "DUPLICATE_INVOICE" in problem["detail"]
    assert [e["location"] for e in problem["errors"]] == [f"cross_findings.{finding['key']}"]
    response = _post(
        reviewer,
        f"/applications/{in_review.pk}/decisions",
        {"kind": "rejection", "reason": "发票重复"},
    )
    assert response.status_code == 422 and "DUPLICATE_INVOICE" in response.json()["detail"]
    assert not Decision.objects.exists()

    resolve = f"/applications/{in_review.pk}/cross-findings/{finding['key']}/resolution"
    # an approver does not resolve; nor without a reason
    assert (
        _post(_api(team["approver"]), resolve, {"resolution": "accept", "reason": "x"}).status_code
        == 403
    )
    assert _post(reviewer, resolve, {"resolution": "accept", "reason": " "}).status_code == 422
    response = _post(reviewer, resolve, {"resolution": "accept", "reason": "已核实"})
    assert response.status_code == 200, response.content
    resolved = response.json()
    assert resolved["key"] == finding["key"]
    assert resolved["resolution"]["resolution"] == "accept"
    assert resolved["resolution"]["resolved_by"] == team["reviewer"].username
    again = reviewer.get(f"{API}/applications/{in_review.pk}").json()["cross_findings"]
    assert again == [resolved]

    response = _post(reviewer, f"/applications/{in_review.pk}/decisions", {"kind": "approval"})
    assert response.status_code == 201, response.content


def test_the_api_says_a_finding_that_changed_is_gone(team, in_review, claimed_elsewhere):
    reviewer = _api(team["reviewer"])
    (finding,) = reviewer.get(f"{API}/applications/{in_review.pk}").json()["cross_findings"]
    third = _other("d2-threshold-exact", "submitted")
    _claim_invoice_of(in_review, third)
    resolve = f"/applications/{in_review.pk}/cross-findings/{finding['key']}/resolution"
    response = _post(reviewer, resolve, {"resolution": "accept", "reason": "已核实"})
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _post(
        reviewer,
        f"/applications/{in_review.pk}/cross-findings/not-a-key/resolution",
        {"resolution": "accept", "reason": "已核实"},
    ).status_code in (404, 422)
    assert not CrossFindingResolution.objects.exists()


def test_a_duplicate_claimed_after_the_proposal_stops_the_confirmation(
    team, in_review, claimed_elsewhere
):
    (item,) = cross_items(in_review)
    actions.cross_finding_resolve(
        application=in_review,
        key=item.key,
        resolution="accept",
        reason="已核实",
        acting_user=team["reviewer"],
    )
    decision = actions.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    third = _other("d2-threshold-exact", "submitted")
    _claim_invoice_of(in_review, third)
    with pytest.raises(actions.ReviewError, match="DUPLICATE_INVOICE"):
        actions.decision_confirm(decision=decision, acting_user=team["approver"])
    decision.refresh_from_db()
    assert decision.status == "proposed"
