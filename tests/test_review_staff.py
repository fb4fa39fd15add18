"""The administrator's desk: staff accounts, roles, TOTP reset, deactivation; the round's dates."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.applications.models import PolicyRoundRecord
from voucher.core.models import AuditEntry
from voucher.review import staff

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, verified_client


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def admin_user(demo_data, django_user_model):
    return make_staff(django_user_model, "administrator", "administrator")


@pytest.fixture
def reviewer(demo_data, django_user_model):
    return make_staff(django_user_model, "reviewer", "bureau_reviewer")


def test_a_new_staff_member_sets_the_password_through_the_mailed_link(
    client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = staff.staff_create(
            username="new-reviewer",
            email="new@jxj.example.cn",
            role="bureau_reviewer",
            acting_user=admin_user,
        )
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == ["bureau_reviewer"]
    message, enrolment = mail.outbox  # the password's link, then the authenticator's
    assert message.to == enrolment.to == ["new@jxj.example.cn"]
    assert "/review/otp/enrol/" in enrolment.body
    assert AuditEntry.objects.filter(action="staff_totp_link").exists()
    link = re.search(r"https?://\S+", message.body).group(0)
    path = link.split("localhost:8000", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"new_password1": "a-long-new-secret-7", "new_password2": "a-long-new-secret-7"},
    )
    user.refresh_from_db()
    assert user.check_password("a-long-new-secret-7")
    assert AuditEntry.objects.filter(action="staff_create").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "two words"}, "username"),
        ({"username": "t-reviewer"}, "username"),  # taken
        ({"email": "not-an-address"}, "email"),
        ({"role": "superhero"}, "role"),
    ],
)
def test_bad_staff_input_names_the_field_and_creates_nobody(admin_user, reviewer, data, field):
    values = {"username": "fresh", "email": "fresh@jxj.example.cn", "role": "auditor"} | data
    before = type(admin_user).objects.count()
    with pytest.raises(staff.StaffError) as caught:
        staff.staff_create(acting_user=admin_user, **values)
    assert caught.value.field == field
    assert type(admin_user).objects.count() == before


def test_roles_are_granted_and_revoked_and_audited(admin_user, reviewer):
    staff.staff_role_grant(user=reviewer, role="bureau_approver", acting_user=admin_user)
    assert set(reviewer.groups.values_list("name", flat=True)) == {
        "bureau_reviewer",
        "bureau_approver",
    }
    staff.staff_role_revoke(user=reviewer, role="bureau_reviewer", acting_user=admin_user)
    assert list(reviewer.groups.values_list("name", flat=True)) == ["bureau_approver"]
    assert list(
        AuditEntry.objects.filter(action__startswith="staff_role")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["staff_role_grant", "staff_role_revoke"]


def test_an_administrator_cannot_lock_themselves_out(admin_user):
    with pytest.raises(staff.StaffError, match="自己的系统管理员"):
        staff.staff_role_revoke(user=admin_user, role="administrator", acting_user=admin_user)
    with pytest.raises(staff.StaffError, match="停用自己"):
        staff.staff_active_set(user=admin_user, active=False, acting_user=admin_user)
    assert admin_user.groups.filter(name="administrator").exists()


def test_a_deactivated_member_cannot_log_in_and_a_reset_totp_must_be_set_up_again(
    client, admin_user, reviewer
):
    verified_client(client, reviewer)
    staff.staff_totp_link(user=reviewer, acting_user=admin_user, reset=True)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    staff.staff_active_set(user=reviewer, active=False, acting_user=admin_user)
    client.logout()
    response = client.post(
        "/review/login/", {"username": reviewer.username, "password": "pw-review-1"}
    )
    assert response.status_code == 200
    assert "用户名、密码或验证码不正确" in response.content.decode()


@pytest.mark.parametrize("role", ["bureau_reviewer", "bureau_approver", "auditor"])
def test_only_the_administrator_manages_staff(django_user_model, reviewer, demo_data, role):
    actor = make_staff(django_user_model, f"actor-{role}", role)
    with pytest.raises(staff.StaffError, match="系统管理员"):
        staff.staff_role_grant(user=reviewer, role="administrator", acting_user=actor)
    assert not reviewer.groups.filter(name="administrator").exists()
    assert not AuditEntry.objects.filter(action="staff_role_grant").exists()


def test_the_page_lists_staff_and_refuses_others(client, admin_user, reviewer):
    verified_client(client, reviewer)
    assert client.get("/review/staff/").status_code == 403
    assert (
        client.post(
            f"/review/staff/{reviewer.pk}/", {"what": "grant", "role": "administrator"}
        ).status_code
        == 403
    )
    assert not reviewer.groups.filter(name="administrator").exists()
    client.logout()
    verified_client(client, admin_user)
    page = client.get("/review/staff/").content.decode()
    assert 'id="staff-t-reviewer"' in page and 'id="round-dates"' in page
    client.post(f"/review/staff/{reviewer.pk}/", {"what": "grant", "role": "auditor"})
    assert reviewer.groups.filter(name="auditor").exists()


@pytest.mark.parametrize(
    ("opens", "closes", "field"),
    [
        ("2026-04-10", "2026-04-09", "closes_on"),  # one day before the opening
        ("2026-04-10", "", "closes_on"),
        ("", "2026-04-10", "opens_on"),
        ("2026-02-30", "2026-04-10", "opens_on"),
    ],
)
def test_bad_round_dates_name_the_field_and_change_nothing(admin_user, opens, closes, field):
    record = PolicyRoundRecord.objects.get(code="bj-2026")
    before = (record.opens_on, record.closes_on)
    with pytest.raises(staff.StaffError) as caught:
        staff.round_dates_set(
            record=record, opens_on=opens, closes_on=closes, acting_user=admin_user
        )
    assert caught.value.field == field
    record.refresh_from_db()
    assert (record.opens_on, record.closes_on) == before


@pytest.mark.parametrize(
    ("opens", "says"),
    [
        ("2026-02-30", "申报开始日期“2026-02-30”是不存在的日期"),  # was: 格式应为 YYYY-MM-DD
        ("2026-W15-5", "申报开始日期“2026-W15-5”格式应为 YYYY-MM-DD"),  # was: 2026-04-10
        ("04/10/2026", "申报开始日期“04/10/2026”格式应为 YYYY-MM-DD"),
    ],
)
def test_a_round_date_that_is_no_day_is_refused_saying_why(admin_user, opens, says):
    record = PolicyRoundRecord.objects.get(code="bj-2026")
    with pytest.raises(staff.StaffError) as caught:
        staff.round_dates_set(
            record=record, opens_on=opens, closes_on="2026-05-10", acting_user=admin_user
        )
    assert caught.value.field == "opens_on" and caught.value.message == says


@pytest.mark.parametrize(
    "opens", [" 2026-04-10 ", "2026/4/10", "2026年4月10日", "２０２６-０４-１０"]
)
def test_a_round_date_is_read_as_people_type_it(admin_user, opens):
    # all refused before (date.fromisoformat)
    record = staff.round_dates_set(
        record=PolicyRoundRecord.objects.get(code="bj-2026"),
        opens_on=opens,
        closes_on="2026-05-10",
        acting_user=admin_user,
    )
    assert record.opens_on == date(2026, 4, 10)


def test_round_dates_on_one_day_and_cleared(client, admin_user):
    record = PolicyRoundRecord.objects.get(code="bj-2026")
    staff.round_dates_set(
        record=record, opens_on="2026-04-10", closes_on="2026-04-10", acting_user=admin_user
    )
    record.refresh_from_db()
    assert record.opens_on == record.closes_on == date(2026, 4, 10)
    verified_client(client, admin_user)
    response = client.post(
        "/review/staff/",
        {"what": "dates", "round": "bj-2026", "opens_on": "2026-05-01", "closes_on": "2026-04-01"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="closes-on-error"' in html and 'value="2026-05-01"' in html
    client.post(
        "/review/staff/", {"what": "dates", "round": "bj-2026", "opens_on": "", "closes_on": ""}
    )
    record.refresh_from_db()
    assert record.opens_on is None and record.closes_on is None
    assert AuditEntry.objects.filter(action="round_dates_set").count() == 2


def test_a_refusal_page_says_why_in_the_active_language(client, reviewer):
    verified_client(client, reviewer)
    response = client.get("/review/staff/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="refusal-reason"' in html and "只有系统管理员可以管理工作人员账号" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/review/"})
    english = client.get("/review/staff/").content.decode()
    assert "Access refused" in english and "只有系统管理员" not in english


def test_the_last_active_administrator_stays(admin_user, django_user_model):
    """Two administrators removing each other at once: the second one finds itself removed
    already (its request began before) and may not remove the last one left."""
    from voucher.applications import roles as r

    django_user_model.objects.exclude(pk=admin_user.pk).update(is_superuser=False)
    other = make_staff(django_user_model, "administrator2", "administrator")
    assert r.ADMINISTRATOR in r.staff_roles_of(other)  # its request started as an administrator
    staff.staff_role_revoke(user=other, role="administrator", acting_user=admin_user)
    with pytest.raises(staff.StaffError, match="至少须保留一名"):
        staff.staff_role_revoke(user=admin_user, role="administrator", acting_user=other)
    with pytest.raises(staff.StaffError, match="至少须保留一名"):
        staff.staff_active_set(user=admin_user, active=False, acting_user=other)
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.groups.filter(name="administrator").exists()


def test_an_applicant_never_becomes_staff(admin_user, demo_data, django_user_model):
    from .review_support import make_applicant

    applicant = make_applicant(django_user_model, application_from("d4-small"))
    with pytest.raises(staff.StaffError, match="申报单位的成员"):
        staff.staff_role_grant(user=applicant, role="bureau_reviewer", acting_user=admin_user)
    assert not applicant.groups.exists() and not applicant.is_staff
