"""What the Django-backed benchmarks share: a fresh, migrated SQLite database, and timing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any


def fresh_sqlite(prefix: str) -> str:
    """Set Django up on a new SQLite database in a new data directory (whatever DATABASE_URL
    says), migrated; the directory."""
    directory = tempfile.mkdtemp(prefix=prefix)
    os.environ["VOUCHER_DATA_DIR"] = directory
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    os.environ.setdefault("VOUCHER_DEV", "1")  # a throwaway database: development settings
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return directory


def cpu_median(fn: Callable[[], Any], repeat: int) -> float:
    """CPU seconds (this process's time: Python's share, not the database server's) of the median
    of `repeat` calls of `fn`: what a page costs a two-core machine, whatever else runs on it."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times)


def fresh_database(prefix: str, url: str | None) -> str:
    """`fresh_sqlite`, or with `url` (PostgreSQL) Django set up on that database, migrated and
    emptied (`flush`); the data directory, new either way."""
    if not url:
        return fresh_sqlite(prefix)
    directory = tempfile.mkdtemp(prefix=prefix)
    os.environ["VOUCHER_DATA_DIR"] = directory
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    os.environ.setdefault("VOUCHER_DEV", "1")  # a throwaway database: development settings
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    return directory


def best_and_median(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Seconds of the fastest and of the median of `repeat` calls of `fn`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


class _Form(HTMLParser):
    """The fields of each <form method=post> of a page, with their values as shown."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post" and not self._in_form:
            self._in_form, self.fields = True, []
            self.forms.append(self.fields)
        if not self._in_form or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._selected, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._selected = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = self._selected if self._selected is not None else self._first_option
            self.fields.append((self._select, chosen or ""))
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_of(html: str) -> list[tuple[str, str]]:
    """The page's main form (the one with the most fields: not the header's small ones)."""
    parser = _Form()
    parser.feed(html)
    return max(parser.forms, key=len, default=[])
