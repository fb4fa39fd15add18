"""`voucher backup DIR` and `voucher restore DIR` (issue 18 item 7, docs/backup.md): a round
trip through a wiped database and file store gives back the audit log intact and the material
file a reviewer downloads byte for byte; a damaged backup and a database that is not empty are
refused, changing nothing. Runs on SQLite and on PostgreSQL (pg_dump, pg_restore, psql)."""

from __future__ import annotations

import json
import shutil
from hashlib import sha256

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from voucher.applications.models import Application, MaterialFile
from voucher.applications.uploads import material_file_response
from voucher.core.models import AuditChainHead, AuditEntry

from .portal_helpers import USCC_A, member, open_round, pdf_bytes, upload

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only


@pytest.fixture
def live(settings, tmp_path, client):
    """An applicant's draft with one material uploaded: rows, a file, audit entries."""
    settings.DATA_DIR = tmp_path / "live"
    settings.VOUCHER_AUDIT_CHECKPOINT_DIR = tmp_path / "live" / "audit-checkpoints"
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    application = Application.objects.get()
    content = pdf_bytes("技术服务合同 2026")
    assert upload(client, application, "contract", "合同.pdf", content).status_code == 302
    return content


def _downloaded(record: MaterialFile) -> bytes:
    response = material_file_response(record)  # what the review screen's download returns
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_a_backup_restored_into_a_wiped_system_gives_back_the_log_and_the_files(
    live, settings, tmp_path, capsys
):
    target = tmp_path / "backup"
    heads = {str(h.partition): [h.last_sequence, h.last_hash] for h in AuditChainHead.objects.all()}
    entries = AuditEntry.objects.count()
    call_command("audit", "checkpoint")
    checkpoints = settings.VOUCHER_AUDIT_CHECKPOINT_DIR / "checkpoints.jsonl"
    pinned = checkpoints.read_bytes()
    call_command("backup", str(target))
    manifest = json.loads((target / "manifest.json").read_text())
    sha = MaterialFile.objects.get().sha256
    assert manifest["files"][f"uploads/{sha}"]["sha256"] == sha
    assert manifest["audit_head"] == {"heads": heads, "entries": entries}
    assert (
        manifest["audit_checkpoints"]["checkpoints.jsonl"]["sha256"] == sha256(pinned).hexdigest()
    )
    assert (target / "audit-checkpoints" / "checkpoints.jsonl").read_bytes() == pinned
    assert ["platforms", "0007_batch_lease"] in manifest["migrations"]
    assert manifest["missing_files"] == [] and manifest["corrupt_files"] == []

    # the disaster: the database emptied, the store and the checkpoints gone
    call_command("flush", interactive=False)
    shutil.rmtree(settings.DATA_DIR / "uploads")
    shutil.rmtree(settings.VOUCHER_AUDIT_CHECKPOINT_DIR)
    assert not Application.objects.exists() and not AuditEntry.objects.exists()

    call_command("restore", str(target))
    assert checkpoints.read_bytes() == pinned
    capsys.readouterr()
    call_command("audit", "verify")  # exits 1 on a broken chain
    assert "哈希链无断裂，与 1 个检查点相符" in capsys.readouterr().out
    assert AuditEntry.objects.count() == entries
    assert _downloaded(MaterialFile.objects.get()) == live
    if connection.vendor == "postgresql":  # pg_restore writes no statistics: the restore does
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = %s",
                [Application._meta.db_table],
            )
            assert cursor.fetchone()[0] > 0  # the columns' statistics, which ANALYZE writes

    # restoring over the system that now holds data needs --force
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(target))
    call_command("restore", str(target), "--force")
    call_command("audit", "verify")


def test_a_checkpoint_file_damaged_in_the_backup_is_refused_and_a_newer_one_is_kept_aside(
    live, settings, tmp_path
):
    target = tmp_path / "backup"
    call_command("audit", "checkpoint")
    call_command("backup", str(target))
    copy = target / "audit-checkpoints" / "checkpoints.jsonl"
    good = copy.read_bytes()
    copy.write_bytes(good.replace(b'"heads"', b'"Heads"'))
    call_command("flush", interactive=False)
    with pytest.raises(
        CommandError, match=r"audit-checkpoints/checkpoints\.jsonl: SHA-256 differs"
    ):
        call_command("restore", str(target))
    assert not AuditEntry.objects.exists()

    copy.write_bytes(good)
    live_file = settings.VOUCHER_AUDIT_CHECKPOINT_DIR / "checkpoints.jsonl"
    call_command("audit", "checkpoint")  # a line written after the backup (of the empty log)
    newer = live_file.read_bytes()
    call_command("restore", str(target))
    assert live_file.read_bytes() == good
    (aside,) = settings.VOUCHER_AUDIT_CHECKPOINT_DIR.glob("checkpoints.jsonl.before-restore-*")
    assert aside.read_bytes() == newer
    call_command("audit", "verify")


def test_a_damaged_backup_is_refused_and_nothing_changes(live, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", str(target))
    record = MaterialFile.objects.get()
    (target / "files" / "uploads" / record.sha256).write_bytes(b"not the contract")
    call_command("flush", interactive=False)
    with pytest.raises(CommandError, match=f"uploads/{record.sha256}: SHA-256 differs"):
        call_command("restore", str(target))
    assert not AuditEntry.objects.exists()  # the database was left as it was


def test_a_backup_names_the_files_the_database_refers_to_that_are_gone(live, settings, tmp_path):
    record = MaterialFile.objects.get()
    (settings.DATA_DIR / "uploads" / record.sha256).unlink()
    with pytest.raises(CommandError, match="lacks or damaged"):
        call_command("backup", str(tmp_path / "backup"))
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_files"] == [f"uploads/{record.sha256} (applications.MaterialFile)"]
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "backup"))
