"""公示 in public (issue 20 item 3): the list in its period without a login, showing only the
enterprise, direction, project and amount; anyone may object with a name, a contact, a reason and
files; the objection lands on the review screen and blocks the payment until resolved; the outcome
is published when the period ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.signing import TimestampSigner
from django.urls import reverse
from django.utils import timezone

from voucher.applications.models import Objection, ObjectionAttachment
from voucher.core import clock
from voucher.core.models import AuditEntry
from voucher.public import actions as public
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    ROLE_USERS,
    confirm_by_hand,
    make_staff,
    minimal_pdf,
    propose,
    put_in_state,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the rate limit's counters
    yield
    cache.clear()


@pytest.fixture
def published(demo_data, django_user_model, settings):
    """A direction-2 application approved and in a publicity period of 7 days from today."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    application = application_from("d2-common-shareholder-review")
    approver = make_staff(django_user_model, "approver", ROLE_USERS["approver"])
    proposer = make_staff(django_user_model, "proposer", ROLE_USERS["reviewer"])
    put_in_state(application, "approved")
    decision = confirm_by_hand(propose(application, proposer), approver)
    actions.publicity_publish(
        round=application.round,
        applications=[application],
        starts_on=clock.today(),
        ends_on=clock.today() + timedelta(days=7),
        acting_user=approver,
    )
    application.refresh_from_db()
    return application, approver, decision


def _stamp(seconds_ago: int = 60) -> str:
    shown = int(timezone.now().timestamp()) - seconds_ago
    return TimestampSigner(salt=public._SALT).sign(str(shown))


def _post(client, application, **fields):
    data = {
        "name": "张三",
        "contact": "13800000000",
        "reason": "该企业的合同金额与实际租用算力不符，请核查。",
        "stamp": _stamp(),
        "website": "",
        **fields,
    }
    return client.post(reverse("public:objection", args=[application.pk]), data)


def test_the_list_is_public_and_shows_only_what_publicity_publishes(client, published):
    application, _, decision = published
    page = client.get(reverse("public:publicity"))
    assert page.status_code == 200
    text = page.content.decode()
    assert application.applicant_name in text
    assert application.project_name in text
    assert "方向二" in text
    assert f"{decision.amount:,.2f} 元" in text
    # nothing else of the application: no contact, no address, no USCC, no evaluation
    for private in (
        application.contact_mobile,
        application.contact_email,
        application.registered_address,
        application.enterprise.uscc,
    ):
        assert private not in text


def test_anyone_objects_and_the_objection_reaches_the_bureau(client, published):
    application, _, _ = published
    pdf = minimal_pdf()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _post(
        client, application, files=[SimpleUploadedFile("证明.pdf", pdf, "application/pdf")]
    )
    assert response.status_code == 200, response.content.decode()[:500]
    assert "异议已提交" in response.content.decode()
    objection = Objection.objects.get(application=application)
    assert (objection.source, objection.objector_name, objection.objector_contact) == (
        "public",
        "张三",
        "13800000000",
    )
    assert objection.recorded_by is None
    attachment = ObjectionAttachment.objects.get(objection=objection)
    assert (attachment.original_name, attachment.size) == ("证明.pdf", len(pdf))
    entry = AuditEntry.objects.filter(action="objection_submit_public").get()
    assert entry.data["objection"] == objection.pk
    # payment is blocked while it is open, even after the period
    clock.set_offset(8)
    check = actions.payment_record
    with pytest.raises(actions.ReviewError, match="有未处理的公示异议"):
        check(
            application=application,
            paid_on=clock.today(),
            amount="1.00",
            reference="ZF-1",
            acting_user=published[1],
        )


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "异议人姓名"),
        ({"contact": ""}, "联系方式"),
        ({"reason": "太短"}, "异议理由"),
        ({"name": "名" * 51}, "不超过 50"),
        ({"reason": "理" * 2001}, "不超过 2000"),
    ],
)
def test_a_form_missing_a_field_is_refused_naming_it_and_keeps_what_was_typed(
    client, published, fields, field
):
    application, _, _ = published
    response = _post(client, application, **fields)
    assert response.status_code == 422
    text = response.content.decode()
    assert field in text
    assert 'aria-invalid="true"' in text
    if "contact" not in fields:
        assert "13800000000" in text  # what was typed is kept
    assert not Objection.objects.exists()


def test_a_program_filling_the_hidden_field_is_refused(client, published):
    response = _post(client, published[0], website="http://spam.example/")
    assert response.status_code == 422
    assert not Objection.objects.exists()


def test_a_form_posted_at_once_is_refused(client, published):
    response = _post(client, published[0], stamp=_stamp(seconds_ago=0))
    assert response.status_code == 422
    assert "提交过快" in response.content.decode()
    assert not Objection.objects.exists()


def test_a_made_up_stamp_is_refused(client, published):
    response = _post(client, published[0], stamp="1700000000:forged")
    assert response.status_code == 422
    assert not Objection.objects.exists()


def test_an_address_may_object_only_so_often(client, published, settings):
    settings.VOUCHER_PUBLIC_OBJECTIONS_PER_HOUR = 2
    application = published[0]
    assert _post(client, application).status_code == 200
    assert _post(client, application).status_code == 200
    third = _post(client, application)
    assert third.status_code == 422
    assert "每小时最多提交 2 件" in third.content.decode()
    assert Objection.objects.count() == 2


def test_a_refused_file_is_named_and_nothing_is_stored(client, published):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _post(
        client,
        published[0],
        files=[SimpleUploadedFile("病毒.exe", b"MZ\x90\x00", "application/octet-stream")],
    )
    assert response.status_code == 422
    assert "病毒.exe" in response.content.decode()
    assert not Objection.objects.exists()


def test_no_objection_outside_the_period(client, published):
    application = published[0]
    clock.set_offset(8)
    assert client.get(reverse("public:objection", args=[application.pk])).status_code == 404
    assert _post(client, application).status_code == 404
    assert not Objection.objects.exists()


def test_the_outcome_is_published_when_the_period_ends(client, published, django_user_model):
    application, approver, _ = published
    assert _post(client, application).status_code == 200
    clock.set_offset(8)
    page = client.get(reverse("public:publicity")).content.decode()
    assert "收到异议 1 件，正在核查" in page
    actions.objection_resolve(
        objection=Objection.objects.get(), resolution="经核查，异议不成立。", acting_user=approver
    )
    page = client.get(reverse("public:publicity")).content.decode()
    assert "收到异议 1 件，已核查处理" in page
    assert "经核查" not in page  # the bureau's finding is not published, only that it was handled


def test_the_reviewer_sees_who_objected_on_the_review_screen(client, published, django_user_model):
    from django.test import Client

    from .review_support import verified_client

    application = published[0]
    assert _post(client, application).status_code == 200
    reviewer = make_staff(django_user_model, "reviewer", ROLE_USERS["reviewer"])
    staff = verified_client(Client(), reviewer)
    page = staff.get(reverse("review:screen", args=[application.pk])).content.decode()
    assert "经公示页面提交 · 异议人：张三 · 联系方式：13800000000" in page
