"""`voucher`: the project's manage.py as a console command (`voucher migrate`, `voucher evaluate` …).

`voucher evaluate` needs no database: it runs voucher.policy.cli without importing Django (a
second saved at every run); only what that parser does not take (--help, Django's own options,
a usage error) goes to the management command of the same name.
"""

from __future__ import annotations

import os
import sys

# Commands that serve or need nothing of production: the demo (a development server with public
# pages), the demo staff's current TOTP code and the rules engine on files. They run as on a development machine (VOUCHER_DEV=1,
# voucher/settings.py) unless VOUCHER_DEV says otherwise; every other command reads the
# production settings and needs SECRET_KEY (docs/operations.md).
DEVELOPMENT_COMMANDS = frozenset({"clock", "demo", "evaluate", "totp"})


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "evaluate":
        _evaluate(sys.argv[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    if len(sys.argv) > 1 and sys.argv[1] in DEVELOPMENT_COMMANDS:
        os.environ.setdefault("VOUCHER_DEV", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _evaluate(argv: list[str]) -> None:
    """`voucher evaluate` without Django; returns only when the Django command should run it.

    A file-to-stdout command: its end is made cheap. pydantic's plugins are not looked for (a
    scan of every installed package's metadata at the first model; PYDANTIC_DISABLE_PLUGINS
    set otherwise is kept), and once the output is flushed the process ends with os._exit,
    as mypy does, instead of freeing the batch (kept alive by `keep`) object by object and
    tearing down every module: some tenths of a second for 10,000 files.
    """
    ours = "PYDANTIC_DISABLE_PLUGINS" not in os.environ
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from voucher.policy import cli

    keep: list[object] = []
    code = cli.main(argv, keep=keep)
    if code is None:
        if ours:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        sys.exit(code)  # a closed pipe: Python's own exit reports it, as it did before
    os._exit(code)


if __name__ == "__main__":
    main()
