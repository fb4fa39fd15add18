"""`voucher restore DIR`: verify a backup, then restore its files and database (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "从备份恢复数据库与文件 (restore the database and files of a backup)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="a directory `voucher backup` wrote")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that is not empty"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restore(options["directory"], force=options["force"], say=self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from None
