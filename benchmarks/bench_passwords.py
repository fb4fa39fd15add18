"""Benchmark: CPU and wall time of one password check, Argon2 as tuned (OWASP) beside Django's
default parameters (the baseline: what every login cost before), in the same run.

    python -m benchmarks.bench_passwords [--repeat 20]

CPU is the process's CPU time (all of Argon2's lanes, which run as threads), so it is what one
login takes from the two cores whatever else runs; wall time depends on the load (printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
os.environ.setdefault("VOUCHER_DEV", "1")


def _measure(hasher: object, repeat: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of `verify` of a right password."""
    encoded = hasher.encode("correct horse battery", hasher.salt())  # type: ignore[attr-defined]
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        assert hasher.verify("correct horse battery", encoded)  # type: ignore[attr-defined]
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher

    class Owasp46(Argon2PasswordHasher):  # OWASP's other pair, for comparison
        time_cost, memory_cost, parallelism = 1, 46 * 1024, 1

    rows = [
        ("Django default (100 MiB, t=2, p=8): before", Argon2PasswordHasher()),
        ("tuned, in use (19 MiB, t=2, p=1)", get_hasher("default")),
        ("OWASP alternative (46 MiB, t=1, p=1)", Owasp46()),
    ]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"one password check, median of {args.repeat}; load average {load}")
    print(f"{'':44}{'CPU ms':>8}{'wall ms':>9}{'CPU vs before':>15}")
    baseline = None
    for label, hasher in rows:
        cpu, wall = _measure(hasher, args.repeat)
        baseline = baseline or cpu
        print(f"{label:44}{cpu * 1000:8.1f}{wall * 1000:9.1f}{cpu / baseline:14.2f}x")


if __name__ == "__main__":
    main()
