"""Consumption ingest at scale: the worker's path vs a bare DuckDB GROUP BY (and pandas).

    VOUCHER_DEV=1 .venv/bin/python -m benchmarks.bench_consumption                 # 200,000 rows
    VOUCHER_DEV=1 .venv/bin/python -m benchmarks.bench_consumption --rows 2000000 --repeat 2
    VOUCHER_DEV=1 .venv/bin/python -m benchmarks.bench_consumption --rows 20000000 --batches 1

Generates the files once (kept in --dir between runs with the same size), then runs every
contender in its own child process, with the file read once just before (so each starts with it
in the page cache), and reads that child's peak RSS (`os.wait4` rusage ru_maxrss).

"ours" is what a platform waits for: the worker (`batch_process`) taking an uploaded batch,
validating every cell, cutting to the window and the contracts, pro-rating straddling rows,
aggregating per enterprise/contract/month and storing the aggregates, the summary and the
audit entry in one transaction (a fresh migrated SQLite database). The worker is started as
`voucher platforms worker` starts it, its fixed costs paid once (`batch_worker_start`): the
child reports the cold figure (start-up + first batch) and then `--batches` warm batches, each
followed by a bare DuckDB GROUP BY of the same file in the same process (interleaved, so that
both meet the same load on a shared machine); the ratio is bare ÷ warm. "duckdb" is the bare
GROUP BY (typed read, no validation, no cut) in a child of its own, "pandas" (opt-in, the
`bench` extra) the same aggregation with pandas. The load average is printed with each run.
The figures so far, and what was tried: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

WINDOW = (date(2025, 9, 8), date(2026, 3, 31))


def _paths(directory: Path, rows: int, enterprises: int) -> tuple[Path, Path]:
    stem = directory / f"consumption-{rows}-{enterprises}"
    return stem.with_suffix(".csv"), stem.with_suffix(".parquet")


def _this_module(*arguments: object) -> list[str]:
    """The command that runs this module again, in a child process, with `arguments`."""
    return [sys.executable, "-m", "benchmarks.bench_consumption", *map(str, arguments)]


def _files(directory: Path, rows: int, enterprises: int) -> tuple[Path, Path]:
    csv_path, parquet_path = _paths(directory, rows, enterprises)
    if not (csv_path.exists() and parquet_path.exists()):
        # In a child of its own: Linux keeps a process's peak RSS across exec, so contenders
        # started from a parent that had generated the files (~850 MiB) would all report that
        # parent's peak as their own.
        started = time.perf_counter()
        subprocess.run(
            _this_module(
                "--generate", "--rows", rows, "--enterprises", enterprises, "--dir", directory
            ),
            check=True,
        )
        print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    return csv_path, parquet_path


def _generate(directory: Path, rows: int, enterprises: int) -> None:
    from voucher.platforms import generate

    csv_path, parquet_path = _paths(directory, rows, enterprises)
    generate.write(generate.Plan(enterprises), rows, csv_path=csv_path, parquet_path=parquet_path)


# --- contenders (each runs in a child process) ----------------------------------------------------


def _bare_sql(path: Path) -> str:
    source = (
        f"read_parquet('{path}')"
        if path.suffix == ".parquet"
        else f"read_csv('{path}', header=true, columns={{"
        "'enterprise_uscc':'VARCHAR','contract_id':'VARCHAR','order_id':'VARCHAR',"
        "'resource_type':'VARCHAR','device_model':'VARCHAR','start':'TIMESTAMP',"
        "'end':'TIMESTAMP','quantity':'DECIMAL(20,6)','unit':'VARCHAR',"
        "'unit_price':'DECIMAL(20,6)','amount':'DECIMAL(16,2)'})"
    )
    return f"""SELECT enterprise_uscc, contract_id, strftime("start", '%Y-%m') AS month,
                   resource_type, device_model, unit,
                   sum(amount) AS amount, sum(quantity) AS quantity, count(*) AS n
            FROM {source} GROUP BY ALL"""


def _bare(path: Path) -> dict:
    """The bare GROUP BY once (duckdb imported before the clock)."""
    import duckdb

    started = time.perf_counter()
    rows = duckdb.sql(_bare_sql(path)).fetchall()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": sum(r[-1] for r in rows), "groups": len(rows)}


def _cpu() -> float:
    """CPU seconds of this process, its threads and its children (`wc -l`) so far: other work
    on a shared machine inflates it far less than the wall clock."""
    import resource

    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu(connection: object) -> float:
    """CPU seconds so far of the PostgreSQL server process behind Django's connection, read
    from /proc (the server on this machine), or 0.0 where that cannot be read (SQLite works in
    this process, whose CPU `_cpu` counts)."""
    if getattr(connection, "vendor", "") != "postgresql":
        return 0.0
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_ours(
    path: Path,
    enterprises: int,
    batches: int = 2,
    start: bool = True,
    database: str | None = None,
) -> dict:
    """The worker's path, as a platform waits for it: `batch_process` on an uploaded batch
    (claim under a lease, read and aggregate the file, store the aggregates, the summary and
    the audit entry in one transaction), in a worker process started as `voucher platforms
    worker` starts (Django set up, a fresh migrated SQLite database: before the clock).

    - cold: `batch_worker_start` (the fixed costs a worker pays once: imports, the DuckDB
      database) and the first batch, what a platform waits for when the worker has just
      started;
    - warm: each of `batches` more batches of the same file, each followed by a bare DuckDB
      GROUP BY of it in the same process (interleaved, so that both meet the same load).

    The benchmark file holds 10,000 enterprises; a real batch is one enterprise's, with that
    enterprise's contracts. So that the worker reads the whole file as a batch (and not as
    9,999 enterprises' rows under unknown contracts), it is given the plan's 10,000 contracts
    (`batch_contract_terms`, the one thing replaced).

    `start=False` (`--no-start`) leaves out `batch_worker_start`, as the worker did before it
    (every batch opened a DuckDB database of its own, the first also imported the engine).
    `database` (`--database`, a PostgreSQL URL): that database, migrated and emptied, instead
    of a fresh SQLite one. The CPU of storing the aggregates is reported on its own (`store`),
    and on PostgreSQL the CPU of the server process behind the connection (read from /proc) is
    counted in the batch's and the store's, as SQLite's work is in this process."""
    from benchmarks.support import fresh_database

    fresh_database("bench-consumption-", database)
    from django.db import connection

    from voucher.platforms import actions, generate
    from voucher.platforms.actions import batches as batch_actions
    from voucher.platforms.models import ConsumptionBatch, Platform

    contracts = generate.Plan(enterprises).contracts()
    batch_actions.batch_contract_terms = lambda batch: contracts  # type: ignore[assignment]
    store_cpu: list[float] = []
    aggregates_store = batch_actions.aggregates_store

    def timed_store(**arguments: object) -> int:  # the same call, its CPU noted
        cpu = _cpu() + _backend_cpu(connection)
        try:
            return aggregates_store(**arguments)  # type: ignore[arg-type]
        finally:
            store_cpu.append(_cpu() + _backend_cpu(connection) - cpu)

    batch_actions.aggregates_store = timed_store  # type: ignore[assignment]
    platform = Platform.objects.create(code="bench", name="bench")

    def upload(number: int) -> ConsumptionBatch:
        # the stored file, as an upload leaves it (linked: the file is large)
        sha = f"{number:04d}" + "0" * 60
        stored = Path(actions.batch_storage().path(actions.batch_name(sha)))
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.symlink_to(path.resolve())
        return ConsumptionBatch.objects.create(
            platform=platform,
            enterprise_uscc=generate.make_uscc(1),
            idempotency_key=f"bench-{number}",
            file_sha256=sha,
            file_name=path.name,
            file_size=path.stat().st_size,
        )

    def process(batch: ConsumptionBatch) -> ConsumptionBatch:
        done = actions.batch_process(batch_id=batch.pk)
        assert done is not None and done.status == ConsumptionBatch.DONE, done
        return done

    first = upload(0)
    started = time.perf_counter()
    if start:
        actions.batch_worker_start()
    start_seconds = time.perf_counter() - started
    done = process(first)
    cold = time.perf_counter() - started
    warm, bare, warm_cpu, bare_cpu, server_cpu = [], [], [], [], []
    for number in range(1, batches + 1):
        batch = upload(number)
        began, cpu, server = time.perf_counter(), _cpu(), _backend_cpu(connection)
        done = process(batch)
        warm.append(time.perf_counter() - began)
        server_cpu.append(_backend_cpu(connection) - server)
        warm_cpu.append(_cpu() - cpu + server_cpu[-1])
        cpu = _cpu()
        bare.append(_bare(path)["seconds"])
        bare_cpu.append(_cpu() - cpu)
    return {
        "seconds": min(warm) if warm else cold,
        "warm": warm,
        "bare": bare,
        "warm_cpu": warm_cpu,
        "bare_cpu": bare_cpu,
        "store_cpu": store_cpu[1:],  # the warm batches'
        "server_cpu": server_cpu,  # PostgreSQL's server process, in warm_cpu too
        "vendor": connection.vendor,
        "cold": cold,
        "start": start_seconds,
        "rows": done.summary["rows_read"],
        "groups": done.summary["aggregates"],
        "amount": done.summary["amount"],
    }


def run_duckdb(path: Path, enterprises: int) -> dict:
    import duckdb  # noqa: F401  (before the clock, as the worker's start-up is)

    return _bare(path)


def run_pandas(path: Path, enterprises: int) -> dict:
    import pandas as pd

    started = time.perf_counter()
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        frame["start"] = pd.to_datetime(frame["start"])
    else:
        frame = pd.read_csv(path, parse_dates=["start", "end"])
    frame["month"] = frame["start"].dt.strftime("%Y-%m")
    grouped = frame.groupby(
        ["enterprise_uscc", "contract_id", "month", "resource_type", "device_model", "unit"],
        dropna=False,
    ).agg(amount=("amount", "sum"), quantity=("quantity", "sum"), n=("amount", "size"))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": int(grouped["n"].sum()), "groups": len(grouped)}


CONTENDERS = {"ours": run_ours, "duckdb": run_duckdb, "pandas": run_pandas}


def _warm(path: Path) -> None:
    """Read the file once, so that every contender starts with it in the page cache. Why: the
    pandas contender before it (13 GiB on Parquet) pushes the 2.2 GiB CSV file out of the cache,
    and the next contender, "ours" on CSV in the next run, read part of it from disk while the
    contenders after it found it in memory."""
    with path.open("rb", buffering=0) as stream:
        while stream.read(8 << 20):
            pass


def _child(
    contender: str,
    path: Path,
    enterprises: int,
    batches: int,
    no_start: bool,
    database: str | None = None,
) -> dict:
    """Run one contender in a fresh interpreter; its own peak RSS comes from wait4."""
    command = (
        _this_module(
            "--child", contender, "--file", path, "--enterprises", enterprises, "--batches", batches
        )
        + (["--no-start"] if no_start else [])
        + (["--database", database] if database else [])
    )
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        return {"error": f"exit {process.returncode}", "peak_mib": usage.ru_maxrss / 1024}
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    return result


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _print_worker(kind: str, result: dict) -> None:
    """The worker child's own figures: cold (start-up + first batch), and each warm batch
    beside the bare GROUP BY run just after it in the same process."""
    print(
        f"{kind:8}   worker start {result['start']:.2f} s, cold (start + first batch) "
        f"{result['cold']:.2f} s",
        flush=True,
    )
    cpu = zip(
        result.get("warm_cpu", []), result.get("bare_cpu", []), result["store_cpu"], strict=True
    )
    for (warm, bare), (warm_cpu, bare_cpu, store_cpu), server_cpu in zip(
        zip(result["warm"], result["bare"], strict=True), cpu, result["server_cpu"], strict=False
    ):
        server = (
            f"; the server's {server_cpu:.2f} s of the batch, the worker's alone "
            f"{bare_cpu / (warm_cpu - server_cpu):.3f}×"
            if result["vendor"] == "postgresql"
            else ""
        )
        print(
            f"{kind:8}   warm batch {warm:8.2f} s, bare DuckDB just after {bare:8.2f} s: "
            f"{bare / warm:.3f}× (goal ≥ 0.5×); CPU {warm_cpu:.2f} s (storing in "
            f"{result['vendor']} {store_cpu:.2f} s{server}) against {bare_cpu:.2f} s: "
            f"{bare_cpu / warm_cpu:.3f}× (goal ≥ 0.5×)",
            flush=True,
        )
    if result["warm"]:
        best = min(result["bare"]) / min(result["warm"])
        best_cpu = min(result["bare_cpu"]) / min(result["warm_cpu"])
        print(
            f"{kind:8}   interleaved, best against best: {best:.3f}× bare DuckDB "
            f"(goal ≥ 0.5×: {_verdict(best)}); by CPU {best_cpu:.3f}× (goal ≥ 0.5×: "
            f"{_verdict(best_cpu)}); cold first batch {min(result['bare']) / result['cold']:.3f}×",
            flush=True,
        )


def _verdict(ratio: float) -> str:
    return "met" if ratio >= 0.5 else "missed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-consumption"
    )
    parser.add_argument(
        "--only", default="ours,duckdb", help="contenders: ours, duckdb, pandas (the bench extra)"
    )
    parser.add_argument(
        "--batches",
        type=int,
        default=2,
        help="warm batches the worker processes after its first, each beside a bare GROUP BY",
    )
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of runs; each contender's fastest counts"
    )
    parser.add_argument(
        "--no-start",
        action="store_true",
        help="the worker as before: no start-up, a DuckDB database per batch",
    )
    parser.add_argument(
        "--database",
        help="the worker's database, a PostgreSQL URL (migrated and emptied: never a database "
        "in use); default a fresh SQLite one",
    )
    parser.add_argument("--child")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
        if args.child == "ours":
            print(
                json.dumps(
                    run_ours(
                        args.file, args.enterprises, args.batches, not args.no_start, args.database
                    )
                )
            )
        else:
            print(json.dumps(CONTENDERS[args.child](args.file, args.enterprises)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.generate:
        _generate(args.dir, args.rows, args.enterprises)
        return
    csv_path, parquet_path = _files(args.dir, args.rows, args.enterprises)
    print(
        f"{args.rows:,} rows, {args.enterprises:,} enterprises; "
        f"CSV {csv_path.stat().st_size / 2**20:,.0f} MiB, "
        f"Parquet {parquet_path.stat().st_size / 2**20:,.0f} MiB"
    )
    print(f"{'format':8} {'contender':8} {'seconds':>8} {'rows/s':>12} {'peak MiB':>9}  groups")
    for kind in args.formats.split(","):
        path = csv_path if kind == "csv" else parquet_path
        runs: dict[str, list[dict]] = {name: [] for name in args.only.split(",")}
        for _ in range(args.repeat):  # in rounds, so that a slow spell hits every contender
            for contender, done in runs.items():
                _warm(path)
                result = _child(
                    contender, path, args.enterprises, args.batches, args.no_start, args.database
                )
                if "error" in result:
                    print(
                        f"{kind:8} {contender:8} {result['error']}  "
                        f"peak {result['peak_mib']:.0f} MiB"
                    )
                    continue
                done.append(result)
                print(
                    f"{kind:8} {contender:8} {result['seconds']:8.2f} "
                    f"{args.rows / result['seconds']:12,.0f} "
                    f"{result['peak_mib']:9.0f}  {result['groups']:,}  {_load()}",
                    flush=True,
                )
                if contender == "ours":
                    _print_worker(kind, result)
        # the fastest run of each (the least disturbed), and the highest peak of any
        best = {
            name: {
                "rate": args.rows / min(r["seconds"] for r in done),
                "seconds": min(r["seconds"] for r in done),
                "peak_mib": max(r["peak_mib"] for r in done),
            }
            for name, done in runs.items()
            if done
        }
        ours = best.get("ours")
        if ours is None:
            continue
        parts = []
        if "duckdb" in best:  # the bare GROUP BY in a child of its own
            ratio = ours["rate"] / best["duckdb"]["rate"]
            verdict = "met" if ratio >= 0.5 else "missed"
            parts.append(f"{ratio:.3f}× DuckDB's own child (goal ≥ 0.5×: {verdict})")
        if "pandas" in best:  # issue 18 withdrew the goal of 3× pandas
            parts.append(f"{ours['rate'] / best['pandas']['rate']:.3f}× pandas")
        verdict = "met" if ours["peak_mib"] <= 1024 else "missed"
        parts.append(f"peak {ours['peak_mib']:.0f} MiB (goal ≤ 1024 MiB: {verdict})")
        what = f"best of {args.repeat}" if args.repeat > 1 else "one run"
        print(f"{kind:8} ours, best warm batch ({what}): {', '.join(parts)}", flush=True)
        if "duckdb" in best and "pandas" in best:
            # The ceiling of the pandas goal: the bare GROUP BY checks, cuts and stores nothing,
            # so "ours" cannot be this many times pandas unless it beats the bare GROUP BY.
            ceiling = best["duckdb"]["rate"] / best["pandas"]["rate"]
            print(f"{kind:8} bare DuckDB ({what}): {ceiling:.3f}× pandas", flush=True)


if __name__ == "__main__":
    main()
