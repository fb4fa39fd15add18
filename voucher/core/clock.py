"""Today, as the system's rules see it: the calendar date in Beijing, moved by the demo's clock.

A season lasts months: the publicity period must run out before a payment, a clawback falls due
six months after its notice. The demo and the tests walk that in one sitting by moving "today"
forward (`voucher clock advance 8`), never by back-dating a record. Production has no demo clock:
the settings refuse VOUCHER_DEMO_CLOCK_FILE without VOUCHER_DEV=1 (docs/operations.md), so there
`today()` is `timezone.localdate()` and nothing else.

Only dates move. Timestamps (the audit log, the time of a decision) stay the real time: the
clock changes which days the rules count, never when something happened.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone


def _clock_file() -> Path | None:
    name = getattr(settings, "VOUCHER_DEMO_CLOCK_FILE", None)
    return Path(name) if name else None


def offset_days() -> int:
    """How many days the demo's clock runs ahead of the real date (0 without a demo clock)."""
    path = _clock_file()
    if path is None:
        return 0
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return 0
    try:
        return int(text)
    except ValueError:
        # a file we did not write: the real date, rather than a page that fails on every request
        return 0


def today() -> date:
    """The date the rules count with: Beijing's date, plus the demo clock's days where one runs."""
    return timezone.localdate() + timedelta(days=offset_days())


def set_offset(days: int) -> date:
    """Move the demo's clock to `days` ahead of the real date (0 puts it back); returns today()."""
    path = _clock_file()
    if path is None:
        raise RuntimeError("VOUCHER_DEMO_CLOCK_FILE is not set: the demo clock runs only on a demo")
    if days < 0:
        raise ValueError("the demo clock moves forward only: a season never runs backwards")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{days}\n", encoding="ascii")
    tmp.replace(path)
    return today()


def demo_clock(request: Any) -> dict[str, Any]:
    """Template context: the demo clock's date when it is moved, for the banner in base.html."""
    days = offset_days()
    if not days:
        return {}
    return {"demo_clock_today": today(), "demo_clock_days": days}
