"""`audit(...)`: the one way actions write the audit log; `verify_log()` checks it (docs/audit.md).

The log is VOUCHER_AUDIT_PARTITIONS chains (partitions), each with its own head row, so that
writers do not all queue on one row: a writer (a process, or a thread of one) appends to its own
partition, so one transaction never locks two heads (docs/decisions/0017-audit-partitions.md).
Within its partition every entry is numbered (`sequence`, 1, 2, 3 … without gaps), carries the
hash of the one before it, and its own `entry_hash`: an HMAC-SHA256 of every column (partition,
sequence, version, key id, previous hash, time, actor id and label, action, object type, id and
text, data) under a key kept outside the database (settings.VOUCHER_AUDIT_KEYS). Whoever can
write to the database but does not hold the key cannot edit an entry and re-link the ones after
it, nor move it to another partition.

Signed checkpoints (every partition's head: sequence and hash, the time, an HMAC) are appended
to a file outside the database every VOUCHER_AUDIT_CHECKPOINT_EVERY entries of a partition and by
`voucher audit checkpoint`. They catch what the chains alone cannot: the newest entries deleted
and a head row moved back, or a partition or the whole log emptied.

Entries written before the key (version 1, LEGACY) keep their unkeyed SHA-256 and are checked with
it; the first keyed entry after them covers the last legacy hash and so pins them. Entries written
before the partitions (version 2, KEYED) are partition 0, which later entries continue.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import hmac
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from voucher.core.models import GENESIS, KEYED, LEGACY, PARTITIONED, AuditChainHead, AuditEntry

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
    """Versions 2 and 3: HMAC-SHA256 of every column of the entry but its id and its own hash
    (version 2, written before the partitions, all in partition 0, leaves the partition out)."""
    where = [entry.partition] if entry.version >= PARTITIONED else []
    content = [
        entry.version,
        *where,
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


def partitions() -> int:
    """How many partitions new entries are spread over (settings.VOUCHER_AUDIT_PARTITIONS)."""
    return max(1, int(getattr(settings, "VOUCHER_AUDIT_PARTITIONS", 16)))


_writer = threading.local()
_writer_numbers = itertools.count()


def writer_partition() -> int:
    """The partition of this writer: its process id plus the number of the thread within the
    process (first thread to write 0, next 1 …), modulo the partitions. Stable for the writer,
    so one transaction (one thread) only ever locks one head and two writers never deadlock on
    heads; the processes of a server (consecutive ids) and the threads of one process land in
    different partitions as long as there are fewer of them than partitions."""
    pid = os.getpid()
    mine = getattr(_writer, "number", None)
    if mine is None or mine[0] != pid:  # a forked child is a new writer
        mine = (pid, next(_writer_numbers))
        _writer.number = mine
    return (mine[0] + mine[1]) % partitions()


def _head_for_update(partition: int) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(partition=partition).first()
    if head is not None:
        return head
    newest = AuditEntry.objects.filter(partition=partition).order_by("-sequence").first()
    AuditChainHead.objects.get_or_create(  # two first writers at once: one creates, one reads
        partition=partition,
        defaults={
            "last_entry_id": newest.pk if newest else None,
            "last_sequence": newest.sequence if newest else 0,
            "last_hash": newest.entry_hash if newest else GENESIS,
        },
    )
    return AuditChainHead.objects.select_for_update().get(partition=partition)


def audit(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one action. `actor` is a user or None (the system: commands, the demo)."""
    return _append(writer_partition(), actor=actor, action=action, obj=obj, data=data)


@dataclass(frozen=True)
class Record:
    """One action to record with `audit_many`: what `audit(...)` takes."""

    actor: Any
    action: str
    obj: models.Model | None = None
    data: dict[str, Any] | None = None


def audit_many(records: list[Record]) -> list[AuditEntry]:
    """Record several actions, in their order, as `audit(...)` of each one after the other
    would: the same entries, chained one to the next in the writer's partition; the head is
    locked and moved once and the entries inserted together (a few queries whatever their
    number, where `audit` costs three round trips an entry). For a command that writes many at
    once (`voucher demo --season`)."""
    return _append_all(writer_partition(), records)


def _append(
    partition: int,
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    return _append_all(partition, [Record(actor, action, obj, data)])[0]


def _append_all(partition: int, records: list[Record]) -> list[AuditEntry]:
    if not records:
        return []
    key = audit_keys()[0]
    with transaction.atomic():
        head = _head_for_update(partition)  # appends to a partition are serialised: no fork
        first = head.last_sequence + 1
        previous_hash = head.last_hash
        entries = []
        for sequence, record in enumerate(records, start=first):
            actor, obj = record.actor, record.obj
            user = (
                actor if actor is not None and getattr(actor, "is_authenticated", False) else None
            )
            entry = AuditEntry(
                partition=partition,
                sequence=sequence,
                version=PARTITIONED,
                key_id=key.key_id,
                actor=user,
                actor_label=user.get_username() if user is not None else SYSTEM_ACTOR,
                action=record.action,
                object_type=obj._meta.label_lower if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
                object_repr=str(obj)[:300] if obj is not None else "",
                data=_canonical_data(record.data or {}),
                created_at=timezone.now(),
                previous_hash=previous_hash,
            )
            entry.entry_hash = previous_hash = keyed_hash(entry, key.secret)
            entries.append(entry)
        if len(entries) == 1:
            entries[0].save()
        else:
            AuditEntry.objects.bulk_create(entries, batch_size=1000)
        last = entries[-1]
        if last.pk is None:  # a database that does not return the ids of a bulk insert
            last = AuditEntry.objects.get(partition=partition, sequence=last.sequence)
        head.last_entry_id = last.pk
        head.last_sequence = last.sequence
        head.last_hash = last.entry_hash
        head.save(update_fields=["last_entry_id", "last_sequence", "last_hash"])
    every = int(getattr(settings, "VOUCHER_AUDIT_CHECKPOINT_EVERY", 0))
    if every > 0 and (first - 1) // every != last.sequence // every:
        # (an entry whose sequence is a multiple of `every` was written) after the commit, of
        # the heads as committed: a checkpoint never names an entry that was rolled back
        transaction.on_commit(_checkpoint_quietly)
    return entries


# --- checkpoints ----------------------------------------------------------------------------


Heads = dict[int, tuple[int, str]]  # partition: (sequence, hash) of its newest entry


def checkpoint_path() -> Path:
    return Path(settings.VOUCHER_AUDIT_CHECKPOINT_DIR) / CHECKPOINT_FILE


def _checkpoint_mac(secret: bytes, record: dict[str, Any]) -> str:
    fields = {k: v for k, v in record.items() if k != "mac"}
    return hmac.new(
        secret, _CHECKPOINT_DOMAIN + _canonical_json(fields), hashlib.sha256
    ).hexdigest()


def _tail(f: IO[bytes]) -> bytes:
    """The file's last 64 KiB (a checkpoint line is about 100 bytes a partition)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(max(0, size - 65536))
    return f.read()


def write_checkpoint(heads: Heads) -> dict[str, Any]:
    """Append one signed line: each partition's newest entry had this sequence and hash."""
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
            "heads": {str(p): [seq, pinned] for p, (seq, pinned) in sorted(heads.items())},
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


def committed_heads() -> Heads:
    """Every head row as committed (each names an entry committed with it)."""
    return {
        h.partition: (h.last_sequence, h.last_hash)
        for h in AuditChainHead.objects.order_by("partition")
    }


def _checkpoint_quietly() -> None:
    try:
        write_checkpoint(committed_heads())
    except OSError:
        # the action has committed; the next checkpoint (or the timer's) will pin this one too
        log.exception("audit checkpoint could not be written")


def _newest(partition: int) -> AuditEntry | None:
    return AuditEntry.objects.filter(partition=partition).order_by("-sequence").first()


def checkpoint() -> dict[str, Any]:
    """`voucher audit checkpoint`: pin the newest entry of every partition. A log whose
    partition 0 still ends in legacy entries first gets a keyed re-anchoring entry there, which
    covers the last legacy hash."""
    with transaction.atomic():
        newest = _newest(0)
        if newest is not None and newest.version == LEGACY:
            _append(
                0,
                actor=None,
                action=REANCHOR_ACTION,
                data={"legacy_entries": newest.sequence, "legacy_head": newest.entry_hash},
            )
        # every head locked, in one order (a writer locks only one: no deadlock)
        locked = list(AuditChainHead.objects.select_for_update().order_by("partition"))
        heads: Heads = {}
        known = {h.partition for h in locked} | set(range(partitions()))
        if not locked:
            known |= set(
                AuditEntry.objects.order_by().values_list("partition", flat=True).distinct()
            )
        by_partition = {h.partition: h for h in locked}
        for partition in sorted(known):
            head = by_partition.get(partition)
            entry = _newest(partition)
            head_state = (head.last_sequence, head.last_hash) if head else (0, GENESIS)
            entry_state = (entry.sequence, entry.entry_hash) if entry else (0, GENESIS)
            if head_state != entry_state:
                raise AuditLogError(
                    f"分区 {partition} 的链头（第 {head_state[0]} 条）与最后一条记录（第 "
                    f"{entry_state[0]} 条）不符，请先运行 voucher audit verify (the head does "
                    "not match the newest entry)"
                )
            if head is not None:
                heads[partition] = head_state
    return write_checkpoint(heads)


@dataclass(frozen=True)
class Checkpoint:
    line: int
    partition: int
    sequence: int
    entry_hash: str
    time: str


def _pins(record: dict[str, Any], line: int) -> list[Checkpoint]:
    """A line's pins: {"heads": {partition: [sequence, hash]}}; a line written before the
    partitions has one ({"sequence", "entry_hash"}), of partition 0."""
    time = str(record["time"])
    if "heads" not in record:
        return [Checkpoint(line, 0, int(record["sequence"]), str(record["entry_hash"]), time)]
    return [
        Checkpoint(line, int(p), int(seq), str(pinned), time)
        for p, (seq, pinned) in record["heads"].items()
    ]


def _read_pins(
    keys: dict[str, AuditKey], problems: list[ChainProblem]
) -> tuple[int, list[Checkpoint]]:
    """(number of good checkpoint lines, their pins); problems of the file appended."""
    path = checkpoint_path()
    if not path.exists():
        return 0, []
    found: list[Checkpoint] = []
    lines = 0
    previous = ""
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        where = f"检查点文件 {path} 第 {number} 行"
        try:
            record = json.loads(raw)
            pins = _pins(record, number)
            key = keys.get(str(record["key_id"]))
            mac = str(record["mac"])
        except (ValueError, KeyError, TypeError, AttributeError):
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
            lines += 1
            found.extend(pins)
    return lines, found


# --- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    what: str
    sequence: int | None = None
    partition: int = 0


@dataclass
class Verification:
    entries: int = 0
    last_sequence: int = 0  # of partition 0
    checkpoints: int = 0
    partitions: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def first_bad(self) -> tuple[int, int] | None:
        """(partition, sequence) of the first problem that names an entry."""
        return min(
            ((p.partition, p.sequence) for p in self.problems if p.sequence is not None),
            default=None,
        )

    @property
    def first_bad_sequence(self) -> int | None:
        first = self.first_bad
        return first[1] if first else None


def _in(partition: int) -> str:
    return f"分区 {partition} " if partition else ""


@dataclass
class _Walk:
    """One partition's chain as it is walked."""

    partition: int
    previous: str = GENESIS
    expected: int = 1
    last: AuditEntry | None = None
    first_keyed: int | None = None  # first version 2 or 3 entry
    first_partitioned: int | None = None  # first version 3 entry
    legacy: int = 0


def _check_entry(
    entry: AuditEntry, walk: _Walk, by_id: dict[str, AuditKey], problems: list[ChainProblem]
) -> None:
    seq, part = entry.sequence, entry.partition

    def problem(what: str, entry_id: int | None = entry.pk, at: int = seq) -> None:
        problems.append(ChainProblem(entry_id, _in(part) + what, at, part))

    if seq != walk.expected:
        gone = (
            f"第 {walk.expected} 条"
            if seq == walk.expected + 1
            else (f"第 {walk.expected}–{seq - 1} 条")
        )
        problem(f"{gone}缺失：记录被删除 (missing)", None, walk.expected)
    if entry.previous_hash != walk.previous:
        problem("上一条哈希不符：前面的记录被删除、插入或修改 (broken link)")
    if entry.version == LEGACY:
        walk.legacy += 1
        if part != 0:
            problem("分区 0 以外出现旧格式记录：伪造 (legacy entry outside partition 0)")
        elif walk.first_keyed is not None:
            problem("带密钥的记录之后出现旧格式记录：伪造 (legacy after keyed)")
        elif _legacy_hash_of(entry) != entry.entry_hash:
            problem("内容与哈希不符：本条记录被修改 (content changed)")
    elif entry.version in (KEYED, PARTITIONED):
        if walk.first_keyed is None:
            walk.first_keyed = seq
        if entry.version == PARTITIONED and walk.first_partitioned is None:
            walk.first_partitioned = seq
        key = by_id.get(entry.key_id)
        if entry.version == KEYED and (part != 0 or walk.first_partitioned is not None):
            problem("分区之前的格式出现在分区之后或分区 0 以外：伪造 (version 2 out of place)")
        elif key is None:
            problem(f"签名密钥（{entry.key_id}）未配置：无法确认 (unknown key)")
        elif not hmac.compare_digest(keyed_hash(entry, key.secret), entry.entry_hash):
            problem("内容与哈希不符：本条记录被修改或重新链接 (content changed or re-linked)")
    else:
        problem(f"未知的哈希版本 {entry.version}")
    walk.previous, walk.expected, walk.last = entry.entry_hash, seq + 1, entry


def verify_log() -> Verification:
    """Walk every partition's chain in order, then hold each against its head row and the
    checkpoints."""
    keys = audit_keys()
    by_id = {k.key_id: k for k in keys}
    result = Verification()
    problems = result.problems
    result.checkpoints, checkpoints = _read_pins(by_id, problems)
    pinned: dict[tuple[int, int], list[Checkpoint]] = {}
    for cp in checkpoints:
        pinned.setdefault((cp.partition, cp.sequence), []).append(cp)

    walks: dict[int, _Walk] = {}
    entries = AuditEntry.objects.order_by("partition", "sequence")
    for entry in entries.iterator(chunk_size=2000):
        result.entries += 1
        walk = walks.setdefault(entry.partition, _Walk(entry.partition))
        _check_entry(entry, walk, by_id, problems)
        for cp in pinned.pop((entry.partition, entry.sequence), []):
            if not hmac.compare_digest(cp.entry_hash, entry.entry_hash):
                problems.append(
                    ChainProblem(
                        entry.pk,
                        _in(entry.partition) + f"与检查点（第 {cp.line} 行，{cp.time}）不符："
                        "记录被改写 (differs from the checkpoint)",
                        entry.sequence,
                        entry.partition,
                    )
                )

    heads = {h.partition: h for h in AuditChainHead.objects.all()}
    for partition in sorted(set(heads) | set(walks)):
        head, walk = heads.get(partition), walks.get(partition, _Walk(partition))
        last = walk.last
        head_state = (head.last_sequence, head.last_hash, head.last_entry_id) if head else None
        last_state = (last.sequence if last else 0, walk.previous, last.pk if last else None)
        if head_state != last_state and (head is not None or last is not None):
            problems.append(
                ChainProblem(
                    head.last_entry_id if head else None,
                    _in(partition) + "链头与最后一条记录不符：最新的记录被删除 (newest entries "
                    "deleted)",
                    last_state[0] + 1,
                    partition,
                )
            )
    result.partitions = len(walks)
    result.last_sequence = walks[0].expected - 1 if 0 in walks else 0
    for (partition, seq), cps in sorted(pinned.items()):
        cp = cps[0]
        walk = walks.get(partition, _Walk(partition))
        if seq == 0:
            if cp.entry_hash != GENESIS:
                problems.append(ChainProblem(None, f"检查点第 {cp.line} 行无效 (bad checkpoint)"))
        elif seq >= walk.expected:
            problems.append(
                ChainProblem(
                    None,
                    _in(partition) + f"检查点（第 {cp.line} 行，{cp.time}）记录到第 {seq} 条，"
                    f"日志只到第 {walk.expected - 1} 条：最新的记录被删除 (truncated)",
                    walk.expected,
                    partition,
                )
            )
        else:  # inside the chain, but no entry has that number: reported above as missing
            problems.append(
                ChainProblem(
                    None,
                    _in(partition) + f"检查点（第 {cp.line} 行）记录的第 {seq} 条不存在 (deleted)",
                    seq,
                    partition,
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
    legacy = walks.get(0, _Walk(0))
    if legacy.legacy and not any(
        legacy.first_keyed is not None and cp.partition == 0 and cp.sequence >= legacy.first_keyed
        for cp in checkpoints
    ):
        result.notes.append(
            f"前 {legacy.legacy} 条为旧格式（无密钥），尚无检查点固定：请运行 voucher audit "
            "checkpoint (legacy entries not yet re-anchored)"
        )
    problems.sort(key=lambda p: (p.sequence is None, p.partition, p.sequence or 0))
    return result


def verify_chain() -> Iterator[ChainProblem]:
    """Every place where the log is not what was written (see `verify_log`)."""
    yield from verify_log().problems
