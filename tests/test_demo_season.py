"""`voucher demo --season N` at a small size: every direction and state, records that look like
the actions' own, staff who log in with password + TOTP, pages that open, a draft that submits."""

from __future__ import annotations

import base64
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import TOTP

from voucher.applications import models as m
from voucher.applications import states
from voucher.applications.interchange import application_export
from voucher.core.models import AuditEntry
from voucher.demo.examples import DEMO_PASSWORD
from voucher.demo.season import PATHS, SEASON_STAFF, season_build
from voucher.portal.models import Submission
from voucher.portal.selectors import submission_blockers

pytestmark = pytest.mark.django_db(transaction=False)

COUNT = 60


@pytest.fixture
def season(settings, tmp_path):
    settings.VOUCHER_DATA_DIR = tmp_path
    return season_build(COUNT, seed=7)


def _code(username: str) -> str:
    from voucher.demo.staff import demo_secret

    key = base64.b32decode(demo_secret(username))
    return f"{TOTP(key).token():06d}"


def _staff_client(client, username: str):
    response = client.post(
        "/review/login/",
        {"username": username, "password": DEMO_PASSWORD, "otp_token": _code(username)},
    )
    assert response.status_code == 302, response.content[:500]
    return client


def test_every_direction_and_state(season):
    applications = list(m.Application.objects.all())
    assert len(applications) == COUNT == season.applications
    assert {a.direction for a in applications} == {1, 2, 3, 4}
    assert {a.state for a in applications} == {s for s, _label in states.STATE_CHOICES}
    assert m.Contract.objects.count() == season.contracts
    assert 5 * COUNT <= season.contracts <= 15 * COUNT
    assert m.Enterprise.objects.count() == COUNT  # one application per enterprise and round
    assert m.Membership.objects.values("enterprise").distinct().count() == COUNT // 10
    staff = Counter(g for u in season.staff for g in [u[1]])  # 30 staff in the five roles
    assert sum(staff.values()) == 30 == sum(n for _p, _r, n in SEASON_STAFF)
    # each application has an evaluation; the outcomes vary
    assert set(m.StoredEvaluation.objects.values_list("application", flat=True)) == {
        a.pk for a in applications
    }
    assert len(season.outcomes) >= 2


def test_records_of_each_state_are_the_steps_own(season):
    for a in m.Application.objects.exclude(state=states.DRAFT):
        path = PATHS[a.state]
        submission = Submission.objects.get(application=a)
        assert submission.evaluation.application_id == a.pk
        assert (
            AuditEntry.objects.filter(object_id=str(a.pk), action="application_submit").count() == 1
        )
        assert (m.ReviewCase.objects.filter(application=a).exists()) == ("accept" in path)
        assert m.Snapshot.objects.filter(application=a).count() == len(
            [
                t
                for t in path[1:]
                if t not in ("publicize", "request_clawback", "record_refund", "mark_overdue")
            ]
        )
        if a.state in (states.APPROVED, states.PUBLICIZED, states.PAID):
            decision = m.Decision.objects.get(application=a, status=m.CONFIRMED)
            assert decision.kind == "approval"
            assert decision.amount > 0
            assert decision.confirmed_by != decision.proposed_by
        if a.state == states.PAID:
            assert m.PaymentRecord.objects.filter(application=a).exists()
        if a.state == states.SUPPLEMENT_REQUESTED:
            assert m.SupplementRequest.objects.get(application=a).answered_at is None
    # the import is lossless: what the documents were is what the rows export
    for a in m.Application.objects.exclude(state=states.DRAFT)[:5]:
        frozen = Submission.objects.get(application=a).document_json
        from voucher.policy.format import dumps_application

        assert dumps_application(application_export(a)) == frozen
    call_command("audit", "verify")  # the chain is whole (exits 1 otherwise)


def test_pages_open_for_staff_and_applicants(season, client, django_user_model):
    _staff_client(client, "shenhe01")
    for url in ("/review/", "/review/mine/", "/review/dashboard/", "/review/publicity/"):
        assert client.get(url).status_code == 200, url
    for state in (states.SUBMITTED, states.IN_REVIEW, states.RESUBMITTED, states.PAID):
        a = m.Application.objects.filter(state=state).first()
        assert client.get(f"/review/{a.pk}/").status_code == 200, state
    client.logout()
    _staff_client(client, "fuhe01")
    assert client.get("/review/mine/").status_code == 200

    member = django_user_model.objects.get(username=season.members[0])
    applicant = client.__class__()
    applicant.force_login(member)
    a = m.Application.objects.get(enterprise__memberships__user=member)
    assert applicant.get("/portal/").status_code == 200
    assert applicant.get(f"/portal/applications/{a.pk}/status/").status_code == 200


def test_a_members_draft_is_complete_and_submits(season, client, django_user_model):
    drafts = m.Application.objects.filter(state=states.DRAFT, source_name="portal")
    assert drafts.count() >= COUNT // 20
    for draft in drafts:
        assert submission_blockers(draft) == []
    draft = drafts.first()
    user = django_user_model.objects.get(
        membership__enterprise=draft.enterprise, membership__role="admin"
    )
    client.force_login(user)
    response = client.post(
        f"/portal/applications/{draft.pk}/submit/", {"version": draft.version, "confirm": "on"}
    )
    assert response.status_code == 302, response.content[:800]
    draft.refresh_from_db()
    assert draft.state == states.SUBMITTED
    assert Submission.objects.filter(application=draft).count() == 1


def test_the_command_prints_the_logins_and_refuses_a_second_season(settings, tmp_path, capsys):
    settings.VOUCHER_DATA_DIR = tmp_path
    call_command("demo", season=20)
    out = capsys.readouterr().out
    assert "shenhe01" in out and "TOTP" in out and "@season.example.cn" in out
    with pytest.raises(CommandError, match="already"):
        call_command("demo", season=20)
    with pytest.raises(CommandError, match="at least 20"):
        call_command("demo", season=5)


def test_the_season_is_built_in_few_queries(settings, tmp_path):
    """Its audit entries written together (audit_many) and its evaluations stored a batch at a
    time: about 450 queries for 60 applications, most of them the 30 staff; it asked three
    per audit entry and two per evaluation (about 1,200)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.VOUCHER_DATA_DIR = tmp_path
    with CaptureQueriesContext(connection) as captured:
        result = season_build(COUNT, seed=7)
    assert AuditEntry.objects.count() >= result.audit_entries > 2 * COUNT
    assert len(captured) < 600, len(captured)
    call_command("audit", "verify")


def test_batches_evaluated_together_are_told_once(monkeypatch):
    """The season's batches: the review app is told once, of all of them, at the end (one count
    of the round's cross findings); outside, each batch is told at once; an error tells none."""
    from voucher.applications import ports

    told: list[list[int]] = []
    monkeypatch.setattr(ports, "_evaluations_stored", [lambda apps: told.append(list(apps))])
    with ports.evaluations_stored_together():
        ports.evaluations_stored([1, 2])
        ports.evaluations_stored([3])
        assert told == []
    assert told == [[1, 2, 3]]
    ports.evaluations_stored([4])
    assert told == [[1, 2, 3], [4]]
    with pytest.raises(RuntimeError), ports.evaluations_stored_together():
        ports.evaluations_stored([5])
        raise RuntimeError
    assert told == [[1, 2, 3], [4]]
