"""Benchmark: the review screen's cross findings of one application in a large round.

    python -m benchmarks.bench_cross_checks [--applications 2000] [--suppliers 50] [--repeat 5]

A round of N submitted applications (each its own enterprise, two contracts with suppliers
from a pool of 50, one invoice each; every 100th application repeats an invoice number of the
one before it), in a fresh SQLite database. Fewer suppliers: each has a larger business. "neighbourhood" is what the review screen runs
(`crosscheck.application_checks`); the baseline is what it ran before: the whole round's
findings, filtered to the application (`round_checks(...).for_application`). Both must give
the same findings (checked). Goal: the screen's cost does not grow with the round, so the
neighbourhood stays well under the whole round's time (printed side by side, and for a round
a tenth the size), with the queries it asks and the rows the database gives back. The invoice
numbers and contracts claimed elsewhere are found by their indexed keys (only the matching rows
are read, however many invoices the rounds hold and however large a supplier's business); one
part still grows, as a list of plain values: the unit prices of the round's rows of the
application's devices (its UNIT_PRICE_OUTLIER findings need the round's band).
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from typing import Any

from benchmarks.support import best_and_median, fresh_sqlite


def _setup(applications: int, suppliers: int = 50) -> list[int]:
    fresh_sqlite("bench-cross-")

    from tests.builders import base_document
    from voucher.applications.interchange import application_import
    from voucher.applications.models import Application
    from voucher.policy.format import parse_application
    from voucher.policy.uscc import expected_check_character

    def uscc(kind: str, n: int) -> str:
        body = f"9111010{kind}MA{n:07d}"[:17]
        return body + expected_check_character(body + "0")

    template = base_document(2)
    ids = []
    for n in range(applications):
        doc: dict[str, Any] = copy.deepcopy(template)
        doc["applicant"]["uscc"] = uscc("8", n)
        doc["applicant"]["name"] = f"北京第{n}号智能科技有限公司"
        contract = doc["contracts"][0]
        contracts = []
        for k in range(2):
            c = copy.deepcopy(contract)
            c["id"] = f"HT-{n}-{k}"
            pool = (n + k) % suppliers
            c["supplier"] = {"name": f"供应商{pool}", "uscc": uscc("5", pool)}
            invoice = n - 1 if n % 100 == 99 and k == 0 else n
            c["invoices"] = [{**c["invoices"][0], "number": f"2511{invoice:012d}{k:04d}"}]
            contracts.append(c)
        doc["contracts"] = contracts
        ids.append(application_import(document=parse_application(doc)).pk)
    Application.objects.filter(pk__in=ids).update(state="submitted")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--suppliers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()} ({os.cpu_count()} CPUs)")
    started = time.perf_counter()
    ids = _setup(args.applications, args.suppliers)
    print(f"{len(ids):,} applications imported in {time.perf_counter() - started:.1f} s")

    from voucher.applications.models import Application
    from voucher.review.crosscheck import application_checks, round_checks

    def load(pk: int) -> Application:
        return Application.objects.select_related("enterprise", "round").get(pk=pk)

    for label, pk in (("with a duplicate invoice", ids[99]), ("with none", ids[len(ids) // 2])):
        application = load(pk)
        whole = round_checks(application.round).for_application(pk)
        assert application_checks(application) == whole, "the findings differ"
        round_best, round_median = best_and_median(
            lambda a=application: round_checks(a.round).for_application(a.pk), args.repeat
        )
        mine_best, mine_median = best_and_median(
            lambda a=application: application_checks(a), args.repeat
        )
        print(f"application {label} ({len(whole)} cross findings):")
        print(
            f"  whole round, filtered (baseline): best {round_best:.3f} s, median {round_median:.3f} s"
        )
        print(
            f"  neighbourhood (review screen)   : best {mine_best:.3f} s, median {mine_median:.3f} s"
        )
        print(f"  baseline / neighbourhood        : {round_median / mine_median:.1f}× (median)")
        queries, rows = _cost(lambda a=application: application_checks(a))
        print(f"  neighbourhood's cost            : {queries} queries, {rows:,} rows read")
    print(f"load average at the end: {os.getloadavg()}")


def _cost(fn: Any) -> tuple[int, int]:
    """The queries `fn` asks and the rows the database gives back to it."""
    from django.db import connection
    from django.db.backends.utils import CursorWrapper
    from django.test.utils import CaptureQueriesContext

    rows = 0
    saved = {name: CursorWrapper.__dict__.get(name) for name in ("fetchone", "fetchmany")}

    def fetchone(cursor: Any) -> Any:
        nonlocal rows
        got = cursor.cursor.fetchone()
        rows += got is not None
        return got

    def fetchmany(cursor: Any, *args: Any) -> Any:
        nonlocal rows
        got = cursor.cursor.fetchmany(*args)
        rows += len(got)
        return got

    CursorWrapper.fetchone = fetchone  # type: ignore[attr-defined]
    CursorWrapper.fetchmany = fetchmany  # type: ignore[attr-defined]
    try:
        with CaptureQueriesContext(connection) as captured:
            fn()
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(CursorWrapper, name)
            else:
                setattr(CursorWrapper, name, value)
    return len(captured), rows


if __name__ == "__main__":
    main()
