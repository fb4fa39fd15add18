"""The audit log is append-only and hash-chained: tampering in the database is detected."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from voucher.core.audit import audit, verify_chain
from voucher.core.models import AppendOnlyError, AuditEntry

pytestmark = pytest.mark.django_db


def _log(n: int = 3) -> list[AuditEntry]:
    return [
        audit(actor=None, action=f"step_{i}", data={"i": i, "amount": "1.00"}) for i in range(n)
    ]


def _verify() -> tuple[int, str]:
    try:
        call_command("audit", "verify")
    except SystemExit as exc:
        return int(exc.code or 0), ""
    return 0, ""


def test_an_untouched_log_verifies():
    entries = _log()
    assert entries[0].previous_hash == "0" * 64
    assert entries[1].previous_hash == entries[0].entry_hash
    assert list(verify_chain()) == []
    assert _verify()[0] == 0


def test_the_application_cannot_change_or_delete_an_entry():
    entry = _log(1)[0]
    entry.action = "something_else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_entry_edited_in_the_database_is_detected():
    entries = _log()
    _sql(
        "UPDATE core_auditentry SET data = %s WHERE id = %s",
        ['{"i": 1, "amount": "9999.00"}', entries[1].pk],
    )
    problems = list(verify_chain())
    assert [p.entry_id for p in problems] == [entries[1].pk]
    assert _verify()[0] == 1


def test_an_entry_deleted_from_the_middle_is_detected():
    entries = _log()
    _sql("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    assert [p.entry_id for p in verify_chain()] == [entries[2].pk]


def test_the_newest_entry_deleted_is_detected_through_the_chain_head():
    entries = _log()
    _sql("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])
    problems = list(verify_chain())
    assert len(problems) == 1
    assert "最新的记录被删除" in problems[0].what


def test_an_actor_relabelled_in_the_database_is_detected():
    entries = _log()
    _sql("UPDATE core_auditentry SET actor_label = %s WHERE id = %s", ["someone", entries[0].pk])
    assert next(p.entry_id for p in verify_chain()) == entries[0].pk


def test_voucher_audit_verify_prints_chinese_and_exits_1_on_tampering(tmp_path):
    # through the real command line, against a database of its own
    env_db = tmp_path / "audit.sqlite3"
    env = {"VOUCHER_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "voucher", *a],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    assert run("migrate", "-v", "0").returncode == 0
    code = "from voucher.core.audit import audit; [audit(actor=None, action='a') for _ in range(2)]"
    assert run("shell", "-c", code).returncode == 0
    ok = run("audit", "verify")
    assert ok.returncode == 0 and "操作日志完整：2 条记录" in ok.stdout
    import sqlite3

    with sqlite3.connect(env_db.with_name("voucher.sqlite3")) as db:
        db.execute(
            "UPDATE core_auditentry SET action = 'b' WHERE id = (SELECT min(id) FROM core_auditentry)"
        )
    bad = run("audit", "verify")
    assert bad.returncode == 1
    assert "内容与哈希不符" in bad.stderr
    assert "Traceback" not in bad.stderr
