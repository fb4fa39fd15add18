"""Save the review queue and 我的待办 with many filters, orders and pages, as several staff
roles, in Chinese and English, to compare two versions of the code (branch mine, issue 23):

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.save_list_pages OUT

On a season's database (`voucher demo --season N`): each page of QUEUE and MINE requested as a
reviewer, an approver, a screener, an auditor and an administrator of the season (shenhe01,
fuhe01, chushen01, shenji01, guanli01, TOTP-verified), in Chinese and with the English language
cookie; each written to OUT/<user>_<language>_<page>_<query>.html with its status on the first
line and its CSRF tokens blanked. Reads only. Run it with the old code and the new on the same
database, then `diff -r OLD NEW`.
"""

from __future__ import annotations

import argparse

from benchmarks.pages import save_page, setup_django, staff_client

# the parameters the lists accept: filters (state, direction, outcome, open, assignee, amounts,
# text), every order both ways, pages too large or not numbers, each list's own page; a
# parameter that cannot be read (a 400)
QUEUE = [
    "",
    "?sort=-open",
    "?sort=amount&state=in_review",
    "?open=yes&page=2",
    "?amount_min=1",
    "?sort=assignee",
    "?sort=-assignee&page=3",
    "?assignee=shenhe01",
    "?q=%E7%A7%91%E6%8A%80",
    "?direction=2&sort=-amount",
    "?direction=3",
    "?outcome=needs_review",
    "?page=999&sort=nonsense",
    "?sort=applicant",
    "?sort=-submitted",
    "?state=draft",
    "?amount_max=100000",
    "?open=no&sort=-state",
    "?sort=direction&page=40",
    "?page=abc",
    "?sort=-outcome&page=5",
    "?sort=-id&page=2",
    "?state=paid&sort=amount",
    "?q=9111&open=yes",
    "?amount_min=abc",
]
MINE = [
    "",
    "?sort=-amount",
    "?unassigned_page=2&direction=2",
    "?assigned_page=2",
    "?sort=assignee",
    "?sort=-assignee&unassigned_page=3",
    "?assignee=shenhe01",
    "?assignee=nobody",
    "?state=in_review&sort=-open",
    "?outcome=eligible&sort=outcome",
    "?q=%E7%A7%91%E6%8A%80",
    "?amount_min=100000&sort=amount",
    "?confirm_page=2",
    "?unassigned_page=999",
    "?open=yes",
    "?open=no",
    "?state=approved",
    "?sort=-id&assigned_page=2",
    "?direction=3&sort=-state",
    "?sort=applicant&unassigned_page=5",
    "?amount_max=50000&sort=-open",
    "?sort=-submitted",
    "?direction=x",
]
STAFF = ("shenhe01", "fuhe01", "chushen01", "shenji01", "guanli01")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    args = parser.parse_args()
    setup_django()
    saved = 0
    for username in STAFF:
        for language in ("", "en"):
            client = staff_client(username, language)
            for base, queries in (("/review/", QUEUE), ("/review/mine/", MINE)):
                for query in queries:
                    page = base.strip("/").replace("/", "_")
                    name = f"{username}_{language or 'zh'}_{page}_{query}"
                    name = "".join(c if c.isalnum() or c in "_-=" else "_" for c in name)
                    save_page(args.out, f"{name}.html", client.get(base + query))
                    saved += 1
    print(f"{saved} pages saved in {args.out}")


if __name__ == "__main__":
    main()
