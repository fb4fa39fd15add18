"""What every browser test shares: Debian's Chromium started the one way CI allows, the
screenshots' folder, ORM work beside Playwright, the demo staff's TOTP codes, and the
accessibility check (axe-core, WCAG 2.1 AA) of every page a browser test loads."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import connection

from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
T = TypeVar("T")

# axe-core, vendored from its npm package (tests/vendor/axe-core/README)
AXE_SOURCE = (ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
AXE_RUN = """async (tags) => {
  if (document.readyState !== "complete") {
    await new Promise(done => window.addEventListener("load", done, {once: true}));
  }
  const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
  return {
    lang: document.documentElement.lang,
    violations: result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
    })),
  };
}"""


def axe_check(page: Any) -> dict[str, Any]:
    """The page's language and the WCAG 2.1 AA violations axe-core finds on it once it has
    loaded. The script is evaluated by the browser's debugging protocol, which the page's
    Content-Security-Policy does not govern: the pages keep their policy while being checked."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return dict(page.evaluate(AXE_RUN, AXE_TAGS))


class AxeAudit:
    """Every page a browser test opens, checked by axe-core each time it has navigated, as soon
    as the test next turns to the page (so the check sees the page loaded, as the test does, and
    never races the test's next step); `blocking()` is what fails a test (a critical or serious
    violation). The counts go to test-artifacts/axe.jsonl."""

    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        self.unchecked: list[str] = []
        self.watched: list[AuditedPage] = []

    def watch(self, page: Any) -> AuditedPage:
        audited = AuditedPage(page, self)
        self.watched.append(audited)
        return audited

    def check(self, page: Any) -> None:
        try:
            page.wait_for_load_state("load")
            found = axe_check(page)
        except Exception as exc:  # closed, or gone on to another page meanwhile
            self.unchecked.append(f"{page.url}: {str(exc).splitlines()[0]}")
            return
        self.pages.append({"url": page.url, **found})

    def finish(self) -> None:
        for audited in self.watched:
            audited.check_if_navigated()

    def blocking(self) -> list[str]:
        return [
            f"{p['url']} [{p['lang']}] {v['impact']} {v['id']}: {v['help']} {v['nodes']}"
            for p in self.pages
            for v in p["violations"]
            if v["impact"] in BLOCKING
        ]

    def record(self, test: str) -> None:
        """One line per test: how many pages were checked, the violations by impact."""
        ARTIFACTS.mkdir(exist_ok=True)
        counts = {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
        for p in self.pages:
            for v in p["violations"]:
                counts[v["impact"] or "minor"] = counts.get(v["impact"] or "minor", 0) + 1
        with (ARTIFACTS / "axe.jsonl").open("a", encoding="utf-8") as out:
            line = {
                "test": test,
                "pages": len(self.pages),
                **counts,
                "blocking": self.blocking(),
                "unchecked": self.unchecked,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


class AuditedPage:
    """A Playwright page that axe-checks itself before the test's next use of it after a
    navigation of its main frame (a link, a form, a goto)."""

    def __init__(self, page: Any, audit: AxeAudit) -> None:
        self._page = page
        self._audit = audit
        self._navigated = False

        def navigated(frame: Any) -> None:
            if frame == page.main_frame:
                self._navigated = True

        page.on("framenavigated", navigated)

    def check_if_navigated(self) -> None:
        if self._navigated and not self._page.is_closed():
            self._navigated = False
            self._audit.check(self._page)

    def check_accessibility_now(self) -> None:
        """Check the page as it is now: for a page that draws itself after loading (Swagger UI),
        where the check on the next use would see it half drawn."""
        self._navigated = False
        self._audit.check(self._page)

    def __getattr__(self, name: str) -> Any:
        if name not in ("on", "is_closed", "close", "url", "context", "main_frame"):
            self.check_if_navigated()
        return getattr(self._page, name)


class AuditedContext:
    """A browser context whose pages are AuditedPages."""

    def __init__(self, context: Any, audit: AxeAudit) -> None:
        self._context = context
        self._audit = audit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def new_page(self, *args: Any, **kwargs: Any) -> AuditedPage:
        return self._audit.watch(self._context.new_page(*args, **kwargs))

    def close(self, *args: Any, **kwargs: Any) -> None:
        for audited in self._audit.watched:
            if audited._page.context == self._context:
                audited.check_if_navigated()
        self._context.close(*args, **kwargs)


class CspWatchedBrowser:
    """The browser, whose pages record what the Content-Security-Policy blocked (Chromium says so
    on the console): every browser test fails on an inline script or style the policy refuses."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.csp_violations: list[str] = []
        self.axe = AxeAudit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def _watch(self, target: Any) -> Any:
        def console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.csp_violations.append(message.text)

        target.on("console", console)
        return target

    def new_page(self, *args: Any, **kwargs: Any) -> Any:
        return self.axe.watch(self._watch(self._browser.new_page(*args, **kwargs)))

    def new_context(self, *args: Any, **kwargs: Any) -> Any:
        return AuditedContext(self._watch(self._browser.new_context(*args, **kwargs)), self.axe)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's /usr/bin/chromium through Playwright (never a downloaded browser); skipped where
    Playwright is not installed. Fails the test if a page broke the Content-Security-Policy, or
    if axe-core found a critical or serious WCAG 2.1 AA violation on a page it loaded
    (VOUCHER_AXE=record only records them in test-artifacts/axe.jsonl)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = CspWatchedBrowser(
            p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        )
        try:
            yield browser
            browser.axe.finish()
        finally:
            browser.close()
        browser.axe.record(os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0])
        assert not browser.csp_violations, browser.csp_violations
        if os.environ.get("VOUCHER_AXE") != "record":
            assert not browser.axe.blocking(), "\n".join(browser.axe.blocking())


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
