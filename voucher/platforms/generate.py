"""Made-up consumption files (CSV and Parquet) for the demo, the tests and the benchmark.

Vectorised with numpy random integers (money in integer fen, never floats), written a chunk at
a time, so 20 million rows take a few hundred MB of memory, not the file's size.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voucher.platforms import consumption as core
from voucher.policy import uscc as uscc_codes

DEVICES = ("H800", "A800", "H20", "L20", "910B")
OTHER = (("storage", "TB-month"), ("network", "Gbps-day"), ("security", "instance-day"))
_T0 = core.day_start(date(2025, 8, 1))
_SPAN = core.day_start(date(2026, 5, 1)) - _T0


def make_uscc(number: int) -> str:
    body = f"91110108MA{number:07d}"[:17]
    body = body.replace("I", "J").replace("O", "P")
    return body + uscc_codes.expected_check_character(body)


@dataclass(frozen=True)
class Plan:
    enterprises: int
    seed: int = 7

    def usccs(self) -> list[str]:
        return [make_uscc(i + 1) for i in range(self.enterprises)]

    def contracts(self) -> dict[tuple[str, str], tuple[date, date]]:
        """One contract per enterprise, `C-<n>`, valid over a stretch around the window."""
        rng = np.random.default_rng(self.seed)
        starts = rng.integers(0, 60, self.enterprises)
        lengths = rng.integers(150, 300, self.enterprises)
        out = {}
        for i, uscc in enumerate(self.usccs()):
            first = date.fromordinal(date(2025, 8, 15).toordinal() + int(starts[i]))
            last = date.fromordinal(first.toordinal() + int(lengths[i]))
            out[(uscc, f"C-{i + 1}")] = (first, last)
        return out


def _money(fen: np.ndarray) -> pa.Array:
    whole = pc.cast(pa.array(fen // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(fen % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, cents, ".")


def chunk(plan: Plan, rows: int, first_row: int) -> pa.Table:
    rng = np.random.default_rng(plan.seed * 1_000_003 + first_row)
    usccs = np.array(plan.usccs(), dtype=object)
    who = rng.integers(0, plan.enterprises, rows)
    kind = rng.integers(0, 10, rows)  # 0-7 compute, 8 storage, 9 network/security
    start = _T0 + rng.integers(0, _SPAN, rows)
    hours = rng.integers(1, 73, rows)
    end = start + hours * 3600
    cards = rng.integers(1, 65, rows)
    quantity = cards * hours
    price_fen = rng.integers(800, 2000, rows)
    amount_fen = quantity * price_fen
    compute = kind < 8
    resource = np.where(compute, "compute", np.where(kind == 8, "storage", "network"))
    device = np.where(compute, np.array(DEVICES)[who % len(DEVICES)], "")
    unit = np.where(compute, "card-hour", np.where(kind == 8, "TB-month", "Gbps-day"))
    contract = pc.binary_join_element_wise("C", pc.cast(pa.array(who + 1), pa.string()), "-")
    order = pc.binary_join_element_wise(
        "O", pc.cast(pa.array(np.arange(first_row, first_row + rows)), pa.string()), "-"
    )
    as_time = pa.timestamp("s")
    return pa.table(
        {
            "enterprise_uscc": pa.array(usccs[who], pa.string()),
            "contract_id": contract,
            "order_id": order,
            "resource_type": pa.array(resource, pa.string()),
            "device_model": pa.array(device, pa.string()),
            "start": pc.strftime(pa.array(start, pa.int64()).cast(as_time), "%Y-%m-%d %H:%M:%S"),
            "end": pc.strftime(pa.array(end, pa.int64()).cast(as_time), "%Y-%m-%d %H:%M:%S"),
            "quantity": pc.cast(pa.array(quantity), pa.string()),
            "unit": pa.array(unit, pa.string()),
            "unit_price": _money(price_fen),
            "amount": _money(amount_fen),
        }
    )


def write(
    plan: Plan,
    rows: int,
    *,
    csv_path: Path | None = None,
    parquet_path: Path | None = None,
    chunk_rows: int = 1_000_000,
) -> None:
    """Write `rows` rows to a CSV file and/or a Parquet file (typed: timestamps, decimals)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    parquet_schema = pa.schema(
        [
            ("enterprise_uscc", pa.string()),
            ("contract_id", pa.string()),
            ("order_id", pa.string()),
            ("resource_type", pa.string()),
            ("device_model", pa.string()),
            ("start", pa.timestamp("s")),
            ("end", pa.timestamp("s")),
            ("quantity", pa.decimal128(20, 6)),
            ("unit", pa.string()),
            ("unit_price", pa.decimal128(20, 6)),
            ("amount", pa.decimal128(16, 2)),
        ]
    )
    csv_writer = None
    parquet_writer = None
    try:
        if csv_path is not None:
            csv_writer = pacsv.CSVWriter(
                csv_path,
                pa.schema([(c, pa.string()) for c in core.COLUMNS]),
                write_options=pacsv.WriteOptions(quoting_style="none"),
            )
        if parquet_path is not None:
            parquet_writer = pq.ParquetWriter(parquet_path, parquet_schema, compression="snappy")
        done = 0
        while done < rows:
            size = min(chunk_rows, rows - done)
            table = chunk(plan, size, done + 1)
            if csv_writer is not None:
                csv_writer.write_table(table)
            if parquet_writer is not None:
                typed = table.cast(parquet_schema)
                parquet_writer.write_table(typed)
            done += size
    finally:
        if csv_writer is not None:
            csv_writer.close()
        if parquet_writer is not None:
            parquet_writer.close()


def write_small_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(core.COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
