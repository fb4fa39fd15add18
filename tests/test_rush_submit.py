"""A deadline rush (issue 18 item 9): what one submission's request costs, and that it no longer
waits for the other submissions of its round. The guarantees are tested beside them
(tests/test_submission_jobs.py: exactly once, fail closed, the audit entry)."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .portal_helpers import post_step
from .test_submission_jobs import _ready_draft, deferred  # noqa: F401 (a fixture)

# The submission's POST, on the draft of tests/test_submission_jobs.py: the session, the user,
# the access check, the row lock (with the steps done and the report), what blocks a submission
# and the document it freezes (the contracts with each kind of row, the registry's rows, the
# materials), the transition, the receipt, the audit entry, the job: 26 (36 before issue 18
# item 9).
SUBMIT_QUERIES = 26


@pytest.mark.django_db
def test_the_submission_asks_the_database_no_more_than_it_must(deferred, client):  # noqa: F811
    from django.test.utils import CaptureQueriesContext

    from voucher.core import jobs
    from voucher.core.models import AuditEntry
    from voucher.portal.models import Submission

    app, _user = _ready_draft(client)
    with CaptureQueriesContext(connection) as captured:
        response = post_step(client, app, "submit", {"confirm": "on"})
    assert response.status_code == 302
    queries = [q["sql"] for q in captured.captured_queries]
    # post_step reads the version first (refresh_from_db): not the request's
    assert len(queries) - 1 <= SUBMIT_QUERIES, "\n".join(queries)
    # read once each
    read = [q for q in queries if q.startswith("SELECT")]
    assert sum('FROM "applications_contract"' in q for q in read) == 1
    # the steps and the report are read with the locked row
    assert not [q for q in read if 'FROM "portal_draftprogress"' in q]
    assert not [q for q in read if 'FROM "documents_implementationreport"' in q]
    assert sum('FROM "accounts_membership"' in q for q in read) <= 1
    assert sum('FROM "core_job"' in q for q in read) == 0
    # the row written once, by the one transition function
    assert sum(q.startswith('UPDATE "applications_application"') for q in queries) == 1
    app.refresh_from_db()
    assert app.state == "submitted" and app.evaluation_pending and app.submitted_on
    assert "submit" in app.portal_progress.steps_done
    assert Submission.objects.filter(application=app).count() == 1
    assert AuditEntry.objects.filter(action="application_submit", object_id=str(app.pk)).count()
    assert jobs.Job.objects.filter(kind="submission_evaluate").count() == 1


@pytest.mark.django_db
def test_the_version_moves_on_by_one_as_any_save_of_a_step(deferred, client):  # noqa: F811
    app, _user = _ready_draft(client)
    before = app.version
    post_step(client, app, "submit", {"confirm": "on"})
    app.refresh_from_db()
    assert app.version == before + 1


@pytest.mark.django_db
def test_a_job_queued_new_is_one_insert_and_never_twice(settings):
    from voucher.core import jobs

    settings.VOUCHER_JOBS_INLINE = False
    jobs.register("rush_test", lambda **payload: None)
    job = jobs.enqueue_new("rush_test", key="rush_test:1", n=1)
    assert (job.kind, job.payload, job.state) == ("rush_test", {"n": 1}, jobs.Job.QUEUED)
    with pytest.raises(IntegrityError), transaction.atomic():
        jobs.enqueue_new("rush_test", key="rush_test:1", n=1)
    assert jobs.Job.objects.filter(key="rush_test:1").count() == 1
    with pytest.raises(LookupError):
        jobs.enqueue_new("no_such_kind", key="x")


@pytest.mark.django_db
def test_a_job_queued_new_is_done_at_once_inline(settings):
    from voucher.core import jobs

    settings.VOUCHER_JOBS_INLINE = True
    done = []
    jobs.register("rush_test_inline", lambda **payload: done.append(payload))
    job = jobs.enqueue_new("rush_test_inline", key="rush_test_inline:1", n=2)
    assert done == [{"n": 2}]
    assert (job.state, job.attempts, job.leased_by) == (jobs.Job.DONE, 1, "inline")


@pytest.mark.django_db
def test_the_applicant_is_asked_once_of_a_locked_row_and_each_time_of_another(deferred, client):  # noqa: F811
    from django.test.utils import CaptureQueriesContext

    from voucher.applications import lifecycle
    from voucher.applications import permissions as p
    from voucher.applications.models import Membership

    app, user = _ready_draft(client)
    with transaction.atomic():
        locked = lifecycle.lock(app)
        with CaptureQueriesContext(connection) as captured:
            assert p.can_transition(user, locked, "submit").allowed
            assert p.can_transition(user, locked, "submit").allowed
        memberships = [q for q in captured.captured_queries if "accounts_membership" in q["sql"]]
        assert len(memberships) == 1
    # an application object that is not a locked row asks each time: a member removed is no
    # longer the applicant
    assert p.can_transition(user, app, "submit").allowed
    Membership.objects.filter(user=user).delete()
    assert not p.can_transition(user, app, "submit").allowed


# --- the contracts' rows without prefetch_related ----------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(doc=st.deferred(lambda: _applications()), data=st.data())
@pytest.mark.django_db
def test_the_rows_read_by_kind_export_as_the_prefetched_rows(doc, data):
    """contract_rows (one query a kind, grouped by contract) gives the very document the
    prefetched rows give, whatever the order of the rows' positions against their ids."""
    from voucher.applications import models as m
    from voucher.applications.interchange import (
        EXPORTED_CONTRACT_ROWS,
        ContractRows,
        application_export,
        application_import,
        contract_rows,
    )
    from voucher.policy.format import dumps_application

    from .builders import build

    stored = application_import(document=build(doc))
    # positions that disagree with the ids: the order is the position's
    for model in (m.Delivery, m.Invoice, m.Payment, m.OtherSubsidy):
        rows = list(model.objects.filter(contract__application=stored).order_by("id"))
        order = data.draw(st.permutations(range(len(rows))))
        for row, position in zip(rows, order, strict=True):
            model.objects.filter(pk=row.pk).update(position=position)
    fresh = m.Application.objects.select_related("round", "enterprise").get(pk=stored.pk)
    prefetched = list(fresh.contracts.prefetch_related(*EXPORTED_CONTRACT_ROWS))
    read = contract_rows(fresh)
    assert isinstance(read, ContractRows)
    assert [c.pk for c in read.contracts] == [c.pk for c in prefetched]
    assert dumps_application(application_export(fresh, read)) == dumps_application(
        application_export(fresh, prefetched)
    )
    # and the export that reads them itself
    assert application_export(fresh) == application_export(fresh, prefetched)


def _applications():
    from .strategies import applications

    return applications()


# --- the row lock ---------------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locking is tested on PostgreSQL (CI runs it)"
)
@pytest.mark.django_db(transaction=True)
def test_locking_an_application_does_not_lock_its_round_nor_its_enterprise():
    """Two applications of one round, locked at once: neither waits for the other (PostgreSQL
    locks every row a FOR UPDATE query joins unless told which). Before, every submission of a
    round waited for the one before it to commit."""
    from voucher.applications import lifecycle
    from voucher.applications.interchange import application_import
    from voucher.applications.models import Enterprise, PolicyRoundRecord
    from voucher.policy.format import load_application_file

    from .conftest import EXAMPLES_DIR

    first = application_import(
        document=load_application_file(EXAMPLES_DIR / "d1-cap-binds" / "application.json")
    )
    second = application_import(
        document=load_application_file(EXAMPLES_DIR / "d4-small" / "application.json")
    )
    assert first.round_id == second.round_id
    held, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_first():
        try:
            with transaction.atomic():
                lifecycle.lock(first)
                held.set()
                done.wait(timeout=30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold_first)
    thread.start()
    try:
        assert held.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            lifecycle.lock(second)  # would wait for the round's row, then time out
            # nor are the round's and the enterprise's rows locked for their own writers
            PolicyRoundRecord.objects.filter(pk=first.round_id).update(title="x")
            Enterprise.objects.filter(pk=first.enterprise_id).update(name=first.enterprise.name)
    finally:
        done.set()
        thread.join(timeout=30)
    assert not errors


@pytest.mark.django_db
def test_the_status_page_reads_the_lines_as_each_contract_would(deferred, client):  # noqa: F811
    """The page after a submission reads the contracts' rows once a kind (contract_rows): each
    contract's lines, with the supplier's word on each, are those it reads of itself."""
    from django.urls import reverse

    from voucher.applications import supplier
    from voucher.applications.models import Contract
    from voucher.portal import selectors

    app, _user = _ready_draft(client)
    post_step(client, app, "submit", {"confirm": "on"})
    read = selectors.contracts_with_rows(app, exported=False)
    words = supplier.words_of(read.contracts)
    for contract in read.contracts:
        fresh = Contract.objects.get(pk=contract.pk)
        assert supplier.lines_of(contract, words[contract.pk], read) == supplier.lines_of(fresh)
    assert read.contracts and any(read.of(c, "deliveries") for c in read.contracts)
    page = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert "评估中" in page
