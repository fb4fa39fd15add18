"""The consumption worker's lease (issue 18 item 6, docs/workers.md): a worker killed with
kill -9 in the middle of a batch loses it within a lease, another worker takes it, and the
batch's rows are stored exactly once; a worker that lost its lease cannot store its result.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone

from voucher.core.models import AuditEntry
from voucher.platforms import actions, consumption
from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch

from .test_api_platforms import _submit, a, listed, platforms, screener  # noqa: F401
from .worker_support import start_worker

LEASE = "2"  # seconds; the default is 60
BEAT = "0.4"
GOOD_ROWS = 3  # the rows of test_api_platforms.FILE that count (one of four is bad)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def _stop(*workers) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_a_worker_killed_mid_batch_is_done_once_by_another_within_a_minute(
    a,  # noqa: F811
    listed,  # noqa: F811
    settings,
    tmp_path,
):
    batch_id = _submit(a).json()["id"]
    batch_dir = Path(settings.VOUCHER_PLATFORM_BATCH_DIR)  # the fixture's: the workers' too
    lease = {"VOUCHER_WORKER_LEASE_SECONDS": LEASE, "VOUCHER_WORKER_HEARTBEAT_SECONDS": BEAT}
    busy = tmp_path / "busy"
    first = start_worker(batch_dir, tmp_path / "first.log", slow=busy, **lease)
    second = None
    try:
        _wait_for(busy.exists, 60, "the first worker to start on the batch")
        # the first worker is in the middle of the batch; a second one serves the same queue
        second = start_worker(batch_dir, tmp_path / "second.log", **lease)
        time.sleep(3 * float(LEASE))  # three leases: the heartbeat renewed it all along
        batch = ConsumptionBatch.objects.get(pk=batch_id)
        assert (batch.status, batch.attempts) == ("running", 1), (
            tmp_path / "second.log"
        ).read_text()
        assert batch.leased_by.endswith(f":{first.pid}")
        assert batch.leased_until is not None and batch.leased_until > timezone.now()

        os.kill(first.pid, signal.SIGKILL)
        killed = time.monotonic()
        assert first.wait(timeout=10) == -signal.SIGKILL

        def finished():
            found = ConsumptionBatch.objects.get(pk=batch_id)
            return found if found.status not in ("queued", "running") else None

        batch = _wait_for(finished, 60, "another worker to take the killed worker's batch")
        recovery = time.monotonic() - killed
    finally:
        _stop(first, *([second] if second is not None else []))
    print(f"\nbatch {batch_id} recovered {recovery:.1f} s after kill -9 (lease {LEASE} s)")
    assert recovery < 60
    assert batch.status == "done" and batch.attempts == 2, batch.refusal
    assert batch.leased_by.endswith(f":{second.pid}")
    rows = ConsumptionAggregate.objects.filter(batch_id=batch_id).aggregate(rows=Sum("row_count"))
    assert rows["rows"] == GOOD_ROWS == batch.summary["rows_read"] - batch.summary["rows_rejected"]
    stored = AuditEntry.objects.filter(action="platform_batch_process", object_id=str(batch_id))
    assert stored.count() == 1


def test_a_worker_whose_lease_was_taken_over_stores_nothing(a, listed, monkeypatch):  # noqa: F811
    """The first worker stalls past its lease; a second takes the batch and stores it; the
    first then finishes reading and finds attempt 2 holds the batch: it stores nothing."""
    batch_id = _submit(a).json()["id"]
    ingest = consumption.ingest_file
    taken_over = []

    def stalled(*args, **kwargs):
        if not taken_over:  # the first worker, stalled: its lease runs out meanwhile
            taken_over.append(None)
            ConsumptionBatch.objects.filter(pk=batch_id).update(
                leased_until=timezone.now() - timedelta(seconds=1)
            )
            taken_over[0] = actions.batch_process()
        return ingest(*args, **kwargs)

    monkeypatch.setattr(consumption, "ingest_file", stalled)
    late = actions.batch_process(batch_id=batch_id)
    (second,) = taken_over
    assert second.status == "done" and second.attempts == 2
    assert late.pk == batch_id and late.attempts == 2  # what the late worker found
    assert ConsumptionAggregate.objects.filter(batch_id=batch_id).aggregate(
        rows=Sum("row_count")
    ) == {"rows": GOOD_ROWS}
    assert AuditEntry.objects.filter(action="platform_batch_process").count() == 1


def test_a_batch_under_a_live_lease_is_not_taken_and_an_expired_one_is(a, listed):  # noqa: F811
    first = _submit(a, key="k-1").json()["id"]
    ConsumptionBatch.objects.filter(pk=first).update(
        status="running", attempts=1, leased_until=timezone.now() + timedelta(seconds=30)
    )
    assert actions.batch_process() is None  # held: nothing to take
    ConsumptionBatch.objects.filter(pk=first).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    batch = actions.batch_process()
    assert batch.pk == first and batch.status == "done" and batch.attempts == 2
    assert batch.leased_until is None


def test_a_batch_that_lost_its_worker_every_time_fails_for_good(a, listed):  # noqa: F811
    """A file that kills every worker reading it (out of memory) is not taken for ever."""
    batch_id = _submit(a).json()["id"]
    ConsumptionBatch.objects.filter(pk=batch_id).update(
        status="running",
        attempts=actions.MAX_ATTEMPTS,
        leased_until=timezone.now() - timedelta(seconds=1),
    )
    batch = actions.batch_process()
    assert batch.pk == batch_id and batch.status == "failed"
    assert "lost its worker" in batch.refusal
    assert actions.batch_process() is None
    assert not ConsumptionAggregate.objects.exists()


def test_an_error_after_a_takeover_leaves_the_new_holder_s_claim_alone(a, listed, monkeypatch):  # noqa: F811
    batch_id = _submit(a).json()["id"]

    def taken_over_then_fails(*args, **kwargs):
        ConsumptionBatch.objects.filter(pk=batch_id).update(attempts=2)  # another worker's now
        raise OSError("disk gone")

    monkeypatch.setattr(consumption, "ingest_file", taken_over_then_fails)
    with pytest.raises(OSError):
        actions.batch_process(batch_id=batch_id)
    batch = ConsumptionBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.attempts, batch.refusal) == ("running", 2, "")
