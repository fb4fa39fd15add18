"""Round parameters the administrator sets: unit-price bands (UNIT_PRICE) and flagged devices
(FLAGGED_DEVICE). Each threshold one fen below, at and above; the fingerprint; the page; audit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voucher.applications import parameters as params
from voucher.applications.actions import application_evaluate
from voucher.applications.models import FlaggedDevice, UnitPriceBand
from voucher.core.audit import verify_chain
from voucher.core.models import AuditEntry

from .conftest import application_from
from .review_support import FAST_HASHERS, latest, make_staff, put_in_state, verified_client

PRICE = Decimal("456789.12")  # d4-small: one H800 "lot" at this unit price


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def admin_user(demo_data, django_user_model):
    return make_staff(django_user_model, "administrator", "administrator")


@pytest.fixture
def d4(demo_data):
    return put_in_state(application_from("d4-small"), "in_review")


def _rules(evaluation):
    return {f["rule"]: f for f in evaluation.findings}


def _band(admin_user, application, minimum, maximum, device="H800", unit="lot"):
    return params.price_band_set(
        record=application.round,
        device=device,
        unit=unit,
        minimum=minimum,
        maximum=maximum,
        note="2026年一季度市场询价",
        acting_user=admin_user,
    )


@pytest.mark.parametrize(
    ("minimum", "maximum", "flagged"),
    [
        (PRICE + Decimal("0.01"), PRICE + Decimal("100"), True),  # one fen below the band
        (PRICE, PRICE + Decimal("100"), False),  # at the lower edge
        (Decimal("1.00"), PRICE, False),  # at the upper edge
        (Decimal("1.00"), PRICE - Decimal("0.01"), True),  # one fen above the band
    ],
)
def test_a_unit_price_outside_the_band_goes_to_review(admin_user, d4, minimum, maximum, flagged):
    assert "UNIT_PRICE" not in _rules(latest(d4))
    _band(admin_user, d4, minimum, maximum)
    stored = application_evaluate(application=d4)
    finding = _rules(stored)["UNIT_PRICE"]
    assert finding["status"] == ("review" if flagged else "pass")
    if flagged:
        assert finding["values"]  # the numbers used: the price and the band
    assert stored.parameters_sha256 != ""


def test_a_device_written_differently_matches_its_band(admin_user, d4):
    _band(admin_user, d4, "1.00", "2.00", device=" h 800 ")
    assert _rules(application_evaluate(application=d4))["UNIT_PRICE"]["status"] == "review"


def test_a_flagged_device_counts_nothing_and_unflagging_restores_it(admin_user, d4):
    # The examples share one USCC, so ONE_DIRECTION fails across the demo round: the delivered
    # cost of the contract is what the flag changes.
    assert application_evaluate(application=d4).contracts[0]["delivered"] == str(PRICE)
    flag = params.device_flag(
        record=d4.round, model="H800", notice="工信部通报〔2026〕1号", acting_user=admin_user
    )
    stored = application_evaluate(application=d4)
    assert "FLAGGED_DEVICE" in _rules(stored)
    assert stored.contracts[0]["delivered"] == "0.00"
    params.device_unflag(flag=flag, acting_user=admin_user)
    again = application_evaluate(application=d4)
    assert again.contracts[0]["delivered"] == str(PRICE)
    assert again.parameters_sha256 == ""


def test_a_second_band_for_the_same_device_and_unit_replaces_the_first(admin_user, d4):
    _band(admin_user, d4, "1.00", "2.00")
    _band(admin_user, d4, "1.00", PRICE)
    assert UnitPriceBand.objects.count() == 1
    assert _rules(application_evaluate(application=d4))["UNIT_PRICE"]["status"] == "pass"


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("maximum", {"minimum": "10.00", "maximum": "9.99"}, "低于下限"),
        ("minimum", {"minimum": "-0.01"}, "不能为负数"),
        ("minimum", {"minimum": "1.001"}, "两位小数"),
        ("maximum", {"maximum": "abc"}, "单价上限“abc”不是有效金额"),
        ("device", {"device": "  "}, "设备型号"),
        ("note", {"note": ""}, "依据"),
    ],
)
def test_bad_band_input_names_the_field_and_stores_nothing(admin_user, d4, field, values, message):
    data = {
        "device": "H800",
        "unit": "lot",
        "minimum": "1.00",
        "maximum": "2.00",
        "note": "询价",
    } | values
    with pytest.raises(params.ParameterError) as caught:
        params.price_band_set(record=d4.round, acting_user=admin_user, **data)
    assert caught.value.field == field
    assert message in caught.value.message
    assert not UnitPriceBand.objects.exists()


def test_a_device_is_flagged_once(admin_user, d4):
    params.device_flag(record=d4.round, model="H800", notice="通报", acting_user=admin_user)
    with pytest.raises(params.ParameterError) as caught:
        params.device_flag(record=d4.round, model="h800", notice="通报", acting_user=admin_user)
    assert caught.value.field == "model"
    assert FlaggedDevice.objects.count() == 1


@pytest.mark.parametrize("role", ["bureau_reviewer", "bureau_approver", "auditor"])
def test_only_the_administrator_sets_parameters(django_user_model, d4, role):
    user = make_staff(django_user_model, role, role)
    with pytest.raises(params.ParameterError) as caught:
        _band(user, d4, "1.00", "2.00")
    assert "系统管理员" in caught.value.message
    assert not UnitPriceBand.objects.exists()


def test_every_change_is_audited_and_the_chain_holds(admin_user, d4):
    band = _band(admin_user, d4, "1.00", "2.00")
    flag = params.device_flag(record=d4.round, model="A800", notice="通报", acting_user=admin_user)
    params.price_band_remove(band=band, acting_user=admin_user)
    params.device_unflag(flag=flag, acting_user=admin_user)
    actions = list(
        AuditEntry.objects.filter(action__startswith="parameter_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "parameter_price_band_set",
        "parameter_device_flag",
        "parameter_price_band_remove",
        "parameter_device_unflag",
    ]
    assert list(verify_chain()) == []


def test_the_page_counts_stale_evaluations_and_reevaluates_undecided_ones(client, admin_user, d4):
    verified_client(client, admin_user)
    page = client.get("/review/parameters/")
    assert page.status_code == 200
    assert 'id="stale"' not in page.content.decode()
    response = client.post(
        "/review/parameters/",
        {
            "what": "band",
            "device": "H800",
            "unit": "lot",
            "minimum": "1.00",
            "maximum": "2.00",
            "note": "询价",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "H800" in html and 'id="stale"' in html
    client.post("/review/parameters/", {"what": "reevaluate"}, follow=True)
    assert _rules(latest(d4))["UNIT_PRICE"]["status"] == "review"
    assert 'id="stale"' not in client.get("/review/parameters/").content.decode()


def test_the_page_shows_the_error_next_to_the_field_and_keeps_the_input(client, admin_user, d4):
    verified_client(client, admin_user)
    response = client.post(
        "/review/parameters/",
        {
            "what": "band",
            "device": "H800",
            "unit": "lot",
            "minimum": "10.00",
            "maximum": "9.99",
            "note": "询价",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="band-maximum-error"' in html and "低于下限" in html
    assert 'aria-describedby="band-maximum-error"' in html
    assert 'value="10.00"' in html  # nothing typed is lost
    assert not UnitPriceBand.objects.exists()


def test_a_reviewer_may_read_the_page_but_not_post(client, django_user_model, d4):
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    verified_client(client, reviewer)
    assert client.get("/review/parameters/").status_code == 200
    response = client.post(
        "/review/parameters/",
        {"what": "flag", "model": "H800", "notice": "通报"},
    )
    assert response.status_code == 403
    assert not FlaggedDevice.objects.exists()
