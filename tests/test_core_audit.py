"""The audit log is append-only, keyed and checkpointed: tampering in the database is detected.

The four attacks of issue 18 item 4 (truncation with the head moved back, everything deleted,
an edited row re-linked with the project's own hash function, a changed actor_id) are written
with the database and the public functions only, so they run against the code before the key
and the checkpoints too, where `voucher audit verify` said "完整" to each of them.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from voucher.core import audit as audit_module
from voucher.core.audit import audit, verify_chain
from voucher.core.models import AppendOnlyError, AuditChainHead, AuditEntry

pytestmark = pytest.mark.django_db

THE_KEY = "k" * 16 + "e" * 16 + "y" * 32  # the operator's key; the attacker does not have it
RETIRED_KEY = "r" * 64


@pytest.fixture(autouse=True)
def _keyed_and_checkpointed(settings, tmp_path):
    settings.VOUCHER_AUDIT_KEYS = [THE_KEY]
    settings.VOUCHER_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = 0
    # the attacks below are written against one chain; tests/test_audit_partitions.py runs
    # them across several partitions and with concurrent writers
    settings.VOUCHER_AUDIT_PARTITIONS = 1
    return settings


def _log(n: int = 3, actor=None) -> list[AuditEntry]:
    return [
        audit(actor=actor, action=f"step_{i}", data={"i": i, "amount": "1.00"}) for i in range(n)
    ]


def _checkpointed_log(settings, capture, n: int = 5, every: int = 1, actor=None):
    """A log of n entries, a checkpoint written every `every` entries after each commit."""
    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = every
    entries = []
    for i in range(n):
        with capture(execute=True), transaction.atomic():
            entries.append(audit(actor=actor, action=f"step_{i}", data={"i": i}))
    return entries


def _verify() -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _move_head_to(entry: AuditEntry | None) -> None:
    """What an attacker with the database does after deleting the newest entries: every column
    of the head row put back to the entry that is now the last."""
    columns = {f.column for f in AuditChainHead._meta.fields}
    _sql(
        "UPDATE core_auditchainhead SET last_entry_id = %s, last_hash = %s",
        [entry.pk if entry else None, entry.entry_hash if entry else "0" * 64],
    )
    if "last_sequence" in columns:
        _sql("UPDATE core_auditchainhead SET last_sequence = %s", [entry.sequence if entry else 0])


def _relink_from(entry_id: int) -> None:
    """Recompute the hash of this entry and of every later one with the project's own hash
    function (`entry_hash`), and link each to the one before: what the issue did."""
    rows = list(AuditEntry.objects.order_by("id"))
    previous = "0" * 64
    for row in rows:
        if row.pk >= entry_id:
            new_hash = audit_module.entry_hash(
                previous_hash=previous,
                created_at=row.created_at,
                actor_label=row.actor_label,
                action=row.action,
                object_type=row.object_type,
                object_id=row.object_id,
                object_repr=row.object_repr,
                data=row.data,
            )
            _sql(
                "UPDATE core_auditentry SET previous_hash = %s, entry_hash = %s WHERE id = %s",
                [previous, new_hash, row.pk],
            )
            row.entry_hash = new_hash
        previous = row.entry_hash
    _sql("UPDATE core_auditchainhead SET last_hash = %s", [previous])


# --- a log nobody touched -------------------------------------------------------------------


def test_an_untouched_log_verifies(settings, django_capture_on_commit_callbacks):
    entries = _checkpointed_log(settings, django_capture_on_commit_callbacks, n=4, every=2)
    assert entries[0].previous_hash == "0" * 64
    assert entries[1].previous_hash == entries[0].entry_hash
    assert [e.sequence for e in entries] == [1, 2, 3, 4]
    assert {e.version for e in entries} == {3}
    assert list(verify_chain()) == []
    code, output = _verify()
    assert code == 0
    assert "操作日志完整：4 条记录" in output and "与 2 个检查点相符" in output


def test_verify_on_an_empty_database_without_checkpoints_passes():
    assert not AuditEntry.objects.exists()
    assert list(verify_chain()) == []
    code, output = _verify()
    assert code == 0 and "操作日志完整：0 条记录" in output


def test_the_application_cannot_change_or_delete_an_entry():
    entry = _log(1)[0]
    entry.action = "something_else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_a_user_who_acted_is_deactivated_not_deleted(django_user_model):
    from django.db.models import ProtectedError

    user = django_user_model.objects.create_user("acted", password="pw-acted")
    _log(1, actor=user)
    with pytest.raises(ProtectedError):
        user.delete()


# --- tampering the chain finds on its own -----------------------------------------------------


def test_an_entry_edited_in_the_database_is_detected():
    entries = _log()
    _sql(
        "UPDATE core_auditentry SET data = %s WHERE id = %s",
        ['{"i": 1, "amount": "9999.00"}', entries[1].pk],
    )
    problems = list(verify_chain())
    assert [p.entry_id for p in problems] == [entries[1].pk]
    assert problems[0].sequence == 2
    assert _verify()[0] == 1


def test_an_entry_deleted_from_the_middle_is_detected():
    entries = _log()
    _sql("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    problems = list(verify_chain())
    assert problems[0].sequence == 2 and "缺失" in problems[0].what
    assert entries[2].pk in [p.entry_id for p in problems]


def test_the_newest_entry_deleted_is_detected_through_the_chain_head():
    entries = _log()
    _sql("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])
    problems = list(verify_chain())
    assert len(problems) == 1
    assert "最新的记录被删除" in problems[0].what and problems[0].sequence == 3


def test_an_actor_relabelled_in_the_database_is_detected():
    entries = _log()
    _sql("UPDATE core_auditentry SET actor_label = %s WHERE id = %s", ["someone", entries[0].pk])
    assert next(p.entry_id for p in verify_chain()) == entries[0].pk


# --- the four attacks of issue 18 item 4 ------------------------------------------------------


def test_attack_newest_entries_deleted_and_the_head_moved_back(
    settings, django_capture_on_commit_callbacks
):
    entries = _checkpointed_log(settings, django_capture_on_commit_callbacks, n=5)
    _sql("DELETE FROM core_auditentry WHERE id IN (%s, %s)", [entries[3].pk, entries[4].pk])
    _move_head_to(entries[2])
    code, output = _verify()
    assert code == 1, output
    assert "最新的记录被删除" in output and "first bad sequence: 4" in output


def test_attack_every_entry_and_the_head_deleted(settings, django_capture_on_commit_callbacks):
    _checkpointed_log(settings, django_capture_on_commit_callbacks, n=3)
    _sql("DELETE FROM core_auditentry", [])
    _sql("DELETE FROM core_auditchainhead", [])
    code, output = _verify()
    assert code == 1, output
    assert "日志只到第 0 条" in output and "first bad sequence: 1" in output


def test_attack_a_row_edited_and_the_rest_relinked_with_the_projects_hash_function():
    entries = _log(4)
    _sql(
        "UPDATE core_auditentry SET data = %s WHERE id = %s",
        ['{"i": 1, "amount": "9999.00"}', entries[1].pk],
    )
    _relink_from(entries[1].pk)
    code, output = _verify()
    assert code == 1, output
    assert "first bad sequence: 2" in output


def test_attack_actor_id_changed(django_user_model):
    alice = django_user_model.objects.create_user("alice", password="pw-alice")
    mallory = django_user_model.objects.create_user("mallory", password="pw-mallory")
    entries = _log(3, actor=alice)
    _sql("UPDATE core_auditentry SET actor_id = %s WHERE id = %s", [mallory.pk, entries[1].pk])
    code, output = _verify()
    assert code == 1, output
    assert "first bad sequence: 2" in output


# --- what an attacker might try next --------------------------------------------------------


def test_relinking_with_a_guessed_key_is_detected():
    """The attacker has the code and re-signs with a key of their own (or the development key
    derived from the default SECRET_KEY): the key id or the HMAC gives them away."""
    entries = _log(3)
    guessed = audit_module._keys_from((), "dev-only-insecure-key-change-me")[0]
    own = audit_module._keys_from(("a" * 64,), "")[0]
    for key in (guessed, own, audit_module.AuditKey(entries[0].key_id, b"x" * 32, False)):
        previous = "0" * 64
        for entry in AuditEntry.objects.order_by("sequence"):
            entry.key_id, entry.previous_hash = key.key_id, previous
            previous = audit_module.keyed_hash(entry, key.secret)
            _sql(
                "UPDATE core_auditentry SET key_id = %s, previous_hash = %s, entry_hash = %s"
                " WHERE id = %s",
                [key.key_id, entry.previous_hash, previous, entry.pk],
            )
        _sql("UPDATE core_auditchainhead SET last_hash = %s", [previous])
        problems = list(verify_chain())
        assert problems and problems[0].sequence == 1, key


def test_the_whole_log_rewritten_as_legacy_entries_is_caught_by_the_checkpoints(
    settings, django_capture_on_commit_callbacks
):
    entries = _checkpointed_log(settings, django_capture_on_commit_callbacks, n=3, every=3)
    _sql("UPDATE core_auditentry SET version = 1, key_id = ''", [])
    _sql("UPDATE core_auditentry SET data = %s WHERE id = %s", ['{"i": 99}', entries[0].pk])
    _relink_from(entries[0].pk)
    problems = list(verify_chain())
    assert any("检查点" in p.what and p.sequence == 3 for p in problems), problems


def test_a_legacy_entry_after_keyed_ones_is_forged():
    _log(2)
    _sql("UPDATE core_auditentry SET version = 1 WHERE sequence = 2", [])
    last = AuditEntry.objects.get(sequence=2)
    _sql(
        "UPDATE core_auditentry SET entry_hash = %s WHERE id = %s",
        [audit_module._legacy_hash_of(last), last.pk],
    )
    _sql("UPDATE core_auditchainhead SET last_hash = %s", [audit_module._legacy_hash_of(last)])
    problems = list(verify_chain())
    assert problems[0].sequence == 2 and "旧格式" in problems[0].what


# --- the checkpoint file --------------------------------------------------------------------


def _checkpoint_lines(settings) -> list[str]:
    return (settings.VOUCHER_AUDIT_CHECKPOINT_DIR / "checkpoints.jsonl").read_text().splitlines()


def _write_lines(settings, lines: list[str]) -> None:
    (settings.VOUCHER_AUDIT_CHECKPOINT_DIR / "checkpoints.jsonl").write_text(
        "".join(line + "\n" for line in lines)
    )


def test_a_checkpoint_edited_to_match_a_truncated_log_is_detected(
    settings, django_capture_on_commit_callbacks
):
    entries = _checkpointed_log(settings, django_capture_on_commit_callbacks, n=4)
    _sql("DELETE FROM core_auditentry WHERE id = %s", [entries[3].pk])
    _move_head_to(entries[2])
    lines = _checkpoint_lines(settings)
    last = json.loads(lines[-1])
    last.update(sequence=3, entry_hash=entries[2].entry_hash)
    _write_lines(settings, [*lines[:-1], json.dumps(last)])
    code, output = _verify()
    assert code == 1 and "签名不符" in output, output


def test_a_checkpoint_line_removed_or_damaged_is_detected(
    settings, django_capture_on_commit_callbacks
):
    _checkpointed_log(settings, django_capture_on_commit_callbacks, n=3)
    lines = _checkpoint_lines(settings)
    _write_lines(settings, [lines[0], lines[2]])
    problems = list(verify_chain())
    assert len(problems) == 1 and "检查点被删除或插入" in problems[0].what
    _write_lines(settings, [*lines, "{not json"])
    assert "无法读取" in _verify()[1]


def test_a_checkpoint_is_written_every_n_entries_and_never_for_a_rollback(
    settings, django_capture_on_commit_callbacks
):
    _checkpointed_log(settings, django_capture_on_commit_callbacks, n=6, every=3)
    rollback = pytest.raises(RuntimeError)
    with django_capture_on_commit_callbacks(execute=True), rollback, transaction.atomic():
        _log(3)  # sequences 7, 8, 9: the 9th would be checkpointed, but it is rolled back
        raise RuntimeError
    pinned = [json.loads(line)["heads"] for line in _checkpoint_lines(settings)]
    assert [[seq for seq, _ in heads.values()] for heads in pinned] == [[3], [6]]
    assert _verify()[0] == 0


def test_voucher_audit_checkpoint_pins_the_head_and_an_empty_log():
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    assert "第 0 条" in out.getvalue()
    entries = _log(2)
    call_command("audit", "checkpoint", stdout=out)
    heads = json.loads(out.getvalue().splitlines()[-1])["heads"]
    assert heads == {str(entries[1].partition): [2, entries[1].entry_hash]}
    assert _verify()[0] == 0


# --- legacy entries and key rotation --------------------------------------------------------


def _make_legacy(entries: list[AuditEntry]) -> None:
    """What migration 0003 leaves: the entries written before the key, version 1, unkeyed (and
    migration 0005 puts them in partition 0)."""
    _sql("UPDATE core_auditentry SET version = 1, key_id = '', partition = 0", [])
    _sql("UPDATE core_auditchainhead SET partition = 0", [])
    _relink_from(entries[0].pk)


def test_legacy_entries_verify_and_are_re_anchored_by_the_first_checkpoint():
    entries = _log(3)
    _make_legacy(entries)
    code, output = _verify()
    assert code == 0 and "尚无检查点固定" in output
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    anchor = AuditEntry.objects.get(sequence=4)
    assert anchor.action == "audit_reanchor" and anchor.version == 3
    assert anchor.data == {"legacy_entries": 3, "legacy_head": anchor.previous_hash}
    code, output = _verify()
    assert code == 0 and "尚无检查点固定" not in output, output
    # the legacy part is pinned now: rewriting it and re-linking no longer goes through
    _sql("UPDATE core_auditentry SET action = 'other' WHERE id = %s", [entries[0].pk])
    _relink_from(entries[0].pk)
    assert _verify()[0] == 1


def test_a_rotated_key_still_verifies_while_the_retired_key_is_listed(settings):
    settings.VOUCHER_AUDIT_KEYS = [RETIRED_KEY]
    _log(2)
    settings.VOUCHER_AUDIT_KEYS = [THE_KEY, RETIRED_KEY]
    _log(2)
    call_command("audit", "checkpoint", stdout=io.StringIO())
    assert list(verify_chain()) == []
    settings.VOUCHER_AUDIT_KEYS = [THE_KEY]
    problems = list(verify_chain())
    assert [p.sequence for p in problems] == [1, 2] and "未配置" in problems[0].what


# --- the command line -----------------------------------------------------------------------


def _run(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "voucher", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_voucher_audit_verify_prints_chinese_and_exits_1_on_tampering(tmp_path):
    # through the real command line, against a database of its own
    env = {
        "VOUCHER_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "VOUCHER_AUDIT_KEY": THE_KEY,
        "VOUCHER_AUDIT_PARTITIONS": "1",
        "VOUCHER_DEV": "1",  # a development machine's database (the settings: docs/operations.md)
    }
    assert _run(env, "migrate", "-v", "0").returncode == 0
    code = "from voucher.core.audit import audit; [audit(actor=None, action='a') for _ in range(3)]"
    assert _run(env, "shell", "-c", code).returncode == 0
    checkpoint = _run(env, "audit", "checkpoint")
    assert checkpoint.returncode == 0 and "第 3 条" in checkpoint.stdout
    assert (tmp_path / "audit-checkpoints" / "checkpoints.jsonl").exists()
    ok = _run(env, "audit", "verify")
    assert ok.returncode == 0 and "操作日志完整：3 条记录" in ok.stdout

    with sqlite3.connect(tmp_path / "voucher.sqlite3") as db:
        db.execute("UPDATE core_auditentry SET action = 'b' WHERE sequence = 2")
        db.execute("DELETE FROM core_auditentry WHERE sequence = 3")
        db.execute(
            "UPDATE core_auditchainhead SET last_sequence = 2, last_entry_id = 2, last_hash ="
            " (SELECT entry_hash FROM core_auditentry WHERE sequence = 2)"
        )
    bad = _run(env, "audit", "verify")
    assert bad.returncode == 1
    assert "内容与哈希不符" in bad.stderr and "最新的记录被删除" in bad.stderr
    assert "第一处问题在第 2 条" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    env = {
        "VOUCHER_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "k3y-Of-pr0duction-" + "abcdefghijklmnopqrstuvwxyz0123456789",
        "VOUCHER_SIGN_DOCUMENTS": "0",  # this test is about the audit key (decision 0023)
    }
    refused = _run(env, "check")
    assert refused.returncode != 0 and "VOUCHER_AUDIT_KEY" in refused.stderr
    key_file = tmp_path / "audit.key"
    key_file.write_text(f"{THE_KEY}\n{RETIRED_KEY}\n")
    os.chmod(key_file, 0o600)
    started = _run({**env, "VOUCHER_AUDIT_KEY_FILE": str(key_file)}, "check")
    assert started.returncode == 0, started.stderr
    short = _run({**env, "VOUCHER_AUDIT_KEY": "short"}, "check")
    assert short.returncode != 0 and "32" in short.stderr


def _columns(entry: AuditEntry) -> tuple:
    return (
        entry.partition,
        entry.sequence,
        entry.version,
        entry.key_id,
        entry.actor_id,
        entry.actor_label,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_repr,
        entry.data,
    )


def test_audit_many_writes_the_entries_audit_writes_in_a_few_queries(
    settings, django_user_model, django_capture_on_commit_callbacks
):
    """The entries of audit_many are audit's, one after the other (every column but the time
    and the hashes, which follow from it), chained after what was there and before what comes;
    the log verifies, with its checkpoints; their number costs no query."""
    from django.test.utils import CaptureQueriesContext

    from voucher.core.audit import Record, audit_many

    settings.VOUCHER_AUDIT_CHECKPOINT_EVERY = 4
    user = django_user_model.objects.create_user("t-auditor", password="x")
    records = [
        Record(user if i % 2 else None, f"step_{i}", user if i % 3 == 0 else None, {"i": i})
        for i in range(7)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        before = audit(actor=None, action="before")
        one_by_one = [
            audit(actor=r.actor, action=r.action, obj=r.obj, data=r.data) for r in records
        ]
    costs, checkpoints = [], []
    for n in (3, 7):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            CaptureQueriesContext(connection) as captured,
        ):
            together = audit_many(records[:n])
        costs.append(len(captured))
        checkpoints.append(len(callbacks))
    after = audit(actor=None, action="after")
    assert costs[0] == costs[1], costs
    assert checkpoints == [0, 1]  # 9–11: no multiple of 4; 12–18: 12 and 16, one checkpoint
    assert [_columns(e)[2:] for e in together] == [_columns(e)[2:] for e in one_by_one]
    assert [e.sequence for e in together] == list(range(12, 19))
    assert together[0].previous_hash == AuditEntry.objects.get(sequence=11).entry_hash
    assert [e.previous_hash for e in together[1:]] == [e.entry_hash for e in together[:-1]]
    assert after.previous_hash == together[-1].entry_hash and before.sequence == 1
    assert AuditChainHead.objects.get().last_entry_id == after.pk
    assert list(verify_chain()) == []
    code, output = _verify()
    assert code == 0, output
