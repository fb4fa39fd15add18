"""An application entered in the portal and exported is evaluated as the interchange file is."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from voucher.applications.models import OfficialList

from .portal_helpers import USCC_A, fill_d2, member, open_round, post_step
from .review_support import supplier_confirms_all

pytestmark = pytest.mark.django_db


def test_the_submitted_snapshot_evaluates_like_the_stored_evaluation(
    client, settings, tmp_path, capsys
):
    from voucher.applications.models import Application
    from voucher.portal.models import Submission

    settings.DATA_DIR = tmp_path
    open_round()
    # `voucher evaluate` on a file reads no stored list: with none stored, both sides agree
    OfficialList.objects.all().delete()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get()
    fill_d2(client, app)
    # the supplier has confirmed each line and declared no relation (issue 22): the file, which
    # cannot carry its word, and the store then agree on every status
    supplier_confirms_all(app)
    assert post_step(client, app, "submit", {"confirm": "on"}).status_code == 302
    submission = Submission.objects.get()

    exported = tmp_path / "application.json"
    exported.write_text(submission.document_json, encoding="utf-8")
    document = json.loads(submission.document_json)
    assert document["applicant"]["uscc"] == USCC_A
    assert document["requested_amount"] == "4000000.00"  # 400 万元 typed, yuan stored
    assert document["contracts"][0]["total_amount"] == "24000000.00"
    assert len(document["materials"]) == 8

    call_command("evaluate", "--json", str(exported))
    from_file = json.loads(capsys.readouterr().out)["applications"][0]
    stored = submission.evaluation.to_json()
    # no official list is loaded on either side: the MIIT declaration is review (RULES.md v2)
    assert from_file["outcome"] == stored["outcome"] == "needs_review"
    reviews = [f["rule"] for f in stored["findings"] if f["status"] == "review"]
    assert reviews == ["D2_QUALIFICATION"]
    assert from_file["subsidy"] == stored["subsidy"]
    assert from_file["contracts"] == stored["contracts"]
    strip = lambda fs: [(f["rule"], f["status"], f.get("contract")) for f in fs]  # noqa: E731
    # SUPPLIER_CONFIRMATION is made only where the suppliers' word is at hand (the store)
    confirmed = [f for f in stored["findings"] if f["rule"] == "SUPPLIER_CONFIRMATION"]
    assert [f["status"] for f in confirmed] == ["pass"]
    assert strip(from_file["findings"]) == strip(
        f for f in stored["findings"] if f not in confirmed
    )
