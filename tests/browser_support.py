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


class CspWatchedBrowser:
    """The browser, whose pages record what the Content-Security-Policy blocked (Chromium says so
    on the console): every browser test fails on an inline script or style the policy refuses."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.csp_violations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def _watch(self, target: Any) -> Any:
        def console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.csp_violations.append(message.text)

        target.on("console", console)
        return target

    def new_page(self, *args: Any, **kwargs: Any) -> Any:
        return self._watch(self._browser.new_page(*args, **kwargs))

    def new_context(self, *args: Any, **kwargs: Any) -> Any:
        return self._watch(self._browser.new_context(*args, **kwargs))


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's /usr/bin/chromium through Playwright (never a downloaded browser); skipped where
    Playwright is not installed. Fails the test if a page broke the Content-Security-Policy."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = CspWatchedBrowser(
            p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()
        assert not browser.csp_violations, browser.csp_violations


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
