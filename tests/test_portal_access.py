"""Ownership: a user of enterprise B reaches nothing of enterprise A's application, by any URL."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, USCC_B, fill_d2, member, open_round, pdf_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path, client):
    from voucher.applications.models import Application, Contract, MaterialFile

    settings.DATA_DIR = tmp_path
    open_round()
    owner = member("owner@a.example.cn", USCC_A, "甲公司")
    outsider = member("other@b.example.cn", USCC_B, "乙公司")
    client.force_login(owner)
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app)
    upload(client, app, "contract", "extra.pdf", pdf_bytes())
    client.logout()
    app.refresh_from_db()
    contract = Contract.objects.get(application=app)
    return {
        "app": app,
        "contract": contract,
        "delivery": contract.deliveries.first(),
        "file": MaterialFile.objects.filter(application=app).first(),
        "owner": owner,
        "outsider": outsider,
    }


def urls(w):
    a, c = w["app"].pk, w["contract"].pk
    steps = ["open", "direction", "applicant", "project", "contracts", "contracts_import", "report",
             "declarations", "commitment", "materials", "selfcheck", "submit", "supplement", "status"]  # fmt: skip
    out = [reverse(f"portal:{s}", args=[a]) for s in steps]
    out += [
        reverse("portal:contract", args=[a, c]),
        reverse("portal:contract_delete", args=[a, c]),
        reverse("portal:delete_draft", args=[a]),
        reverse("portal:contract_row_delete", args=[a, c, "deliveries", w["delivery"].pk]),
        reverse("portal:file", args=[a, w["file"].pk]),
        reverse("portal:file_delete", args=[a, w["file"].pk]),
    ]
    return out


def test_an_outsider_gets_404_from_every_view_and_changes_nothing(world, client):
    from voucher.applications.models import Application, Contract, Delivery, MaterialFile

    client.force_login(world["outsider"])
    before = (world["app"].version, Contract.objects.count(), Delivery.objects.count(),
              MaterialFile.objects.count())  # fmt: skip
    for url in urls(world):
        assert client.get(url).status_code == 404, url
        response = client.post(url, {"version": world["app"].version, "confirm": "on"})
        assert response.status_code == 404, url
    world["app"].refresh_from_db()
    assert world["app"].state == "draft"
    assert before == (world["app"].version, Contract.objects.count(), Delivery.objects.count(),
                      MaterialFile.objects.count())  # fmt: skip
    assert Application.objects.filter(enterprise__uscc=USCC_B).count() == 0


def test_an_anonymous_visitor_is_sent_to_the_login(world, client):
    for url in urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_of_no_enterprise_gets_404(world, client, django_user_model):
    loner = django_user_model.objects.create_user("loner@example.cn", password="x-Secret-1234")
    client.force_login(loner)
    for url in urls(world):
        assert client.get(url).status_code == 404, url


def test_the_owner_may_download_and_a_colleague_too(world, client):
    from voucher.applications.models import MaterialFile, Membership

    client.force_login(world["owner"])
    f = world["file"]
    response = client.get(reverse("portal:file", args=[world["app"].pk, f.pk]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == MaterialFile.objects.get(pk=f.pk).sha256
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert Membership.objects.get(user=world["owner"]).is_admin


def test_a_second_application_of_the_same_enterprise_is_refused_with_the_reason(world, client):
    from voucher.applications.models import Application

    client.force_login(world["owner"])
    response = client.post(reverse("portal:new"), {"direction": 4})
    assert response.status_code == 200
    assert "同一企业不可同时申报多个方向" in response.content.decode()
    assert Application.objects.filter(enterprise__uscc=USCC_A).count() == 1
