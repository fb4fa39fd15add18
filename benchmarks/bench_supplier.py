"""Benchmark: a compute supplier named in many contracts (issue 22 item 5): its list page, its
export, and the upload of the exported file with every line confirmed.

    VOUCHER_DEV=1 .venv/bin/python -m benchmarks.bench_supplier [--applications 500]

A fresh SQLite database: the examples loaded as `voucher demo` loads them, then N copies of the
direction-2 example (tests/season_support.py), every one's contracts naming the demo supplier.
Printed: the median and best of --repeat requests in ms of the list (first page, a filtered page),
the CSV and Excel export, beside the baseline measured in the same run (an anonymous request for
a missing page); then one upload of the CSV with every line confirmed (each word through
`line_word`, audited), in s and ms a line. The machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
from pathlib import Path

from benchmarks.support import best_and_median, fresh_sqlite


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the upload's profile")
    args = parser.parse_args()
    fresh_sqlite("bench-supplier-")

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.season_support import copy_applications
    from voucher.applications.models import Application, Contract, SupplierMember
    from voucher.demo.examples import demo_load

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    demo_load(examples_dir=Path(__file__).resolve().parent.parent / "examples")
    template = Application.objects.get(
        source_name="examples/d2-common-shareholder-review/application.json"
    )
    uscc = template.contracts.order_by("pk").first().supplier_uscc
    started = time.perf_counter()
    copy_applications(template, args.applications)
    print(f"{args.applications:,} applications copied in {time.perf_counter() - started:.1f} s")
    user = get_user_model().objects.create_user("bench-supplier", password="bench-supplier-1")
    SupplierMember.objects.create(user=user, uscc=uscc)
    contracts = Contract.objects.filter(supplier_uscc=uscc).count()
    print(f"the supplier is named in {contracts:,} contracts")
    client = Client()
    client.force_login(user)
    anonymous = Client()

    def timed(who: Client, url: str, status: int = 200) -> tuple[float, float]:
        def get() -> None:
            response = who.get(url)
            assert response.status_code == status, (url, response.status_code)

        get()  # warm
        return best_and_median(get, args.repeat)

    pages = [
        ("baseline: 404", anonymous, "/no-such-page/", 404),
        ("list, first page", client, "/portal/supplier/", 200),
        ("list, unconfirmed, page 5", client, "/portal/supplier/?word=unconfirmed&page=5", 200),
        ("export CSV", client, "/portal/supplier/contracts.csv", 200),
        ("export Excel", client, "/portal/supplier/contracts.xlsx", 200),
    ]
    if args.profile:
        pages = pages[:1]
    results = [(label, *timed(who, url, status)) for label, who, url, status in pages]
    base = results[0][2]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'request':28} {'median ms':>10} {'best ms':>9} {'× 404':>7}")
    for label, best, median in results:
        print(f"{label:28} {median * 1000:10.1f} {best * 1000:9.1f} {median / base:7.1f}")

    exported = client.get("/portal/supplier/contracts.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    for row in rows:
        row["确认/有异议"] = "确认"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = ("\ufeff" + out.getvalue()).encode("utf-8")
    started = time.perf_counter()
    post = lambda: client.post(  # noqa: E731
        "/portal/supplier/upload/", {"file": SimpleUploadedFile("words.csv", data)}
    )
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        response = profile.runcall(post)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
    else:
        response = post()
    took = time.perf_counter() - started
    assert response.status_code == 200, response.content[-500:]
    print(
        f"upload, {len(rows):,} lines confirmed ({len(data) / 2**20:.1f} MB): {took:.1f} s, "
        f"{took / len(rows) * 1000:.1f} ms a line "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    confirmed = Contract.objects.filter(supplier_uscc=uscc, supplier_state="confirmed").count()
    print(f"contracts confirmed after the upload: {confirmed:,} of {contracts:,}")


if __name__ == "__main__":
    main()
