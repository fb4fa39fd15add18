"""`voucher backup DIR` and `voucher restore DIR` (docs/backup.md).

A backup is a directory:

    DIR/files/<area>/<name>   the files kept outside the database (uploads, platform batches)
    DIR/audit-checkpoints/    the audit log's signed checkpoints (VOUCHER_AUDIT_CHECKPOINT_DIR)
    DIR/database.pgdump       PostgreSQL: pg_dump's custom format
    DIR/database.sqlite3      SQLite: a copy made with SQLite's online backup API
    DIR/manifest.json         written last: the SHA-256 of every file and of the dump, the
                              migrations applied, the audit log's heads, the time

Consistency: the files are copied first, then the database is dumped in one snapshot, then the
files that appeared meanwhile are copied. A file is always stored before the row that names it
is committed (uploads, batches), and a stored file is never changed (content-addressed), so
every file a row of the dump names is in the copy; the backup checks it in the dump's snapshot.
The audit checkpoints are copied before the dump, so every head they pin is in the dump (a
checkpoint of entries newer than the dump would make the restored log look truncated).

The apps say which files they keep (AppConfig.backup_file_areas: pairs of an area's name and
the dotted path of a function returning its directory) and which columns name them
(AppConfig.backup_file_references: (area, model label, field)); core imports none of them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.module_loading import import_string

from voucher.core.statistics import refresh_planner_statistics

FORMAT = "compute-voucher-backup/1"
MANIFEST = "manifest.json"
FILES = "files"
CHECKPOINTS = "audit-checkpoints"
DUMPS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on; nothing was changed by a refused restore."""


@dataclass
class FileArea:
    name: str
    directory: Path
    content_addressed: bool = True  # every file is named by the SHA-256 of its bytes
    references: list[tuple[str, str]] = field(default_factory=list)  # (model label, field)


def file_areas() -> list[FileArea]:
    areas: dict[str, FileArea] = {}
    for config in apps.get_app_configs():
        for name, path in getattr(config, "backup_file_areas", ()):
            directory: Callable[[], Path] = import_string(path)
            areas[name] = FileArea(name, Path(directory()))
    for config in apps.get_app_configs():
        for area, label, column in getattr(config, "backup_file_references", ()):
            areas[area].references.append((label, column))
    return sorted(areas.values(), key=lambda a: a.name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    """Copy `source` to `target` (through a temporary name): (SHA-256 of what was copied, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    partial = target.with_name(f".{target.name}.part")
    with source.open("rb") as stream, partial.open("wb") as out:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return digest.hexdigest(), size


def _stored_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to the directory, path) of the files kept there; temporaries (a name
    starting with a dot, or ending with .part) are left out."""
    if not directory.is_dir():
        return
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or path.is_symlink():
            continue
        if any(part.startswith(".") for part in relative.parts) or path.suffix == ".part":
            continue
        yield relative.as_posix(), path


# --- what the database says (run on a cursor inside the dump's snapshot) ----------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _snapshot_facts(cursor: Any, areas: list[FileArea]) -> dict[str, Any]:
    """The migrations applied, the audit head and the files named, read through `cursor`."""
    cursor.execute('SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')
    migrations = [[app, name] for app, name in cursor.fetchall()]
    head_table = apps.get_model("core", "AuditChainHead")._meta.db_table
    entry_table = apps.get_model("core", "AuditEntry")._meta.db_table
    cursor.execute(f"SELECT COUNT(*) FROM {_quote(entry_table)}")
    (entries,) = cursor.fetchone()
    audit_head = {"heads": _audit_heads(cursor, head_table), "entries": entries}
    referenced: dict[str, dict[str, str]] = {}
    for area in areas:
        for label, column in area.references:
            meta = apps.get_model(label)._meta
            db_column = meta.get_field(column).column
            cursor.execute(
                f"SELECT DISTINCT {_quote(db_column)} FROM {_quote(meta.db_table)} "
                f"WHERE {_quote(db_column)} <> ''"
            )
            for (name,) in cursor.fetchall():
                referenced.setdefault(area.name, {}).setdefault(name, label)
    return {"migrations": migrations, "audit_head": audit_head, "referenced": referenced}


def _audit_heads(cursor: Any, head_table: str) -> dict[str, list[Any]]:
    """{partition: [last sequence, last hash]} of every head row of the audit log."""
    cursor.execute(
        f'SELECT "partition", "last_sequence", "last_hash" FROM {_quote(head_table)} '
        'ORDER BY "partition"'
    )
    return {str(p): [seq, last] for p, seq, last in cursor.fetchall()}


# --- the audit checkpoints --------------------------------------------------------------------


def _checkpoint_dir() -> Path:
    return Path(settings.VOUCHER_AUDIT_CHECKPOINT_DIR)


def _copy_checkpoints(target: Path) -> dict[str, dict[str, Any]]:
    """Copy each checkpoint file under a shared lock (a writer appends under an exclusive one,
    so no half-written line is copied): {name: {sha256, bytes}}."""
    copied: dict[str, dict[str, Any]] = {}
    for name, path in _stored_files(_checkpoint_dir()):
        with path.open("rb") as held:
            fcntl.flock(held, fcntl.LOCK_SH)
            sha, size = _copy_hashed(path, target / name)
        copied[name] = {"sha256": sha, "bytes": size}
    return copied


def _restore_checkpoints(
    directory: Path, manifest: dict[str, Any], say: Callable[[str], None]
) -> int:
    """Put the backup's checkpoint files back. A different file already there (written after
    the backup, or by another installation) is kept beside it, renamed, never overwritten."""
    restored = 0
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    for name, entry in manifest.get("audit_checkpoints", {}).items():
        target = _checkpoint_dir() / name
        if target.is_file():
            if sha256_of(target) == entry["sha256"]:
                continue
            aside = target.with_name(f"{target.name}.before-restore-{stamp}")
            target.rename(aside)
            say(f"the checkpoint file {target} differed from the backup's: kept as {aside}")
        sha, _ = _copy_hashed(directory / CHECKPOINTS / name, target)
        if sha != entry["sha256"]:
            raise BackupError(f"{CHECKPOINTS}/{name} changed while it was restored")
        restored += 1
    return restored


# --- backup -----------------------------------------------------------------------------------


def _pg_environment(settings: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for pg_dump, pg_restore and psql: the database Django uses."""
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if settings.get(key):
            env[variable] = str(settings[key])
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _dump_postgresql(target: Path, areas: list[FileArea]) -> dict[str, Any]:
    """pg_dump of the snapshot of a REPEATABLE READ transaction, read in the same snapshot."""
    env = _pg_environment(connection.settings_dict)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            done = subprocess.run(
                [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--file", target],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
            return _snapshot_facts(cursor, areas)
        finally:
            cursor.execute("ROLLBACK")


def _dump_sqlite(target: Path, areas: list[FileArea]) -> dict[str, Any]:
    """A copy made with SQLite's online backup API (consistent however busy the database is)."""
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        return _snapshot_facts(copy.cursor(), areas)
    finally:
        copy.close()
        source.close()


def backup(directory: Path, *, say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Write a backup into `directory` (new or empty); return its manifest."""
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError(f"no backup for a {vendor} database")
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new directory")
    areas = file_areas()
    for area in areas:
        if directory.resolve().is_relative_to(area.directory.resolve()):
            raise BackupError(f"{directory} is inside the {area.name} directory it would copy")
    if directory.resolve().is_relative_to(_checkpoint_dir().resolve()):
        raise BackupError(f"{directory} is inside the audit checkpoint directory it would copy")
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    corrupt: list[str] = []

    def copy_area_files() -> None:
        for area in areas:
            for name, path in _stored_files(area.directory):
                key = f"{area.name}/{name}"
                if key in files:
                    continue  # copied in the first pass; a stored file never changes
                sha, size = _copy_hashed(path, directory / FILES / area.name / name)
                files[key] = {"sha256": sha, "bytes": size}
                if area.content_addressed and sha != Path(name).name:
                    corrupt.append(key)

    copy_area_files()  # 1. the files, before the snapshot
    checkpoints = _copy_checkpoints(directory / CHECKPOINTS)  # and the checkpoints: before too
    dump = directory / DUMPS[vendor]
    facts = (_dump_postgresql if vendor == "postgresql" else _dump_sqlite)(dump, areas)  # 2.
    copy_area_files()  # 3. the files stored (before their rows) while the dump was taken
    missing = sorted(
        f"{area}/{name} ({label})"
        for area, names in facts.pop("referenced").items()
        for name, label in names.items()
        if f"{area}/{name}" not in files
    )
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {
            "vendor": vendor,
            "file": dump.name,
            "sha256": sha256_of(dump),
            "bytes": dump.stat().st_size,
        },
        **facts,
        "files": files,
        "audit_checkpoints": checkpoints,
        # files the database names that were not in the store when the backup was taken
        "missing_files": missing,
        "corrupt_files": sorted(corrupt),  # content-addressed files whose bytes changed
    }
    _write_json(directory / MANIFEST, manifest)
    say(
        f"backup {directory}: {vendor} database, {len(files)} files, audit log of "
        f"{facts['audit_head']['entries']} entries in {len(facts['audit_head']['heads'])} "
        f"partitions, {len(checkpoints)} checkpoint files"
    )
    return manifest


def _write_json(path: Path, data: Any) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with partial.open("rb") as stream:
        os.fsync(stream.fileno())
    partial.replace(path)


# --- restore ----------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} is missing: not a backup, or one that did not finish")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: not a {FORMAT} manifest")
    return manifest


def verify(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file of the backup against the manifest's SHA-256: the problems found."""
    problems = []
    expected = {FILES + "/" + key: entry["sha256"] for key, entry in manifest["files"].items()}
    expected[manifest["database"]["file"]] = manifest["database"]["sha256"]
    for name, entry in manifest.get("audit_checkpoints", {}).items():
        expected[f"{CHECKPOINTS}/{name}"] = entry["sha256"]
    for relative, sha in sorted(expected.items()):
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif sha256_of(path) != sha:
            problems.append(f"{relative}: SHA-256 differs from the manifest")
    return problems


def database_is_empty() -> bool:
    """No tables, or none of the rows people make: no user and no audit entry (every action
    writes one). What migrations write (content types, permissions, roles) does not count."""
    tables = set(connection.introspection.table_names())
    for label in ("core.AuditEntry", apps.get_model("auth", "User")._meta.label):
        model = apps.get_model(label)
        if model._meta.db_table in tables and model._default_manager.exists():
            return False
    return True


def _check_migrations(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """Refuse a backup made by a newer version (a migration this code lacks); return the
    migrations the code has and the backup lacks (`voucher migrate` applies them)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    applied = {(app, name) for app, name in manifest["migrations"]}
    unknown = sorted(m for m in applied - known if m[0] in loader.migrated_apps)
    if unknown:
        raise BackupError(
            "the backup was made by a newer version of the application (migrations "
            + ", ".join(f"{a}.{n}" for a, n in unknown)
            + "): restore it with that version"
        )
    return sorted(known - applied)


@contextmanager
def _no_connections() -> Iterator[None]:
    connections.close_all()
    try:
        yield
    finally:
        connections.close_all()


def _restore_postgresql(dump: Path) -> None:
    """In one transaction: the schema emptied, then the dump (psql --single-transaction): a
    failed restore leaves the database as it was."""
    env = _pg_environment(connection.settings_dict)
    with _no_connections(), tempfile.TemporaryFile() as errors:
        psql = subprocess.Popen(
            [_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
        )
        assert psql.stdin is not None
        psql.stdin.write(b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        script = subprocess.Popen(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", dump],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
        assert script.stdout is not None
        try:
            for chunk in iter(lambda: script.stdout.read(CHUNK), b""):  # type: ignore[union-attr]
                psql.stdin.write(chunk)
        except BrokenPipeError:
            pass  # psql stopped at an error: reported below
        finally:
            psql.stdin.close()
        failed = script.wait() != 0
        failed = psql.wait() != 0 or failed
        if failed:
            errors.seek(0)
            raise BackupError(
                "restore failed; the database is unchanged: " + errors.read().decode()
            )


def _restore_sqlite(dump: Path) -> None:
    """SQLite's backup API copies the backup over the database, in one transaction."""
    with _no_connections():
        source = sqlite3.connect(dump)
        target = sqlite3.connect(connection.settings_dict["NAME"], timeout=60)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()


def restore(
    directory: Path, *, force: bool = False, say: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Verify the backup, then put its files and its database in place; return its manifest.

    Refused, changing nothing: a backup whose files differ from its manifest, one of another
    database vendor or of a newer version, and a database that is not empty unless `force`.
    """
    manifest = read_manifest(directory)
    problems = verify(directory, manifest)
    if problems:
        raise BackupError("the backup is damaged: " + "; ".join(problems))
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"a {vendor} backup cannot be restored into {connection.vendor}")
    to_migrate = _check_migrations(manifest)
    if not force and not database_is_empty():
        raise BackupError(
            "the database is not empty (it has users or audit entries): restore into an empty "
            "database, or give --force to replace it"
        )
    areas = {area.name: area for area in file_areas()}
    restored = 0
    for key, entry in manifest["files"].items():  # the files first: no row without its file
        area, name = key.split("/", 1)
        if area not in areas:
            raise BackupError(f"the backup has files of an area this version lacks: {area}")
        target = areas[area].directory / name
        if target.is_file() and sha256_of(target) == entry["sha256"]:
            continue
        sha, _ = _copy_hashed(directory / FILES / key, target)
        if sha != entry["sha256"]:
            raise BackupError(f"{key} changed while it was restored")
        restored += 1
    dump = directory / manifest["database"]["file"]
    (_restore_postgresql if vendor == "postgresql" else _restore_sqlite)(dump)
    refresh_planner_statistics()  # pg_restore leaves the planner without any
    head_table = apps.get_model("core", "AuditChainHead")._meta.db_table
    wanted = manifest["audit_head"]
    with connection.cursor() as cursor:
        if "heads" in wanted:
            found: Any = _audit_heads(cursor, head_table)
            expected: Any = wanted["heads"]
        else:  # a backup made before the partitions: one head row, id 1
            cursor.execute(
                f'SELECT "last_entry_id", "last_hash" FROM {_quote(head_table)} WHERE "id" = 1'
            )
            found = list(cursor.fetchone() or (None, None))
            expected = [wanted["last_entry_id"], wanted["last_hash"]]
    if found != expected:
        raise BackupError(f"the restored audit heads {found} are not the backup's {expected}")
    checkpoints = _restore_checkpoints(directory, manifest, say)
    say(
        f"restored {directory}: {vendor} database, {restored} of {len(manifest['files'])} files "
        f"written, audit log of {wanted['entries']} entries, {checkpoints} checkpoint files "
        "written"
    )
    if to_migrate:
        say(f"the backup predates {len(to_migrate)} migrations: run `voucher migrate`")
    return manifest
