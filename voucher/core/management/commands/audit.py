"""`voucher audit verify`: check that the audit log is exactly what was written."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.core.audit import verify_chain
from voucher.core.models import AuditEntry


class Command(BaseCommand):
    help = "校验操作日志哈希链 (verify the hash-chained audit log)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = list(verify_chain())
        count = AuditEntry.objects.count()
        if problems:
            for p in problems:
                where = f"#{p.entry_id}" if p.entry_id is not None else "(log)"
                self.stderr.write(f"{where}: {p.what}")
            self.stderr.write(f"操作日志校验失败：{len(problems)} 处问题，共 {count} 条记录。")
            sys.exit(1)
        self.stdout.write(f"操作日志完整：{count} 条记录，哈希链无断裂。")
