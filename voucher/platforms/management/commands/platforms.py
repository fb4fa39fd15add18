"""`voucher platforms sync|token|revoke|organisation|worker`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.core.heartbeat import PLATFORMS_WORKER, Beating
from voucher.platforms import actions, lease
from voucher.platforms.models import ApiToken, Platform


class Command(BaseCommand):
    help = "Direction-3 platforms: tokens and the consumption worker"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("sync", help="create the platforms of the round file")
        token = sub.add_parser("token", help="issue a token (printed once)")
        token.add_argument("platform")
        token.add_argument("--label", default="api")
        token.add_argument("--scopes", default=",".join(ApiToken.SCOPES))
        token.add_argument("--days", type=int, default=365)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")
        organisation = sub.add_parser(
            "organisation",
            help="record the USCC of the organisation running a platform (settlement data)",
        )
        organisation.add_argument("platform")
        organisation.add_argument("uscc", help="empty string to clear")
        organisation.add_argument("--name", help="create the platform with this name if missing")
        worker = sub.add_parser("worker", help="process queued consumption batches")
        worker.add_argument("--once", action="store_true", help="stop when the queue is empty")
        worker.add_argument("--sleep", type=float, default=2.0)
        worker.add_argument(
            "--beat",
            type=float,
            default=30.0,
            help="seconds between heartbeats (/healthz reports the last one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what == "sync":
            for platform in actions.platforms_sync():
                self.stdout.write(f"{platform.code}\t{platform.name}")
        elif what == "token":
            found = Platform.objects.filter(code=options["platform"]).first()
            if found is None:
                raise CommandError(
                    f"no platform {options['platform']!r}: run `voucher platforms sync`"
                )
            scopes = [s for s in options["scopes"].split(",") if s]
            try:
                _, text = actions.token_issue(
                    platform=found, label=options["label"], scopes=scopes, days=options["days"]
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(text)
        elif what == "revoke":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError("no such token")
            actions.token_revoke(token=token)
        elif what == "organisation":
            found = Platform.objects.filter(code=options["platform"]).first()
            if found is None and options["name"]:
                found = Platform.objects.create(code=options["platform"], name=options["name"])
            if found is None:
                raise CommandError(f"no platform {options['platform']!r}: give --name to create it")
            try:
                actions.platform_organisation_set(platform=found, uscc=options["uscc"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"{found.code}\t{found.name}\t{found.uscc}")
        elif what == "worker":
            # fixed costs once, before the first batch (imports, the ingest's DuckDB database)
            actions.batch_worker_start()
            self.stdout.write(
                f"worker {lease.worker_name()}: lease {lease.lease_duration().total_seconds():g} s, "
                f"heartbeat every {lease.heartbeat_interval():g} s"
            )
            try:
                with Beating(PLATFORMS_WORKER, every=options["beat"]):
                    self._work(once=options["once"], sleep=options["sleep"])
            finally:
                actions.batch_worker_stop()

    def _work(self, *, once: bool, sleep: float) -> None:
        while True:
            try:
                batch = actions.batch_process()
            except Exception as error:  # the batch is queued again; keep serving
                self.stderr.write(f"batch failed, will be retried: {error}")
                continue
            if batch is not None:
                self.stdout.write(f"batch {batch.pk}: {batch.status} {batch.summary}")
                continue
            if once:
                return
            time.sleep(sleep)
