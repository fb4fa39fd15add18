"""Two people deciding the same application at once, on PostgreSQL (row locks are real there):
exactly one wins, the other is told clearly that someone else was first."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from voucher.applications.models import Decision
from voucher.review import actions

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, put_in_state, tick_materials

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locking is tested on PostgreSQL (CI runs it)"
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def setup(transactional_db, django_user_model):
    from voucher.demo.examples import demo_load

    from .conftest import EXAMPLES_DIR

    demo_load(examples_dir=EXAMPLES_DIR)
    application = put_in_state(application_from("d4-small"), "in_review")
    users = {
        name: make_staff(django_user_model, name, role)
        for name, role in (
            ("r1", "bureau_reviewer"),
            ("r2", "bureau_reviewer"),
            ("a1", "bureau_approver"),
            ("a2", "bureau_approver"),
        )
    }
    tick_materials(application, users["r1"])  # an approval may be proposed
    return application, users


def test_two_approvers_confirming_at_once_one_wins(setup):
    application, users = setup
    decision = actions.decision_propose(
        application=application, kind="approval", acting_user=users["r1"]
    )
    results = _race(
        lambda: actions.decision_confirm(decision=decision, acting_user=users["a1"]),
        lambda: actions.decision_confirm(decision=decision, acting_user=users["a2"]),
    )
    wins = [r for r in results if isinstance(r, Decision)]
    conflicts = [r for r in results if isinstance(r, actions.ConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert "已被他人处理" in str(conflicts[0])
    application.refresh_from_db()
    assert application.state == "approved"
    assert Decision.objects.get().confirmed_by == wins[0].confirmed_by


def test_two_reviewers_proposing_at_once_one_wins(setup):
    application, users = setup
    results = _race(
        lambda: actions.decision_propose(
            application=application, kind="approval", acting_user=users["r1"]
        ),
        lambda: actions.decision_propose(
            application=application, kind="approval", acting_user=users["r2"]
        ),
    )
    wins = [r for r in results if isinstance(r, Decision)]
    conflicts = [r for r in results if isinstance(r, actions.ConflictError)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert "待复核" in str(conflicts[0])
    assert Decision.objects.count() == 1
