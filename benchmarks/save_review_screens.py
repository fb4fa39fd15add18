"""Save the review screen of many applications, as several staff roles see it, to compare two
versions of the code (branch screen, issue 23):

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.save_review_screens OUT [--language en]

On a season's database (`voucher demo --season N`): up to three applications of each state and
direction (drawn with a fixed seed), each requested as a reviewer, an approver, a screener, an
auditor and an administrator of the season (shenhe01, fuhe01, chushen01, shenji01, guanli01,
TOTP-verified); each page written to OUT/<user>-<id>.html, its status on the first line and its
CSRF tokens blanked. Run it with the old code and the new on the same database, then
`diff -r OLD NEW`. The screen writes its cross findings' count when it changed: run the old code
twice first (the second run must equal the first), then the new.
"""

from __future__ import annotations

import argparse
import random

from benchmarks.pages import save_page, setup_django, staff_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--language", default="", help="the language cookie (en): else Chinese")
    args = parser.parse_args()
    setup_django()
    from voucher.applications.models import Application

    rng = random.Random(23)
    by: dict[tuple[str, int], list[int]] = {}
    for pk, state, direction in Application.objects.values_list("pk", "state", "direction"):
        by.setdefault((state, direction), []).append(pk)
    ids = sorted(
        {pk for key in sorted(by) for pk in rng.sample(sorted(by[key]), min(3, len(by[key])))}
    )
    for username in ("shenhe01", "fuhe01", "chushen01", "shenji01", "guanli01"):
        client = staff_client(username, args.language)
        for pk in ids:
            save_page(args.out, f"{username}-{pk}.html", client.get(f"/review/{pk}/"))
    print(f"{len(ids)} applications, 5 staff: {args.out}")


if __name__ == "__main__":
    main()
