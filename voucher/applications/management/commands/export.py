"""`voucher export ID [-o FILE]`: an application as an interchange document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.applications.interchange import application_export
from voucher.applications.models import Application
from voucher.policy.format import dumps_application


class Command(BaseCommand):
    help = "导出申报为 compute-voucher/application@1 文件"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id", type=int, metavar="ID")
        parser.add_argument(
            "-o", "--output", type=Path, metavar="FILE", help="写入文件（默认输出到屏幕）"
        )

    def handle(self, *args: Any, id: int, output: Path | None, **options: Any) -> None:
        try:
            application = Application.objects.select_related("round", "enterprise").get(pk=id)
        except Application.DoesNotExist:
            raise CommandError(
                f"没有编号为 {id} 的申报 (no application {id})", returncode=2
            ) from None
        text = dumps_application(application_export(application))
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
