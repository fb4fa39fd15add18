"""Benchmark: `voucher evaluate --json` on 10,000 files as a whole process, against a bare
`python -c` process that `json.load`s the same files (issue 18, item 10: goal ≤ 4×); and, in one
process, reading + parse + evaluate against reading + `json.load` (goal ≤ 3×).

    python -m benchmarks.bench_evaluate_cli [--count 10000] [--repeat 5] [--dir DIR]

The files are bench_evaluate's varied applications (`make_application`), written once into
`--dir` and kept for the next run of the same count. The two processes run alternately,
`--repeat` times each, the command printing to a file (stdout not a terminal: compact JSON);
each figure is the median, of wall-clock seconds and of CPU seconds (user + system of the child,
from wait4: less disturbed by other work on a shared machine than the wall clock).

In one process, the evaluating side does what the command does with those files (cli.run, the
compact output): every document read first, then each evaluated (`engine.evaluate_each`) and let
go, as json.load lets each document go. The batch API (`engine.evaluate`, every evaluation of
the 10,000 kept until the end, as `--pretty` and the Django side keep them) is timed too and
printed for reference: holding 10,000 evaluations costs ~10 µs a file in cache misses and
freeing, which no compact run of the command pays (docs/performance.md, "Branch evalfast").
So is json.loads of the same files read as the command reads them (os.read, no file object):
the goal's baseline reads through a text file object, some 5 µs a file slower.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bench_evaluate import make_application

PROCESS_GOAL = 4.0
IN_PROCESS_GOAL = 3.0
BASELINE = "import json, sys\nfor name in sys.argv[1:]:\n    with open(name, encoding='utf-8') as fh:\n        json.load(fh)\n"


def make_files(directory: Path, count: int, seed: int) -> list[str]:
    """`count` application files in `directory` (kept: made again only when missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"application-{i:05d}.json" for i in range(count)]
    stamp = directory / f".made-{count}-{seed}"
    if not stamp.exists():
        rng = random.Random(seed)
        for i, name in enumerate(names):
            (directory / name).write_text(
                json.dumps(make_application(rng, i), ensure_ascii=False), encoding="utf-8"
            )
        stamp.touch()
    return names


def run_process(argv: list[str], cwd: Path, stdout_path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process, its stdout to a file."""
    with stdout_path.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        assert child.stderr is not None
        errors = child.stderr.read()
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({child.returncode}): {errors.decode()[:2000]}")
    return wall, usage.ru_utime + usage.ru_stime


def in_process(directory: Path, names: list[str], repeat: int) -> dict[str, list[float]]:
    """CPU seconds of read + json.load, of read + parse + evaluate as the command does it, and
    of the same through the batch API (every evaluation kept), alternately (the cyclic garbage
    collector off in all, as in `voucher evaluate`)."""
    from voucher.policy.canonical import read_application
    from voucher.policy.engine import evaluate, evaluate_each
    from voucher.policy.format import load_application_file
    from voucher.policy.format_base import read_bytes
    from voucher.policy.round import get_round

    paths = [directory / n for n in names]
    policy_round = get_round("bj-2026")

    def load_all() -> None:
        for p in paths:
            with p.open(encoding="utf-8") as fh:
                json.load(fh)

    def load_all_raw() -> None:
        # the same files read as the command reads them (format_base.read_bytes: os.open and
        # os.read, no file object), then json.loads: a stricter baseline, for reference
        for p in paths:
            json.loads(read_bytes(p))

    def parse_and_evaluate() -> None:
        # as `voucher evaluate --json` does (voucher/policy/cli.py): every document read first
        # (canonical ones by msgspec, any other by the format's models), ONE_DIRECTION judged
        # over the batch, then each application evaluated and its evaluation let go
        documents = [load_application_file(p, read_application) for p in paths]
        for _evaluation in evaluate_each(documents, policy_round):
            pass

    def parse_and_evaluate_kept() -> None:
        # the batch API: the same evaluations, all 10,000 kept until the end
        evaluate([load_application_file(p, read_application) for p in paths], policy_round)

    contenders = (
        ("json.load", load_all),
        ("parse + evaluate", parse_and_evaluate),
        ("  (batch API, all kept)", parse_and_evaluate_kept),
        ("  (read_bytes + json.loads)", load_all_raw),
    )
    times: dict[str, list[float]] = {label: [] for label, _fn in contenders}
    for _ in range(repeat):
        for label, fn in contenders:
            gc.collect()
            gc.disable()  # as `voucher evaluate` runs (voucher/policy/cli.py), both alike
            started = time.process_time()
            fn()
            times[label].append(time.process_time() - started)
            gc.enable()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-evaluate-cli"))
    args = parser.parse_args()

    directory = args.dir.resolve()
    names = make_files(directory, args.count, args.seed)
    size = sum((directory / n).stat().st_size for n in names)
    output = directory.parent / (directory.name + "-output.json")
    contenders = {
        "json.load (python -c)": [sys.executable, "-c", BASELINE, *names],
        "voucher evaluate --json": [sys.executable, "-m", "voucher", "evaluate", "--json", *names],
    }
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent.parent), env_path) if p
    )
    wall: dict[str, list[float]] = {k: [] for k in contenders}
    cpu: dict[str, list[float]] = {k: [] for k in contenders}
    for i in range(args.repeat):
        order = list(contenders.items())
        if i % 2:
            order.reverse()
        for label, argv in order:
            w, c = run_process(argv, directory, output)
            wall[label].append(w)
            cpu[label].append(c)
    printed = json.loads(output.read_bytes())
    assert len(printed["applications"]) == args.count
    outcomes: dict[str, int] = {}
    for entry in printed["applications"]:
        outcomes[entry["outcome"]] = outcomes.get(entry["outcome"], 0) + 1

    print(
        f"{args.count} files, {size / 1e6:.1f} MB of JSON; output {output.stat().st_size / 1e6:.1f} MB"
    )
    print(f"outcomes: {outcomes}")
    print(f"whole process, median of {args.repeat} (alternating)")
    print(f"{'':<26}{'wall s':>10}{'CPU s':>10}   runs (wall)")
    for label in contenders:
        runs = " ".join(f"{t:.2f}" for t in wall[label])
        print(
            f"{label:<26}{statistics.median(wall[label]):>10.2f}"
            f"{statistics.median(cpu[label]):>10.2f}   {runs}"
        )
    base, ours = contenders
    for kind, figures in (("wall", wall), ("CPU", cpu)):
        ratio = statistics.median(figures[ours]) / statistics.median(figures[base])
        verdict = "meets" if ratio <= PROCESS_GOAL else "MISSES"
        budget = PROCESS_GOAL * statistics.median(figures[base])
        print(
            f"  {kind}: evaluate / json.load = {ratio:.2f}×  (goal ≤ {PROCESS_GOAL:.0f}×,"
            f" i.e. ≤ {budget:.2f} s: {verdict})"
        )

    times = in_process(directory, names, args.repeat)
    print(f"in one process, CPU s, median of {args.repeat} (alternating)")
    for label, runs in times.items():
        print(f"{label:<26}{statistics.median(runs):>10.2f}   {' '.join(f'{t:.2f}' for t in runs)}")
    ratio = statistics.median(times["parse + evaluate"]) / statistics.median(times["json.load"])
    verdict = "meets" if ratio <= IN_PROCESS_GOAL else "MISSES"
    budget = IN_PROCESS_GOAL * statistics.median(times["json.load"])
    print(
        f"  parse + evaluate / json.load = {ratio:.2f}×  (goal ≤ {IN_PROCESS_GOAL:.0f}×,"
        f" i.e. ≤ {budget:.2f} s: {verdict})"
    )
    kept = statistics.median(times["  (batch API, all kept)"]) / statistics.median(
        times["json.load"]
    )
    print(f"  batch API, all kept / json.load = {kept:.2f}×  (for reference)")
    raw = statistics.median(times["parse + evaluate"]) / statistics.median(
        times["  (read_bytes + json.loads)"]
    )
    print(f"  parse + evaluate / (read_bytes + json.loads) = {raw:.2f}×  (for reference)")


if __name__ == "__main__":
    main()
