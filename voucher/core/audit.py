"""`audit(...)`: the one way actions write the audit log; `verify_chain()` checks it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from voucher.core.models import GENESIS, AuditChainHead, AuditEntry

SYSTEM_ACTOR = "system"


def _canonical_data(data: dict[str, Any]) -> Any:
    """The data as the database will give it back (a JSON round trip)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def entry_hash(
    *,
    previous_hash: str,
    created_at: datetime,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    data: Any,
) -> str:
    content = json.dumps(
        [
            previous_hash,
            created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_label,
            action,
            object_type,
            object_id,
            object_repr,
            data,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        previous_hash=entry.previous_hash,
        created_at=entry.created_at,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        data=entry.data,
    )


def _head_for_update() -> AuditChainHead:
    AuditChainHead.objects.get_or_create(pk=1)
    return AuditChainHead.objects.select_for_update().get(pk=1)


def audit(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one action. `actor` is a user or None (the system: commands, the demo)."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        head = _head_for_update()  # appends are serialised: the chain never forks
        entry = AuditEntry(
            actor=user,
            actor_label=user.get_username() if user is not None else SYSTEM_ACTOR,
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:300] if obj is not None else "",
            data=_canonical_data(data or {}),
            created_at=timezone.now(),
            previous_hash=head.last_hash,
        )
        entry.entry_hash = _hash_of(entry)
        entry.save()
        head.last_entry_id = entry.pk
        head.last_hash = entry.entry_hash
        head.save(update_fields=["last_entry_id", "last_hash"])
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    what: str


def verify_chain() -> Iterator[ChainProblem]:
    """Walk the log oldest first; yield every place where it is not what was written."""
    previous = GENESIS
    last_id: int | None = None
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_hash != previous:
            yield ChainProblem(
                entry.pk, "上一条哈希不符：前面的记录被删除、插入或修改 (broken link)"
            )
        if _hash_of(entry) != entry.entry_hash:
            yield ChainProblem(entry.pk, "内容与哈希不符：本条记录被修改 (content changed)")
        previous = entry.entry_hash
        last_id = entry.pk
    head = AuditChainHead.objects.filter(pk=1).first()
    head_hash = head.last_hash if head else GENESIS
    head_id = head.last_entry_id if head else None
    if head_hash != previous or head_id != last_id:
        yield ChainProblem(
            head_id, "链头与最后一条记录不符：最新的记录被删除 (newest entries deleted)"
        )
