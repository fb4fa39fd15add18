"""Migration applications 0005 marks the evaluations already stored of a correction in progress
(补正 not yet resubmitted), where they could show as the latest to the bureau."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from .conftest import application_from
from .review_support import put_in_state

BEFORE = [("applications", "0004_storedevaluation_parameters_sha256")]
AFTER = [("applications", "0005_storedevaluation_correction_in_progress")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def latest_schema_afterwards():
    """The test migrates back and forward to 0005 only: afterwards every app's latest migration
    again, for the tests that follow in this process (later migrations change the schema)."""
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_evaluations_since_the_latest_supplement_request_are_marked(
    demo_data, django_user_model, latest_schema_afterwards
):
    from voucher.applications.actions import application_evaluate
    from voucher.applications.models import Snapshot, StoredEvaluation, SupplementRequest

    def evaluated_at(application, when):
        stored = application_evaluate(application=application)
        StoredEvaluation.objects.filter(pk=stored.pk).update(created_at=when)
        return stored.pk

    now = timezone.now()
    draft = put_in_state(application_from("d4-small"), "draft")
    returned = put_in_state(application_from("d2-threshold-exact"), "in_review")
    in_review = put_in_state(application_from("d1-cap-binds"), "in_review")
    # the bureau's evaluations: the demo's, and one between the two requests
    StoredEvaluation.objects.filter(application=returned).update(created_at=now - timedelta(days=6))
    bureau = evaluated_at(returned, now - timedelta(days=3))
    for request_at in (now - timedelta(days=5), now - timedelta(days=2)):  # the latest counts
        Snapshot.objects.filter(
            pk=Snapshot.objects.create(
                application=returned, transition="request_supplement", document={}, sha256="x"
            ).pk
        ).update(created_at=request_at)
    put_in_state(returned, "supplement_requested")
    self_checks = [evaluated_at(returned, now - timedelta(days=1)), evaluated_at(returned, now)]
    # a request on record without its snapshot
    requested_only = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    StoredEvaluation.objects.filter(application=requested_only).update(
        created_at=now - timedelta(days=4)
    )
    request = SupplementRequest.objects.create(
        application=requested_only,
        requested_by=django_user_model.objects.create_user("t-reviewer"),
        due_on=now.date() + timedelta(days=5),
    )
    SupplementRequest.objects.filter(pk=request.pk).update(requested_at=now - timedelta(days=2))
    put_in_state(requested_only, "supplement_requested")
    self_checks.append(evaluated_at(requested_only, now - timedelta(days=1)))
    kept = set(StoredEvaluation.objects.filter(application=in_review).values_list("pk", flat=True))
    drafts = set(draft.evaluations.values_list("pk", flat=True))  # imported, the bureau's own
    assert kept and drafts
    StoredEvaluation.objects.update(correction_in_progress=False)  # as every row was before 0005

    _migrate(BEFORE)
    _migrate(AFTER)

    marked = set(
        StoredEvaluation.objects.filter(correction_in_progress=True).values_list("pk", flat=True)
    )
    assert marked == set(self_checks)
    assert bureau not in marked and not marked & (kept | drafts)
