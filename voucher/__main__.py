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
        from voucher.policy import cli

        code = cli.main(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    if len(sys.argv) > 1 and sys.argv[1] in DEVELOPMENT_COMMANDS:
        os.environ.setdefault("VOUCHER_DEV", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
