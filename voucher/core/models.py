"""What every app shares: the audit log.

Every write that matters goes through one action, and every action writes one
AuditEntry in the same transaction, so the log cannot miss a write that happened
nor record one that was rolled back.

The log is append-only and hash-chained: each entry carries the hash of the one
before it and a hash of its own content, and `AuditChainHead` remembers the last
one, so `voucher audit verify` finds any entry edited, deleted or inserted in the
database behind the application's back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from voucher.core.heartbeat import WorkerHeartbeat as WorkerHeartbeat  # the workers' heartbeats

GENESIS = "0" * 64


class AppendOnlyError(Exception):
    """An audit entry is never changed or deleted once written."""


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
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
    """One row: the hash of the newest entry. Locked while appending, so the chain never forks."""

    last_entry_id = models.BigIntegerField(null=True)
    last_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = "操作日志链头"
        verbose_name_plural = "操作日志链头"

    def __str__(self) -> str:
        return f"#{self.last_entry_id} {self.last_hash[:12]}"
