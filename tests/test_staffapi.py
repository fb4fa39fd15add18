"""The bureau's API /api/v1/bureau/: tokens (issue, revoke, expiry, hash only, scopes), every
endpoint allowed and refused by role, four eyes, never above approved_max, the audit, problem
documents, the OpenAPI document, and the token page behind the TOTP login."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from voucher.applications.models import Decision
from voucher.core.audit import verify_chain
from voucher.core.models import AuditEntry
from voucher.review import actions as review
from voucher.staffapi import actions
from voucher.staffapi.models import StaffApiToken

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    latest,
    make_applicant,
    make_staff,
    put_in_state,
    tick_materials,
    verified_client,
)

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1/bureau"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "approver2": make_staff(django_user_model, "approver2", "bureau_approver"),
        "auditor": make_staff(django_user_model, "auditor", "auditor"),
    }


@pytest.fixture
def in_review(team):
    """In review, its materials checked (附件14-1): an approval may be proposed."""
    return tick_materials(put_in_state(application_from("d4-small"), "in_review"), team["reviewer"])


def _secret(user, scopes=("read", "decide"), days=30) -> str:
    _, secret = actions.token_issue(
        user=user, label="test", scopes=list(scopes), days=days, acting_user=user
    )
    return secret


def _api(user, scopes=("read", "decide")) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {_secret(user, scopes)}")


def _api_issued_before(user, scopes=("read", "decide")) -> Client:
    """A client whose token has `scopes` that the user's roles no longer allow (issued while
    the user had another role): the actions still refuse by role."""
    client = _api(user, ("read",))
    StaffApiToken.objects.filter(user=user).update(scopes=list(scopes))
    return client


def _post(client: Client, path: str, body: object):
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


def _locations(body: dict) -> list[str]:
    return [e["location"] for e in body["errors"]]


def _actions_logged() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


# --- tokens ---------------------------------------------------------------------------------------


def test_a_token_is_stored_as_a_hash_only_and_its_issue_audited(team):
    user = team["reviewer"]
    token, secret = actions.token_issue(
        user=user, label="批处理脚本", scopes=["read"], days=90, acting_user=user
    )
    kind, prefix, raw = secret.split("_", 2)
    assert kind == "cvb" and prefix == token.prefix and len(raw) >= 40
    stored = StaffApiToken.objects.get(pk=token.pk)
    assert stored.secret_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    row = StaffApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in row.values())
    assert stored.scopes == ["read"] and stored.user == user
    assert timedelta(days=89) < stored.expires_at - timezone.now() <= timedelta(days=90)
    entry = AuditEntry.objects.get(action="staff_token_issue")
    assert entry.actor == user and raw not in json.dumps(entry.data)
    assert entry.data["scopes"] == ["read"] and entry.data["token"] == prefix


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 91}, "有效期"),
        ({"days": 0}, "有效期"),
        ({"scopes": ["admin"]}, "未知的权限范围"),
        ({"scopes": []}, "至少选择"),
        ({"label": "  "}, "用途"),
    ],
)
def test_a_token_is_refused_beyond_90_days_unknown_scopes_or_without_a_label(team, kwargs, message):
    user = team["reviewer"]
    arguments = {"label": "x", "scopes": ["read"], "days": 30, **kwargs}
    with pytest.raises(actions.TokenError, match=message):
        actions.token_issue(user=user, acting_user=user, **arguments)
    assert not StaffApiToken.objects.exists()


def test_an_applicant_has_no_staff_token_and_nobody_issues_for_someone_else(
    team, in_review, django_user_model
):
    applicant = make_applicant(django_user_model, in_review)
    with pytest.raises(actions.TokenError, match="工作人员"):
        actions.token_issue(
            user=applicant, label="x", scopes=["read"], days=30, acting_user=applicant
        )
    with pytest.raises(actions.TokenError, match="自己"):
        actions.token_issue(
            user=team["reviewer"], label="x", scopes=["read"], days=30, acting_user=team["approver"]
        )
    assert not StaffApiToken.objects.exists()
    # a token put in the database by hand for a non-staff user is still refused
    token, secret = actions.token_issue(
        user=team["reviewer"], label="x", scopes=["read"], days=30, acting_user=team["reviewer"]
    )
    StaffApiToken.objects.filter(pk=token.pk).update(user=applicant)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(f"{API}/applications")
    _is_problem(response, 401)
    assert AuditEntry.objects.filter(action="staff_token_refused").last().data["staff"] is False


def test_missing_unknown_revoked_or_expired_tokens_get_401(team, in_review):
    anonymous = Client().get(f"{API}/applications")
    assert _is_problem(anonymous, 401)
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    guessed = Client(HTTP_AUTHORIZATION="Bearer cvb_0123456789ab_guess").get(f"{API}/applications")
    _is_problem(guessed, 401)

    user = team["reviewer"]
    token, secret = actions.token_issue(
        user=user, label="x", scopes=["read"], days=30, acting_user=user
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}/applications").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    with pytest.raises(actions.TokenError, match="自己"):
        actions.token_revoke(token=token, acting_user=team["approver"])
    actions.token_revoke(token=token, acting_user=user)
    _is_problem(client.get(f"{API}/applications"), 401)
    assert AuditEntry.objects.filter(action="staff_token_revoke", actor=user).count() == 1
    with pytest.raises(actions.TokenError, match="已撤销"):
        actions.token_revoke(token=token, acting_user=user)

    expiring, secret = actions.token_issue(
        user=user, label="y", scopes=["read"], days=1, acting_user=user
    )
    StaffApiToken.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    _is_problem(Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(f"{API}/applications"), 401)
    refused = AuditEntry.objects.filter(action="staff_token_refused").order_by("id")
    assert [e.data["revoked"] for e in refused] == [True, False]
    assert refused.last().data["expired"] is True


def test_a_token_s_liveness_and_its_audit_read_the_clock_once(team, monkeypatch):
    """At the very second a token expires, the decision and the audit's "expired" agree: both
    come from one reading of the clock."""
    user = team["reviewer"]
    token, secret = actions.token_issue(
        user=user, label="edge", scopes=["read"], days=1, acting_user=user
    )
    readings = iter([token.expires_at - timedelta(seconds=1), token.expires_at])
    # the first reading a second before expiry, every later one at it
    monkeypatch.setattr(timezone, "now", lambda: next(readings, token.expires_at))
    found = actions.token_authenticate(raw=secret, method="GET", path="/x")
    entry = AuditEntry.objects.filter(action__in=["staff_token_use", "staff_token_refused"]).latest(
        "id"
    )
    assert entry.data["expired"] is (found is None)
    assert entry.action == ("staff_token_refused" if found is None else "staff_token_use")
    assert token.live_at(token.expires_at - timedelta(seconds=1))
    assert not token.live_at(token.expires_at)


def test_an_inactive_user_s_token_stops_working(team, in_review):
    client = _api(team["reviewer"])
    team["reviewer"].is_active = False
    team["reviewer"].save()
    _is_problem(client.get(f"{API}/applications"), 401)


def test_every_use_is_audited_with_the_method_and_path(team, in_review):
    client = _api(team["auditor"], ("read",))
    client.get(f"{API}/applications/{in_review.pk}")
    entry = AuditEntry.objects.filter(action="staff_token_use").get()
    assert entry.actor == team["auditor"]
    assert entry.data["method"] == "GET" and entry.data["path"].endswith(f"/{in_review.pk}")
    assert not list(verify_chain())


def test_scopes_read_and_decide_are_separate(team, in_review):
    read_only = _api(team["reviewer"], ("read",))
    body = _is_problem(
        _post(read_only, f"/applications/{in_review.pk}/decisions", {"kind": "approval"}), 403
    )
    assert "decide" in body["title"]
    decide_only = _api(team["reviewer"], ("decide",))
    _is_problem(decide_only.get(f"{API}/applications"), 403)
    assert not Decision.objects.exists()


def test_requests_are_throttled_per_token(team, in_review):
    from voucher.staffapi import api

    throttle = api.THROTTLE
    rate = throttle.rate
    throttle.rate = "2/m"
    throttle.num_requests, throttle.duration = throttle.parse_rate("2/m")
    try:
        client, other = _api(team["reviewer"]), _api(team["reviewer"])
        codes = [client.get(f"{API}/applications").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        response = client.get(f"{API}/applications")
        _is_problem(response, 429)
        assert int(response["Retry-After"]) >= 1
        assert other.get(f"{API}/applications").status_code == 200
    finally:
        throttle.rate = rate
        throttle.num_requests, throttle.duration = throttle.parse_rate(rate)


# --- reading ----------------------------------------------------------------------------------------


def test_the_queue_with_the_review_page_filters(team, in_review):
    client = _api(team["auditor"], ("read",))
    rows = client.get(f"{API}/applications").json()
    assert in_review.pk in [r["id"] for r in rows]
    assert all(r["state"] != "draft" for r in rows)
    only = client.get(f"{API}/applications", {"state": "in_review", "direction": 4}).json()
    assert [r["id"] for r in only] == [in_review.pk]
    row = only[0]
    assert row["approved_max"] == str(latest(in_review).approved_max)  # money as a string
    outcome = latest(in_review).outcome
    assert in_review.pk in [
        r["id"] for r in client.get(f"{API}/applications", {"outcome": outcome}).json()
    ]
    assert client.get(f"{API}/applications", {"assignee": "nobody"}).json() == []
    body = _is_problem(client.get(f"{API}/applications", {"state": "nonsense"}), 422)
    assert _locations(body) == ["query.state"]
    body = _is_problem(client.get(f"{API}/applications", {"direction": 7}), 422)
    assert _locations(body) == ["query.direction"]


def test_reading_one_application_s_stored_evaluation(team, in_review):
    client = _api(team["auditor"], ("read",))
    body = client.get(f"{API}/applications/{in_review.pk}").json()
    evaluation = latest(in_review)
    assert body["reference"] == in_review.reference and body["state"] == "in_review"
    assert body["evaluation"]["id"] == evaluation.pk
    assert Decimal(body["evaluation"]["approved_max"]) == evaluation.approved_max
    assert body["evaluation"]["findings"] == evaluation.findings
    assert body["decisions"] == [] and body["open_proposal_id"] is None
    assert "contact_mobile" not in json.dumps(body)
    _is_problem(client.get(f"{API}/applications/999999"), 404)


def test_reading_contact_data_is_audited(team, in_review):
    client = _api(team["auditor"], ("read",))
    body = client.get(f"{API}/applications/{in_review.pk}/contact").json()
    assert body["contact_mobile"] == in_review.contact_mobile
    entry = AuditEntry.objects.get(action="contact_view")
    assert entry.actor == team["auditor"] and entry.object_id == str(in_review.pk)


def test_a_screener_sees_direction_3_only(team, in_review, django_user_model):
    screener = make_staff(django_user_model, "screener", "centre_screener")
    client = _api(screener, ("read",))
    assert all(r["direction"] == 3 for r in client.get(f"{API}/applications").json())
    body = _is_problem(client.get(f"{API}/applications/{in_review.pk}"), 403)
    assert "方向三" in body["detail"]
    _is_problem(client.get(f"{API}/applications/{in_review.pk}/contact"), 403)
    assert not AuditEntry.objects.filter(action="contact_view").exists()


# --- deciding ---------------------------------------------------------------------------------------


def test_a_reviewer_proposes_and_a_different_approver_confirms(team, in_review):
    reviewer, approver = _api(team["reviewer"]), _api(team["approver"])
    maximum = latest(in_review).approved_max
    response = _post(reviewer, f"/applications/{in_review.pk}/decisions", {"kind": "approval"})
    assert response.status_code == 201, response.content
    proposal = response.json()
    assert Decimal(proposal["amount"]) == maximum and proposal["status"] == "proposed"
    assert proposal["proposed_by"] == team["reviewer"].username

    body = _is_problem(_post(reviewer, f"/decisions/{proposal['id']}/confirm", {}), 403)
    assert "只能由" in body["detail"]
    checked = {"amount_confirmed": proposal["amount"]}
    response = _post(approver, f"/decisions/{proposal['id']}/confirm", checked)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    assert response.json()["confirmed_by"] == team["approver"].username
    in_review.refresh_from_db()
    assert in_review.state == "approved"
    assert AuditEntry.objects.get(action="decision_propose").actor == team["reviewer"]
    assert AuditEntry.objects.get(action="decision_confirm").actor == team["approver"]
    # confirming again: someone already did
    body = _is_problem(
        _post(_api(team["approver2"]), f"/decisions/{proposal['id']}/confirm", checked), 409
    )
    assert "已被他人处理" in body["detail"]
    assert not list(verify_chain())


def test_four_eyes_through_the_api(team, in_review):
    both = team["approver"]
    both.groups.add(team["reviewer"].groups.first())
    client = _api(both)
    proposal = _post(client, f"/applications/{in_review.pk}/decisions", {"kind": "approval"})
    assert proposal.status_code == 201, proposal.content
    decision_id = proposal.json()["id"]
    body = _is_problem(_post(client, f"/decisions/{decision_id}/confirm", {}), 403)
    assert "四眼原则" in body["detail"]
    in_review.refresh_from_db()
    assert in_review.state == "in_review"
    assert Decision.objects.get().status == "proposed"
    checked = {"amount_confirmed": proposal.json()["amount"]}
    response = _post(_api(team["approver2"]), f"/decisions/{decision_id}/confirm", checked)
    assert response.status_code == 200


def test_an_approval_is_confirmed_with_the_amount_checked(team, in_review):
    """As the review screen's 我已核对金额 box (issue 19 point 7): the approver's confirmation
    carries the amount; none, or another one, is refused naming the field, and nothing changes."""
    proposal = _post(
        _api(team["reviewer"]), f"/applications/{in_review.pk}/decisions", {"kind": "approval"}
    ).json()
    approver = _api(team["approver"])
    path = f"/decisions/{proposal['id']}/confirm"
    amount = Decimal(proposal["amount"])
    for body in ({}, {"amount_confirmed": None}, {"amount_confirmed": str(amount * 10)}):
        problem = _is_problem(_post(approver, path, body), 422)
        assert problem["errors"][0]["location"] == "body.payload.amount_confirmed", problem
        assert "amount_confirmed" in problem["detail"] or "核对的金额" in problem["detail"]
    assert "不一致" in problem["detail"] and f"{amount:,.2f}" in problem["detail"]
    in_review.refresh_from_db()
    assert in_review.state == "in_review"
    assert Decision.objects.get().status == "proposed"
    assert not AuditEntry.objects.filter(action="decision_confirm").exists()
    # a reviewer is still told it is not theirs (403), whatever the amount
    _is_problem(_post(_api(team["reviewer"]), path, {}), 403)
    # the same amount as a number, one fen off, then exactly
    problem = _is_problem(
        _post(approver, path, {"amount_confirmed": str(amount - Decimal("0.01"))}), 422
    )
    response = _post(approver, path, {"amount_confirmed": f"{amount:.2f}"})
    assert response.status_code == 200, response.content
    in_review.refresh_from_db()
    assert in_review.state == "approved"


def test_a_rejection_is_confirmed_without_an_amount(team, in_review):
    proposal = _post(
        _api(team["reviewer"]),
        f"/applications/{in_review.pk}/decisions",
        {"kind": "rejection", "reason": "项目与申报方向不符"},
    )
    assert proposal.status_code == 201, proposal.content
    response = _post(_api(team["approver"]), f"/decisions/{proposal.json()['id']}/confirm", {})
    assert response.status_code == 200, response.content
    in_review.refresh_from_db()
    assert in_review.state == "rejected"


def test_the_document_asks_the_confirmation_for_the_amount_checked():
    from voucher.staffapi.openapi import schema

    document = schema()
    body = document["paths"]["/api/v1/bureau/decisions/{decision_id}/confirm"]["post"]
    assert body["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConfirmIn"
    }
    assert "amount_confirmed" in document["components"]["schemas"]["ConfirmIn"]["properties"]


@pytest.mark.parametrize("who", ["approver", "auditor"])
def test_only_reviewers_propose(team, in_review, who):
    body = _is_problem(
        _post(
            _api_issued_before(team[who]),
            f"/applications/{in_review.pk}/decisions",
            {"kind": "approval"},
        ),
        403,
    )
    assert "审核人员" in body["detail"]
    assert not Decision.objects.exists()


def test_the_auditor_is_read_only(team, in_review):
    decision = review.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    with pytest.raises(actions.TokenError, match="decide"):  # not issued a decide scope
        _secret(team["auditor"], ("read", "decide"))
    auditor = _api_issued_before(team["auditor"])  # even with one
    _is_problem(_post(auditor, f"/decisions/{decision.pk}/confirm", {}), 403)
    _is_problem(_post(auditor, f"/decisions/{decision.pk}/return", {"reason": "再核"}), 403)
    decision.refresh_from_db()
    assert decision.status == "proposed"


def test_the_tokens_page_offers_the_auditor_no_decide_scope(client, team, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    verified_client(client, team["auditor"])
    page = client.get("/bureau-api/tokens/").content.decode()
    assert 'value="read"' in page and 'value="decide"' not in page
    client.post("/bureau-api/tokens/", {"label": "脚本", "days": "30", "scopes": ["decide"]})
    assert not StaffApiToken.objects.filter(user=team["auditor"]).exists()


def test_proposing_outside_review_is_refused_with_the_reason(team, in_review):
    put_in_state(in_review, "submitted")
    body = _is_problem(
        _post(
            _api(team["reviewer"]), f"/applications/{in_review.pk}/decisions", {"kind": "approval"}
        ),
        403,
    )
    assert "不能拟定" in body["detail"]


def _state_of_the_database(application):
    application.refresh_from_db()
    return (
        application.state,
        application.version,
        list(Decision.objects.values_list("pk", "amount", "status")),
        [a for a in _actions_logged() if not a.startswith("staff_token")],
    )


def test_one_fen_above_approved_max_is_refused_naming_amount_and_nothing_is_stored(team, in_review):
    client = _api(team["reviewer"])
    maximum = latest(in_review).approved_max
    before = _state_of_the_database(in_review)
    for amount in (str(maximum + Decimal("0.01")), json.loads(str(maximum + Decimal("0.01")))):
        response = _post(
            client,
            f"/applications/{in_review.pk}/decisions",
            {"kind": "approval", "amount": amount, "lowered_reason": "x"},
        )
        body = _is_problem(response, 422)
        assert _locations(body) == ["body.payload.amount"]
        assert "只能调减" in body["detail"]
    assert _state_of_the_database(in_review) == before


def test_at_approved_max_is_accepted(team, in_review):
    maximum = latest(in_review).approved_max
    response = _post(
        _api(team["reviewer"]),
        f"/applications/{in_review.pk}/decisions",
        {"kind": "approval", "amount": str(maximum)},
    )
    assert response.status_code == 201, response.content
    assert Decimal(response.json()["amount"]) == maximum
    assert Decision.objects.get().amount == maximum


def test_one_fen_below_is_accepted_with_a_reason_and_read_exactly_from_a_json_number(
    team, in_review
):
    maximum = latest(in_review).approved_max
    lower = maximum - Decimal("0.01")
    client = _api(team["reviewer"])
    path = f"/applications/{in_review.pk}/decisions"
    body = _is_problem(_post(client, path, {"kind": "approval", "amount": str(lower)}), 422)
    assert _locations(body) == ["body.payload.lowered_reason"]
    assert not Decision.objects.exists()
    raw = f'{{"kind": "approval", "amount": {lower}, "lowered_reason": "一张发票待核"}}'
    response = client.post(f"{API}{path}", raw, content_type="application/json")
    assert response.status_code == 201, response.content
    decision = Decision.objects.get()
    assert decision.amount == lower and decision.lowered_reason == "一张发票待核"
    assert response.json()["amount"] == str(lower)


@pytest.mark.parametrize(
    "amount",
    ["1.001", "abc", "-5", "1,000.00", "", True, "NaN", 0, "0.00", "１２", ".5", "1e3", [], {}],
)
def test_malformed_amounts_are_refused_naming_amount(team, in_review, amount):
    body = _is_problem(
        _post(
            _api(team["reviewer"]),
            f"/applications/{in_review.pk}/decisions",
            {"kind": "approval", "amount": amount, "lowered_reason": "x"},
        ),
        422,
    )
    assert _locations(body) == ["body.payload.amount"]
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("9999999999999.98", "超过最高可核定金额"),  # within the one limit: the rule refuses it
        ("9999999999999.99", "超过最高可核定金额"),
        ("10000000000000.00", "过大，整数部分最多 13 位"),  # before: the rule refused it
        ("99999999999999.99", "过大"),
    ],
)
@pytest.mark.parametrize("as_number", [False, True])
def test_an_amount_at_and_above_the_limit_is_refused_naming_amount(
    team, in_review, amount, says, as_number
):
    raw = f'{{"kind": "approval", "amount": {amount if as_number else json.dumps(amount)}}}'
    response = _api(team["reviewer"]).post(
        f"{API}/applications/{in_review.pk}/decisions", raw, content_type="application/json"
    )
    body = _is_problem(response, 422)
    assert _locations(body) == ["body.payload.amount"]
    assert says in json.dumps(body, ensure_ascii=False), body
    assert not Decision.objects.exists()


@pytest.mark.parametrize("exponent", [0, 4])
def test_an_amount_is_read_exactly_however_a_json_number_spells_it(team, in_review, exponent):
    lower = latest(in_review).approved_max - Decimal("0.01")
    number = f"{lower.scaleb(-exponent)}E+{exponent}" if exponent else str(lower)  # 4.567890E+4
    raw = f'{{"kind": "approval", "amount": {number}, "lowered_reason": "一张发票待核"}}'
    response = _api(team["reviewer"]).post(
        f"{API}/applications/{in_review.pk}/decisions", raw, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Decision.objects.get().amount == lower


def test_three_decimal_places_in_a_json_number_are_refused(team, in_review):
    raw = '{"kind": "approval", "amount": 100.005, "lowered_reason": "x"}'
    response = _api(team["reviewer"]).post(
        f"{API}/applications/{in_review.pk}/decisions", raw, content_type="application/json"
    )
    assert _locations(_is_problem(response, 422)) == ["body.payload.amount"]
    bad = _api(team["reviewer"]).post(
        f"{API}/applications/{in_review.pk}/decisions", "{not json", content_type="application/json"
    )
    _is_problem(bad, 400)


def test_a_rejection_with_a_reason_and_without_an_amount(team, in_review):
    client = _api(team["reviewer"])
    path = f"/applications/{in_review.pk}/decisions"
    body = _is_problem(_post(client, path, {"kind": "rejection", "amount": "1.00"}), 422)
    assert _locations(body) == ["body.payload.amount"]
    body = _is_problem(_post(client, path, {"kind": "maybe"}), 422)
    assert _locations(body) == ["body.payload.kind"]
    response = _post(client, path, {"kind": "rejection", "reason": "项目与申报方向不符"})
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "0.00"
    assert response.json()["reasons"][-1]["text"] == "项目与申报方向不符"


def test_a_refusal_names_the_input_the_action_refused_and_only_that(team, in_review):
    """The checks live in the action (review.decision_propose); the API reports the field the
    action names: the reason a rejection without failed rules needs, a lowered amount's reason,
    an amount above approved_max."""
    client = _api(team["reviewer"])
    path = f"/applications/{in_review.pk}/decisions"
    maximum = latest(in_review).approved_max
    body = _is_problem(_post(client, path, {"kind": "rejection"}), 422)
    assert _locations(body) == ["body.payload.reason"] and "理由" in body["detail"]
    assert body["errors"][0]["message"] == body["detail"]
    lower = str(maximum - Decimal("0.01"))
    body = _is_problem(_post(client, path, {"kind": "approval", "amount": lower}), 422)
    assert _locations(body) == ["body.payload.lowered_reason"]
    above = str(maximum + Decimal("0.01"))
    body = _is_problem(_post(client, path, {"kind": "approval", "amount": above}), 422)
    assert _locations(body) == ["body.payload.amount"] and above in body["detail"]
    assert not Decision.objects.exists()


def test_the_api_proposes_no_approval_while_a_material_item_is_open(team, in_review):
    """The API proposes through the same action: the materials' checklist (附件14-1) gates an
    approval there too, with the items named; a rejection may still be proposed."""
    from voucher.applications.models import MaterialCheck

    MaterialCheck.objects.filter(application=in_review, material="contract", item="term").delete()
    client = _api(team["reviewer"])
    path = f"/applications/{in_review.pk}/decisions"
    body = _is_problem(_post(client, path, {"kind": "approval"}), 422)
    assert "申报材料尚未核对完毕" in body["detail"]
    assert "算力合同：明确合同有效期或算力服务期限（未核对）" in body["detail"]
    assert _locations(body) == []  # no input of the request is wrong
    assert not Decision.objects.exists()
    rejection = _post(client, path, {"kind": "rejection", "reason": "合同期限不明"})
    assert rejection.status_code == 201, rejection.content


def test_a_second_proposal_conflicts(team, in_review):
    client = _api(team["reviewer"])
    path = f"/applications/{in_review.pk}/decisions"
    assert _post(client, path, {"kind": "approval"}).status_code == 201
    body = _is_problem(_post(client, path, {"kind": "approval"}), 409)
    assert "待复核" in body["detail"]
    assert Decision.objects.count() == 1


def test_an_approver_returns_a_proposal_with_a_reason(team, in_review):
    decision = review.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    path = f"/decisions/{decision.pk}/return"
    _is_problem(_post(_api(team["reviewer"]), path, {"reason": "再核"}), 403)
    body = _is_problem(_post(_api(team["approver"]), path, {"reason": "   "}), 422)
    assert _locations(body) == ["body.payload.reason"]
    response = _post(_api(team["approver"]), path, {"reason": "请核对发票"})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    entry = AuditEntry.objects.get(action="decision_return")
    assert entry.actor == team["approver"] and entry.data["reason"] == "请核对发票"
    _is_problem(_post(_api(team["approver"]), path, {"reason": "again"}), 409)
    _is_problem(_post(_api(team["approver"]), "/decisions/999999/return", {"reason": "x"}), 404)


# --- the OpenAPI document -------------------------------------------------------------------------


def test_the_committed_openapi_document_is_current():
    from voucher.staffapi.openapi import schema

    committed = json.loads((ROOT / "docs/openapi-bureau.json").read_text(encoding="utf-8"))
    assert committed == schema(), (
        "regenerate: .venv/bin/python -m voucher.staffapi.openapi > docs/openapi-bureau.json"
    )


# --- the token page ---------------------------------------------------------------------------------


def test_the_token_page_needs_the_totp_login(client, team):
    response = client.get("/bureau-api/tokens/")
    assert response.status_code == 302 and "/review/login/" in response["Location"]
    client.force_login(team["reviewer"])  # a password session without TOTP is not enough
    response = client.get("/bureau-api/tokens/")
    assert response.status_code == 302 and "/review/otp/setup/" in response["Location"]


def test_an_applicant_cannot_open_the_token_page(client, in_review, django_user_model):
    applicant = make_applicant(django_user_model, in_review)
    client.force_login(applicant)
    assert client.get("/bureau-api/tokens/").status_code == 403
    assert client.post("/bureau-api/tokens/", {"label": "x", "days": 30}).status_code == 403
    assert not StaffApiToken.objects.exists()


def test_the_page_issues_a_token_shown_once_and_revokes_it(client, team, in_review):
    verified_client(client, team["reviewer"])
    page = client.get("/bureau-api/tokens/")
    assert page.status_code == 200 and "审核接口令牌" in page.content.decode()
    response = client.post(
        "/bureau-api/tokens/", {"label": "脚本", "days": "30", "scopes": ["read", "decide"]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret.startswith("cvb_") and secret in response.content.decode()
    token = StaffApiToken.objects.get()
    assert token.user == team["reviewer"] and token.scopes == ["read", "decide"]
    assert secret not in client.get("/bureau-api/tokens/").content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(f"{API}/applications").status_code == 200

    refused = client.post("/bureau-api/tokens/", {"label": "x", "days": "91", "scopes": ["read"]})
    assert "有效期" in refused.content.decode() and StaffApiToken.objects.count() == 1

    response = client.post(f"/bureau-api/tokens/{token.pk}/revoke/", follow=True)
    assert "已撤销" in response.content.decode()
    _is_problem(api.get(f"{API}/applications"), 401)


def test_nobody_revokes_someone_else_s_token_on_the_page(client, team):
    token, _ = actions.token_issue(
        user=team["approver"], label="x", scopes=["read"], days=30, acting_user=team["approver"]
    )
    verified_client(client, team["reviewer"])
    assert client.post(f"/bureau-api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_page_in_english(client, team):
    verified_client(client, team["reviewer"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/bureau-api/tokens/"})
    text = client.get("/bureau-api/tokens/").content.decode()
    assert "Bureau API tokens" in text and "Issue a new token" in text
    assert "签发新令牌" not in text


def test_unknown_paths_and_methods_are_problems_too(team, in_review):
    client = _api(team["auditor"], ("read",))
    body = _is_problem(client.get(f"{API}/nothing-here"), 404)
    assert body["detail"] == f"{API}/nothing-here"
    response = client.delete(f"{API}/applications/{in_review.pk}")
    _is_problem(response, 405)
    assert "GET" in response["Allow"]
    _is_problem(client.get(f"{API}/applications/not-a-number"), 422)


def test_no_csrf_token_is_needed_with_a_bearer_token(team, in_review):
    client = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {_secret(team['reviewer'])}"
    )
    response = _post(client, f"/applications/{in_review.pk}/decisions", {"kind": "approval"})
    assert response.status_code == 201, response.content


def test_the_interactive_documentation_is_served(client):
    assert client.get(f"{API}/openapi.json").json()["info"]["title"].startswith("算力券")
    assert client.get(f"{API}/docs").status_code == 200


def test_the_admin_shows_tokens_read_only_without_the_hash(admin_client, team):
    token, _ = actions.token_issue(
        user=team["reviewer"], label="x", scopes=["read"], days=30, acting_user=team["reviewer"]
    )
    assert admin_client.get("/admin/staffapi/staffapitoken/add/").status_code == 403
    page = admin_client.get(f"/admin/staffapi/staffapitoken/{token.pk}/change/")
    assert page.status_code == 200 and token.secret_sha256 not in page.content.decode()
    response = admin_client.post(
        f"/admin/staffapi/staffapitoken/{token.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403 and StaffApiToken.objects.filter(pk=token.pk).exists()


def test_an_unexpected_error_is_a_problem_too(team, in_review, monkeypatch):
    from voucher.staffapi import selectors

    def broken(application):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "application_out", broken)
    response = _api(team["auditor"], ("read",)).get(f"{API}/applications/{in_review.pk}")
    body = _is_problem(response, 500)
    assert "boom" not in json.dumps(body)


@pytest.mark.parametrize(
    ("role", "decides"),
    [
        ("bureau_reviewer", True),
        ("bureau_approver", True),
        ("auditor", False),
        ("administrator", False),
        ("centre_screener", False),
    ],
)
def test_the_decide_scope_is_offered_to_the_roles_that_decide(django_user_model, role, decides):
    user = make_staff(django_user_model, f"u-{role}", role)
    assert ("decide" in actions.scopes_for(user)) == decides
    assert "read" in actions.scopes_for(user)
