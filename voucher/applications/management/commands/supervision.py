"""`voucher supervision remind`: e-mail the enterprises whose follow-up report falls due within
30 days (once per report). Run it daily from cron or a systemd timer (docs/supervision.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.applications.supervision import REMIND_DAYS, follow_up_remind
from voucher.core import clock


class Command(BaseCommand):
    help = "跟踪管理：提醒即将到期的年度跟踪报告"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="step", required=True)
        remind = sub.add_parser("remind", help="提醒到期前的跟踪报告")
        remind.add_argument("--days", type=int, default=REMIND_DAYS)

    def handle(self, *args: Any, step: str, days: int = REMIND_DAYS, **options: Any) -> None:
        sent = follow_up_remind(clock.today(), days=days)
        self.stdout.write(f"已发送 {sent} 份跟踪报告提醒")
