"""Migration applications 0015 marks each application's latest evaluation seen by the bureau and
counts its review findings without an answer, for the evaluations stored before it; after
migrate, the applications without a count of open cross findings are counted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .conftest import application_from
from .review_support import put_in_state

BEFORE = [("applications", "0014_payees_and_payment_batches")]
AFTER = [("applications", "0015_season_pages_counts")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def latest_schema_afterwards():
    yield
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_counts_are_filled_for_what_was_stored_before(
    demo_data, django_user_model, latest_schema_afterwards
):
    from voucher.applications.actions import application_evaluate
    from voucher.applications.models import (
        Application,
        CrossFindingCount,
        FindingResolution,
        StoredEvaluation,
    )
    from voucher.review.crosscheck import cross_counts_missing, cross_items

    application = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    bureau = application_evaluate(application=application)
    reviews = [f for f in bureau.findings if f["status"] == "review"]
    assert reviews
    FindingResolution.objects.create(
        application=application,
        evaluation=bureau,
        rule=reviews[0]["rule"],
        contract=reviews[0].get("contract") or "",
        resolution="accept",
        reason="ok",
        resolved_by=django_user_model.objects.create_user("t-reviewer"),
    )
    put_in_state(application, "supplement_requested")
    during = application_evaluate(application=application)  # a correction in progress
    assert during.correction_in_progress

    _migrate(BEFORE)
    _migrate(AFTER)

    latest = set(StoredEvaluation.objects.filter(bureau_latest=True).values_list("pk", flat=True))
    assert bureau.pk in latest and during.pk not in latest
    with_evaluations = set(StoredEvaluation.objects.values_list("application_id", flat=True))
    assert len(latest) == len(with_evaluations)  # one per application
    assert StoredEvaluation.objects.get(pk=bureau.pk).review_open == len(reviews) - 1

    # the count of cross findings is made after migrate (post_migrate), on the latest schema
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    CrossFindingCount.objects.all().delete()
    cross_counts_missing()
    for a in Application.objects.exclude(state__in=("draft", "withdrawn")).select_related(
        "enterprise", "round"
    ):
        assert CrossFindingCount.objects.get(application=a).open == sum(
            1 for i in cross_items(a) if i.unresolved
        )
