"""note_absent_rows: one query, compiled once, answers for every application which kinds of row
it has none of, as each kind's own query would (issue 23, branch screen2); prefetch_known sets
a relation found empty as fetched, and a filter on it still asks the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from voucher.applications.absent_rows import _asked, has_none, note_absent_rows, prefetch_known
from voucher.applications.models import (
    Application,
    PaymentRecord,
    RegistryShareholding,
    Snapshot,
)

from .conftest import application_from
from .review_support import attach_material, make_staff, propose, publicity_over


def _each_asked(application: Application) -> frozenset[str]:
    return frozenset(name for name, rows in _asked(application.pk).items() if not rows.exists())


def test_the_one_query_answers_as_each_kinds_own(demo_data, django_user_model):
    staff = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    some = application_from("d2-common-shareholder-review")
    # rows of several kinds on one application (the others as the demo left them)
    propose(some, staff)
    publicity_over(some, staff)
    PaymentRecord.objects.create(
        application=some,
        paid_on=timezone.localdate() - timedelta(days=3),
        amount="1000.00",
        reference="P-1",
        recorded_by=staff,
    )
    attach_material(some, "contract")
    Snapshot.objects.create(application=some, transition="resubmit", sha256="0" * 64, document={})
    RegistryShareholding.objects.create(
        application=some,
        position=0,
        holder="91110000MA0000000X",
        held=some.enterprise.uscc,
        ratio="0.5",
    )
    applications = list(Application.objects.order_by("pk"))
    assert len(applications) > 5
    for application in applications:
        absent = note_absent_rows(application)
        assert absent == _each_asked(application), application.source_name
        assert all(has_none(application, name) for name in absent)
    present = set(_asked(0)) - note_absent_rows(some)
    assert {
        "decisions",
        "publicity_lists",
        "payment_records",
        "material_files",
        "resubmissions",
        "shareholdings",
    } <= present
    # every kind is absent somewhere in the demo (each is asked of something real)
    assert set(_asked(0)) == set().union(*(note_absent_rows(a) for a in applications))


def test_nothing_is_known_absent_unless_asked(demo_data):
    application = application_from("d2-common-shareholder-review")
    assert not has_none(application, "decisions")
    assert not has_none(Application.objects.get(pk=application.pk), "decisions")


def test_a_relation_known_empty_reads_as_fetched(demo_data):
    application = application_from("d2-common-shareholder-review")
    RegistryShareholding.objects.filter(application=application).delete()
    other = Application.objects.exclude(pk=application.pk).order_by("pk").first()
    RegistryShareholding.objects.create(
        application=other,
        position=0,
        holder="91110000MA0000000X",
        held="91110000MA0000001Y",
        ratio="0.5",
    )
    note_absent_rows(application)
    assert has_none(application, "shareholdings")
    with CaptureQueriesContext(connection) as queries:
        prefetch_known([application], ("contracts__deliveries", "shareholdings"))
    assert len(queries.captured_queries) == 2  # the contracts and their lines; no shareholdings
    with CaptureQueriesContext(connection) as queries:
        assert list(application.shareholdings.all()) == []
        assert application.shareholdings.count() == 0
    assert queries.captured_queries == []
    # a filter asks the database, for this application's rows only
    assert not application.shareholdings.filter(holder="91110000MA0000000X").exists()
    RegistryShareholding.objects.create(
        application=application, position=0, holder="91110000MA0000000X", held="x", ratio="0.5"
    )
    assert application.shareholdings.filter(holder="91110000MA0000000X").count() == 1


@pytest.mark.parametrize("lookup", ["contracts__other_subsidies", "officers"])
def test_a_nested_or_plain_lookup_known_empty(demo_data, lookup):
    application = application_from("d2-common-shareholder-review")
    application.absent_rows = frozenset({lookup})
    with CaptureQueriesContext(connection) as queries:
        prefetch_known([application], ("contracts", lookup))
    assert len(queries.captured_queries) == 1  # the contracts only
    with CaptureQueriesContext(connection) as queries:
        if lookup == "officers":
            assert list(application.officers.all()) == []
        else:
            assert application.contracts.all()
            for contract in application.contracts.all():
                assert list(contract.other_subsidies.all()) == []
    assert queries.captured_queries == []
