"""Storing aggregates: in bulk (COPY on PostgreSQL, 50-row INSERTs on SQLite, whose page cache
is widened for the insert and put back after), each row as the reference says."""

from __future__ import annotations

import pytest
from django.db import connection

from voucher.platforms import actions
from voucher.platforms.actions import batches


@pytest.mark.django_db
def test_the_page_cache_is_widened_while_storing_and_put_back():
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            with batches._sqlite_page_cache(cursor):
                pass  # nothing to widen: PostgreSQL has its own buffers
            return
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        with batches._sqlite_page_cache(cursor):
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -131072
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before
        with pytest.raises(RuntimeError), batches._sqlite_page_cache(cursor):
            raise RuntimeError("a failed insert")
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 5_000, 5_049], ids=lambda n: f"{n} aggregates")
def test_every_aggregate_is_stored_once_whatever_the_count(count):
    """Aggregates go in ROWS_PER_INSERT at a time and the rest one by one: at, below and
    above a statement's and a chunk's edge, each row is stored exactly as `stored_rows` says."""
    from voucher.platforms import consumption
    from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch, Platform

    assert actions.ROWS_PER_INSERT == 50
    platform = Platform.objects.create(code="store", name="store")
    batch = ConsumptionBatch.objects.create(
        platform=platform, enterprise_uscc="-", idempotency_key="k", file_sha256="-", file_size=0
    )
    result = consumption.IngestResult()
    for n in range(count):
        key = (
            "91110108MA00000019",
            f"C-{n % 7}",
            f"2025-{n % 12 + 1:02d}",
            "compute",
            "H20",
            f"u{n}",
        )
        result.aggregates[key] = consumption.Aggregate(
            amount_fen=n * 101,
            quantity_micro=n * 1_000_001,
            outside_fen=n,
            row_count=n + 1,
            prorated_rows=n % 2,
            first_row=n + 1,
            last_row=2 * n + 1,
            row_sum=3 * n + 1,
            first_second=None if n % 3 else n,
            last_second=None if n % 3 else n + 86_400,
        )
    assert actions.aggregates_store(batch=batch, result=result) == count
    stored = ConsumptionAggregate.objects.filter(batch=batch).order_by("pk")
    columns = batches._AGGREGATE_COLUMNS

    def as_stored(column, value):  # amounts in fen, the quantity as its text (core.columns)
        if column in ("amount", "outside_amount"):
            return int(value.scaleb(2))
        return str(value) if column == "quantity" else value

    got = [
        tuple(as_stored(c, v) for c, v in zip(columns, values, strict=True))
        for values in stored.values_list(*[c if c != "batch" else "batch_id" for c in columns])
    ]
    assert got == list(result.stored_rows(batch.pk))


# Keys that the CSV text of a COPY must carry exactly: a quote, a comma and a tab inside a
# contract id, an empty device (stored '', never NULL), Chinese text. (A line feed in a cell
# sends the whole file to the reference path: `duck_ingest.csv_shape`.)
_AWKWARD_CONTRACTS = ("C-1", 'C-"2",x', "合同\t3")


def _awkward_file(path):
    from datetime import date

    from voucher.platforms import consumption, generate

    uscc = generate.make_uscc(1)
    contracts = {
        (uscc, contract_id): (date(2025, 9, 1), date(2026, 8, 31))
        for contract_id in _AWKWARD_CONTRACTS
    }
    rows = [
        {
            "enterprise_uscc": uscc,
            "contract_id": _AWKWARD_CONTRACTS[i % 3],
            "order_id": f"O-{i}",
            "resource_type": consumption.RESOURCE_TYPES[i % len(consumption.RESOURCE_TYPES)],
            "device_model": "H800" if i % len(consumption.RESOURCE_TYPES) == 0 else "",
            # some cross the window's start: pro-rated, with an amount outside it
            "start": f"2025-{9 + i % 3:02d}-{1 + i % 27:02d} 23:30:00",
            "end": f"2025-{9 + i % 3:02d}-{2 + i % 27:02d} 00:30:00",
            "quantity": f"{i}.{i % 7}",
            "unit": "卡时",
            "unit_price": "1.5",
            "amount": f"{i}.{i % 100:02d}",
        }
        for i in range(120)
    ]
    generate.write_small_csv(path, rows)
    return contracts


def _stored(batch):
    from voucher.platforms.models import ConsumptionAggregate

    columns = batches._AGGREGATE_COLUMNS

    def as_stored(column, value):  # amounts in fen, the quantity as its text (core.columns)
        if column in ("amount", "outside_amount"):
            return int(value.scaleb(2))
        return str(value) if column == "quantity" else value

    return sorted(
        tuple(as_stored(c, v) for c, v in zip(columns, values, strict=True))
        for values in ConsumptionAggregate.objects.filter(batch=batch).values_list(*columns)
    )


@pytest.mark.django_db
def test_the_duckdb_result_is_stored_as_the_reference_rows_say(tmp_path):
    """The DuckDB path's rows are made in its last statement and stored in bulk (COPY of
    Arrow's CSV text on PostgreSQL, INSERTs on SQLite): what lands in the table is the
    reference reader's `stored_rows`, awkward keys included; and the CSV text of both results
    (the columns' and the rows') reads back as the same rows."""
    import csv
    import io
    from datetime import date

    from voucher.platforms import consumption, duck_ingest
    from voucher.platforms.models import ConsumptionBatch, Platform

    path = tmp_path / "awkward.csv"
    contracts = _awkward_file(path)
    window = (date(2025, 9, 8), date(2026, 3, 31))
    fast = consumption.ingest_file(path, window=window, contracts=contracts)
    reference = consumption.ingest_reference(path, window=window, contracts=contracts)
    assert isinstance(fast, duck_ingest.ColumnarResult) and fast._columnar()
    assert fast.rows_prorated > 0 and not fast.errors

    def read_back(result, batch_id):
        text = b"".join(bytes(chunk) for chunk in result.stored_csv(batch_id)).decode()
        return sorted(csv.reader(io.StringIO(text, newline="")))

    assert read_back(fast, 7) == read_back(reference, 7)
    platform = Platform.objects.create(code="store", name="store")
    stored = []
    for n, result in enumerate((fast, reference)):
        batch = ConsumptionBatch.objects.create(
            platform=platform, enterprise_uscc="-", idempotency_key=f"k{n}", file_sha256="-",
            file_size=0,
        )  # fmt: skip
        assert actions.aggregates_store(batch=batch, result=result) == len(reference.aggregates)
        stored.append([(0, *values[1:]) for values in _stored(batch)])
        assert _stored(batch) == sorted(reference.stored_rows(batch.pk))
    assert stored[0] == stored[1]
    assert {values[2] for values in stored[0]} == set(_AWKWARD_CONTRACTS)
    assert "" in {values[5] for values in stored[0]}  # an empty device, not NULL
    assert fast._columnar()  # stored from the columns: no dict was built


def _binary_rows(chunks):
    """The rows of a binary COPY stream (PostgreSQL's format), as `stored_rows` gives them:
    integers (None for a NULL) then texts, in `STORED_BINARY_COLUMNS`' order."""
    import struct

    from voucher.platforms import consumption

    data = b"".join(bytes(chunk) for chunk in chunks)
    assert data[:19] == b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    rows, at = [], 19
    while True:
        (fields,) = struct.unpack_from(">h", data, at)
        at += 2
        if fields == -1:
            break
        assert fields == len(consumption.STORED_BINARY_COLUMNS)
        row = []
        for index in range(fields):
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            if length == -1:
                row.append(None)
                continue
            value = data[at : at + length]
            at += length
            integer = index < 10  # the batch id, the sums, the counts, the seconds
            assert not integer or length == 8
            row.append(struct.unpack(">q", value)[0] if integer else value.decode())
        rows.append(row)
    assert at == len(data)
    return rows


def test_the_binary_copy_holds_the_rows_the_csv_text_holds(tmp_path):
    """The DuckDB path's binary COPY stream (decision 0046) decodes to `stored_rows`, column
    for column (NULL seconds, an empty device, awkward and Chinese ids included); a sum beyond
    64 bits gives no binary stream, so that the CSV text goes and the column refuses it, as
    before."""
    from datetime import date

    import pyarrow as pa

    from voucher.platforms import consumption, duck_ingest

    path = tmp_path / "awkward.csv"
    contracts = _awkward_file(path)
    window = (date(2025, 9, 8), date(2025, 10, 31))  # November's rows: outside, no seconds
    fast = consumption.ingest_file(path, window=window, contracts=contracts)
    reference = consumption.ingest_reference(path, window=window, contracts=contracts)
    assert isinstance(fast, duck_ingest.ColumnarResult)
    order = [consumption.STORED_BINARY_COLUMNS.index(c) for c in batches._AGGREGATE_COLUMNS]
    decoded = sorted(tuple(row[i] for i in order) for row in _binary_rows(fast.stored_binary(7)))
    assert decoded == sorted(reference.stored_rows(7))
    assert any(row[-1] is None for row in decoded)  # a group with no second inside
    assert "" in {row[5] for row in decoded}
    assert reference.stored_binary(7) is None  # rows of the dict: the CSV text

    (groups,) = list(fast._groups)
    huge = pa.array([2**63] * groups.num_rows, pa.decimal128(38, 0))
    beyond = duck_ingest.ColumnarResult()
    beyond.add_groups(groups.set_column(groups.schema.get_field_index("row_sum"), "row_sum", huge))
    assert beyond.stored_binary(7) is None
    assert b"9223372036854775808" in b"".join(bytes(c) for c in beyond.stored_csv(7))
