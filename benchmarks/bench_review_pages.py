"""Benchmark: the bureau's list pages and the review screen in a round of many applications.

    VOUCHER_DEV=1 .venv/bin/python -m benchmarks.bench_review_pages [--applications 2000]

A fresh SQLite database: the examples loaded as `voucher demo` loads them, then N copies of the
direction-2 example (tests/season_support.py: each its own enterprise, its contracts, invoices
and latest evaluation, spread over the bureau's states, half of them assigned, some findings
answered, some decisions proposed or confirmed). Each page is requested through Django's test
client as a reviewer (an approver for 我的待办's proposals and the dashboard) with a verified
TOTP session; printed: the median and best of --repeat requests in ms and the median CPU (this
process's time, which the machine's other load does not inflate as much), beside the baseline
measured in the same run, an anonymous request for a missing page through the same middleware.
The machine's load average is printed with the figures. Not a load test (that is locust's): it
shows how a page's cost grows with the round.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.support import best_and_median, cpu_median, fresh_sqlite


def _login(client, user) -> None:  # type: ignore[no-untyped-def]
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    response = client.post(
        "/review/login/",
        {"username": user.username, "password": "bench-pages-1", "otp_token": f"{token:06d}"},
    )
    assert response.status_code == 302, response.content[:300]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", metavar="LABEL", help="print the profile of that page")
    args = parser.parse_args()
    fresh_sqlite("bench-pages-")

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from tests.season_support import copy_applications
    from voucher.applications.models import Application, Budget
    from voucher.demo.examples import demo_load

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    demo_load(examples_dir=Path(__file__).resolve().parent.parent / "examples")
    users = {}
    for name, role in (("reviewer", "bureau_reviewer"), ("approver", "bureau_approver")):
        users[name] = get_user_model().objects.create_user(
            f"bench-{name}", password="bench-pages-1", is_staff=True
        )
        users[name].groups.add(Group.objects.get_or_create(name=role)[0])
    template = Application.objects.get(
        source_name="examples/d2-common-shareholder-review/application.json"
    )
    started = time.perf_counter()
    copy_applications(
        template, args.applications, assignee=users["reviewer"], proposer=users["approver"]
    )
    print(f"{args.applications:,} applications copied in {time.perf_counter() - started:.1f} s")
    Budget.objects.create(round=template.round, direction=2, amount="100000000.00")
    code = template.round.code

    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        _login(clients[name], user)
    anonymous = Client()

    def timed(client: Client, url: str, status: int = 200) -> tuple[float, float, float]:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == status, (url, response.status_code)

        get()  # warm
        return (*best_and_median(get, args.repeat), cpu_median(get, args.repeat))

    pages = [
        ("baseline: 404", anonymous, "/no-such-page/", 404),
        ("queue", clients["reviewer"], "/review/", 200),
        ("queue, by open count", clients["reviewer"], "/review/?sort=-open&open=yes", 200),
        ("我的待办 (reviewer)", clients["reviewer"], "/review/mine/", 200),
        ("我的待办 (approver)", clients["approver"], "/review/mine/", 200),
        ("review screen", clients["reviewer"], f"/review/{template.pk}/", 200),
        ("dashboard", clients["approver"], f"/review/dashboard/?round={code}&direction=2", 200),
        ("publicity", clients["approver"], f"/review/publicity/?round={code}", 200),
    ]
    if args.profile:
        import cProfile
        import pstats

        (client, url) = next((c, u) for label, c, u, _s in pages if label == args.profile)
        client.get(url)  # warm: the URL resolver, the templates
        profile = cProfile.Profile()
        profile.runcall(client.get, url)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        return
    results = [(label, *timed(client, url, status)) for label, client, url, status in pages]
    base, base_cpu = results[0][2], results[0][3]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'page':28} {'median ms':>10} {'best ms':>9} {'× 404':>7} {'CPU ms':>8} {'× 404':>7}")
    for label, best, median, cpu in results:
        print(
            f"{label:28} {median * 1000:10.1f} {best * 1000:9.1f} {median / base:7.1f} "
            f"{cpu * 1000:8.1f} {cpu / base_cpu:7.1f}"
        )


if __name__ == "__main__":
    main()
