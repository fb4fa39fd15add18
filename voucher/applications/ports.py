"""What the domain core reads from the apps above it: they plug it in when Django starts.

The core may not import the apps above it (docs/architecture.md). It names here what it needs and
each app supplies it from its AppConfig.ready():

- the company registry the evaluation searches for related parties (the registry app);
- the scan of an uploaded file for classification marks (the documents app);
- whether a direction-3 application's platform data changed after the centre built it, which
  blocks a decision until it is built again (the platforms app);
- what follows the storing of evaluations: the review app counts the cross-application
  findings of the applications evaluated (and of those they name) for its lists.

Nothing plugged in is no evidence, and fails closed: an evaluation without a registry reads only
the application's inline extract, and a direction-3 application whose platform data nobody can
check counts as changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from voucher.policy.context import RegistrySource

RegistryFactory = Callable[[], RegistrySource]
PlatformDataCheck = Callable[[Any], bool]
PlatformDataChecks = Callable[[Sequence[Any]], set[int]]  # the ids of those changed

# What the scan of an upload for classification marks found, kept with the file it passed
# (MaterialFile.classified_scan): its text read and no mark in it; a kind of file whose text the
# scanner does not read (a picture, a spreadsheet); a file it could not read; refused (marks
# found, or no scanner plugged in).
SCAN_CLEAN = "clean"
SCAN_NOT_READ = "not_read"
SCAN_UNREADABLE = "unreadable"
SCAN_REFUSED = "refused"


@dataclass(frozen=True)
class ClassifiedScanResult:
    outcome: str  # one of SCAN_*
    refusal: str | None = None  # why the upload is refused (SCAN_REFUSED), else None


ClassifiedScan = Callable[[bytes, str], ClassifiedScanResult]

EvaluationsStored = Callable[[Sequence[Any]], None]

_registry: list[RegistryFactory] = []
_evaluations_stored: list[EvaluationsStored] = []
_platform_data_checks: list[PlatformDataCheck] = []
_platform_data_checks_of: list[PlatformDataChecks] = []
_classified_scans: list[ClassifiedScan] = []


def plug_registry(factory: RegistryFactory) -> None:
    _registry[:] = [factory]


def plug_platform_data_check(
    check: PlatformDataCheck, check_of: PlatformDataChecks | None = None
) -> None:
    """`check` answers for one application; `check_of`, for many at once, the same."""
    _platform_data_checks[:] = [check]
    _platform_data_checks_of[:] = [check_of] if check_of is not None else []


def plug_classified_scan(scan: ClassifiedScan) -> None:
    _classified_scans[:] = [scan]


def plug_evaluations_stored(hook: EvaluationsStored) -> None:
    _evaluations_stored[:] = [hook]


_together = threading.local()  # .held: the applications evaluated inside it (this thread's)


def _held() -> list[list[Any]]:
    if not hasattr(_together, "held"):
        _together.held = []
    return _together.held


def evaluations_stored(applications: Sequence[Any]) -> None:
    """Tell the apps above that `applications` were evaluated (in the same transaction). Nothing
    plugged in does nothing: what it keeps (counts for the lists) is no evidence of anything."""
    if _held():
        _held()[-1].extend(applications)
        return
    for hook in _evaluations_stored:
        hook(applications)


@contextmanager
def evaluations_stored_together() -> Iterator[None]:
    """Batches evaluated one after the other inside are told once, all together, at the end
    (a round evaluated in batches: one count of the round's cross findings, not one a batch;
    `voucher demo --season`). Within the thread that opened it."""
    _held().append([])
    try:
        yield
    finally:
        held = _held().pop()
    if held:
        evaluations_stored(held)


NO_CLASSIFIED_SCAN = "上传文件的密级标识检查不可用，暂不能接收文件"


def classified_scan(data: bytes, name: str) -> ClassifiedScanResult:
    """What the scan for classification marks found in an upload. No scanner plugged in refuses
    every upload: a classified file must never be stored for want of a check."""
    if not _classified_scans:
        return ClassifiedScanResult(SCAN_REFUSED, NO_CLASSIFIED_SCAN)
    return _classified_scans[0](data, name)


def classified_marks_refusal(data: bytes, name: str) -> str | None:
    """Why an upload is refused for its classification marks, or None."""
    return classified_scan(data, name).refusal


def stored_registry() -> RegistrySource | None:
    return _registry[0]() if _registry else None


def platform_data_changed(application: Any) -> bool:
    """Direction 3: whether the platform's data changed since `application` was built from it
    (a batch processed or withdrawn, a contract saved). Not direction 3: False."""
    if getattr(application, "direction", None) != 3:
        return False
    if not _platform_data_checks:
        return True
    return _platform_data_checks[0](application)


def platform_data_changed_of(applications: Sequence[Any]) -> set[int]:
    """The ids of those of `applications` whose platform data changed (platform_data_changed
    of each), in a fixed number of queries when the platforms app plugged a check for many."""
    if _platform_data_checks_of:
        return _platform_data_checks_of[0](applications)
    return {a.pk for a in applications if platform_data_changed(a)}
