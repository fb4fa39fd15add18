"""Benchmark: the fixed cost of a request, anonymous and logged in (decision 0053).

    VOUCHER_DEV=1 VOUCHER_DATA_DIR=DIR DATABASE_URL=postgres://…/DB \\
        .venv/bin/python -m benchmarks.bench_fixed_cost [--repeat 1500]

A missing page requested through the whole middleware by bench_pages_cpu's three clients (no
session; an applicant's session; a TOTP-verified reviewer's), each many times: printed, the
5th, 25th and 50th percentiles of the CPU (process time) per request. Many short requests and
their low percentiles say more than bench_pages_cpu's median of 15 on a machine others share.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.pages import applicant_with_draft, setup_django, staff_client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1500)
    args = parser.parse_args()
    setup_django()
    from django.test import Client

    member = applicant_with_draft()
    applicant = Client()
    applicant.force_login(member.user)
    clients = {"baseline": Client(), "applicant": applicant, "reviewer": staff_client("shenhe01")}
    n = args.repeat
    for label, client in clients.items():
        for _ in range(50):  # warm: the first requests compile and load what they keep
            client.get("/no-such-page/")
        cpu = []
        for _ in range(n):
            started = time.process_time()
            client.get("/no-such-page/")
            cpu.append(time.process_time() - started)
        cpu.sort()
        p5, p25, p50 = (cpu[n * q // 100] * 1000 for q in (5, 25, 50))
        print(f"{label:10} CPU ms  p5 {p5:5.2f}  p25 {p25:5.2f}  p50 {p50:5.2f}")


if __name__ == "__main__":
    main()
