"""What the domain core reads from the apps above it: they plug it in when Django starts.

The core may not import the apps above it (docs/architecture.md). It names here what it needs and
each app supplies it from its AppConfig.ready():

- the company registry the evaluation searches for related parties (the registry app);
- the scan of an uploaded file for classification marks (the documents app);
- whether a direction-3 application's platform data changed after the centre built it, which
  blocks a decision until it is built again (the platforms app).

Nothing plugged in is no evidence, and fails closed: an evaluation without a registry reads only
the application's inline extract, and a direction-3 application whose platform data nobody can
check counts as changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voucher.policy.context import RegistrySource

RegistryFactory = Callable[[], RegistrySource]
PlatformDataCheck = Callable[[Any], bool]
ClassifiedScan = Callable[[bytes, str], str | None]  # the refusal's message, or None

_registry: list[RegistryFactory] = []
_platform_data_checks: list[PlatformDataCheck] = []
_classified_scans: list[ClassifiedScan] = []


def plug_registry(factory: RegistryFactory) -> None:
    _registry[:] = [factory]


def plug_platform_data_check(check: PlatformDataCheck) -> None:
    _platform_data_checks[:] = [check]


def plug_classified_scan(scan: ClassifiedScan) -> None:
    _classified_scans[:] = [scan]


def classified_marks_refusal(data: bytes, name: str) -> str | None:
    """Why an upload is refused for its classification marks, or None. No scanner plugged in
    refuses every upload: a classified file must never be stored for want of a check."""
    if not _classified_scans:
        return "上传文件的密级标识检查不可用，暂不能接收文件"
    return _classified_scans[0](data, name)


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
