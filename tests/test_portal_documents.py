"""The applicant's side of the documents and of a supplement: own forms and package only."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, USCC_B, fill_d2, member, open_round, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    owner = member("owner@a.example.cn", USCC_A, "甲公司")
    outsider = member("other@b.example.cn", USCC_B, "乙公司")
    client.force_login(owner)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app)
    upload(client, app, "contract", "合同-盖章版.pdf", pdf_bytes())
    return {"app": app, "owner": owner, "outsider": outsider}


def _download(client, app, document, extension):
    return client.get(reverse("documents:download", args=[app.pk, document, extension]))


def test_the_applicant_downloads_the_forms_of_its_own_application(client, world):
    for document, extension in [
        ("usage-table", "pdf"),
        ("usage-table", "docx"),
        ("commitment-letter", "pdf"),
    ]:
        response = _download(client, world["app"], document, extension)
        assert response.status_code == 200, (document, extension)
    status = client.get(reverse("portal:status", args=[world["app"].pk])).content.decode()
    assert reverse("documents:download", args=[world["app"].pk, "package", "pdf"]) in status


def test_a_user_of_another_enterprise_gets_none_of_the_documents(client, world):
    client.force_login(world["outsider"])
    assert _download(client, world["app"], "usage-table", "pdf").status_code == 403
    assert _download(client, world["app"], "package", "pdf").status_code == 403
    client.logout()
    assert _download(client, world["app"], "usage-table", "pdf").status_code == 302  # to login


def test_the_package_lists_the_uploaded_files_with_their_hash(client, world):
    from voucher.applications.models import MaterialFile

    uploaded = MaterialFile.objects.get(application=world["app"], original_name="合同-盖章版.pdf")
    response = _download(client, world["app"], "package", "pdf")
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    assert "合同-盖章版.pdf" in text
    assert uploaded.sha256[:16] in text.replace("\n", "")


def test_a_supplement_request_shows_on_the_status_page_item_by_item(
    client, world, django_user_model
):
    from voucher.applications.models import SupplementItem, SupplementRequest

    reviewer = django_user_model.objects.create_user("shenhe-test", is_staff=True)
    request = SupplementRequest.objects.create(
        application=world["app"],
        requested_by=reviewer,
        due_on=date(2026, 12, 15),
        note="请补充材料",
    )
    SupplementItem.objects.create(request=request, position=1, text="补充合同C1的盖章页")
    page = client.get(reverse("portal:status", args=[world["app"].pk])).content.decode()
    assert "补充合同C1的盖章页" in page
    assert reverse("portal:supplement", args=[world["app"].pk]) in page


def test_the_materials_step_links_to_the_forms_to_sign(client, world):
    """Step 8 asks for the signed 14-2, 14-3 and 14-4: it links to each, PDF and DOCX."""
    app = world["app"]
    page = client.get(reverse("portal:materials", args=[app.pk])).content.decode()
    for document in ("usage-table", "implementation-report", "commitment-letter"):
        for extension in ("pdf", "docx"):
            assert reverse("documents:download", args=[app.pk, document, extension]) in page
    assert reverse("documents:download", args=[app.pk, "package", "pdf"]) not in page


def test_the_materials_step_of_an_incomplete_draft_offers_no_form(client, world):
    from voucher.applications.models import Application

    client.force_login(world["outsider"])
    client.post(reverse("portal:new"), {"direction": 2})
    draft = Application.objects.get(enterprise__uscc=USCC_B)
    page = client.get(reverse("portal:materials", args=[draft.pk])).content.decode()
    assert f"/applications/{draft.pk}/documents/" not in page
    assert 'id="signed-usage_table"' in page  # says what is missing instead
