"""What every app shares: the audit log.

Every write that matters goes through one action, and every action writes one
AuditEntry in the same transaction, so the log cannot miss a write that happened
nor record one that was rolled back.

The log is append-only and hash-chained: each entry carries the hash of the one
before it and an HMAC-SHA256 of every one of its columns under a key kept outside
the database (settings.VOUCHER_AUDIT_KEYS), `AuditChainHead` remembers the last
one, and signed checkpoints of the head are appended to files outside the
database, so `voucher audit verify` finds any entry edited, deleted, inserted or
re-linked behind the application's back (docs/audit.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from voucher.core.heartbeat import WorkerHeartbeat as WorkerHeartbeat  # the workers' heartbeats
from voucher.core.jobs import Job as Job  # the queue of work done after the request

GENESIS = "0" * 64
LEGACY = 1  # before issue 18: unkeyed SHA-256 of some columns (checked up to the first keyed)
KEYED = 2  # HMAC-SHA256 of every column under a key outside the database (one chain)
PARTITIONED = 3  # the same, the partition covered too: one chain per partition (decision 0017)


class AppendOnlyError(Exception):
    """An audit entry is never changed or deleted once written."""


class AuditEntry(models.Model):
    # One chain per partition, so that writers do not queue on one head row (docs/audit.md).
    # Entries written before the partitions are partition 0.
    partition = models.PositiveSmallIntegerField("分区", default=0, editable=False)
    # Numbered without gaps (1, 2, 3 …) within its partition in the order written.
    sequence = models.BigIntegerField("序号", editable=False)
    version = models.PositiveSmallIntegerField("哈希版本", editable=False)
    key_id = models.CharField("密钥标识", max_length=16, blank=True, editable=False)
    # PROTECT: the HMAC covers actor_id, so a user who acted is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept as text too: the log must still say who it was after the user is deleted.
    actor_label = models.CharField("操作人（记录时）", max_length=150)
    action = models.CharField("操作", max_length=100, db_index=True)
    object_type = models.CharField("对象类型", max_length=100, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=300, blank=True)
    data = models.JSONField("数据", default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField("时间", db_index=True)
    previous_hash = models.CharField("上一条哈希", max_length=64, editable=False)
    entry_hash = models.CharField("本条哈希", max_length=64, editable=False, unique=True)

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["partition", "sequence"], name="core_auditentry_partition_sequence"
            ),
        )

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M:%S}"
        return f"{when} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit entries are never deleted")


class AuditChainHead(models.Model):
    """One row per partition: the hash of its newest entry. Locked while appending to that
    partition, so its chain never forks; writers to other partitions do not wait for it."""

    partition = models.PositiveSmallIntegerField(default=0, unique=True)
    last_entry_id = models.BigIntegerField(null=True)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = "操作日志链头"
        verbose_name_plural = "操作日志链头"

    def __str__(self) -> str:
        return f"{self.partition}#{self.last_sequence} {self.last_hash[:12]}"
