"""Stored evaluations: what the engine said, under which round and engine version."""

from __future__ import annotations

import pytest

from voucher.applications import actions, rounds
from voucher.applications.interchange import (
    application_export,
    application_import,
    document_sha256,
)
from voucher.applications.models import Application, PolicyRoundRecord, StoredEvaluation
from voucher.core.models import AuditEntry
from voucher.demo.examples import demo_load
from voucher.policy import ENGINE_VERSION
from voucher.policy.format import load_application_file
from voucher.policy.round import ROUNDS_DIR

from .conftest import EXAMPLES_DIR

pytestmark = pytest.mark.django_db

BATCH = EXAMPLES_DIR / "batch-two-directions"


def _import(*paths):
    return [application_import(document=load_application_file(p)) for p in paths]


def _fails(stored: StoredEvaluation) -> set[str]:
    return {f["rule"] for f in stored.findings if f["status"] == "fail"}


def test_rounds_sync_records_every_round_file_with_its_hash():
    import hashlib

    rounds.rounds_sync()
    rounds.rounds_sync()
    record = PolicyRoundRecord.objects.get(code="bj-2026")
    sha = hashlib.sha256((ROUNDS_DIR / "bj-2026.toml").read_bytes()).hexdigest()
    assert record.source_sha256 == sha
    assert str(record.window_start) == "2025-09-08"
    assert PolicyRoundRecord.objects.count() == 1
    assert AuditEntry.objects.filter(action="rounds_sync").count() == 2


def test_application_evaluate_stores_the_round_the_engine_version_and_the_document_hash():
    (application,) = _import(EXAMPLES_DIR / "d2-common-shareholder-review" / "application.json")

    stored = actions.application_evaluate(application=application)

    assert stored.round_code == "bj-2026"
    assert stored.engine_version == ENGINE_VERSION
    assert stored.outcome == "needs_review"
    assert str(stored.approved_max) == "600000.00"
    assert stored.requested is None
    assert stored.document_sha256 == document_sha256(application_export(application))
    assert any(f["rule"] == "SUPPLIER_EQUITY" and f["status"] == "review" for f in stored.findings)
    entry = AuditEntry.objects.get(action="application_evaluate")
    assert entry.object_id == str(application.pk)
    assert entry.data["engine_version"] == ENGINE_VERSION
    assert entry.actor is None and entry.actor_label == "system"


def test_the_acting_user_is_in_the_audit_entry(admin_user):
    (application,) = _import(EXAMPLES_DIR / "d4-small" / "application.json")
    actions.application_evaluate(application=application, acting_user=admin_user)
    entry = AuditEntry.objects.get(action="application_evaluate")
    assert entry.actor == admin_user
    assert entry.actor_label == admin_user.username


def test_round_evaluate_all_judges_one_direction_across_the_round():
    first, second, other = _import(*sorted(BATCH.glob("application*.json")))

    stored = {s.application_id: s for s in actions.round_evaluate_all(round_code="bj-2026")}

    assert "ONE_DIRECTION" not in _fails(stored[first.pk])
    assert "ONE_DIRECTION" in _fails(stored[second.pk])
    assert stored[second.pk].outcome == "ineligible"
    assert str(stored[second.pk].approved_max) == "0.00"
    assert "ONE_DIRECTION" not in _fails(stored[other.pk])
    assert AuditEntry.objects.filter(action="round_evaluate_all").count() == 1


def test_evaluating_one_application_alone_still_sees_the_rest_of_the_round():
    first, second, _other = _import(*sorted(BATCH.glob("application*.json")))

    later = actions.application_evaluate(application=second)
    earlier = actions.application_evaluate(application=first)

    assert "ONE_DIRECTION" in _fails(later)
    assert "ONE_DIRECTION" not in _fails(earlier)


def test_the_demo_loads_the_examples_once_and_evaluates_each_folder_on_its_own():
    first = demo_load(examples_dir=EXAMPLES_DIR)
    again = demo_load(examples_dir=EXAMPLES_DIR)

    files = sorted(EXAMPLES_DIR.glob("*/application*.json"))
    assert len(first.imported) == len(files)
    assert again.imported == []
    assert len(again.existing) == len(files)
    assert again.evaluated == []
    assert Application.objects.count() == len(files)
    assert StoredEvaluation.objects.count() == len(files)
    review = Application.objects.get(
        source_name="examples/d2-common-shareholder-review/application.json"
    )
    assert review.evaluations.get().outcome == "needs_review"


def test_one_application_is_judged_against_its_enterprise_s_others_only(monkeypatch):
    """A submission's evaluation reads the round's other applications of the same enterprise
    (all ONE_DIRECTION compares), not the whole round: its cost does not grow with the round."""
    first, second, other = _import(*sorted(BATCH.glob("application*.json")))
    seen = []
    real = actions.evaluate

    def spy(documents, policy_round, context):
        seen.append(context.other_submissions)
        return real(documents, policy_round, context)

    monkeypatch.setattr(actions, "evaluate", spy)
    later = actions.application_evaluate(application=second)

    assert "ONE_DIRECTION" in _fails(later)  # the same enterprise's first is still seen
    (others,) = seen
    assert [o.reference for o in others] == [first.reference]
    assert other.enterprise.uscc != first.enterprise.uscc


def test_exporting_an_application_reads_its_contracts_rows_in_a_fixed_number_of_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voucher.applications.models import Contract

    (application,) = _import(EXAMPLES_DIR / "d4-small" / "application.json")
    application = Application.objects.select_related("round", "enterprise").get(pk=application.pk)
    with CaptureQueriesContext(connection) as one:
        before = application_export(application)
    first = Contract.objects.filter(application=application).first()
    for n in range(4):  # four more contracts, each with its rows, copied from the first
        rows = {
            kind: list(getattr(first, kind).all())
            for kind in ("deliveries", "invoices", "payments", "other_subsidies")
        }
        copy = Contract.objects.get(pk=first.pk)
        copy.pk = None
        copy.contract_id = f"{first.contract_id}-copy{n}"
        copy.position = 10 + n
        copy.save()
        for objects in rows.values():
            for row in objects:
                row.pk = None
                row.contract = copy
                row.save()
    with CaptureQueriesContext(connection) as five:
        after = application_export(application)
    assert len(after.contracts) == len(before.contracts) + 4
    assert len(five.captured_queries) == len(one.captured_queries)
