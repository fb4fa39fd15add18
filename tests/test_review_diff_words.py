"""Issue 19 point 8: the reviewer's comparison of the versions before and after a 补正 names the
fields as the applicant's form does, leaves out what only changed its writing (12.00 → 12) and
lists the files uploaded with the correction."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from .portal_helpers import pdf_bytes, upload
from .review_support import verified_client
from .test_portal_supplement import _answers, _contract_post, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_a_number_written_differently_is_no_change_and_paths_become_labels():
    from voucher.review.selectors import json_diff

    before = {"contracts": [{"deliveries": [{"unit_price": "12.00", "amount": "100.00"}]}]}
    after = {"contracts": [{"deliveries": [{"unit_price": "12", "amount": "90.00"}]}]}
    lines = json_diff(before, after)
    assert [line.path for line in lines] == ["contracts[0].deliveries[0].amount"]
    with translation.override("zh-hans"):
        assert lines[0].label == "第 1 份合同第 1 条交付记录的金额（元）"
    with translation.override("en"):
        assert lines[0].label == "Amount (CNY) of contract 1, delivery 1"
    # an identifier is text: "12" and "12.0" are two contract numbers
    assert json_diff({"contracts": [{"id": "12"}]}, {"contracts": [{"id": "12.0"}]})


def test_the_review_screen_shows_labels_and_the_re_uploaded_file(client, world):  # noqa: F811
    app = world["app"]
    assert _contract_post(client, app, "23,000,000.00").status_code == 302
    assert (
        upload(client, app, "invoice_or_payment", "更正后的发票.pdf", pdf_bytes()).status_code
        == 302
    )
    app.refresh_from_db()
    response = client.post(
        reverse("portal:supplement", args=[app.pk]),
        {"version": app.version, **_answers(app), "confirm": "on"},
    )
    assert response.status_code == 302
    client.logout()
    staff = verified_client(client, world["reviewer"])
    page = staff.get(reverse("review:screen", args=[app.pk])).content.decode()
    section = page[page.index('id="diff"') :]
    section = section[: section.index("</section>")]
    assert "第 1 份合同的合同总额（元）" in section
    assert not re.search(r">\s*contracts\[0\]", section)  # no JSON path as the field's name
    assert "更正后的发票.pdf" in section
    assert 'class="table-scroll"' in section and "figure" in section


def test_the_history_of_the_review_screen_is_in_words(client, world):  # noqa: F811
    app = world["app"]
    client.logout()
    staff = verified_client(client, world["reviewer"])
    page = staff.get(reverse("review:screen", args=[app.pk])).content.decode()
    history = page[page.index('class="history"') :]
    history = re.sub(r"<[^>]+>", " ", history[: history.index("</ol>")])
    assert "提交申报" in history and "要求补正" in history
    assert "application_submit" not in history and "supplement_request" not in history
