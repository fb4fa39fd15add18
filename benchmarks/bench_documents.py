"""Benchmark: the whole application package PDF against a bare one-page WeasyPrint render.

    python -m benchmarks.bench_documents [--repeat 5]

An application with 3 contracts and 24 delivery lines (8 each), an implementation report and a
stored evaluation, in a fresh SQLite database. The package time includes reading the application
from the database, hashing its interchange JSON and rendering cover, 14-2, 14-3, 14-4, the
materials checklist and the self-check. Goal: ≤ 1 s. The bare render (one A4 page, a heading
and a paragraph in the same fonts) is measured in the same run: it is WeasyPrint's floor here.

Also, as the documents worker and a cached request do it (voucher/documents/jobs.py): the package
rendered in a forked child under the time limit, and a request for a package already rendered
(its data hash computed, the stored file read).
"""

from __future__ import annotations

import argparse
import copy
from datetime import date, timedelta

from benchmarks.support import best_and_median, fresh_sqlite

GOAL = 1.0

BARE = """<html><head><style>@page { size: A4; margin: 25mm }
body { font-family: "Noto Serif CJK SC" } h1 { font-family: "Noto Sans CJK SC" }</style></head>
<body><h1>算力使用情况表</h1><p>本单位拟申请2026年北京市高精尖产业发展资金算力券补贴方向。</p></body></html>"""


def _setup() -> int:
    fresh_sqlite("bench-documents-")

    from tests.builders import base_document, delivery
    from tests.documents_support import REPORT_TEXT
    from voucher.applications.actions import application_evaluate
    from voucher.applications.interchange import application_import
    from voucher.documents.models import ImplementationReport
    from voucher.policy.format import parse_application
    from voucher.policy.uscc import expected_check_character

    doc = base_document(2)
    template = doc["contracts"][0]
    contracts = []
    for n in range(3):
        c = copy.deepcopy(template)
        c["id"] = f"C{n + 1}"
        body = f"9111010{n}MA0{n}D4RY0"
        c["supplier"] = {
            "name": f"北京第{n + 1}算力供应有限公司",
            "uscc": body + expected_check_character(body + "0"),
        }
        start = date(2025, 9, 8)
        c["deliveries"] = []
        for k in range(8):
            first = start + timedelta(days=20 * k)
            c["deliveries"].append(
                delivery(
                    first.isoformat(),
                    (first + timedelta(days=19)).isoformat(),
                    f"{250000 + 1234 * k}.{k:02d}",
                )
            )
        c["invoices"] = [
            {"number": f"2511200000449544484{n}", "date": "2026-04-01", "amount": "2200000.00"}
        ]
        c["payments"] = [{"date": "2026-04-02", "amount": "2200000.00"}]
        contracts.append(c)
    doc["contracts"] = contracts
    doc["requested_amount"] = "1234567.89"
    application = application_import(document=parse_application(doc))
    ImplementationReport.objects.create(application=application, **REPORT_TEXT)
    application_evaluate(application=application)
    return application.pk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    application_id = _setup()

    import weasyprint

    from voucher.applications.models import Delivery
    from voucher.documents.data import load_application
    from voucher.documents.pdf import package_pdf

    deliveries = Delivery.objects.filter(contract__application_id=application_id).count()
    pages: list[int] = []

    def package() -> None:
        data = package_pdf(load_application(application_id))
        pages.append(data.count(b"/Type /Page\n") or data.count(b"/Type /Page"))

    def bare() -> None:
        weasyprint.HTML(string=BARE).write_pdf()

    from django.core.files.storage import default_storage

    from voucher.documents import jobs, render
    from voucher.documents.actions import document_request

    def forked() -> None:
        jobs.render_limited(application_id, "package", "pdf")

    app = load_application(application_id)
    job, _ = document_request(
        application=app,
        document="package",
        extension="pdf",
        data_hash=render.data_hash(app, "package", "pdf"),
        acting_user=None,
    )
    jobs.run(jobs.claim(job.pk) or job)
    job.refresh_from_db()

    def cached() -> None:
        fresh = load_application(application_id)
        digest = render.data_hash(fresh, "package", "pdf")
        found = type(job).objects.get(application_id=application_id, data_hash=digest)
        with default_storage.open(found.file, "rb") as stored:
            stored.read()

    bare()  # warm up: fonts are found and loaded once per process
    package()
    bare_best, bare_median = best_and_median(bare, args.repeat)
    pkg_best, pkg_median = best_and_median(package, args.repeat)
    fork_best, fork_median = best_and_median(forked, args.repeat)
    hit_best, hit_median = best_and_median(cached, args.repeat)
    print(f"application: 3 contracts, {deliveries} delivery lines")
    print(f"bare one-page render : best {bare_best:.3f} s, median {bare_median:.3f} s")
    print(f"package PDF          : best {pkg_best:.3f} s, median {pkg_median:.3f} s")
    print(f"package / bare       : {pkg_median / bare_median:.1f}× (median)")
    print(f"package, forked child: best {fork_best:.3f} s, median {fork_median:.3f} s (worker)")
    print(f"package, cached      : best {hit_best:.3f} s, median {hit_median:.3f} s (hash + file)")
    print(f"cached / package     : {hit_median / pkg_median:.3f}× (median)")
    verdict = "within" if pkg_median <= GOAL else "OVER"
    print(f"goal ≤ {GOAL:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
