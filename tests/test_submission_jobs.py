"""A submission's request freezes, receipts and audits; its evaluation, counts and e-mail are a
job after it (voucher/core/jobs.py): pending until done, fail closed meanwhile, done exactly once
(docs/decisions/0027-deferred-evaluation.md)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from .portal_helpers import USCC_A, fill_d2, member, open_round, post_step
from .review_support import supplier_confirms_all


@pytest.fixture
def deferred(settings, tmp_path):
    """Production: the jobs are the worker's, not the request's."""
    settings.DATA_DIR = tmp_path
    settings.VOUCHER_JOBS_INLINE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def _ready_draft(client):
    from voucher.applications.models import Application

    open_round()
    user = member("a@example.cn", USCC_A, "北京示例智能科技有限公司")
    client.force_login(user)
    response = client.post(reverse("portal:new"), {"direction": 2})
    assert response.status_code == 302
    app = Application.objects.latest("id")
    fill_d2(client, app)
    # the supplier has confirmed each line and declared no relation (issue 22): without its
    # word a stored application of direction 2 is rightly needs_review (fail closed)
    supplier_confirms_all(app)
    # the self-check stores an evaluation of the draft (the bureau's latest until submitted)
    assert "符合条件" in client.get(reverse("portal:selfcheck", args=[app.pk])).content.decode()
    app.refresh_from_db()
    return app, user


@pytest.mark.django_db
def test_the_request_queues_the_evaluation_and_the_worker_does_it_once(
    deferred, client, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.applications.models import StoredEvaluation
    from voucher.applications.selectors import latest_evaluation
    from voucher.core import jobs
    from voucher.core.models import AuditEntry
    from voucher.portal.models import Submission

    app, _user = _ready_draft(client)
    evaluations_before = StoredEvaluation.objects.filter(application=app).count()
    assert evaluations_before  # the self-check of the draft evaluated it
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client, app, "submit", {"confirm": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    submission = Submission.objects.get(application=app)
    # the request: submitted, frozen, receipted, audited; not evaluated, no e-mail yet
    assert app.state == "submitted" and app.evaluation_pending
    assert submission.evaluation is None
    assert StoredEvaluation.objects.filter(application=app).count() == evaluations_before
    assert not StoredEvaluation.objects.filter(application=app, bureau_latest=True).exists()
    assert latest_evaluation(app) is None  # the draft's self-check is not the submission's
    assert (
        AuditEntry.objects.filter(action="application_submit", object_id=str(app.pk)).count() == 1
    )
    job = jobs.Job.objects.get()
    assert (job.kind, job.state, job.payload) == (
        "submission_evaluate",
        jobs.Job.QUEUED,
        {"submission": submission.pk},
    )
    assert not mailoutbox
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert 'id="evaluation-pending"' in status and "评估中" in status
    assert submission.receipt_number in status

    # the worker
    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs", "worker", "--once", "--nice", "0")
    job.refresh_from_db()
    assert (job.state, job.attempts) == (jobs.Job.DONE, 1)
    app.refresh_from_db()
    submission.refresh_from_db()
    assert not app.evaluation_pending
    assert submission.evaluation is not None
    assert submission.evaluation.document_sha256 == latest_evaluation(app).document_sha256
    assert latest_evaluation(app) == submission.evaluation
    assert StoredEvaluation.objects.filter(application=app).count() == evaluations_before + 1
    assert mailoutbox and submission.receipt_number in mailoutbox[-1].subject
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert 'id="evaluation-pending"' not in status
    # once: a job done is not taken again, and a submission evaluated is left as it is
    assert jobs.work_all() == 0
    from voucher.portal.actions import submission_evaluate

    submission_evaluate(submission=submission.pk)
    assert StoredEvaluation.objects.filter(application=app).count() == evaluations_before + 1
    # a second click on 提交 submits nothing more
    post_step(client, app, "submit", {"confirm": "on"})
    assert Submission.objects.filter(application=app).count() == 1
    assert jobs.Job.objects.count() == 1


@pytest.mark.django_db
def test_inline_the_request_evaluates_at_once(settings, client, tmp_path):
    """Development, the tests and the demo: no worker, the job is done in the request."""
    from voucher.portal.models import Submission

    settings.DATA_DIR = tmp_path
    settings.VOUCHER_JOBS_INLINE = True
    app, _user = _ready_draft(client)
    post_step(client, app, "submit", {"confirm": "on"})
    app.refresh_from_db()
    assert not app.evaluation_pending
    assert Submission.objects.get(application=app).evaluation.outcome == "eligible"


@pytest.mark.django_db
def test_a_killed_workers_job_is_taken_again_after_its_lease_and_done_once(deferred, client):
    from voucher.core import jobs
    from voucher.portal.models import Submission

    app, _user = _ready_draft(client)
    post_step(client, app, "submit", {"confirm": "on"})
    killed = jobs.claim()  # a worker took it, then died (kill -9): nothing of it was written
    assert killed is not None and killed.attempts == 1
    assert jobs.claim() is None  # under its lease nobody else takes it
    jobs.Job.objects.filter(pk=killed.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    again = jobs.claim()
    assert again is not None and again.pk == killed.pk and again.attempts == 2
    # the first worker was only slow: its attempt finishing now is fenced off and rolled back
    jobs.run(killed)
    app.refresh_from_db()
    assert app.evaluation_pending
    assert jobs.Job.objects.get(pk=killed.pk).state == jobs.Job.RUNNING
    assert not app.evaluations.filter(bureau_latest=True).exists()
    jobs.run(again)
    again.refresh_from_db()
    assert (again.state, again.attempts) == (jobs.Job.DONE, 2)
    app.refresh_from_db()
    assert not app.evaluation_pending
    assert app.evaluations.filter(bureau_latest=True).count() == 1
    assert Submission.objects.get(application=app).evaluation is not None


@pytest.mark.django_db
def test_a_failing_job_is_retried_then_failed_with_its_reason(deferred, client, monkeypatch):
    from voucher.core import jobs

    calls = []

    def broken(**payload):
        calls.append(payload)
        raise RuntimeError("engine away")

    monkeypatch.setitem(jobs._handlers, "broken", broken)
    jobs.enqueue("broken", key="broken:1", n=1)
    assert jobs.work_all() == jobs.MAX_ATTEMPTS
    job = jobs.Job.objects.get(key="broken:1")
    assert job.state == jobs.Job.FAILED and "engine away" in job.error
    assert len(calls) == jobs.MAX_ATTEMPTS
    # the same key queued again (a retried request) is the same job
    assert jobs.enqueue("broken", key="broken:1", n=1).pk == job.pk


@pytest.mark.django_db
def test_the_worker_beats_for_healthz(deferred, client):
    call_command("jobs", "worker", "--once", "--nice", "0")
    body = client.get("/healthz").json()
    assert body["jobs_worker"] == "ok" and body["jobs_worker_seen_at"]


@pytest.mark.django_db
def test_no_decision_is_proposed_while_the_evaluation_is_pending(
    settings, django_user_model, client
):
    from voucher.applications.models import Application
    from voucher.demo.examples import demo_load
    from voucher.review import actions

    from .conftest import EXAMPLES_DIR, application_from
    from .review_support import (
        FAST_HASHERS,
        make_staff,
        put_in_state,
        tick_materials,
        verified_client,
    )

    settings.PASSWORD_HASHERS = FAST_HASHERS
    demo_load(examples_dir=EXAMPLES_DIR)
    application = put_in_state(application_from("d4-small"), "in_review")
    reviewer = make_staff(django_user_model, "r1", "bureau_reviewer")
    tick_materials(application, reviewer)
    # as a submission whose evaluation the worker has not done yet leaves it
    Application.objects.filter(pk=application.pk).update(evaluation_pending=True)
    application.refresh_from_db()
    with pytest.raises(actions.ReviewError, match="尚未评估"):
        actions.decision_propose(application=application, kind="approval", acting_user=reviewer)
    verified_client(client, reviewer)
    screen = client.get(f"/review/{application.pk}/").content.decode()
    assert 'id="evaluation-pending"' in screen and "评估中" in screen
    queue = client.get("/review/").content.decode()
    assert "评估中" in queue
    # stored: the proposal may be made
    Application.objects.filter(pk=application.pk).update(evaluation_pending=False)
    application.refresh_from_db()
    decision = actions.decision_propose(
        application=application, kind="approval", acting_user=reviewer
    )
    assert decision.pk


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locking is tested on PostgreSQL (CI runs it)"
)
@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_submit_once(deferred, client):
    from voucher.core import jobs
    from voucher.core.models import AuditEntry
    from voucher.portal import actions
    from voucher.portal.models import Submission

    app, user = _ready_draft(client)
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def submit(index):
        try:
            barrier.wait()
            results[index] = actions.application_submit(
                application=app, expected_version=app.version, acting_user=user
            )
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    submitted = [r for r in results if isinstance(r, Submission)]
    refused = [r for r in results if isinstance(r, actions.PortalError)]
    assert len(submitted) == 1 and len(refused) == 1, results
    assert Submission.objects.filter(application=app).count() == 1
    assert (
        AuditEntry.objects.filter(action="application_submit", object_id=str(app.pk)).count() == 1
    )
    assert jobs.Job.objects.count() == 1
    assert jobs.work_all() == 1
    app.refresh_from_db()
    assert app.state == "submitted" and not app.evaluation_pending
    assert app.evaluations.filter(bureau_latest=True).count() == 1


@pytest.mark.django_db
def test_the_status_page_of_a_frozen_submission_does_not_export_it(deferred, client, monkeypatch):
    """The status page asks whether the documents can be made; a submitted version was complete
    when submitted and cannot change, so it is not exported again for that. Its contract lines
    are read once, in one query per kind, for the supplier's word on each (issue 22)."""
    from django.test.utils import CaptureQueriesContext

    from voucher.core import jobs
    from voucher.portal import selectors

    app, _user = _ready_draft(client)
    post_step(client, app, "submit", {"confirm": "on"})
    jobs.work_all()

    def no_export(application):
        raise AssertionError("the status page of a submission exported it again")

    monkeypatch.setattr(selectors, "document_problems", no_export)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("portal:status", args=[app.pk]))
    assert page.status_code == 200
    assert 'id="package-pdf"' in page.content.decode()  # the documents are offered
    queries = [q["sql"] for q in captured.captured_queries]
    assert sum('FROM "applications_delivery"' in q for q in queries) <= 1
    assert sum('FROM "applications_invoice"' in q for q in queries) <= 1
    read = " ".join(queries)
    # nor the payee and the payment line, which only an approved application's page shows
    assert "payeeaccount" not in read and "paymentline" not in read


@pytest.mark.django_db
def test_a_step_reads_the_delivery_lines_in_one_query_however_many_contracts(deferred, client):
    """The total consumed (14-2) the project and submit steps show: no query per contract."""
    from django.test.utils import CaptureQueriesContext

    app, _user = _ready_draft(client)
    first = app.contracts.first()
    lines = list(first.deliveries.all())
    for n in range(2, 5):  # three contracts more, each with the same lines
        first.pk, first.id, first.contract_id = None, None, f"HT-EXTRA-{n}"
        first.save()
        for line in lines:
            line.pk, line.id, line.contract = None, None, first
            line.save()
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("portal:project", args=[app.pk]))
    assert page.status_code == 200
    deliveries = [
        q for q in captured.captured_queries if 'FROM "applications_delivery"' in q["sql"]
    ]
    assert len(deliveries) == 1, [q["sql"][:120] for q in deliveries]


@pytest.mark.django_db
def test_the_worker_lets_a_rush_of_requests_pass_then_does_every_job(deferred, monkeypatch):
    """While jobs are still arriving (a deadline rush) the worker's loop takes only a job that
    has waited VOUCHER_JOBS_MAX_DEFER_SECONDS; once none has come for
    VOUCHER_JOBS_SETTLE_SECONDS it takes them all. `--once` (work_all) drains at once."""
    from voucher.core import jobs

    deferred.VOUCHER_JOBS_SETTLE_SECONDS = 1
    deferred.VOUCHER_JOBS_MAX_DEFER_SECONDS = 30
    done = []
    monkeypatch.setitem(jobs._handlers, "note", lambda n: done.append(n))
    first, second = jobs.enqueue("note", key="note:1", n=1), jobs.enqueue("note", key="note:2", n=2)
    now = timezone.now()

    def queued_ago(job, seconds):
        jobs.Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(seconds=seconds))

    assert jobs.work_once(yielding=True) is None  # both just queued: the rush goes first
    queued_ago(first, 29.5)
    assert jobs.work_once(yielding=True) is None  # the newest (second) still arriving
    queued_ago(first, 30.5)
    assert jobs.work_once(yielding=True).pk == first.pk  # waited its longest: taken anyway
    assert jobs.work_once(yielding=True) is None
    queued_ago(second, 1.5)  # nothing new for longer than the settle time
    assert jobs.work_once(yielding=True).pk == second.pk
    assert done == [1, 2]

    third = jobs.enqueue("note", key="note:3", n=3)
    assert jobs.work_all() == 1 and done == [1, 2, 3]  # --once: now, rush or not
    assert jobs.Job.objects.get(pk=third.pk).state == jobs.Job.DONE
