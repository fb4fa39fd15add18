"""The audit log as several chains (issue 23 item 3; docs/decisions/00xx-audit-partitions.md).

Writers append to partitions of their own, so they do not queue on one head row; verify still
finds a partition truncated with its head moved back, a partition deleted with its head, an
entry moved to another partition; the chain written before the partitions (version 2, one
head, checkpoints of one sequence) stays verifiable and is continued by partition 0. On
PostgreSQL, 8 writers with a connection each append 50 entries each at once: none lost, none
twice, every partition gapless, verify clean.
"""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from voucher.core import audit as audit_module
from voucher.core.audit import audit, verify_log
from voucher.core.models import KEYED, AuditChainHead, AuditEntry

THE_KEY = "p" * 32 + "a" * 32


@pytest.fixture(autouse=True)
def _keyed(settings, tmp_path):
    settings.VOUCHER_AUDIT_KEYS = [THE_KEY]
    settings.VOUCHER_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = 0
    settings.VOUCHER_AUDIT_PARTITIONS = 4
    return settings


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _spread(per_partition: int = 3) -> dict[int, list[AuditEntry]]:
    """Entries in partitions 0–3, as four writers would leave them."""
    written: dict[int, list[AuditEntry]] = {}
    for i in range(per_partition):
        for p in range(4):
            entry = audit_module._append(p, actor=None, action=f"a{p}", data={"i": i})
            written.setdefault(p, []).append(entry)
    return written


def _verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_partitions_verify_and_a_checkpoint_pins_every_head():
    written = _spread()
    assert [e.sequence for e in written[2]] == [1, 2, 3]
    assert written[2][0].previous_hash == "0" * 64
    assert written[2][1].previous_hash == written[2][0].entry_hash
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    heads = json.loads(out.getvalue().splitlines()[-1])["heads"]
    assert heads == {str(p): [3, written[p][-1].entry_hash] for p in range(4)}
    code, output = _verify()
    assert code == 0, output
    assert "12 条记录（4 个分区）" in output


@pytest.mark.django_db
def test_one_partition_truncated_and_its_head_moved_back_is_detected():
    written = _spread()
    call_command("audit", "checkpoint", stdout=io.StringIO())
    gone, kept = written[2][2], written[2][1]
    _sql("DELETE FROM core_auditentry WHERE id = %s", [gone.pk])
    _sql(
        "UPDATE core_auditchainhead SET last_sequence = 2, last_entry_id = %s, last_hash = %s"
        " WHERE partition = 2",
        [kept.pk, kept.entry_hash],
    )
    code, output = _verify()
    assert code == 1, output
    assert "分区 2 检查点" in output and "最新的记录被删除" in output
    assert "first bad sequence: 3 in partition 2" in output


@pytest.mark.django_db
def test_a_whole_partition_deleted_with_its_head_is_detected():
    _spread()
    call_command("audit", "checkpoint", stdout=io.StringIO())
    _sql("DELETE FROM core_auditentry WHERE partition = 1", [])
    _sql("DELETE FROM core_auditchainhead WHERE partition = 1", [])
    code, output = _verify()
    assert code == 1, output
    assert "日志只到第 0 条" in output and "first bad sequence: 1 in partition 1" in output


@pytest.mark.django_db
def test_an_entry_moved_to_another_partition_is_detected():
    """The HMAC covers the partition: an entry moved (and the chains re-linked by someone
    without the key) does not verify."""
    written = _spread(per_partition=1)
    moved = written[3][0]
    _sql("UPDATE core_auditentry SET partition = 1, sequence = 2 WHERE id = %s", [moved.pk])
    _sql(
        "UPDATE core_auditentry SET previous_hash = %s WHERE id = %s",
        [written[1][0].entry_hash, moved.pk],
    )
    _sql(
        "UPDATE core_auditchainhead SET last_sequence = 2, last_entry_id = %s, last_hash = %s"
        " WHERE partition = 1",
        [moved.pk, moved.entry_hash],
    )
    _sql("DELETE FROM core_auditchainhead WHERE partition = 3", [])
    problems = verify_log().problems
    assert any(
        p.partition == 1 and p.sequence == 2 and "内容与哈希不符" in p.what for p in problems
    )


@pytest.mark.django_db
def test_the_chain_written_before_the_partitions_stays_verifiable_and_is_continued():
    """What migration 0005 leaves: version 2 entries (their HMAC without a partition) and the
    one head row in partition 0, checkpoints of one sequence; new entries are version 3."""
    old = [audit_module._append(0, actor=None, action="old", data={"i": i}) for i in range(3)]
    key = audit_module.audit_keys()[0]
    previous = "0" * 64
    for entry in old:  # as the code before the partitions signed them
        entry.version, entry.previous_hash = KEYED, previous
        previous = audit_module.keyed_hash(entry, key.secret)
        _sql(
            "UPDATE core_auditentry SET version = 2, previous_hash = %s, entry_hash = %s"
            " WHERE id = %s",
            [entry.previous_hash, previous, entry.pk],
        )
    _sql("UPDATE core_auditchainhead SET last_hash = %s WHERE partition = 0", [previous])
    record = {  # a checkpoint line as the code before the partitions wrote it
        "sequence": 3,
        "entry_hash": previous,
        "time": "2026-12-06T00:00:00+00:00",
        "key_id": key.key_id,
        "previous": "",
    }
    record["mac"] = audit_module._checkpoint_mac(key.secret, record)
    path = audit_module.checkpoint_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(audit_module._canonical_json(record) + b"\n")
    assert verify_log().problems == []

    new = audit_module._append(0, actor=None, action="new")
    assert (new.sequence, new.previous_hash, new.version) == (4, previous, 3)
    audit_module._append(2, actor=None, action="elsewhere")
    call_command("audit", "checkpoint", stdout=io.StringIO())
    result = verify_log()
    assert result.problems == [] and result.checkpoints == 2 and result.partitions == 2

    # the old checkpoint still pins the old chain: an old entry rewritten is found
    _sql("UPDATE core_auditentry SET entry_hash = %s WHERE id = %s", ["f" * 64, old[2].pk])
    assert any("检查点" in p.what and p.sequence == 3 for p in verify_log().problems)


@pytest.mark.django_db
def test_a_version_2_entry_after_the_partitions_is_forged():
    """Version 2 leaves the partition out of the HMAC, so it is only accepted where the code
    before the partitions wrote it: partition 0, before any version 3 entry."""
    entry = audit_module._append(1, actor=None, action="x")
    _sql("UPDATE core_auditentry SET version = 2 WHERE id = %s", [entry.pk])
    problems = verify_log().problems
    assert problems and problems[0].partition == 1 and "伪造" in problems[0].what


def test_each_writer_thread_has_a_partition_of_its_own(settings):
    settings.VOUCHER_AUDIT_PARTITIONS = 16
    seen: list[int] = []

    def remember() -> None:
        seen.append(audit_module.writer_partition())
        seen.append(audit_module.writer_partition())  # stable for the writer

    threads = [threading.Thread(target=remember) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 8 and all(seen[i] == seen[i + 1] for i in range(0, 16, 2))


# --- concurrent writers on PostgreSQL --------------------------------------------------------

WRITERS, EACH = 8, 50


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers are tested on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lose_nothing_and_the_log_verifies(settings):
    settings.VOUCHER_AUDIT_PARTITIONS = 16
    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = 10  # checkpoints written while others write
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                with transaction.atomic():
                    audit(actor=None, action="concurrent", data={"writer": writer, "i": i})
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []

    rows = list(AuditEntry.objects.values_list("partition", "sequence", "data"))
    assert len(rows) == WRITERS * EACH
    written = sorted((d["writer"], d["i"]) for _, _, d in rows)
    assert written == [(w, i) for w in range(WRITERS) for i in range(EACH)]  # once each
    by_partition: dict[int, list[int]] = {}
    for partition, sequence, _ in rows:
        by_partition.setdefault(partition, []).append(sequence)
    assert len(by_partition) > 1  # the writers did not all queue on one head
    for sequences in by_partition.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
    heads = {h.partition: h.last_sequence for h in AuditChainHead.objects.all()}
    assert all(heads[p] == len(s) for p, s in by_partition.items())

    result = verify_log()
    assert result.problems == [] and result.entries == WRITERS * EACH
    assert result.checkpoints >= 8
    call_command("audit", "checkpoint", stdout=io.StringIO())
    assert _verify()[0] == 0
