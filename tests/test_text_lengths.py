"""Issue 18 item 5.4: the project overview (14-2) and the four sections of 14-3 are bounded —
2,000 and 3,000 characters — in the portal's forms, its actions, the interchange format and the
database, each refusal naming the field and the limit; at those lengths the 14-3 PDF renders in
a few seconds, and one very long word wraps instead of running off the page."""

from __future__ import annotations

import io
import time

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from .builders import base_document
from .portal_helpers import PROJECT_D2, REPORT, USCC_A, fill_d2, member, open_round, post_step

pytestmark = pytest.mark.django_db

SECTIONS = ("enterprise_overview", "background_goals", "content", "progress")


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


def test_the_project_form_refuses_an_overview_over_2000_characters(client, draft):
    response = post_step(client, draft, "project", {**PROJECT_D2, "project_overview": "概" * 2001})
    assert response.status_code != 302
    page = response.content.decode()
    assert "“项目概述”最多 2000 个字符，现为 2001 个。" in page
    draft.refresh_from_db()
    assert draft.project_overview == ""
    ok = post_step(client, draft, "project", {**PROJECT_D2, "project_overview": "概" * 2000})
    assert ok.status_code == 302


@pytest.mark.parametrize("section", SECTIONS)
def test_the_report_form_refuses_a_section_over_3000_characters(client, draft, section):
    from voucher.documents.models import ImplementationReport
    from voucher.documents.report_sections import SECTIONS as HEADINGS

    heading = next(s.heading for s in HEADINGS if s.field == section)
    response = post_step(client, draft, "report", {**REPORT, section: "字" * 3001})
    assert response.status_code != 302
    assert f"“{heading}”最多 3000 个字符，现为 3001 个。" in response.content.decode()
    report = ImplementationReport.objects.filter(application=draft).first()
    assert report is None or len(getattr(report, section)) < 3001


def test_the_actions_refuse_what_the_forms_would(draft):
    from voucher.core.refusals import Refused
    from voucher.portal import actions

    user = draft.enterprise.memberships.get().user
    with pytest.raises(Refused, match="最多 3000 个字符") as refused:
        actions.implementation_report_save(
            application=draft,
            expected_version=draft.version,
            sections={"content": "字" * 3001},
            acting_user=user,
        )
    assert refused.value.field == "content"
    with pytest.raises(Refused, match="最多 2000 个字符") as refused:
        actions.application_update(
            application=draft,
            expected_version=draft.version,
            changes={"project_overview": "概" * 2001},
            step="project",
            acting_user=user,
        )
    assert refused.value.field == "project_overview"


def test_the_interchange_format_refuses_a_long_overview_naming_the_field():
    from voucher.policy.format import FormatError, parse_application

    doc = base_document()
    doc["project"]["overview"] = "概" * 2001
    with pytest.raises(FormatError) as refused:
        parse_application(doc)
    assert ("project.overview", "最多 2000 个字符，实为 2001 个 (at most 2000 characters)") in (
        refused.value.problems
    )
    doc["project"]["overview"] = "概" * 2000
    assert len(parse_application(doc).project.overview) == 2000


def test_the_database_refuses_longer_texts(draft):
    from voucher.applications.models import Application
    from voucher.documents.models import ImplementationReport

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=draft.pk).update(project_overview="概" * 2001)
    for section in SECTIONS:
        with pytest.raises(IntegrityError), transaction.atomic():
            ImplementationReport.objects.update_or_create(
                application=draft, defaults={section: "字" * 3001}
            )


@pytest.mark.parametrize(
    "text",
    [("算力项目实施情况报告，内容充实。" * 200)[:3000], "a" * 3000],
    ids=["prose", "one word"],
)
def test_the_14_3_pdf_at_the_maximum_renders_in_seconds_and_wraps(client, draft, text):
    import pypdf

    from voucher.applications.models import Application
    from voucher.documents import pdf
    from voucher.documents.data import load_application
    from voucher.documents.models import ImplementationReport

    fill_d2(client, draft)
    Application.objects.filter(pk=draft.pk).update(project_overview=text[:2000])
    ImplementationReport.objects.filter(application=draft).update(**dict.fromkeys(SECTIONS, text))
    started = time.perf_counter()
    body = pdf.implementation_report_pdf(load_application(draft.pk))
    assert time.perf_counter() - started < 10  # measured about 1 s
    pages = pypdf.PdfReader(io.BytesIO(body)).pages
    # 12,000 characters take several pages; a word that did not wrap took one line per section
    assert len(pages) >= 5
