"""Consumption ingest at scale: ours vs a bare DuckDB GROUP BY vs pandas, CSV and Parquet.

    .venv/bin/python -m benchmarks.bench_consumption                      # 200,000 rows (quick)
    .venv/bin/python -m benchmarks.bench_consumption --rows 20000000 --enterprises 10000 --repeat 3

Generates the files once (kept in --dir between runs with the same size), then runs every
contender in its own child process, with the file read once just before (so each starts with it
in the page cache), and reads that child's peak RSS (`os.wait4` rusage
ru_maxrss). "ours" is the real ingest path: validate, cut to the window and the contracts,
pro-rate straddling rows, aggregate per enterprise/contract/month, and store the aggregates in a
database (a fresh SQLite file, migrated before the clock starts) in one transaction. It runs on
DuckDB (docs/decisions/0006-consumption-ingest-duckdb.md) with its memory limits (640 MB while
a CSV file's parts are read side by side, 448 MB for one hash table: decision 0010) and threads
(VOUCHER_INGEST_THREADS, all cores, as the bare DuckDB contender). "duckdb" is a bare GROUP BY
(typed read, no validation, no cut), "pandas" the same aggregation with pandas.
Each contender's figure is printed beside the others', then ours as ratios against the goals.
Needs the `bench` extra (pandas; duckdb is a runtime dependency). The figures so far, and what
was tried: docs/performance.md.
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


def run_ours(path: Path, enterprises: int) -> dict:
    from benchmarks.support import fresh_sqlite

    fresh_sqlite("bench-consumption-")
    from django.db import transaction

    from voucher.platforms import actions, consumption, generate
    from voucher.platforms.models import ConsumptionBatch, Platform

    platform = Platform.objects.create(code="bench", name="bench")
    batch = ConsumptionBatch.objects.create(
        platform=platform,
        enterprise_uscc="-",
        idempotency_key="bench",
        file_sha256="-",
        file_name=path.name,
        file_size=path.stat().st_size,
    )
    contracts = generate.Plan(enterprises).contracts()
    # Imports before the clock, as Django's setup: the ingest module and duckdb (the bare
    # contender imports it before its clock too), and pyarrow's pandas shim, which pyarrow
    # loads on its first conversion of Python values when pandas is installed (here it is, for
    # the pandas contender: 0.9 s; a deployment has no pandas).
    import duckdb  # noqa: F401
    import pyarrow

    from voucher.platforms import duck_ingest  # noqa: F401

    pyarrow.array([0])
    started = time.perf_counter()
    result = consumption.ingest_file(path, window=WINDOW, contracts=contracts)
    with transaction.atomic():
        actions.aggregates_store(batch=batch, result=result)
        batch.summary = result.summary()
        batch.status = ConsumptionBatch.DONE
        batch.save()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": result.rows_read,
        "groups": result.totals()[0],  # from the columns: the dict would cost its own memory
        "amount": result.summary()["amount"],
        "prorated": result.rows_prorated,
    }


def run_duckdb(path: Path, enterprises: int) -> dict:
    import duckdb

    source = (
        f"read_parquet('{path}')"
        if path.suffix == ".parquet"
        else f"read_csv('{path}', header=true, columns={{"
        "'enterprise_uscc':'VARCHAR','contract_id':'VARCHAR','order_id':'VARCHAR',"
        "'resource_type':'VARCHAR','device_model':'VARCHAR','start':'TIMESTAMP',"
        "'end':'TIMESTAMP','quantity':'DECIMAL(20,6)','unit':'VARCHAR',"
        "'unit_price':'DECIMAL(20,6)','amount':'DECIMAL(16,2)'})"
    )
    started = time.perf_counter()
    rows = duckdb.sql(
        f"""SELECT enterprise_uscc, contract_id, strftime("start", '%Y-%m') AS month,
                   resource_type, device_model, unit,
                   sum(amount) AS amount, sum(quantity) AS quantity, count(*) AS n
            FROM {source} GROUP BY ALL"""
    ).fetchall()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": sum(r[-1] for r in rows), "groups": len(rows)}


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


def _child(contender: str, path: Path, enterprises: int) -> dict:
    """Run one contender in a fresh interpreter; its own peak RSS comes from wait4."""
    command = _this_module("--child", contender, "--file", path, "--enterprises", enterprises)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-consumption"
    )
    parser.add_argument("--only", default="ours,duckdb,pandas")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of runs; each contender's fastest counts"
    )
    parser.add_argument("--child")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child:
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
                result = _child(contender, path, args.enterprises)
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
                    f"{result['peak_mib']:9.0f}  {result['groups']:,}",
                    flush=True,
                )
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
        for name, label, goal in (("duckdb", "DuckDB", 0.5), ("pandas", "pandas", 3.0)):
            if name in best:
                ratio = ours["rate"] / best[name]["rate"]
                verdict = "met" if ratio >= goal else "missed"
                parts.append(f"{ratio:.3f}× {label} (goal ≥ {goal}×: {verdict})")
        verdict = "met" if ours["peak_mib"] <= 1024 else "missed"
        parts.append(f"peak {ours['peak_mib']:.0f} MiB (goal ≤ 1024 MiB: {verdict})")
        what = f"best of {args.repeat}" if args.repeat > 1 else "one run"
        print(f"{kind:8} ours ({what}): {', '.join(parts)}", flush=True)
        if "duckdb" in best and "pandas" in best:
            # The ceiling of the pandas goal: the bare GROUP BY checks, cuts and stores nothing,
            # so "ours" cannot be this many times pandas unless it beats the bare GROUP BY.
            ceiling = best["duckdb"]["rate"] / best["pandas"]["rate"]
            print(f"{kind:8} bare DuckDB ({what}): {ceiling:.3f}× pandas", flush=True)


if __name__ == "__main__":
    main()
