"""Benchmark: the CPU of each page benchmarks/bench_load.py requests, beside a bare 404's.

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.bench_pages_cpu [--repeat 15] [--profile LABEL]

On a database that holds a season (`voucher demo --season N`): the pages of bench_load's steady
run (the applicant's portal home, status page, a wizard step opened and saved back; the
reviewer's queue, 我的待办, the review screen, the dashboard; the approver's 我的待办) through
Django's test client with production's DEBUG off, each person in a session of their own (staff
TOTP-verified). Printed per page: the median CPU (process time of this process: Python's share,
not PostgreSQL's) and wall time in ms, the number of queries, and the CPU against the baseline
measured in the same run, an anonymous request for a missing page through the same middleware;
with the load average. Reads only (the step saved back is saved unchanged, bumping its version).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from benchmarks.pages import applicant_with_draft, save_page, setup_django, staff_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", metavar="LABEL", action="append", help="measure these pages")
    parser.add_argument("--profile", metavar="LABEL", help="print the profile of that page")
    parser.add_argument(
        "--queries", metavar="LABEL", help="print that page's slowest queries and their times"
    )
    parser.add_argument(
        "--save", metavar="DIR", help="write each page's HTML there (to compare two versions)"
    )
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.support import form_of
    from voucher.applications import models as m

    member = applicant_with_draft()
    draft = m.Application.objects.filter(enterprise=member.enterprise, state="draft").first()
    applicant = Client()
    applicant.force_login(member.user)
    frozen = (
        m.Membership.objects.filter(role="admin", enterprise__applications__state="in_review")
        .select_related("user")
        .order_by("pk")
        .first()
    )
    submitted = m.Application.objects.filter(
        enterprise=frozen.enterprise, state="in_review"
    ).first()
    applicant_submitted = Client()
    applicant_submitted.force_login(frozen.user)
    in_review = (
        m.Application.objects.filter(state__in=("in_review", "formal_check", "resubmitted"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    review_id = in_review[len(in_review) // 2]
    reviewer, approver, anonymous = staff_client("shenhe01"), staff_client("fuhe01"), Client()

    def save_step() -> Any:
        url = f"/portal/applications/{draft.pk}/project/"
        page = applicant.get(url).content.decode()
        form = dict(form_of(page))
        form.pop("csrfmiddlewaretoken", None)
        return lambda: applicant.post(url, form)

    pages: list[tuple[str, Client, str, Any]] = [
        ("baseline: 404", anonymous, "/no-such-page/", None),
        # the fixed cost of a logged-in request: session, user, the base template
        ("applicant: 404", applicant, "/no-such-page/", None),
        ("reviewer: 404", reviewer, "/no-such-page/", None),
        ("portal: my applications", applicant, "/portal/", None),
        ("portal: status", applicant, f"/portal/applications/{draft.pk}/status/", None),
        (
            "portal: status (in review)",
            applicant_submitted,
            f"/portal/applications/{submitted.pk}/status/",
            None,
        ),
        ("portal: step", applicant, f"/portal/applications/{draft.pk}/project/", None),
        ("portal: save step", applicant, "", save_step),
        ("review: queue", reviewer, "/review/", None),
        ("review: 我的待办", reviewer, "/review/mine/", None),
        ("review: review screen", reviewer, f"/review/{review_id}/", None),
        ("review: dashboard", reviewer, "/review/dashboard/", None),
        ("approver: 我的待办", approver, "/review/mine/", None),
    ]

    def request(client: Client, url: str, post: Any) -> int:
        if post is not None:
            return int(post().status_code)
        return int(client.get(url).status_code)

    def warmed(wanted: str) -> Any:
        """The page labelled `wanted`, requested once: a call that requests it again."""
        (client, url, post) = next((c, u, p) for label, c, u, p in pages if label == wanted)
        request(client, url, post() if post else None)
        step = post() if post else None
        return lambda: request(client, url, step)

    if args.queries:
        again = warmed(args.queries)
        with CaptureQueriesContext(connection) as captured:
            again()
        timed = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        total = sum(float(q["time"]) for q in timed)
        print(f"{len(timed)} queries, {total * 1000:.1f} ms in the database; the slowest:")
        for q in timed[:12]:
            print(f"{float(q['time']) * 1000:8.1f} ms  {q['sql'][:600]}")
        print("all, in order (a repeated query is a cost the page need not pay):")
        for q in captured.captured_queries:
            print(f"{float(q['time']) * 1000:8.1f} ms  {q['sql'][:160]}")
        return

    if args.save:
        for label, client, url, _post in pages:
            if _post is None:
                name = "".join(c if c.isalnum() else "_" for c in label)
                save_page(args.save, f"{name}.html", client.get(url))
        return

    if args.profile:
        import cProfile
        import pstats

        again = warmed(args.profile)
        profile = cProfile.Profile(time.process_time)  # CPU, not the wait for the database
        profile.enable()
        for _ in range(args.repeat):  # --repeat requests: a small page's profile is then legible
            again()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(35)
        # and where it is spent in the project's own code and templates
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"voucher/|render\(|execute", 45)
        return

    results = []
    for label, client, url, post in pages:
        if args.only and label not in args.only and label != "baseline: 404":
            continue
        make = post
        status = request(client, url, make() if make else None)  # warm
        cpu, wall = [], []
        for _ in range(args.repeat):
            step = make() if make else None
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                status = int(step().status_code) if step else int(client.get(url).status_code)
                cpu.append(time.process_time() - started_cpu)
                wall.append(time.perf_counter() - started)
        results.append(
            (
                label,
                statistics.median(cpu),
                min(cpu),
                statistics.median(wall),
                len(captured),
                status,
            )
        )
    base = results[0][1]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    # the least CPU of the repeats beside the median: on a shared machine the least is the
    # page's own cost, the median what other work added to it as well
    print(
        f"{'page':26} {'CPU ms':>7} {'least':>6} {'wall ms':>8} {'queries':>8} {'× 404':>6} status"
    )
    for label, cpu_s, least, wall_s, queries, status in results:
        print(
            f"{label:26} {cpu_s * 1000:7.1f} {least * 1000:6.1f} {wall_s * 1000:8.1f} "
            f"{queries:8d} {cpu_s / base:6.1f} {status}"
        )


if __name__ == "__main__":
    main()
