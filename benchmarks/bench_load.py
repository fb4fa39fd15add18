"""Benchmark: the production server under a season's load, beside a bare request (issue 23 item 5,
issue 18 item 9).

    python -m benchmarks.bench_load [--applications 5000] [--users 50] [--seconds 60]
                                    [--workers 4] [--reuse-db] [--rush 100] [--no-steady]
                                    [--think 2,6]

1. A PostgreSQL database of its own (`bench_load`; `--database-url` names the server) is
   dropped, created, migrated and filled by `voucher demo --season N` (`--reuse-db` keeps one
   that holds a season already; a rush submits drafts, so it needs drafts left), then
   vacuumed and analyzed, as autovacuum keeps a production database.
2. gunicorn, as `scripts/serve` runs it (production settings, WhiteNoise, `--workers N`), on a
   free port of 127.0.0.1. TLS is the proxy's (docs/operations.md) and is not measured: the
   cookies are sent over plain HTTP (`SESSION_COOKIE_SECURE=0`, `CSRF_COOKIE_SECURE=0`,
   `SECURE_SSL_REDIRECT=0`).
3. Every login first (not measured as pages; their own times are printed): staff with the
   password and the current TOTP code (`demo_key(username)`, as `voucher totp` computes it),
   applicants with the password.
4. The steady run: locust as a library, headless, `--users` users for `--seconds`: applicants
   (their portal page, their application's status, a wizard step opened and saved back),
   reviewers (the queue, 我的待办, the review screen of an application in review, the dashboard),
   approvers (我的待办), and in the same run the baseline: an anonymous request for a page that
   does not exist, a 404 through the same middleware. Each user waits `--think` seconds between
   two pages (default 2–6 s: a person reads a page before the next; sessions before 11 used
   0.5–1.5 s, which makes 50 users ask as much as some 350 people who read 5–10 s a page; `--think 0.5,1.5` gives
   that pace back). Per page: requests, p50, p95, errors, and
   p95 against the baseline's.
5. The deadline rush (`--rush N`, default 100; 0 leaves it out): N applicants, each with a
   complete draft, logged in beforehand, submit within one second. p50/p95 of the submissions,
   then, once `voucher jobs worker` (started beside gunicorn) has evaluated them after the
   requests, the database: every application submitted exactly once (one frozen submission, one
   `application_submit` audit entry, one new evaluation), none lost, none twice; and how long
   after the last answer the last evaluation was stored.

The machine's load average is printed before and after: the figures mean little without it.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before requests, ssl, psycopg (locust needs it; it would do it anyway)

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402

from benchmarks.support import form_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VOUCHER = str(ROOT / ".venv" / "bin" / "voucher")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
GOAL_P95_MS = 150.0
GOAL_RUSH_P95_S = 2.0
BASELINE = "baseline: anonymous 404"


# --- the database and the server ----------------------------------------------------------------


def _database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _psql(url: str, sql: str) -> None:
    subprocess.run(
        ["psql", _database(url, "postgres"), "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        capture_output=True,
    )


def _env(database_url: str, data_dir: Path, *, dev: bool) -> dict[str, str]:
    key_file = data_dir / "bench-keys"
    if not key_file.exists():
        key_file.write_text(f"{secrets.token_urlsafe(50)}\n{secrets.token_hex(32)}\n")
    secret_key, audit_key = key_file.read_text().split()
    signing_pem = data_dir / "bench-signing.pem"
    if not signing_pem.exists():
        from voucher.documents.signing import make_self_signed

        make_self_signed(signing_pem, "benchmark")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        VOUCHER_DATA_DIR=str(data_dir),
        SECRET_KEY=secret_key,
        VOUCHER_AUDIT_KEY=audit_key,  # the same key for the season and the server
        VOUCHER_SIGNING_KEY_FILE=str(signing_pem),  # signed documents (docs/operations.md)
        VOUCHER_SIGNING_CERT_FILE=str(signing_pem),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
    )
    env.pop("VOUCHER_DEV", None)
    if dev:
        env["VOUCHER_DEV"] = "1"
    return env


def prepare(args: argparse.Namespace, data_dir: Path) -> str:
    url = _database(args.database_url, args.database)
    if args.reuse_db:
        try:
            _psql(args.database_url, f"SELECT 1 FROM pg_database WHERE datname = '{args.database}'")
            out = subprocess.run(
                ["psql", url, "-tAc", "SELECT count(*) FROM applications_application"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            if int(out or 0) > 0:
                print(f"database {args.database}: {out} applications (reused)")
                return _vacuumed(url)
        except subprocess.CalledProcessError:
            pass
        print(f"database {args.database}: no season in it, building one")
    _psql(args.database_url, f'DROP DATABASE IF EXISTS "{args.database}"')
    _psql(args.database_url, f'CREATE DATABASE "{args.database}"')
    started = time.perf_counter()
    subprocess.run(
        [VOUCHER, "demo", "--season", str(args.applications)],
        check=True,
        env=_env(url, data_dir, dev=True),
        stdout=subprocess.DEVNULL if not args.verbose else None,
    )
    print(
        f"database {args.database}: season of {args.applications} applications built in "
        f"{time.perf_counter() - started:.0f} s"
    )
    return _vacuumed(url)


def _vacuumed(url: str) -> str:
    """The database as a production server keeps it: autovacuum (on by default) has vacuumed and
    analyzed a table of thousands of new rows within a minute, so its visibility map lets an
    index answer a count alone. A server with autovacuum off (this machine's) would otherwise
    measure tables no production database has."""
    started = time.perf_counter()
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    print(f"VACUUM ANALYZE (as autovacuum would have): {time.perf_counter() - started:.1f} s")
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jobs_worker(url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    """`voucher jobs worker` (deploy/voucher-jobs.service): a submission's evaluation, its
    counts and its receipt e-mail are done there, after the request."""
    log = open(data_dir / "jobs.log", "ab")  # noqa: SIM115 (the worker's lifetime)
    return subprocess.Popen(
        [VOUCHER, "jobs", "worker"],
        env=_env(url, data_dir, dev=False),
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )


def serve(url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    env = _env(url, data_dir, dev=False)
    for command in (
        ["migrate", "--no-input"],
        ["createcachetable"],
        ["collectstatic", "--no-input"],
    ):
        subprocess.run([VOUCHER, *command, "--verbosity", "0"], check=True, env=env)
    port = _free_port()
    log = open(data_dir / "gunicorn.log", "ab")  # noqa: SIM115 (the server's lifetime)
    server = subprocess.Popen(
        [
            GUNICORN,
            "voucher.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--error-logfile",
            "-",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/healthz", timeout=30)
            return server, base
        except requests.RequestException:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn stopped: see {data_dir / 'gunicorn.log'}") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 120 s")


# --- logins -----------------------------------------------------------------------------------


def _csrf(session: requests.Session, html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else session.cookies.get("csrftoken", "")


def staff_login(base: str, username: str, password: str) -> tuple[requests.Session, float]:
    from django_otp.oath import TOTP

    from voucher.demo.staff import demo_key

    session = requests.Session()
    page = session.get(f"{base}/review/login/", timeout=300).text
    code = f"{TOTP(demo_key(username)).token():06d}"
    started = time.perf_counter()
    response = session.post(
        f"{base}/review/login/",
        data={
            "csrfmiddlewaretoken": _csrf(session, page),
            "username": username,
            "password": password,
            "otp_token": code,
        },
        allow_redirects=False,
        timeout=300,
    )
    if response.status_code != 302:
        raise SystemExit(f"staff login of {username} refused ({response.status_code})")
    return session, time.perf_counter() - started


def applicant_login(base: str, username: str, password: str) -> tuple[requests.Session, float]:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=300).text
    started = time.perf_counter()
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "csrfmiddlewaretoken": _csrf(session, page),
            "username": username,
            "password": password,
        },
        allow_redirects=False,
        timeout=300,
    )
    if response.status_code != 302:
        raise SystemExit(f"applicant login of {username} refused ({response.status_code})")
    return session, time.perf_counter() - started


def _parallel(jobs: list[Any], at_once: int | None = None) -> list[Any]:
    """Run the jobs side by side (`at_once` at a time: logins are a password hash each, and a
    hundred at once on four workers wait longer than any timeout)."""
    from gevent.pool import Pool

    pool = Pool(at_once) if at_once else None
    greenlets = [pool.spawn(job) if pool else gevent.spawn(job) for job in jobs]
    gevent.joinall(greenlets, raise_error=True)
    return [g.value for g in greenlets]


# --- the steady run -----------------------------------------------------------------------------


def steady(args: argparse.Namespace, base: str, people: dict[str, Any]) -> dict[str, Any]:
    from locust import HttpUser, between, task
    from locust.env import Environment

    applicants = list(people["applicants"])  # (cookies, application id, is draft)
    unused = random.sample(applicants, len(applicants))
    reviewers = list(people["reviewers"])  # cookies
    approvers = list(people["approvers"])
    in_review = people["in_review"]
    # How long a person waits between two pages (reading, typing). With 0.5–1.5 s, 50 users ask
    # for ~50 pages a second, the pace of some 350 people at a realistic 5–10 s a page.
    think = args.think

    def _cookies(user: HttpUser, jar: Any) -> None:
        user.client.cookies.update(jar)

    def _check(response: Any, expected: int = 200) -> None:
        if response.status_code != expected:
            response.failure(f"HTTP {response.status_code}")
        else:
            response.success()

    def _get(user: HttpUser, url: str, name: str) -> Any:
        with user.client.get(url, name=name, catch_response=True, allow_redirects=False) as r:
            _check(r)
            return r

    class Applicant(HttpUser):
        weight = 30
        wait_time = between(*think)

        def on_start(self) -> None:
            # each applicant user a person of their own while they last: two users saving one
            # draft is the two-tabs case, which the stale-version check rightly refuses
            if unused:
                self.jar, self.application, self.draft = unused.pop()
            else:
                self.jar, self.application, self.draft = random.choice(applicants)
            _cookies(self, self.jar)

        @task(2)
        def home(self) -> None:
            _get(self, "/portal/", "portal: my applications")

        @task(2)
        def status(self) -> None:
            _get(self, f"/portal/applications/{self.application}/status/", "portal: status")

        @task(2)
        def wizard_step(self) -> None:
            if not self.draft:
                return
            url = f"/portal/applications/{self.application}/project/"
            page = _get(self, url, "portal: wizard step (GET)")
            if page.status_code != 200:
                return
            fields = form_of(page.text)
            with self.client.post(
                url,
                data=fields,
                name="portal: wizard step saved (POST)",
                catch_response=True,
                allow_redirects=False,
            ) as r:
                _check(r, 302)

    class Reviewer(HttpUser):
        weight = 16
        wait_time = between(*think)

        def on_start(self) -> None:
            _cookies(self, reviewers[random.randrange(len(reviewers))])

        @task(3)
        def queue(self) -> None:
            _get(self, "/review/", "review: queue")

        @task(3)
        def mine(self) -> None:
            _get(self, "/review/mine/", "review: 我的待办")

        @task(4)
        def screen(self) -> None:
            _get(self, f"/review/{random.choice(in_review)}/", "review: review screen")

        @task(1)
        def dashboard(self) -> None:
            _get(self, "/review/dashboard/", "review: dashboard")

    few = max(1, args.users // 25)  # 2 of 50 each: approvers and the baseline's users

    class Approver(HttpUser):
        fixed_count = few
        wait_time = between(*think)

        def on_start(self) -> None:
            _cookies(self, approvers[random.randrange(len(approvers))])

        @task
        def mine(self) -> None:
            _get(self, "/review/mine/", "review: 我的待办")

    class Anonymous(HttpUser):
        fixed_count = few
        wait_time = between(0.2, 0.6)

        @task
        def missing(self) -> None:
            with self.client.get(
                f"/bench-missing-{random.randrange(10**6)}/",
                name=BASELINE,
                catch_response=True,
                allow_redirects=False,
            ) as r:
                _check(r, 404)

    env = Environment(user_classes=[Applicant, Reviewer, Approver, Anonymous], host=base)
    runner = env.create_local_runner()
    spawn = max(1.0, args.users / 5)
    runner.start(args.users, spawn_rate=spawn)
    gevent.sleep(args.users / spawn + 1)  # everybody started
    env.stats.reset_all()  # the steady state only
    load_before = os.getloadavg()
    gevent.sleep(args.seconds)
    load_after = os.getloadavg()
    runner.quit()
    rows = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        rows[name if method == "GET" or "POST" in name else f"{name} {method}"] = {
            "requests": entry.num_requests,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "errors": entry.num_failures,
        }
    served = sum(row["requests"] for row in rows.values()) / args.seconds
    return {"rows": rows, "load": (load_before, load_after), "rate": served}


def _think(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError("--think: two numbers of seconds, e.g. 2,6") from None
    if not 0 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError("--think: 0 ≤ MIN ≤ MAX")
    return pair


def print_steady(result: dict[str, Any], args: argparse.Namespace) -> None:
    rows = result["rows"]
    base = rows.get(BASELINE, {}).get("p95") or float("nan")
    print()
    print(
        f"steady run: {args.users} users, {args.seconds} s, {args.workers} gunicorn workers, "
        f"{args.applications} applications, each user waiting {args.think[0]:g}–{args.think[1]:g} s "
        f"between pages; {result['rate']:.1f} requests/s served"
    )
    print(f"{'page':<36}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'p95 × base':>12}")
    for name, row in sorted(rows.items(), key=lambda kv: kv[0] != BASELINE):
        ratio = row["p95"] / base if base == base and base else float("nan")
        verdict = "" if name == BASELINE else ("" if row["p95"] <= GOAL_P95_MS else "  > 150 ms")
        print(
            f"{name:<36}{row['requests']:>9}{row['p50']:>9.0f}{row['p95']:>9.0f}"
            f"{row['errors']:>8}{ratio:>11.1f}×{verdict}"
        )
    before, after = result["load"]
    print(f"load average (1, 5, 15 min) at the start {before}, at the end {after}")


# --- the deadline rush ----------------------------------------------------------------------


def cpu_by_process_kind() -> dict[str, float]:
    """CPU seconds (user + system) used so far by the machine's processes, by kind: gunicorn,
    the jobs' worker, PostgreSQL, this benchmark (the clients), the rest. Where a rush's time
    went. From /proc (Linux); processes that ended meanwhile are not counted."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                command = cmd.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if int(entry) == me:
            kind = "clients (this benchmark)"
        elif "gunicorn" in command:
            kind = "gunicorn"
        elif "jobs worker" in command:
            kind = "jobs worker"
        elif command.startswith("postgres") or "/bin/postgres" in command:
            kind = "PostgreSQL"
        else:
            kind = "other"
        totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def rush(args: argparse.Namespace, base: str, url: str) -> None:
    from django.contrib.auth import get_user_model

    from voucher.applications import models as m
    from voucher.core.models import AuditEntry
    from voucher.portal.models import Submission

    drafts = list(
        # from the last: the steady run's applicants are the first members
        m.Application.objects.filter(state="draft", source_name="portal").order_by("-pk")[
            : args.rush
        ]
    )
    if len(drafts) < args.rush:
        raise SystemExit(
            f"only {len(drafts)} complete drafts left for a rush of {args.rush}: "
            "build the season again (without --reuse-db)"
        )
    users = {
        u.membership.enterprise_id: u.username
        for u in get_user_model()
        .objects.filter(
            membership__enterprise__in=[d.enterprise_id for d in drafts], membership__role="admin"
        )
        .select_related("membership")
    }
    before_evaluations = {d.pk: d.evaluations.count() for d in drafts}

    # each applicant logged in, on the submit page, ready (not measured)
    def ready(draft: Any) -> tuple[requests.Session, str, int]:
        session, _seconds = applicant_login(base, users[draft.enterprise_id], args.password)
        page = session.get(f"{base}/portal/applications/{draft.pk}/submit/", timeout=120).text
        version = dict(form_of(page)).get("version") or draft.version  # as the page shows it
        return session, _csrf(session, page), int(version)

    prepared = _parallel([lambda d=d: ready(d) for d in drafts], at_once=args.workers)
    gevent.sleep(2)
    times: list[float] = []
    codes: dict[int, int] = {}

    def submit(draft: Any, session: requests.Session, token: str, version: int) -> None:
        gevent.sleep(random.random())  # all within one second
        started = time.perf_counter()
        response = session.post(
            f"{base}/portal/applications/{draft.pk}/submit/",
            data={"csrfmiddlewaretoken": token, "version": version, "confirm": "on"},
            allow_redirects=False,
            timeout=300,
        )
        times.append(time.perf_counter() - started)
        codes[draft.pk] = response.status_code

    load_before = os.getloadavg()
    cpu_before = cpu_by_process_kind()
    started = time.perf_counter()
    _parallel([lambda d=d, p=p: submit(d, *p) for d, p in zip(drafts, prepared, strict=True)])
    wall = time.perf_counter() - started
    cpu_during = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_by_process_kind().items()}
    load_after = os.getloadavg()

    # the evaluations are the jobs' worker's, after the requests: wait for them (up to 10 min)
    answered = time.perf_counter()
    submitted = [d.pk for d in drafts if codes.get(d.pk) == 302]
    deadline = time.monotonic() + 600
    pending = m.Application.objects.filter(pk__in=submitted, evaluation_pending=True)
    while pending.exists() and time.monotonic() < deadline:
        gevent.sleep(0.5)
    evaluated_in = time.perf_counter() - answered
    still_pending = pending.count()

    # lost: answered "submitted" (302) without its records; a refusal must leave it a draft
    lost = duplicated = refused_but_stored = 0
    for draft in drafts:
        draft.refresh_from_db()
        submissions = Submission.objects.filter(application=draft).count()
        entries = AuditEntry.objects.filter(
            action="application_submit", object_id=str(draft.pk)
        ).count()
        evaluations = draft.evaluations.count() - before_evaluations[draft.pk]
        stored = (draft.state, submissions, entries, evaluations) != ("draft", 0, 0, 0)
        if codes.get(draft.pk) == 302:
            if (draft.state, submissions, entries, evaluations) != ("submitted", 1, 1, 1):
                lost += 1
        elif stored:
            refused_but_stored += 1
        if submissions > 1 or entries > 1 or evaluations > 1:
            duplicated += 1
    times.sort()
    p50 = statistics.median(times)
    p95 = times[max(0, int(len(times) * 0.95 + 0.5) - 1)]
    refused = sum(1 for c in codes.values() if c != 302)
    print()
    print(f"deadline rush: {len(drafts)} submissions started within 1 s, all done in {wall:.1f} s")
    print(
        f"  p50 {p50:.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s "
        f"(goal p95 ≤ {GOAL_RUSH_P95_S:.0f} s: {'meets' if p95 <= GOAL_RUSH_P95_S else 'MISSES'}); "
        f"answers other than 302: {refused}"
    )
    print(
        f"  in the database: {len(drafts) - refused - lost} submitted once each (one "
        f"submission, one audit entry, one evaluation), {lost} lost, {duplicated} duplicated, "
        f"{refused_but_stored} refused yet stored"
    )
    print(
        f"  evaluated by the jobs' worker {evaluated_in:.1f} s after the last answer"
        f"{f'; {still_pending} STILL PENDING' if still_pending else ''}"
    )
    print(f"  load average at the start {load_before}, at the end {load_after}")
    print(
        "  CPU during the rush, s: "
        + ", ".join(f"{kind} {seconds:.2f}" for kind, seconds in sorted(cpu_during.items()))
        + f" (of {wall * (os.cpu_count() or 1):.1f} core-seconds)"
    )


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument(
        "--think",
        type=_think,
        default=(2.0, 6.0),
        metavar="MIN,MAX",
        help="seconds a user waits between two pages (default 2,6; the anonymous baseline "
        "always waits 0.2–0.6 s)",
    )
    parser.add_argument("--rush", type=int, default=100, help="submissions in the rush; 0: none")
    parser.add_argument("--no-steady", action="store_true", help="only the rush")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="the PostgreSQL server (its database name is replaced by --database)",
    )
    parser.add_argument("--database", default="bench_load")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "bench-load"))
    parser.add_argument("--password", default="voucher-demo")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    print(f"load average before anything: {os.getloadavg()}  ({os.cpu_count()} CPUs)")
    url = prepare(args, data_dir)
    # this process reads the database too (the people, the rush's checks): development settings
    os.environ.update(_env(url, data_dir, dev=True))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from voucher.applications import models as m

    server, base = serve(url, data_dir, args.workers)
    worker = jobs_worker(url, data_dir)
    try:
        if not args.no_steady:
            user_model = get_user_model()
            staff = {
                prefix: list(
                    user_model.objects.filter(username__regex=rf"^{prefix}[0-9]{{2}}$")
                    .order_by("username")
                    .values_list("username", flat=True)
                )
                for prefix in ("shenhe", "fuhe")
            }
            members = list(
                m.Membership.objects.filter(role="admin")
                .select_related("user")
                .order_by("pk")[:200]
            )
            applications = {
                a.enterprise_id: a
                for a in m.Application.objects.filter(
                    enterprise__in=[x.enterprise_id for x in members]
                )
            }
            login_times: list[float] = []

            def staff_job(name: str) -> Any:
                session, seconds = staff_login(base, name, args.password)
                login_times.append(seconds)
                return session.cookies

            def applicant_job(member: Any) -> Any:
                session, seconds = applicant_login(base, member.user.username, args.password)
                login_times.append(seconds)
                a = applications[member.enterprise_id]
                return session.cookies, a.pk, a.state == "draft"

            at_once = args.workers
            reviewers = _parallel([lambda n=n: staff_job(n) for n in staff["shenhe"]], at_once)
            approvers = _parallel([lambda n=n: staff_job(n) for n in staff["fuhe"]], at_once)
            applicant_jar = _parallel([lambda x=x: applicant_job(x) for x in members[:60]], at_once)
            login_times.sort()
            print(
                f"logins before the run: {len(login_times)}, p50 "
                f"{statistics.median(login_times):.2f} s, max {login_times[-1]:.2f} s "
                "(password hashing; not in the figures below)"
            )
            in_review = list(
                m.Application.objects.filter(
                    state__in=("in_review", "formal_check", "resubmitted")
                ).values_list("pk", flat=True)
            )
            result = steady(
                args,
                base,
                {
                    "applicants": applicant_jar,
                    "reviewers": reviewers,
                    "approvers": approvers,
                    "in_review": in_review,
                },
            )
            print_steady(result, args)
        if args.rush:
            rush(args, base, url)
    finally:
        for process in (server, worker):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    print(f"load average after: {os.getloadavg()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
