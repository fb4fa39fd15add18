"""`voucher workflow doc`: write docs/workflow.md from the transition table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.review.workflow_doc import DOC_PATH, workflow_markdown


class Command(BaseCommand):
    help = "写出 docs/workflow.md（由流转表生成）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["doc"])
        parser.add_argument("--output", default=str(DOC_PATH))

    def handle(self, *args: Any, **options: Any) -> None:
        from pathlib import Path

        path = Path(options["output"])
        path.write_text(workflow_markdown(), encoding="utf-8")
        self.stdout.write(f"wrote {path}")
