"""A document rendered off the request, in a real Chromium under the Content-Security-Policy:
the progress page's own script (static/voucher/documents.js, no inline script) polls the job's
status and starts the download once the worker has rendered it; Chromium reports no violation
(tests/browser_support.py fails the test on any)."""

from __future__ import annotations

import pytest

from .browser_support import chromium, in_thread
from .conftest import EXAMPLES_DIR

pytestmark = pytest.mark.browser


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path):
    from voucher.demo.examples import demo_load

    settings.DATA_DIR = tmp_path
    settings.VOUCHER_PUBLIC_DEMO = True  # the documents open without a login
    settings.VOUCHER_DOCUMENTS_INLINE = False  # as in production: the worker renders
    demo_load(examples_dir=EXAMPLES_DIR)
    return live_server.url


def test_the_progress_page_turns_into_the_download(site):
    from voucher.applications.models import Application
    from voucher.documents import jobs
    from voucher.documents.models import DocumentJob

    def loaded() -> int:  # an example application: complete, so its documents can be made
        return Application.objects.order_by("pk").values_list("pk", flat=True)[0]

    pk = in_thread(loaded)
    url = f"{site}/applications/{pk}/documents/commitment-letter.pdf"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        response = page.goto(url)
        assert response is not None and response.status == 202
        assert "script-src 'self'" in response.headers["content-security-policy"]
        box = page.locator("#document-job")
        assert box.get_attribute("data-state") == "queued"
        assert page.get_by_role("status").is_visible()
        # the script took over from the meta refresh
        assert page.locator('meta[http-equiv="refresh"]').count() == 0
        with page.expect_download(timeout=30_000) as download:
            job = in_thread(jobs.work_once)
            assert job is not None and job.state == DocumentJob.DONE, job and job.error
        assert download.value.suggested_filename.endswith("承诺书.pdf")
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
