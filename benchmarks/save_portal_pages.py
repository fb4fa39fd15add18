"""Save the applicant's pages of many applications, to compare two versions of the code (branch
portal, issue 23):

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.save_portal_pages OUT

On a season's database (`voucher demo --season N`): the two first applications of each state and
direction, each requested by the first member of its enterprise, in Chinese and in English: its
status page, and for a draft or an application returned for 补正 its wizard step "project". Each
page is written to OUT/<state>-<id>-<page>-<language>.html, its status on the first line and its
CSRF tokens blanked. Run it with the old code and the new on the same database (one nothing
saves to between the runs), then `diff -r OLD NEW`.
"""

from __future__ import annotations

import argparse

from benchmarks.pages import save_page, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import Client

    from voucher.applications import models as m
    from voucher.applications.states import STATE_CHOICES

    chosen: list[int] = []
    for state, _label in STATE_CHOICES:
        for direction in (1, 2, 3, 4):
            rows = m.Application.objects.filter(state=state, direction=direction).order_by("pk")
            chosen += rows.values_list("pk", flat=True)[:2]
    clients: dict[int, Client] = {}
    for pk in chosen:
        application = m.Application.objects.get(pk=pk)
        member = (
            m.Membership.objects.filter(enterprise_id=application.enterprise_id)
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if member is None:
            continue
        if member.user_id not in clients:
            clients[member.user_id] = Client()
            clients[member.user_id].force_login(member.user)
        client = clients[member.user_id]
        pages = [("status", f"/portal/applications/{pk}/status/")]
        if application.state in ("draft", "supplement_requested"):
            pages.append(("project", f"/portal/applications/{pk}/project/"))
        for language in ("zh-hans", "en"):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for name, url in pages:
                page = f"{application.state}-{pk}-{name}-{language}.html"
                save_page(args.out, page, client.get(url))
    print(f"{len(chosen)} applications")


if __name__ == "__main__":
    main()
