"""Benchmark: the CPU of one submission, in the request and after it (the jobs' worker).

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.bench_submit [--submissions 20] [--profile] [--queries]
                                                    [--rollback] [--follow]

On a database that holds a season (`voucher demo --season N`, which leaves complete drafts of
enterprises with member accounts): each of --submissions drafts is submitted through Django's
test client as its enterprise's administrator, as the deadline rush of benchmarks/bench_load.py
submits them (the submit page read first, not measured; then the POST, measured). Printed: the
CPU (process time) and wall time of the POST, its number of queries, then the same for the jobs
the submission queued (its evaluation, done by `voucher jobs worker` in production), beside a
bare view (an anonymous 404 through the same middleware) in the same run, and the load average.
It CONSUMES the drafts it submits: build the season again to repeat it on the same drafts, or
pass --rollback (each submission, its page and its jobs in a transaction rolled back after it: the
same drafts every run; the e-mails after commit are not sent). --follow also measures the page
the POST redirects to (the status page with the receipt), which the applicant waits for too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="profile the last submission")
    parser.add_argument("--queries", action="store_true", help="print the last one's queries")
    parser.add_argument("--rollback", action="store_true", help="roll each submission back")
    parser.add_argument("--follow", action="store_true", help="also the page after the POST")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    # the request as production does it: the jobs after the request are the worker's
    os.environ.setdefault("VOUCHER_JOBS_INLINE", "0")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from voucher.applications import models as m

    try:
        from voucher.core import jobs
    except ImportError:  # before the jobs after the request: everything is in the request
        jobs = None  # type: ignore[assignment]

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    drafts = list(
        m.Application.objects.filter(state="draft", source_name="portal").order_by("-pk")[
            : args.submissions
        ]
    )
    admins = {
        u.membership.enterprise_id: u
        for u in get_user_model()
        .objects.filter(
            membership__enterprise__in=[d.enterprise_id for d in drafts], membership__role="admin"
        )
        .select_related("membership")
    }
    drafts = [d for d in drafts if d.enterprise_id in admins]
    if not drafts:
        raise SystemExit("no complete drafts with an administrator: build a season first")
    anonymous = Client()
    anonymous.get("/no-such-page/")
    bare = []
    for _ in range(20):
        started = time.process_time()
        anonymous.get("/no-such-page/")
        bare.append(time.process_time() - started)

    cpu, wall, queries, job_cpu, job_queries = [], [], [], [], []
    page_cpu: list[float] = []
    page_queries: list[int] = []
    refused = 0

    def once(n: int, draft: Any) -> None:
        nonlocal refused
        client = Client()
        client.force_login(admins[draft.enterprise_id])
        url = f"/portal/applications/{draft.pk}/submit/"
        client.get(url)
        profile = None
        if args.profile and n == len(drafts) - 1:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.post(url, {"version": draft.version, "confirm": "on"})
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        queries.append(len(captured))
        if args.queries and n == len(drafts) - 1:
            for query in captured.captured_queries:
                print(query["sql"][:150])
        if profile is not None:
            import pstats

            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        if response.status_code != 302:
            refused += 1
        elif args.follow:  # the page the applicant waits for next: the receipt, on the status
            with CaptureQueriesContext(connection) as captured:
                started_cpu = time.process_time()
                client.get(response["Location"])
                page_cpu.append(time.process_time() - started_cpu)
            page_queries.append(len(captured))
            if args.queries and n == len(drafts) - 1:
                print("-- the page after it:")
                for query in captured.captured_queries:
                    print(query["sql"][:150])
        with CaptureQueriesContext(connection) as captured:
            started_cpu = time.process_time()
            if jobs is not None:
                jobs.work_all()
            job_cpu.append(time.process_time() - started_cpu)
        job_queries.append(len(captured))

    for n, draft in enumerate(drafts):
        if args.rollback:  # the same drafts next time
            with transaction.atomic():
                once(n, draft)
                transaction.set_rollback(True)
        else:
            once(n, draft)

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:8.1f}"

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{len(drafts)} submissions ({refused} refused); median of each:")
    print(f"{'':34} {'CPU ms':>8} {'queries':>8}")
    print(f"{'baseline: an anonymous 404':34} {ms(bare)} {'':>8}")
    print(f"{'the submission (the request)':34} {ms(cpu)} {statistics.median(queries):8.0f}")
    if page_cpu:
        print(
            f"{'the page after it (GET)':34} {ms(page_cpu)} {statistics.median(page_queries):8.0f}"
        )
    print(f"{'its jobs (the worker)':34} {ms(job_cpu)} {statistics.median(job_queries):8.0f}")
    print(f"wall time of the request: median {ms(wall)} ms")


if __name__ == "__main__":
    main()
