"""`voucher evaluate FILE… [--json] [--pretty] [--round ID]`: evaluate interchange files as one
batch. `voucher evaluate` runs voucher.policy.cli without Django; this command, the same code, is
for `manage.py evaluate` and `call_command("evaluate", …)`."""

from __future__ import annotations

import io
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.policy import cli


class Command(BaseCommand):
    help = cli.HELP
    requires_system_checks = []  # noqa: RUF012 - touches no database

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        out, err = io.BytesIO(), io.StringIO()
        code = cli.run(
            options["files"],
            as_json=options["json"],
            round_id=options["round"],
            pretty=options["pretty"] or self.stdout.isatty(),
            out=out,
            err=err,
        )
        for line in err.getvalue().splitlines():
            self.stderr.write(line)
        if code:
            sys.exit(code)
        self.stdout.write(out.getvalue().decode(), ending="")
