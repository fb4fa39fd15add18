"""core.precompiled (branch screen3, issue 23, decision 0050): a queryset's SQL written once per
process, asked with each call's values, gives what the queryset gives; and the review screen's
document, read so (selectors.fetch_document), is left as Django's prefetch leaves it."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.models import prefetch_related_objects
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from voucher.applications.models import Application, Contract
from voucher.applications.selectors import DOCUMENT_PREFETCH, fetch_document
from voucher.core import precompiled


@pytest.fixture
def compiles(monkeypatch):
    """How many queries the ORM compiles meanwhile."""
    count = [0]
    as_sql = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        count[0] += 1
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    return count


def _by_pk(pk: int) -> models.QuerySet:
    return Application.objects.select_related("round", "enterprise").filter(pk=pk).order_by()


def test_rows_are_the_querysets_and_compiled_once(demo_data, compiles):
    ids = list(Application.objects.order_by("pk").values_list("pk", flat=True)[:4])
    key = "tests.precompiled.by_pk"
    precompiled._compiled.pop(precompiled._where(connection.alias, key), None)
    for pk in [*ids, -1]:
        found = precompiled.rows(key, Application, lambda pk: _by_pk(pk), pk=pk)
        expected = list(_by_pk(pk))
        assert [a.pk for a in found] == [a.pk for a in expected]
        for got, want in zip(found, expected, strict=True):
            assert got.__dict__.keys() == want.__dict__.keys()
            assert {k: v for k, v in got.__dict__.items() if k != "_state"} == {
                k: v for k, v in want.__dict__.items() if k != "_state"
            }
            with CaptureQueriesContext(connection) as queries:
                assert got.round.code == want.round.code  # read with it (select_related)
                assert got.enterprise.uscc == want.enterprise.uscc
            assert queries.captured_queries == []
    compiles[0] = 0
    with CaptureQueriesContext(connection) as queries:
        precompiled.rows(key, Application, lambda pk: _by_pk(pk), pk=ids[0])
    assert compiles[0] == 0 and len(queries.captured_queries) == 1


def test_a_value_not_among_the_parameters_is_refused(db):
    with pytest.raises(ValueError, match="pk is not a parameter"):
        precompiled.rows(
            "tests.precompiled.refused", Application, lambda pk: Application.objects.all(), pk=1
        )


def _document(application: Application) -> dict:
    """What the document's relations hold: each relation's rows, their fields, in order."""

    def fields(rows):
        return [{k: v for k, v in r.__dict__.items() if not k.startswith("_")} for r in rows]

    return {
        "contracts": fields(application.contracts.all()),
        "rows": [
            {
                name: fields(getattr(c, name).all())
                for name in ("deliveries", "invoices", "payments", "other_subsidies")
            }
            for c in application.contracts.all()
        ],
        "shareholdings": fields(application.shareholdings.all()),
        "officers": fields(application.officers.all()),
    }


def test_fetch_document_leaves_what_the_prefetch_leaves(demo_data, compiles):
    applications = list(Application.objects.order_by("pk"))
    assert any(a.contracts.exists() for a in applications)
    for application in applications:
        prefetched = Application.objects.get(pk=application.pk)
        prefetch_related_objects([prefetched], *DOCUMENT_PREFETCH)
        fetched = Application.objects.get(pk=application.pk)
        fetch_document(fetched)
        with CaptureQueriesContext(connection) as queries:
            assert _document(fetched) == _document(prefetched)
            for contract in fetched.contracts.all():  # each row's holder, as the prefetch sets it
                assert contract.application is fetched
                for name in ("deliveries", "invoices", "payments", "other_subsidies"):
                    assert all(row.contract is contract for row in getattr(contract, name).all())
            assert all(s.application is fetched for s in fetched.shareholdings.all())
        assert queries.captured_queries == []
        # a filter on a relation still asks the database
        assert fetched.contracts.filter(pk__in=[]).count() == 0
    compiles[0] = 0
    fetch_document(Application.objects.get(pk=applications[0].pk))
    assert compiles[0] == 1  # the get() above; the document's seven queries compiled before
    assert Contract.objects.exists()


def test_a_value_written_into_the_sql_as_well_is_refused(db):
    """A value among the parameters and also in the SQL's text (a RawSQL, an extra()) would
    keep the sentinel's there for every later call: refused, for both forms."""
    from django.db.models.expressions import RawSQL

    def build(pk):
        return Application.objects.filter(pk=pk).annotate(x=RawSQL(f"{pk} + 0", ()))

    with pytest.raises(ValueError, match="not a parameter"):
        precompiled.rows("tests.precompiled.literal", Application, build, pk=1)
    with pytest.raises(ValueError, match="not a parameter"):
        precompiled.CompiledQuery(lambda pk: build(pk).values_list("pk", "x"), -9_999_001).rows(
            connection.alias, 1
        )


def test_each_time_zone_has_its_own_compiled_query(db):
    """The ORM writes the current time zone into a query that truncates a time to its month:
    a query compiled under one time zone is not asked under another."""
    from django.db.models.functions import TruncMonth
    from django.utils import timezone

    query = precompiled.CompiledQuery(
        lambda pk: Application.objects.filter(pk=pk).values_list(
            TruncMonth("created_at", tzinfo=timezone.get_current_timezone())
        ),
        -9_999_002,
    )
    query.rows(connection.alias, 1)
    with timezone.override("UTC"):
        query.rows(connection.alias, 1)
        utc = query.sql(connection.alias)
    shanghai = query.sql(connection.alias)
    assert len(query._compiled) == 2
    assert utc != shanghai


def test_an_id_no_column_can_hold_finds_nothing_and_asks_nothing(db):
    """As the ORM's exact lookup of an out-of-range id (no row, no query): SQLite cannot take
    such an int at all, and the review screen's id comes from the address."""
    too_large = 2**63
    with CaptureQueriesContext(connection) as queries:
        assert precompiled.rows("tests.precompiled.range", Application, _by_pk, pk=too_large) == []
        assert (
            precompiled.rows("tests.precompiled.range", Application, _by_pk, pk=-too_large - 1)
            == []
        )
        by_pk = precompiled.CompiledQuery(lambda pk: _by_pk(pk).values_list("pk"), -9_999_003)
        assert by_pk.rows(connection.alias, too_large) == []
    assert queries.captured_queries == []
    assert precompiled.rows("tests.precompiled.range", Application, _by_pk, pk=2**63 - 1) == []


def test_the_review_screen_of_an_id_no_column_can_hold_is_not_found(client, django_user_model):
    from voucher.applications import roles as r

    from .review_support import make_staff, verified_client

    verified_client(client, make_staff(django_user_model, "reviewer", r.REVIEWER))
    for application_id in (2**63, 10**30):
        assert client.get(f"/review/{application_id}/").status_code == 404


def test_a_value_compared_with_a_text_column_is_asked_as_its_digits(db, compiles):
    """Decision 0055: the status page's timeline finds its audit entries by the application's id
    as the text of their object_id; compiled once, each call asks its own id's digits (values
    as the queryset gives them, a fixed text parameter left as it is)."""
    from django.contrib.auth.models import Group

    from voucher.core.audit import audit
    from voucher.core.models import AuditEntry

    def build(object_id):
        return (
            AuditEntry.objects.filter(
                object_type="auth.group", object_id=str(object_id), action__in=("a", "b")
            )
            .values_list("object_id", "action")
            .order_by("id")
        )

    groups = {pk: Group.objects.create(pk=pk, name=f"g{pk}") for pk in (5, 55, 6)}
    for pk, action in ((5, "a"), (5, "b"), (55, "a"), (6, "c")):
        audit(actor=None, action=action, obj=groups[pk], data={})
    assert AuditEntry.objects.filter(object_type="auth.group").count() == 4
    key = "tests.precompiled.text"
    precompiled._compiled.pop(precompiled._where(connection.alias, key), None)
    for object_id in (5, 55, 6, 7):
        found = precompiled.rows(key, AuditEntry, build, object_id=object_id)
        assert found == list(build(object_id))
    assert precompiled.rows(key, AuditEntry, build, object_id=5) == [("5", "a"), ("5", "b")]
    assert precompiled.rows(key, AuditEntry, build, object_id=55) == [("55", "a")]
    compiles[0] = 0
    precompiled.rows(key, AuditEntry, build, object_id=55)
    assert compiles[0] == 0


def test_a_compiled_locking_query_outside_a_transaction_is_refused(transactional_db):
    """lifecycle.lock's read is compiled once (decision 0055); the compiler refused a locking
    query outside a transaction each time it wrote it, so the compiled query refuses it too."""
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    if not connection.features.has_select_for_update:
        pytest.skip("row locking is tested on PostgreSQL (CI runs it)")

    def build(pk):
        return Application.objects.select_for_update().filter(pk=pk).order_by()

    key = "tests.precompiled.locking"
    precompiled._compiled.pop(precompiled._where(connection.alias, key), None)
    with transaction.atomic():
        assert precompiled.rows(key, Application, build, pk=1) == []
    assert connection.get_autocommit()  # outside a transaction, as a request without one
    with pytest.raises(TransactionManagementError, match="select_for_update"):
        precompiled.rows(key, Application, build, pk=1)


def test_a_compiled_query_sliced_is_the_queryset_sliced(demo_data):
    """Decision 0054: `rows(…, low=, high=)` asks the LIMIT and OFFSET the queryset sliced asks
    (the lists' pages); `sql(alias, value)` puts the value in the sentinel's place."""

    def build(pk):
        return Application.objects.exclude(pk=pk).order_by("-id").values_list("pk")

    query = precompiled.CompiledQuery(build, -9_999_005)
    first = Application.objects.order_by("pk").values_list("pk", flat=True)[0]
    every = list(build(first))
    assert len(every) > 3
    for low, high in ((0, 2), (1, 3), (2, None), (0, None), (len(every), None), (3, 3), (2, 50)):
        assert query.rows("default", first, low=low, high=high) == list(build(first)[low:high])
    with CaptureQueriesContext(connection) as captured:
        assert query.rows("default", first, low=3, high=3) == []
    assert not captured.captured_queries  # an empty slice: nothing asked, as a queryset's
    _sql, params = query.sql("default", first)
    assert -9_999_005 not in params and first in params
    assert query.sql("default")[1] != params  # without values: the sentinel's place kept


# in_list_rows (branch screen4, decision 0057): a values_list queryset of IN lists, compiled once
# per combination of its lists' bucket lengths, gives what the ORM gives for every length.


def test_the_buckets_of_a_list_s_length():
    assert [precompiled.bucket(n) for n in range(10)] == [0, 1, 2, 4, 4, 8, 8, 8, 8, 16]


def _contracts_of(suppliers, keys, application_ids):
    return (
        Contract.objects.filter(
            models.Q(supplier_uscc__in=suppliers) | models.Q(contract_key__in=keys),
            application_id__in=application_ids,
        )
        .order_by("pk")
        .values_list("pk", "application_id", "supplier_uscc", "contract_key", "total_amount")
    )


def test_in_list_rows_are_the_orm_s_for_every_length(demo_data, compiles):
    """Lists of text and of ids, of every length from none to past two buckets (an empty one
    leaves its condition out, both empty leave no row), in varied orders and with values that
    match nothing: the ORM's rows, converted as it converts them (the amount a Decimal)."""
    import random

    rows = list(Contract.objects.values_list("supplier_uscc", "contract_key", "application_id"))
    suppliers = [*sorted({s for s, _k, _a in rows}), "NO-SUCH-SUPPLIER"]
    keys = [*sorted({k for _s, k, _a in rows}), "NO-SUCH-KEY"]
    applications = [*sorted({a for _s, _k, a in rows}), -5]
    key = "tests.precompiled.in_lists"
    precompiled._by_lengths.clear()
    asked = 0
    for seed in range(40):
        chance = random.Random(seed)
        lists = [
            chance.sample(values, min(len(values), chance.randrange(0, 10)))
            for values in (suppliers, keys, applications)
        ]
        if not lists[2]:
            lists[2] = [chance.choice(applications)]
        expected = list(_contracts_of(*lists))
        found = precompiled.in_list_rows(key, Contract, _contracts_of, *lists)
        assert found == [tuple(r) for r in expected], (seed, lists)
        asked += bool(expected)
    assert asked >= 10  # the data matched often enough for the comparison to mean something
    # once compiled for each combination of lengths, no compiling more
    compiles[0] = 0
    precompiled.in_list_rows(
        key, Contract, _contracts_of, suppliers[:3], keys[:1], applications[:4]
    )
    precompiled.in_list_rows(
        key, Contract, _contracts_of, suppliers[:4], keys[:1], applications[:3]
    )
    assert compiles[0] == 1  # (3 and 4 values share a bucket of 4)


def test_in_list_rows_of_lists_that_can_match_nothing_ask_nothing(db):
    precompiled._by_lengths.clear()
    with CaptureQueriesContext(connection) as queries:
        assert (
            precompiled.in_list_rows("tests.precompiled.none", Contract, _contracts_of, [], [], [1])
            == []
        )
        assert (
            precompiled.in_list_rows("tests.precompiled.none", Contract, _contracts_of, [], [], [1])
            == []
        )
    assert queries.captured_queries == []
