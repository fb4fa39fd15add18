"""What several of the platforms app's actions share: the refusal, the batch directory, the
audit actor of a token, the screened fields, the screener and listed-project checks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from voucher.applications import permissions
from voucher.core import refusals
from voucher.core.files import local_path
from voucher.platforms.models import ApiToken, Platform, Project, ShortlistEntry

# The platforms' steps refuse with the one refusal (core/refusals.py): a title for the person,
# the stable code, a detail for the program, the fields; the API gives it its status.
Refused = refusals.Refused


def batch_storage() -> Storage:
    """Where the platforms' consumption and settlement files are kept: the default storage
    (STORAGES["default"], local or S3, docs/operations.md), or the directory
    VOUCHER_PLATFORM_BATCH_DIR names (the tests use one of their own)."""
    configured = getattr(settings, "VOUCHER_PLATFORM_BATCH_DIR", None)
    return FileSystemStorage(location=configured) if configured else default_storage


def batch_dir() -> Path:
    """The local directory of the batch files, for `voucher backup` (docs/backup.md); an object
    store (S3) has none and is backed up with the store's own tools."""
    path = local_path(batch_storage(), "platform-batches")
    if path is None:
        raise ImproperlyConfigured(
            "batch files are kept in an object store: back them up with its own versioning"
        )
    return path


def batch_name(sha: str) -> str:
    """A batch file's name in the storage: its SHA-256 (content-addressed, written once)."""
    return f"platform-batches/{sha}"


def _actor(token: ApiToken | None) -> dict[str, Any]:
    if token is None:
        return {}
    return {"platform": token.platform.code, "token": token.prefix}


# What the centre screened (D3_QUALIFICATION: open source, the scenario): a change to any of
# them is a project the centre has not seen.
SCREENED_FIELDS = ("name", "url", "scenario", "start_date", "open_source_licence")


def _screened(project: Project) -> tuple[str, ...]:
    return tuple(str(getattr(project, f)) for f in SCREENED_FIELDS)


def _require_screener(user: Any) -> None:

    check = permissions.can_screen(user)
    if not check:
        raise Refused(check.reason, code=refusals.FORBIDDEN)


def _listed_project(platform: Platform, uscc: str) -> Project:
    project = (
        Project.objects.filter(
            platform=platform,
            enterprise_uscc=uscc,
            screening__decision=ShortlistEntry.LISTED,
        )
        .order_by("-screening__screened_at")
        .first()
    )
    if project is None:
        raise Refused(
            "该企业不在本平台的名单上 (enterprise not on this platform's shortlist)",
            code=refusals.NOT_FOUND,
            detail="the centre has not listed a project of this enterprise published on this platform",
        )
    return project


# Settlement rows are compared uncut with the declared lines (the engine cuts the declaration to
# the claim period itself): a window wide enough for any contract.
SETTLEMENT_WINDOW = (date(2000, 1, 1), date(2099, 12, 31))
