"""`voucher clock`: the demo's clock (voucher/core/clock.py), to walk a season in one sitting.

    voucher clock                 what "today" is
    voucher clock advance 8       eight days on (a publicity period of 7 days has run out)
    voucher clock set 2026-06-30  "today" is that date (not earlier than the real date)
    voucher clock reset           the real date again

Development only (VOUCHER_DEV=1, which `voucher clock` sets like `voucher demo`); production has no
demo clock and the command says so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from voucher.core import clock
from voucher.policy.dates import DateError, parse_date


class Command(BaseCommand):
    help = "演示时钟：查看或拨快系统计算所用的“今天”（仅演示和测试）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="step")
        advance = sub.add_parser("advance", help="拨快若干天")
        advance.add_argument("days", type=int)
        at = sub.add_parser("set", help="设为某一天（YYYY-MM-DD，不早于实际日期）")
        at.add_argument("day")
        sub.add_parser("reset", help="恢复实际日期")

    def handle(self, *args: Any, step: str | None = None, **options: Any) -> None:
        if not settings.VOUCHER_DEMO_CLOCK_FILE:
            raise CommandError(
                "演示时钟只在演示和测试中使用（VOUCHER_DEV=1）；生产环境按实际日期计算"
            )
        if step == "advance":
            days = options["days"]
            if days < 1:
                raise CommandError("days: 须为正整数（演示时钟只能向前拨）")
            clock.set_offset(clock.offset_days() + days)
        elif step == "set":
            try:
                day: date = parse_date(options["day"], field="day")
            except DateError as exc:
                raise CommandError(f"day: {exc}") from exc
            ahead = (day - timezone.localdate()).days
            if ahead < 0:
                raise CommandError(f"day: {day.isoformat()} 早于实际日期，演示时钟只能向前拨")
            clock.set_offset(ahead)
        elif step == "reset":
            clock.set_offset(0)
        self.stdout.write(
            f"今天按 {clock.today().isoformat()} 计算（拨快 {clock.offset_days()} 天）"
        )
