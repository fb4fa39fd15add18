"""`audit(...)`: the one way actions write the audit log; `verify_log()` checks it (docs/audit.md).

Every entry is numbered (`sequence`, 1, 2, 3 … without gaps), carries the hash of the one before
it, and its own `entry_hash`: an HMAC-SHA256 of every column (sequence, version, key id, previous
hash, time, actor id and label, action, object type, id and text, data) under a key kept outside
the database (settings.VOUCHER_AUDIT_KEYS). Whoever can write to the database but does not hold
the key cannot edit an entry and re-link the ones after it.

Signed checkpoints (sequence, hash of that entry, time, HMAC) are appended to a file outside the
database every VOUCHER_AUDIT_CHECKPOINT_EVERY entries and by `voucher audit checkpoint`. They catch
what the chain alone cannot: the newest entries deleted and the head row moved back, or the whole
log emptied.

Entries written before the key (version 1, LEGACY) keep their unkeyed SHA-256 and are checked with
it; the first keyed entry after them covers the last legacy hash and so pins them.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from voucher.core.models import GENESIS, KEYED, LEGACY, AuditChainHead, AuditEntry

SYSTEM_ACTOR = "system"
REANCHOR_ACTION = "audit_reanchor"
CHECKPOINT_FILE = "checkpoints.jsonl"

_ENTRY_DOMAIN = b"voucher-audit-entry-v2\n"
_CHECKPOINT_DOMAIN = b"voucher-audit-checkpoint-v1\n"
_KEY_ID_DOMAIN = b"voucher-audit-key-id"
_DEV_KEY_DOMAIN = b"voucher-audit-development-key"

log = logging.getLogger("voucher.audit")


class AuditLogError(Exception):
    """The log's head does not match its newest entry: verify before writing a checkpoint."""


# --- keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditKey:
    key_id: str  # names the key in entries and checkpoints; reveals nothing of it
    secret: bytes = field(repr=False)
    development: bool  # derived from SECRET_KEY: no key was configured


@functools.lru_cache(maxsize=8)
def _keys_from(configured: tuple[str, ...], secret_key: str) -> tuple[AuditKey, ...]:
    if configured:
        secrets = [(key.encode(), False) for key in configured]
    else:
        derived = hmac.new(secret_key.encode(), _DEV_KEY_DOMAIN, hashlib.sha256).digest()
        secrets = [(derived, True)]
    return tuple(
        AuditKey(hmac.new(s, _KEY_ID_DOMAIN, hashlib.sha256).hexdigest()[:16], s, development)
        for s, development in secrets
    )


def audit_keys() -> tuple[AuditKey, ...]:
    """The key that signs first, then the retired ones verify still accepts."""
    return _keys_from(tuple(getattr(settings, "VOUCHER_AUDIT_KEYS", ())), settings.SECRET_KEY)


# --- hashes ---------------------------------------------------------------------------------


def _canonical_data(data: dict[str, Any]) -> Any:
    """The data as the database will give it back (a JSON round trip)."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _when(created_at: datetime) -> str:
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def legacy_hash(
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
    """Version 1 (before the key): unkeyed SHA-256 of some columns; anyone can recompute it."""
    content = [
        previous_hash,
        _when(created_at),
        actor_label,
        action,
        object_type,
        object_id,
        object_repr,
        data,
    ]
    return hashlib.sha256(_canonical_json(content)).hexdigest()


entry_hash = legacy_hash  # its name before issue 18


def keyed_hash(entry: AuditEntry, secret: bytes) -> str:
    """Version 2: HMAC-SHA256 of every column of the entry but its id and its own hash."""
    content = [
        entry.version,
        entry.sequence,
        entry.key_id,
        entry.previous_hash,
        _when(entry.created_at),
        entry.actor_id,
        entry.actor_label,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.object_repr,
        entry.data,
    ]
    return hmac.new(secret, _ENTRY_DOMAIN + _canonical_json(content), hashlib.sha256).hexdigest()


def _legacy_hash_of(entry: AuditEntry) -> str:
    return legacy_hash(
        previous_hash=entry.previous_hash,
        created_at=entry.created_at,
        actor_label=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        data=entry.data,
    )


# --- writing --------------------------------------------------------------------------------


def _head_for_update() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    newest = AuditEntry.objects.order_by("-sequence").first()
    AuditChainHead.objects.get_or_create(
        pk=1,
        defaults={
            "last_entry_id": newest.pk if newest else None,
            "last_sequence": newest.sequence if newest else 0,
            "last_hash": newest.entry_hash if newest else GENESIS,
        },
    )
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
    key = audit_keys()[0]
    with transaction.atomic():
        head = _head_for_update()  # appends are serialised: the chain never forks
        entry = AuditEntry(
            sequence=head.last_sequence + 1,
            version=KEYED,
            key_id=key.key_id,
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
        entry.entry_hash = keyed_hash(entry, key.secret)
        entry.save()
        head.last_entry_id = entry.pk
        head.last_sequence = entry.sequence
        head.last_hash = entry.entry_hash
        head.save(update_fields=["last_entry_id", "last_sequence", "last_hash"])
    every = int(getattr(settings, "VOUCHER_AUDIT_CHECKPOINT_EVERY", 0))
    if every > 0 and entry.sequence % every == 0:
        # after the commit: a checkpoint must never name an entry that was rolled back
        sequence, pinned = entry.sequence, entry.entry_hash
        transaction.on_commit(lambda: _checkpoint_quietly(sequence, pinned))
    return entry


# --- checkpoints ----------------------------------------------------------------------------


def checkpoint_path() -> Path:
    return Path(settings.VOUCHER_AUDIT_CHECKPOINT_DIR) / CHECKPOINT_FILE


def _checkpoint_mac(secret: bytes, record: dict[str, Any]) -> str:
    fields = {k: v for k, v in record.items() if k != "mac"}
    return hmac.new(
        secret, _CHECKPOINT_DOMAIN + _canonical_json(fields), hashlib.sha256
    ).hexdigest()


def _tail(f: IO[bytes]) -> bytes:
    """The file's last 4 KiB (checkpoint lines are about 300 bytes)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 4096))
    return f.read()


def write_checkpoint(sequence: int, pinned_hash: str) -> dict[str, Any]:
    """Append one signed line: entry `sequence` had hash `pinned_hash` at this time."""
    key = audit_keys()[0]
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # writers in other processes queue; "a" appends at the end
        tail = _tail(f)
        lines = tail.splitlines()
        try:
            previous = str(json.loads(lines[-1])["mac"]) if lines else ""
        except (ValueError, KeyError, TypeError):
            previous = ""  # a damaged last line: verify reports it
        record: dict[str, Any] = {
            "sequence": sequence,
            "entry_hash": pinned_hash,
            "time": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
            "key_id": key.key_id,
            "previous": previous,
        }
        record["mac"] = _checkpoint_mac(key.secret, record)
        prefix = b"\n" if tail and not tail.endswith(b"\n") else b""
        f.write(prefix + _canonical_json(record) + b"\n")
        f.flush()
        os.fsync(f.fileno())
    return record


def _checkpoint_quietly(sequence: int, pinned_hash: str) -> None:
    try:
        write_checkpoint(sequence, pinned_hash)
    except OSError:
        # the action has committed; the next checkpoint (or the timer's) will pin this one too
        log.exception("audit checkpoint at sequence %s could not be written", sequence)


def checkpoint() -> dict[str, Any]:
    """`voucher audit checkpoint`: pin the newest entry. A log still ending in legacy entries
    first gets a keyed re-anchoring entry, which covers the last legacy hash."""
    with transaction.atomic():
        head = _head_for_update()
        newest = AuditEntry.objects.order_by("-sequence").first()
        if newest is not None and newest.version == LEGACY:
            newest = audit(
                actor=None,
                action=REANCHOR_ACTION,
                data={"legacy_entries": newest.sequence, "legacy_head": newest.entry_hash},
            )
            head.refresh_from_db()
        newest_sequence = newest.sequence if newest else 0
        newest_hash = newest.entry_hash if newest else GENESIS
        if (head.last_sequence, head.last_hash) != (newest_sequence, newest_hash):
            raise AuditLogError(
                f"链头（第 {head.last_sequence} 条）与最后一条记录（第 {newest_sequence} 条）不符，"
                "请先运行 voucher audit verify (the head does not match the newest entry)"
            )
    return write_checkpoint(newest_sequence, newest_hash)


@dataclass(frozen=True)
class Checkpoint:
    line: int
    sequence: int
    entry_hash: str
    time: str


def _read_checkpoints(keys: dict[str, AuditKey], problems: list[ChainProblem]) -> list[Checkpoint]:
    path = checkpoint_path()
    if not path.exists():
        return []
    found: list[Checkpoint] = []
    previous = ""
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        where = f"检查点文件 {path} 第 {number} 行"
        try:
            record = json.loads(raw)
            item = Checkpoint(
                number, int(record["sequence"]), str(record["entry_hash"]), str(record["time"])
            )
            key = keys.get(str(record["key_id"]))
            mac = str(record["mac"])
        except (ValueError, KeyError, TypeError):
            problems.append(ChainProblem(None, f"{where}无法读取 (checkpoint line damaged)"))
            previous = ""
            continue
        if key is None:
            problems.append(
                ChainProblem(
                    None,
                    f"{where}的签名密钥（{record['key_id']}）未配置：无法确认 (unknown key; list "
                    "retired keys after the current one)",
                )
            )
        elif not hmac.compare_digest(_checkpoint_mac(key.secret, record), mac):
            problems.append(ChainProblem(None, f"{where}签名不符：被改动 (checkpoint altered)"))
            previous = mac
            continue
        if record.get("previous") != previous:
            problems.append(
                ChainProblem(
                    None, f"{where}之前的检查点被删除或插入 (checkpoint lines removed or inserted)"
                )
            )
        previous = mac
        if key is not None:
            found.append(item)
    return found


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    what: str
    sequence: int | None = None


@dataclass
class Verification:
    entries: int = 0
    last_sequence: int = 0
    checkpoints: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def first_bad_sequence(self) -> int | None:
        return min((p.sequence for p in self.problems if p.sequence is not None), default=None)


def verify_log() -> Verification:
    """Walk the log in order, then hold it against the head row and the checkpoints."""
    keys = audit_keys()
    by_id = {k.key_id: k for k in keys}
    result = Verification()
    problems = result.problems
    checkpoints = _read_checkpoints(by_id, problems)
    result.checkpoints = len(checkpoints)
    pinned: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        pinned.setdefault(cp.sequence, []).append(cp)

    previous, expected = GENESIS, 1
    last: AuditEntry | None = None
    first_keyed: int | None = None
    legacy_entries = 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        seq = entry.sequence
        result.entries += 1
        if seq != expected:
            gone = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected}–{seq - 1} 条"
            problems.append(ChainProblem(None, f"{gone}缺失：记录被删除 (missing)", expected))
        if entry.previous_hash != previous:
            problems.append(
                ChainProblem(
                    entry.pk, "上一条哈希不符：前面的记录被删除、插入或修改 (broken link)", seq
                )
            )
        if entry.version == LEGACY:
            legacy_entries += 1
            if first_keyed is not None:
                problems.append(
                    ChainProblem(
                        entry.pk, "带密钥的记录之后出现旧格式记录：伪造 (legacy after keyed)", seq
                    )
                )
            elif _legacy_hash_of(entry) != entry.entry_hash:
                problems.append(
                    ChainProblem(entry.pk, "内容与哈希不符：本条记录被修改 (content changed)", seq)
                )
        elif entry.version == KEYED:
            if first_keyed is None:
                first_keyed = seq
            key = by_id.get(entry.key_id)
            if key is None:
                problems.append(
                    ChainProblem(
                        entry.pk,
                        f"签名密钥（{entry.key_id}）未配置：无法确认 (unknown key)",
                        seq,
                    )
                )
            elif not hmac.compare_digest(keyed_hash(entry, key.secret), entry.entry_hash):
                problems.append(
                    ChainProblem(
                        entry.pk,
                        "内容与哈希不符：本条记录被修改或重新链接 (content changed or re-linked)",
                        seq,
                    )
                )
        else:
            problems.append(ChainProblem(entry.pk, f"未知的哈希版本 {entry.version}", seq))
        for cp in pinned.pop(seq, []):
            if not hmac.compare_digest(cp.entry_hash, entry.entry_hash):
                problems.append(
                    ChainProblem(
                        entry.pk,
                        f"与检查点（第 {cp.line} 行，{cp.time}）不符：记录被改写 "
                        "(differs from the checkpoint)",
                        seq,
                    )
                )
        previous, expected, last = entry.entry_hash, seq + 1, entry

    result.last_sequence = last.sequence if last else 0
    head = AuditChainHead.objects.filter(pk=1).first()
    head_state = (head.last_sequence, head.last_hash, head.last_entry_id) if head else None
    last_state = (result.last_sequence, previous, last.pk if last else None)
    if (head is not None or last is not None) and head_state != last_state:
        problems.append(
            ChainProblem(
                head.last_entry_id if head else None,
                "链头与最后一条记录不符：最新的记录被删除 (newest entries deleted)",
                result.last_sequence + 1,
            )
        )
    for seq, cps in sorted(pinned.items()):
        cp = cps[0]
        if seq == 0:
            if cp.entry_hash != GENESIS:
                problems.append(ChainProblem(None, f"检查点第 {cp.line} 行无效 (bad checkpoint)"))
        elif seq > result.last_sequence:
            problems.append(
                ChainProblem(
                    None,
                    f"检查点（第 {cp.line} 行，{cp.time}）记录到第 {seq} 条，日志只到第 "
                    f"{result.last_sequence} 条：最新的记录被删除 (truncated)",
                    result.last_sequence + 1,
                )
            )
        else:  # inside the log, but no entry has that number: reported above as missing
            problems.append(
                ChainProblem(
                    None, f"检查点（第 {cp.line} 行）记录的第 {seq} 条不存在 (deleted)", seq
                )
            )

    if any(k.development for k in keys):
        result.notes.append(
            "使用由 SECRET_KEY 派生的开发密钥：仅供开发与测试 (development key, not a proof)"
        )
    if result.entries and not checkpoints:
        result.notes.append(
            "没有检查点：无法发现最新记录被删除，请运行 voucher audit checkpoint (no checkpoints)"
        )
    if legacy_entries and not any(
        first_keyed is not None and cp.sequence >= first_keyed for cp in checkpoints
    ):
        result.notes.append(
            f"前 {legacy_entries} 条为旧格式（无密钥），尚无检查点固定：请运行 voucher audit "
            "checkpoint (legacy entries not yet re-anchored)"
        )
    problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return result


def verify_chain() -> Iterator[ChainProblem]:
    """Every place where the log is not what was written (see `verify_log`)."""
    yield from verify_log().problems
