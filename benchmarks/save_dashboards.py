"""Save the dashboard (预算与统计) for each direction and several pages of its pro-rata
simulation, to compare two versions of the code (branch dash, issue 23):

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.save_dashboards OUT [--language en]

On a season's database (`voucher demo --season N`): each round, directions 1–4 (and a missing
and a bad one), the simulation's pages 1, 2, its last, one past it and a bad one, as a reviewer
and an administrator of the season (shenhe01, guanli01, TOTP-verified); each page written to
OUT/<user>-<round>-<direction>-<page>.html, its status on the first line and its CSRF tokens
blanked. Run it with the old code and the new on the same database, then `diff -r OLD NEW`.
Reads only.
"""

from __future__ import annotations

import argparse

from benchmarks.pages import save_page, setup_django, staff_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--language", default="", help="the language cookie (en): else Chinese")
    args = parser.parse_args()
    setup_django()
    from voucher.applications.models import PolicyRoundRecord

    saved = 0
    for username in ("shenhe01", "guanli01"):
        client = staff_client(username, args.language)
        for code in PolicyRoundRecord.objects.order_by("code").values_list("code", flat=True):
            for direction in ("1", "2", "3", "4", "5", "x"):
                for page in ("1", "2", "12", "13", "last", "999", "0", "x"):
                    url = f"/review/dashboard/?round={code}&direction={direction}&sim_page={page}"
                    name = f"{username}-{code}-{direction}-{page}.html"
                    save_page(args.out, name, client.get(url))
                    saved += 1
    print(f"{saved} dashboards: {args.out}")


if __name__ == "__main__":
    main()
