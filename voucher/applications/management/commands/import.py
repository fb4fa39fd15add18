"""`voucher import FILE…`: store interchange documents as applications.

Each file is stored whole or not at all. Prints the id of each application created; a file
that is not the format gets `file: path: message` lines on stderr, and the command exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.applications.actions import application_import
from voucher.policy.format import FormatError, load_application_file


class Command(BaseCommand):
    help = "导入申报文件（compute-voucher/application@1），输出新建申报的编号"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        failed = 0
        for path in files:
            try:
                document = load_application_file(path)
                application = application_import(document=document, source_name=str(path))
            except FormatError as exc:
                failed += 1
                for where, what in exc.problems:
                    self.stderr.write(f"{path}: {where}: {what}")
                continue
            self.stdout.write(str(application.pk))
        if failed:
            raise CommandError(
                f"{failed} 个文件未导入 ({failed} of {len(files)} file(s) not imported)",
                returncode=2,
            )
