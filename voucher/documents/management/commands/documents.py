"""`voucher documents worker`: renders the queued documents (voucher/documents/jobs.py).
`voucher documents verify FILE...`: checks the signatures of signed PDFs (voucher/documents/signing.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from voucher.core.heartbeat import DOCUMENTS_WORKER
from voucher.core.worker_loop import add_worker_arguments, run_worker
from voucher.documents import jobs, signing


class Command(BaseCommand):
    help = (
        "Documents (14-2, 14-3, 14-4, the package): the worker that renders them; "
        "the signatures of signed PDFs"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        worker = sub.add_parser("worker", help="render queued documents, each under a time limit")
        add_worker_arguments(worker, sleep=0.5)

        verify = sub.add_parser(
            "verify",
            help="check each signature of PDF files: who signed, when, whether the file changed "
            "since and whether the certificate is trusted; exit status 1 unless all hold",
        )
        verify.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "verify":
            self.verify(options["files"])
            return
        jobs.preload()
        self.stdout.write(
            f"documents worker {jobs.worker_name()}: "
            f"time limit {jobs.timeout_seconds():g} s a document"
        )
        run_worker(
            self,
            options,
            heartbeat=DOCUMENTS_WORKER,
            take=jobs.work_once,
            describe=lambda job: (
                f"document job {job.pk}: {job.document}.{job.extension} "
                f"of application {job.application_id} {job.state} "
                + (f"{job.seconds:.1f} s" if job.seconds is not None else "")
                + (f" {job.error}" if job.error else "")
            ),
            failed="document job failed, will be retried",
        )

    def verify(self, files: list[str]) -> None:
        failed = []
        for name in files:
            try:
                data = Path(name).read_bytes()
            except OSError as error:
                raise CommandError(f"{name}: cannot be read: {error.strerror or error}") from error
            try:
                reports = signing.verify_pdf(data)
            except ValueError as error:
                self.stdout.write(f"{name}: NOT VERIFIED, {error}")
                failed.append(name)
                continue
            if not reports:
                self.stdout.write(f"{name}: NOT VERIFIED, the file carries no signature")
                failed.append(name)
                continue
            for report in reports:
                when = (
                    timezone.localtime(report.signed_at).strftime("%Y-%m-%d %H:%M:%S %Z")
                    if report.signed_at
                    else "unknown time"
                )
                lines = [f"{name}: signature {report.field!r}"]
                lines.append(f"  signed by: {report.signer or 'unknown'}")
                lines.append(f"  signed at: {when}")
                if report.problem:
                    lines.append(f"  cannot be checked: {report.problem}")
                elif not report.intact:
                    lines.append("  intact: NO, the file was changed after it was signed")
                elif not report.covers_whole_file:
                    lines.append("  intact: yes, but content was added after the signature")
                else:
                    lines.append("  intact: yes, unchanged since signing")
                if not report.problem and report.intact:
                    lines.append(
                        "  certificate: trusted (chains to a configured trust root)"
                        if report.trusted
                        else "  certificate: NOT trusted (does not chain to a configured trust root)"
                    )
                ok = report.ok and report.covers_whole_file
                lines.append("  VERIFIED" if ok else "  NOT VERIFIED")
                self.stdout.write("\n".join(lines))
                if not ok:
                    failed.append(name)
        if failed:
            raise CommandError("not verified: " + ", ".join(dict.fromkeys(failed)), returncode=1)
