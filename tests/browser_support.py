"""What every browser test shares: Debian's Chromium started the one way CI allows, the
screenshots' folder, ORM work beside Playwright, and the demo staff's TOTP codes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import connection

from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
T = TypeVar("T")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's /usr/bin/chromium through Playwright (never a downloaded browser); skipped where
    Playwright is not installed."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def in_thread(fn: Callable[[], T]) -> T:
    """ORM work while the browser runs: Playwright's sync API runs the test in a greenlet, and a
    connection opened there is never closed (PostgreSQL then refuses to drop the test database).
    So: its own thread and connection, closed afterwards; the result, or the error, comes back."""
    out: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:  # pragma: no cover - raised below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


def totp_code(username: str) -> str:
    """The current code of a demo staff user (`voucher demo`'s TOTP keys)."""
    from django_otp.oath import TOTP

    from voucher.demo.staff import demo_key

    return f"{TOTP(demo_key(username)).token():06d}"
