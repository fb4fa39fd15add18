"""Issue 18 item 5.3: an incomplete draft offers no document links and says what to fill in
first; a document URL of an incomplete draft answers 409 naming the missing fields, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, fill_d2, member, open_round

pytestmark = pytest.mark.django_db

DOCUMENTS = [
    ("usage-table", "pdf"),
    ("usage-table", "docx"),
    ("implementation-report", "pdf"),
    ("implementation-report", "docx"),
    ("commitment-letter", "pdf"),
    ("commitment-letter", "docx"),
    ("package", "pdf"),
]


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("owner@a.example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


@pytest.mark.parametrize(("document", "extension"), DOCUMENTS)
def test_a_document_of_an_incomplete_draft_is_409_naming_what_is_missing(
    client, draft, document, extension
):
    client.raise_request_exception = False
    response = client.get(reverse("documents:download", args=[draft.pk, document, extension]))
    assert response.status_code == 409
    page = response.content.decode()
    assert "尚未填写完整" in page
    assert "applicant" in page or "project" in page  # a field the format still needs


def test_the_status_page_of_an_incomplete_draft_offers_no_document_links(client, draft):
    page = client.get(reverse("portal:status", args=[draft.pk])).content.decode()
    assert reverse("documents:download", args=[draft.pk, "usage-table", "pdf"]) not in page
    assert "尚未填写完整" in page
    # it says what to fill first, with a link to the step
    assert reverse("portal:applicant", args=[draft.pk]) in page


def test_a_complete_draft_offers_its_documents(client, draft):
    fill_d2(client, draft)
    page = client.get(reverse("portal:status", args=[draft.pk])).content.decode()
    assert reverse("documents:download", args=[draft.pk, "usage-table", "pdf"]) in page
    assert "尚未填写完整" not in page


def test_the_self_check_of_an_incomplete_draft_lists_what_to_fill_not_a_refusal(client, draft):
    response = client.get(reverse("portal:selfcheck", args=[draft.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "尚不能测算" in page
    assert reverse("portal:applicant", args=[draft.pk]) in page


def test_the_status_page_reads_a_draft_s_contracts_once(client, draft):
    """What the draft still misses (its export) and the supplier's word on each contract are
    read from the same contracts and lines: once, not twice; and not what the page does not
    show (the supplier's declarations, a direction-3 build's reconciliations)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fill_d2(client, draft)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("portal:status", args=[draft.pk]))
    assert response.status_code == 200
    read = [q["sql"] for q in captured.captured_queries]
    # which lists it has no row of, asked in one query (note_absent_rows: whether, not what)
    (absent,) = [sql for sql in read if sql.startswith("SELECT EXISTS")]
    read.remove(absent)
    for table in ("applications_contract", "applications_delivery", "applications_invoice"):
        assert sum(f'FROM "{table}"' in sql for sql in read) == 1, table
    assert not any('FROM "applications_supplierattestation"' in sql for sql in read)
    assert not any('FROM "platforms_contractreconciliation"' in sql for sql in read)
