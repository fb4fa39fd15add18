"""The review screen does not show whether the application changed after its evaluation (the
applicant's detail page does): its selector no longer exports and hashes the document to find
out, ~2 ms of the screen's CPU (branch screen3, issue 23, decision 0050). The detail page still
asks."""

from __future__ import annotations

from voucher.applications import selectors as app_selectors
from voucher.review.selectors import review_screen

from .conftest import application_from
from .review_support import make_staff


def test_the_screen_does_not_export_the_document_and_the_detail_does(
    demo_data, django_user_model, monkeypatch
):
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    application = application_from("d2-common-shareholder-review")
    exported = []
    export = app_selectors.application_export
    monkeypatch.setattr(
        app_selectors, "application_export", lambda a: exported.append(a.pk) or export(a)
    )
    screen = review_screen(application, reviewer)
    assert screen.detail.evaluation is not None and screen.detail.stale is None
    assert exported == []
    detail = app_selectors.application_detail(application.pk)
    assert detail.stale is False and exported == [application.pk]
