"""`voucher lists import --round R --kind K --source S --as-of D FILE` · `voucher lists show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.applications.models import OFFICIAL_LIST_KINDS, OfficialList, PolicyRoundRecord
from voucher.applications.roles import SYSTEM_ACTOR
from voucher.applications.rounds import rounds_sync
from voucher.review.actions import ReviewError, official_list_import


class Command(BaseCommand):
    help = "官方名单：导入、查看 (the round's official lists, RULES.md v2)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("import", help="导入一份官方名单（替换该轮次的同类名单）")
        p.add_argument("file", type=Path, metavar="FILE", help="CSV 或 .xlsx")
        p.add_argument("--round", required=True, help="轮次，如 bj-2026")
        p.add_argument("--kind", required=True, choices=[k for k, _ in OFFICIAL_LIST_KINDS])
        p.add_argument("--source", required=True, help="来源：发布单位、文号或网址")
        p.add_argument("--as-of", required=True, dest="as_of", help="截至日期 YYYY-MM-DD")
        sub.add_parser("show", help="列出已导入的官方名单")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _import(self, file: Path, round: str, kind: str, source: str, as_of: str, **_: Any) -> None:
        rounds_sync()
        record = PolicyRoundRecord.objects.filter(code=round).first()
        if record is None:
            raise CommandError(f"--round: 没有轮次 {round} (no such round)", returncode=2)
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: 无法读取 ({exc.strerror})", returncode=2) from None
        try:
            result = official_list_import(
                round=record,
                kind=kind,
                content=content,
                filename=file.name,
                source=source,
                as_of=as_of,
                acting_user=SYSTEM_ACTOR,
            )
        except ReviewError as exc:
            field = f"--{exc.field.replace('_', '-')}: " if exc.field else ""
            raise CommandError(f"{file}: {field}{exc}", returncode=2) from None
        for error in result.errors:
            self.stderr.write(f"{file}: {error}")
        self.stdout.write(f"{record.code} {kind}: {result.count} 条（{len(result.errors)} 行有误）")
        if result.errors:
            raise CommandError(
                f"{len(result.errors)} 行未导入 ({len(result.errors)} row(s) rejected)",
                returncode=1,
            )

    def _show(self, **_: Any) -> None:
        for official in OfficialList.objects.select_related("round").order_by("round", "kind"):
            self.stdout.write(
                f"{official.round.code} {official.kind}: {official.entries.count()} 条，"
                f"来源 {official.source}，截至 {official.as_of}，文件 {official.file_name}"
            )
