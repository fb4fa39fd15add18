"""`voucher evaluate FILE… [--json] [--round ID]`: evaluate interchange files as one batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.policy.engine import evaluate
from voucher.policy.format import Application, FormatError, load_application_file
from voucher.policy.report import batch_json, text_report
from voucher.policy.results import Evaluation
from voucher.policy.round import RoundError, get_round, get_rounds


class Command(BaseCommand):
    help = (
        "按 RULES.md 审查算力券申报文件（多个文件为一批，同一企业多方向申报跨文件判断）。"
        " Evaluate compute-voucher applications; several files are one batch."
    )
    requires_system_checks = []  # noqa: RUF012 - touches no database

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="compute-voucher/application@1 JSON"
        )
        parser.add_argument(
            "--json", action="store_true", help="print the JSON of APPLICATION_FORMAT.md"
        )
        parser.add_argument(
            "--round",
            metavar="ID",
            help="evaluate under this round instead of the one each file names (what-if)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["files"]
        problems: list[str] = []
        try:
            get_rounds()
            forced = get_round(options["round"]) if options["round"] else None
        except RoundError as exc:
            self._fail([f"--round: {exc}"])
            return
        documents: list[Application] = []
        for name in names:
            try:
                doc = load_application_file(Path(name))
            except FormatError as exc:
                problems += [f"{name}: {path}: {what}" for path, what in exc.problems]
                continue
            if forced is None:
                try:
                    get_round(doc.round)
                except RoundError as exc:
                    problems.append(f"{name}: round: {exc}")
                    continue
            documents.append(doc)
        if problems:
            self._fail(problems)
            return

        results = self._evaluate(documents, names, forced)
        if options["json"]:
            payload = batch_json(list(zip(names, results, strict=True)))
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
        else:
            for name, doc, ev in zip(names, documents, results, strict=True):
                self.stdout.write(text_report(name, doc.applicant.name, doc.applicant.uscc, ev))
                self.stdout.write("")

    @staticmethod
    def _evaluate(documents: list[Application], names: list[str], forced: Any) -> list[Evaluation]:
        """One batch per round (ONE_DIRECTION never crosses rounds); results in file order."""
        by_round: dict[str, list[int]] = {}
        for i, doc in enumerate(documents):
            by_round.setdefault(forced.id if forced else doc.round, []).append(i)
        results: list[Evaluation | None] = [None] * len(documents)
        for round_id, indexes in by_round.items():
            evaluated = evaluate(
                [documents[i] for i in indexes],
                get_round(round_id),
                references=[names[i] for i in indexes],
            )
            for i, ev in zip(indexes, evaluated, strict=True):
                results[i] = ev
        return [r for r in results if r is not None]

    def _fail(self, problems: list[str]) -> None:
        for line in problems:
            self.stderr.write(line)
        sys.exit(2)
