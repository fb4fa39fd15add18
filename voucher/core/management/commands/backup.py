"""`voucher backup DIR`: the database, the files it names and the audit head (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库、上传文件与操作日志链头 (back up the database, its files and the audit head)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="a new or empty directory")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup(options["directory"], say=self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for problem in ("missing_files", "corrupt_files"):
            for name in manifest[problem]:
                self.stderr.write(f"{problem.replace('_', ' ')[:-1]}: {name}")
        if manifest["missing_files"] or manifest["corrupt_files"]:
            raise CommandError(
                "the backup was written, but the live store lacks or damaged the files above"
            )
