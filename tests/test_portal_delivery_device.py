"""A compute delivery row typed in the portal must name its device model (RULES.md v2, Fail
closed): the form refuses it with the error on the device field; other services need none."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from voucher.portal import forms

from .portal_helpers import USCC_A, contract_values, member, open_round, post_step

ROW = {
    "version": "0",
    "start": "2025-09-01",
    "end": "2025-09-30",
    "service": "compute",
    "device": "H800",
    "quantity": "216000",
    "unit": "card-hour",
    "unit_price": "12.00",
    "amount": "2592000.00",
}


def _form(**changes: str) -> forms.DeliveryForm:
    return forms.DeliveryForm({**ROW, **changes})


@pytest.mark.parametrize("device", ["", "   ", "\u3000"])
def test_a_compute_row_without_a_device_is_a_form_error_on_the_device_field(device):
    form = _form(device=device)
    assert not form.is_valid()
    assert list(form.errors) == ["device"]
    assert form.errors["device"] == ["算力交付须填写设备型号"]


def test_the_error_reads_in_english_for_an_english_reader():
    with translation.override("en"):
        form = _form(device="")
        assert not form.is_valid()
        assert form.errors["device"] == ["A compute delivery must name its equipment model"]


@pytest.mark.parametrize("service", ["storage", "network", "security"])
def test_other_services_need_no_device(service):
    form = _form(service=service, device="")
    assert form.is_valid(), form.errors
    assert form.values()["device"] is None


def test_a_compute_row_with_a_device_is_kept():
    form = _form(device=" H800 ")
    assert form.is_valid(), form.errors
    assert form.values()["device"] == "H800"


@pytest.mark.django_db
def test_the_contract_page_shows_the_error_at_the_device_field_and_stores_nothing(
    client, settings, tmp_path
):
    from voucher.applications.models import Application, Contract, Delivery

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get()
    assert post_step(client, app, "contracts", contract_values("C1", "24000000")).status_code == 302
    contract = Contract.objects.get(application=app)
    app.refresh_from_db()
    data = {"form": "deliveries"}
    data.update({f"deliveries-{k}": v for k, v in {**ROW, "device": ""}.items()})
    data["deliveries-version"] = str(app.version)
    response = client.post(reverse("portal:contract", args=[app.pk, contract.pk]), data)

    assert response.status_code == 200
    row_form = response.context["row_forms"]["deliveries"]
    assert list(row_form.errors) == ["device"]
    page = response.content.decode()
    assert 'id="id_deliveries-device_error"' in page
    assert "算力交付须填写设备型号" in page
    assert Delivery.objects.count() == 0
