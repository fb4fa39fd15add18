"""`voucher demo` holds the platform walkthrough: a token that works, a listed project, a
processed consumption batch, the direction-3 application in the bureau's queue with its
reconciliation, and settlement data on a direction-2 applicant's contract with one difference."""

from __future__ import annotations

import pytest
from django.test import Client

from voucher.demo import platforms as demo
from voucher.platforms import selectors
from voucher.platforms.models import ConsumptionBatch, ContractReconciliation


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    from voucher.applications.rounds import rounds_sync

    rounds_sync()
    lines: list[str] = []
    done = demo.demo_platforms(lines.append, "http://127.0.0.1:8000/")
    return done, lines


def test_the_demo_holds_the_direction_3_walkthrough(seeded):
    done, lines = seeded
    token = demo.token_text("modelscope")
    assert any(token in line for line in lines)  # printed
    client = Client(headers={"Authorization": f"Bearer {token}"})
    shortlist = client.get("/api/v1/shortlist").json()
    assert [e["external_id"] for e in shortlist] == [demo.D3_PROJECT_ID]
    assert done.batch is not None and done.batch.status == ConsumptionBatch.DONE
    application = done.d3_application
    assert application is not None and application.direction == 3
    assert application.state == "submitted"  # in the bureau's queue
    evaluation = application.evaluations.get()
    assert evaluation.outcome in ("eligible", "needs_review")
    (record,) = ContractReconciliation.objects.filter(application=application)
    flagged = [c for c in record.result["comparisons"] if c["flagged"]]
    assert [(c["kind"], c["difference"]) for c in flagged] == [("invoiced", "-100.00")]
    assert any(f"review/{application.pk}/" in line for line in lines)


def test_the_demo_holds_settlement_data_with_one_flagged_difference(seeded):
    done, _ = seeded
    application = done.settlement_application
    assert application is not None and application.direction == 2
    assert application.state == "submitted"
    assert done.settlement_batch is not None and done.settlement_batch.status == "done"
    (view,) = selectors.settlement_of(application)
    flagged = [c for c in view.comparisons if c["flagged"]]
    assert [(c["kind"], c["difference"]) for c in flagged] == [("settled_amount", "120.00")]
    client = Client(headers={"Authorization": f"Bearer {demo.token_text('demo-supplier')}"})
    status = client.get(f"/api/v1/settlement-batches/{done.settlement_batch.pk}")
    assert status.status_code == 200 and status.json()["kind"] == "settlement"


def test_the_demo_seeds_once(seeded):
    done, _ = seeded
    again = demo.demo_platforms_ensure()
    assert again.d3_application == done.d3_application
    assert again.batch == done.batch and again.settlement_batch == done.settlement_batch
    assert ConsumptionBatch.objects.count() == 2


def test_the_bureau_pays_the_demo_s_direction_3_application_through_the_same_workflow(
    seeded, django_user_model
):
    from datetime import timedelta

    from django.utils import timezone

    from voucher.review import actions as review

    from .review_support import consent_given, make_staff

    done, _ = seeded
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    application = done.d3_application
    assert application.evaluations.get().outcome == "eligible"
    for name in ("accept", "pass_formal_check"):
        application = review.application_transition(
            application=application, transition=name, acting_user=reviewer
        )
    consent_given(django_user_model, application)
    decision = review.decision_propose(
        application=application, kind="approval", acting_user=reviewer
    )
    assert decision.amount > 0
    review.decision_confirm(decision=decision, acting_user=approver)
    today = timezone.localdate()
    publicity = review.publicity_publish(
        round=application.round,
        applications=[application],
        starts_on=today,
        ends_on=today + timedelta(days=7),
        acting_user=approver,
    )
    # eight days later: the period is over
    type(publicity).objects.filter(pk=publicity.pk).update(
        starts_on=today - timedelta(days=8), ends_on=today - timedelta(days=1)
    )
    review.payment_record(
        application=application,
        paid_on=today,
        amount=decision.amount,
        reference="ZF-D3-1",
        acting_user=approver,
    )
    application.refresh_from_db()
    assert application.state == "paid"
