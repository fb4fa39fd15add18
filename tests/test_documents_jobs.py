"""Documents rendered off the request (voucher/documents/jobs.py): queued, rendered by the worker
under a time limit, cached by the hash of the data they are rendered from, the page showing the
progress until the download.

The worker renders in a forked child that reads the database on its own connection: these tests
commit their data (transaction=True)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from .portal_helpers import (
    PROJECT_D2,
    USCC_A,
    USCC_B,
    fill_d2,
    member,
    open_round,
    pdf_bytes,
    post_step,
    upload,
)

pytestmark = pytest.mark.django_db(transaction=True)


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
    settings.VOUCHER_DOCUMENTS_INLINE = False  # as in production: a worker renders
    return {"app": app, "owner": owner, "outsider": outsider}


def _url(app, document="usage-table", extension="pdf"):
    return reverse("documents:download", args=[app.pk, document, extension])


def _job(app, document="usage-table", extension="pdf"):
    from voucher.documents.models import DocumentJob

    return DocumentJob.objects.get(application=app, document=document, extension=extension)


def _change_project(client, app):
    changed = {**PROJECT_D2, "project_overview": "改写后的项目概述。"}
    assert post_step(client, app, "project", changed).status_code == 302
    app.refresh_from_db()


def _worker():
    call_command("documents", "worker", "--once")


def test_a_document_is_queued_shown_in_progress_then_rendered_by_the_worker(client, world):
    from voucher.core.audit import AuditEntry
    from voucher.documents.models import DocumentJob

    app = world["app"]
    response = client.get(_url(app))
    assert response.status_code == 202
    page = response.content.decode()
    # the progress page: refreshed without JavaScript, polled by a static script (CSP: no inline)
    assert '<meta http-equiv="refresh" content="3">' in page
    assert response["Refresh"] == "3"
    assert "/static/voucher/documents.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    assert "已排队" in page and f'href="{_url(app)}"' in page
    job = _job(app)
    assert job.state == DocumentJob.QUEUED and job.requested_by == world["owner"]
    assert AuditEntry.objects.filter(action="document_request", object_id=str(job.pk)).exists()
    status_url = reverse("documents:job_status", args=[app.pk, job.pk])
    assert f'data-status-url="{status_url}"' in page
    assert client.get(status_url).json()["state"] == "queued"

    _worker()

    job.refresh_from_db()
    assert job.state == DocumentJob.DONE, job.error
    assert job.size and job.file.endswith(f"{job.data_hash}.pdf")
    assert job.started_at and job.finished_at and job.seconds is not None
    status = client.get(status_url).json()
    assert status["state"] == "done" and status["download"] == _url(app)
    done = client.get(_url(app))
    assert done.status_code == 200 and done["Content-Type"] == "application/pdf"
    assert done.content.startswith(b"%PDF") and len(done.content) == job.size
    assert "attachment" in done["Content-Disposition"]


def test_the_second_request_for_the_same_data_is_served_from_the_store(client, world, monkeypatch):
    from voucher.documents import render
    from voucher.documents.models import DocumentJob

    app = world["app"]
    assert client.get(_url(app, "commitment-letter")).status_code == 202
    _worker()
    first = client.get(_url(app, "commitment-letter"))
    assert first.status_code == 200

    def no_render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(render, "build", no_render)
    second = client.get(_url(app, "commitment-letter"))
    assert second.status_code == 200 and second.content == first.content
    assert DocumentJob.objects.filter(application=app).count() == 1


def test_a_render_over_the_time_limit_is_stopped_and_the_job_failed_with_a_message(
    client, world, monkeypatch, settings
):
    from voucher.documents import render
    from voucher.documents.models import DocumentJob

    settings.VOUCHER_DOCUMENT_TIMEOUT_SECONDS = 1

    def endless(*args, **kwargs):
        time.sleep(60)
        return b"never"

    monkeypatch.setattr(render, "build", endless)  # the forked child inherits it
    app = world["app"]
    client.get(_url(app))
    started = time.monotonic()
    _worker()
    assert time.monotonic() - started < 30  # the child was killed, not waited for
    job = _job(app)
    assert job.state == DocumentJob.FAILED and job.failure == DocumentJob.TIMEOUT
    assert "超过了 1 秒的时限" in job.error and not job.file
    page = client.get(_url(app))
    assert page.status_code == 200
    text = page.content.decode()
    assert "超过了 1 秒的时限" in text and 'http-equiv="refresh"' not in text
    status = client.get(reverse("documents:job_status", args=[app.pk, job.pk])).json()
    assert status["state"] == "failed" and "时限" in status["error"]


def test_a_render_that_raises_fails_the_job_with_the_reason(client, world, monkeypatch):
    from voucher.documents import render
    from voucher.documents.models import DocumentJob

    def broken(*args, **kwargs):
        raise ValueError("字体缺失")

    monkeypatch.setattr(render, "build", broken)
    client.get(_url(world["app"]))
    _worker()
    job = _job(world["app"])
    assert job.state == DocumentJob.FAILED and "字体缺失" in job.error


def test_the_hash_follows_the_data_each_document_is_rendered_from(client, world, monkeypatch):
    from voucher.documents import render
    from voucher.documents.data import load_application
    from voucher.documents.models import ImplementationReport

    app = world["app"]

    def hashes():
        fresh = load_application(app.pk)
        return {
            (d, e): render.data_hash(fresh, d, e)
            for d, (_, builders) in render.DOCUMENTS.items()
            for e in builders
        }

    before = hashes()
    assert len(set(before.values())) == len(before)  # one per document and format
    assert hashes() == before  # the same data, the same hash

    # the applicant changes the project (the interchange data and the version both move)
    _change_project(client, app)
    app.refresh_from_db()
    after_project = hashes()
    assert all(after_project[k] != before[k] for k in before)

    # a 14-3 section (its own record) changes every document that prints the data
    ImplementationReport.objects.update_or_create(
        application=app, defaults={"progress": "第二阶段已完成。"}
    )
    after_report = hashes()
    assert all(after_report[k] != after_project[k] for k in before)

    # an uploaded file changes the package only
    upload(client, app, "contract", "合同-盖章版.pdf", pdf_bytes())
    app.refresh_from_db()
    monkeypatch.setattr(app, "updated_at", app.updated_at)  # whether or not the upload moved it
    after_upload = hashes()
    assert after_upload[("package", "pdf")] != after_report[("package", "pdf")]

    # new templates or rendering code render everything afresh
    monkeypatch.setattr(render, "RENDER_VERSION", "test-next")
    render.template_version.cache_clear()
    try:
        assert all(hashes()[k] != after_upload[k] for k in before)
    finally:
        render.template_version.cache_clear()


def test_a_changed_application_is_rendered_again_not_served_the_old_file(client, world):
    app = world["app"]
    client.get(_url(app))
    _worker()
    old = client.get(_url(app)).content
    _change_project(client, app)
    assert client.get(_url(app)).status_code == 202  # new data: a new job, not the old file
    _worker()
    new = client.get(_url(app))
    assert new.status_code == 200 and new.content != old


def test_a_job_of_a_killed_worker_is_taken_again_once_its_lease_ran_out(client, world):
    from voucher.core import leases
    from voucher.documents import jobs
    from voucher.documents.models import DocumentJob

    client.get(_url(world["app"]))
    held = jobs.claim()
    assert held is not None and held.attempts == 1
    assert jobs.claim() is None  # held under its lease
    DocumentJob.objects.filter(pk=held.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    again = jobs.claim()
    assert again is not None and again.pk == held.pk and again.attempts == 2
    # the first attempt's result is no longer taken: the fencing attempt number
    assert not leases.finish(held, state=DocumentJob.DONE)
    jobs.run(again)
    again.refresh_from_db()
    assert again.state == DocumentJob.DONE


def test_the_status_of_a_job_is_for_who_may_open_the_application(client, world):
    app = world["app"]
    client.get(_url(app))
    job = _job(app)
    client.force_login(world["outsider"])
    assert client.get(reverse("documents:job_status", args=[app.pk, job.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("documents:job_status", args=[app.pk, job.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_inline_rendering_serves_the_document_in_the_request(client, world, settings):
    """Development, the tests and the demo (no worker): the request renders the job itself."""
    from voucher.documents.models import DocumentJob

    settings.VOUCHER_DOCUMENTS_INLINE = True
    response = client.get(_url(world["app"]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert _job(world["app"]).state == DocumentJob.DONE
