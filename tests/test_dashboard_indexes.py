"""The dashboard's reads of a round's applications and of their latest evaluations are answered
from two indexes alone on PostgreSQL (decision 0056): `application_dashboard` (the round, the
direction, the state, and INCLUDEd the id, the requested amount, the applicant's name) and
`latest_evaluation_allowed` (the application, where `bureau_latest`, INCLUDEd the approved_max).
Without them each of the four
queries read the tables themselves, every row's 37 columns, findings and contracts: the
dashboard's database time grew with the round four times over as fast.

The figures and the rows these queries return are tested against their definitions in
tests/test_dashboard_simulation.py (the queries are the same; only the indexes are new)."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import IntegrityError, connection, transaction

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff
from .season_support import copy_applications

dashboard_module = import_module("voucher.review.selectors.dashboard")

COVERED = {
    "applications_application": "application_dashboard",
    "applications_storedevaluation": "latest_evaluation_allowed",
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _scans(plan: dict) -> list[tuple[str, str, str]]:
    """(table, node type, index) of every scan of a table in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if "Relation Name" in plan:
        found.append((plan["Relation Name"], plan["Node Type"], plan.get("Index Name", "")))
    for child in plan.get("Plans", []):
        found.extend(_scans(child))
    return found


def _plan(compiled, *values) -> list[tuple[str, str, str]]:
    sql, params = compiled.sql("default")
    given = dict(zip(compiled.sentinels, values, strict=True))
    asked = [given.get(p, p) if type(p) is int else p for p in params]
    # the plan of a season, asked of a few test rows: their tables would be read whole (a
    # sequential scan) or, the few rows joined to each other, looked up one by one (a nested
    # loop, a merge join in the order of the primary key); a season's round is read in one pass
    # and hashed (docs/performance.md, branch dash2)
    planner = ("enable_seqscan", "enable_bitmapscan", "enable_nestloop", "enable_mergejoin")
    with connection.cursor() as cursor:
        for setting in planner:
            cursor.execute(f"SET {setting} = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, asked)
            (plan,) = cursor.fetchone()
        finally:
            for setting in planner:
                cursor.execute(f"RESET {setting}")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _scans(plan[0]["Plan"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index-only scans: PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # VACUUM: outside a transaction
def test_the_dashboard_reads_applications_and_evaluations_from_indexes_alone(
    demo_data, django_user_model
):
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    template = application_from("d2-common-shareholder-review")
    copy_applications(template, 12, assignee=approver, proposer=reviewer)
    record = template.round
    with connection.cursor() as cursor:
        # the visibility map PostgreSQL's autovacuum keeps for a table read more than written:
        # what lets an index answer without the table (and the planner prefer it)
        for table in (*COVERED, "review_decision", "review_paymentrecord"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    queries = {
        "figures": (dashboard_module._FIGURES, record.pk),
        "approvals by month": (dashboard_module._APPROVALS_BY_MONTH, record.pk),
        "payments by month": (dashboard_module._PAYMENTS_BY_MONTH, record.pk),
        "simulation": (dashboard_module._CANDIDATES, record.pk, template.direction),
    }
    for name, (compiled, *values) in queries.items():
        scans = [s for s in _plan(compiled, *values) if s[0] in COVERED]
        assert scans, name
        for table, node, index in scans:
            assert (node, index) == ("Index Only Scan", COVERED[table]), (name, scans)


@pytest.mark.django_db
def test_an_application_has_one_latest_evaluation_still(demo_data):
    """The covering index of the latest evaluations is an index of its own, not the unique
    constraint's given an INCLUDE: Django creates no such constraint where INCLUDE is unknown
    (SQLite), and a second latest evaluation would then be let in. Refused, on both."""
    from voucher.applications.models import StoredEvaluation

    application = application_from("d2-common-shareholder-review")
    latest = StoredEvaluation.objects.get(application=application, bureau_latest=True)
    fields = {
        f.attname: getattr(latest, f.attname)
        for f in StoredEvaluation._meta.concrete_fields
        if not f.primary_key
    }
    StoredEvaluation.objects.create(**{**fields, "bureau_latest": False})
    with pytest.raises(IntegrityError), transaction.atomic():
        StoredEvaluation.objects.create(
            **{**fields, "approved_max": latest.approved_max + Decimal("0.01")}
        )
    assert StoredEvaluation.objects.filter(application=application, bureau_latest=True).count() == 1
