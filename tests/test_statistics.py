"""Statistics for the bureau (issue 20 item 7): by district (the USCC's characters 3 to 8), industry
section, direction, month and supplier; tables, bars and an Excel export; summed by the database."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from voucher.applications.districts import district_code, district_name
from voucher.applications.models import Application, Enterprise, PaymentRecord
from voucher.core.models import AuditEntry
from voucher.review.selectors.statistics import round_statistics, supplier_statistics

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    confirm_by_hand,
    make_staff,
    propose,
    put_in_state,
    verified_client,
)


def test_the_district_is_read_from_the_uscc():
    assert district_code("91110108MA01AAAA1X") == "110108"
    assert district_name("110108") == "海淀区"
    assert district_name("110105") == "朝阳区"
    assert district_name("110199").startswith("北京市（代码 110199")
    assert district_name("310115").startswith("京外")


@pytest.fixture
def round_of_three(demo_data, django_user_model, settings):
    """Three filed applications: two in 海淀 (one approved and paid), one in 朝阳; a draft."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    a = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    b = put_in_state(application_from("d4-small"), "in_review")
    c = put_in_state(application_from("d1-cap-binds"), "in_review")
    haidian = Enterprise.objects.create(uscc="91110108MA01BBBB1X", name="海淀甲公司")
    chaoyang = Enterprise.objects.create(uscc="91110105MA01CCCC1X", name="朝阳乙公司")
    for app, enterprise, month in ((a, haidian, 3), (b, haidian, 4), (c, chaoyang, 4)):
        Application.objects.filter(pk=app.pk).update(
            enterprise=enterprise, submitted_on=date(2026, month, 10)
        )
    assert a.round_id == b.round_id == c.round_id
    decision = confirm_by_hand(propose(a, reviewer), approver)
    put_in_state(a, "paid")
    PaymentRecord.objects.create(
        application=a,
        paid_on=date(2026, 5, 1),
        amount=decision.amount,
        reference="P1",
        recorded_by=approver,
    )
    for app in (a, b, c):
        app.refresh_from_db()
    return a, b, c, decision, approver


def test_the_tables_sum_by_district_direction_and_month(round_of_three):
    a, b, _c, decision, _ = round_of_three
    tables = {t.slug: t for t in round_statistics(a.round)}
    district = {r.label: r for r in tables["district"].rows}
    assert district["海淀区"].count == 2
    assert district["海淀区"].approved == decision.amount
    assert district["海淀区"].paid == decision.amount
    assert district["朝阳区"].count == 1 and district["朝阳区"].approved == Decimal("0.00")
    assert district["海淀区"].requested == (a.requested_amount or 0) + (b.requested_amount or 0)
    months = {r.key: r.count for r in tables["month"].rows}
    assert months["2026-03"] == 1 and months["2026-04"] == 2
    directions = {r.label: r.count for r in tables["direction"].rows}
    assert directions["方向二"] >= 1 and directions["方向四"] >= 1
    total = tables["district"].totals
    assert total.count == sum(r.count for r in tables["district"].rows)
    assert dict(tables["district"].with_bars)[district["海淀区"]] == 100


def test_the_suppliers_by_their_contracts(round_of_three):
    a = round_of_three[0]
    rows = supplier_statistics(a.round)
    assert rows and all(r.contracts >= 1 and r.total >= 0 for r in rows)
    assert rows == sorted(rows, key=lambda r: -r.total)


def test_the_page_and_its_export(round_of_three, django_user_model):
    *_rest, approver = round_of_three
    staff = verified_client(Client(), approver)
    page = staff.get(reverse("review:statistics")).content.decode()
    assert "海淀区" in page and "朝阳区" in page and "按算力供给方" in page
    export = staff.get(reverse("review:statistics_export"))
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    assert {"district", "industry", "direction", "month", "supplier"} <= set(book.sheetnames)
    labels = [row[0].value for row in book["district"].iter_rows(min_row=3)]
    assert "海淀区" in labels and "合计" in labels
    assert AuditEntry.objects.filter(action="export", data__what="statistics").exists()
