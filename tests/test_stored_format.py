"""An application stored before RULES.md v2 made a compute row's device required: opening it is
a page that names the field and says what to do (409), never a traceback."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.builders import base_document
from tests.review_support import make_staff, verified_client
from voucher.applications import actions as app_actions
from voucher.applications import roles as r
from voucher.applications.interchange import application_export
from voucher.applications.models import Delivery
from voucher.core.refusals import Refused
from voucher.policy.format import parse_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_application():
    application = app_actions.application_import(
        document=parse_application(base_document(2)), source_name="old.json"
    )
    app_actions.application_evaluate(application=application)
    Delivery.objects.filter(contract__application=application, service="compute").update(
        device=None
    )
    return application


def test_the_export_is_a_refusal_naming_the_field(old_application):
    with pytest.raises(Refused) as caught:
        application_export(old_application)
    assert caught.value.code == "conflict"
    assert caught.value.errors[0]["location"] == "contracts[0].deliveries[0].device"
    assert "补正" in str(caught.value)


def test_the_application_page_says_why_instead_of_a_traceback(
    old_application, django_user_model, client
):
    reviewer = make_staff(django_user_model, "old-format", r.REVIEWER)
    page = verified_client(client, reviewer).get(
        reverse("applications:detail", args=[old_application.pk])
    )
    assert page.status_code == 409
    text = page.content.decode()
    assert "contracts[0].deliveries[0].device" in text
    assert "Traceback" not in text
