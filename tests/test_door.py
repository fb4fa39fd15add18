"""What every logged-in request reads at the door (voucher/accounts/door.py, decision 0053): the
session, its user, the staff's TOTP device and the roles, in one query; and every guarantee of
a session as before, each on the next request: an expired session, a logout, a deactivated
user, a password changed elsewhere, a role removed, a device deleted or unconfirmed."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import verified_session
from voucher.applications.roles import REVIEWER

MISSING = "/no-such-page/"
QUEUE = "/review/"


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _user(response):
    return response.wsgi_request.user


def _sessions():
    return _store().get_model_class().objects


@pytest.fixture
def staff(client, reviewer):
    return verified_session(client, reviewer)


@pytest.fixture
def applicant(client, django_user_model):
    user = django_user_model.objects.create_user("applicant@example.cn", password="pw-applicant")
    client.force_login(user)
    return client


def test_a_logged_in_request_reads_session_user_device_and_roles_in_one_query(
    staff, reviewer, django_assert_num_queries
):
    staff.get(MISSING)  # the first request of a process compiles the query
    with django_assert_num_queries(1):
        response = staff.get(MISSING)
        user = _user(response)
        assert user == reviewer
        assert user.is_verified()
        from voucher.applications.roles import staff_roles_of

        assert staff_roles_of(user) == {REVIEWER}


def test_a_page_that_reads_the_user_before_the_session_reads_them_together(staff):
    """The review queue's decorator asks for the user first: the session is loaded by Django's
    get_user, and its user still comes with it (the door, the count, the page)."""
    staff.get(QUEUE)
    with CaptureQueriesContext(connection) as captured:
        assert staff.get(QUEUE).status_code == 200
    door = [
        q["sql"]
        for q in captured.captured_queries
        if any(t in q["sql"] for t in ('"auth_user"', '"auth_group"', '"otp_totp_totpdevice"'))
    ]
    assert len(door) == 1 and 'FROM "accounts_session"' in door[0], door


def test_an_applicants_request_reads_one_query(applicant, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert _user(applicant.get(MISSING)).is_authenticated


def test_a_request_without_a_session_asks_nothing(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert not _user(client.get(MISSING)).is_authenticated


def test_a_page_that_reads_no_user_does_not_save_the_session(staff):
    """SESSION_SAVE_EVERY_REQUEST is off and no middleware writes the session: a page opened
    leaves the row as it was (its expiry too)."""
    assert not settings.SESSION_SAVE_EVERY_REQUEST
    key = staff.cookies[settings.SESSION_COOKIE_NAME].value
    before = _sessions().get(pk=key)
    assert staff.get(QUEUE).status_code == 200
    after = _sessions().get(pk=key)
    assert (after.session_data, after.expire_date) == (before.session_data, before.expire_date)


def test_an_expired_session_is_not_honoured(staff):
    key = staff.cookies[settings.SESSION_COOKIE_NAME].value
    _sessions().filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = staff.get(QUEUE)
    assert not _user(response).is_authenticated
    assert response.status_code == 302


def test_logout_ends_the_session_and_its_cookie_opens_nothing(staff, client):
    key = staff.cookies[settings.SESSION_COOKIE_NAME].value
    assert staff.post("/accounts/logout/").status_code in (200, 302)
    assert not _sessions().filter(pk=key).exists()
    client.cookies[settings.SESSION_COOKIE_NAME] = key  # the old cookie, replayed
    assert not _user(client.get(QUEUE)).is_authenticated


def test_a_deactivated_users_session_is_refused_on_the_next_request(staff, reviewer):
    assert _user(staff.get(QUEUE)).is_authenticated
    type(reviewer).objects.filter(pk=reviewer.pk).update(is_active=False)
    response = staff.get(QUEUE)
    assert not _user(response).is_authenticated
    assert response.status_code == 302


def test_a_password_change_ends_the_other_sessions(reviewer, client, django_user_model):
    from django.test import Client

    other = verified_session(Client(), reviewer)
    mine = verified_session(client, reviewer)
    reviewer.set_password("a-new-password-for-the-reviewer")
    reviewer.save()
    key = other.cookies[settings.SESSION_COOKIE_NAME].value
    assert not _user(other.get(QUEUE)).is_authenticated
    assert not _sessions().filter(pk=key).exists()  # flushed, as Django flushes it
    # this one too: the password was changed without update_session_auth_hash
    assert not _user(mine.get(QUEUE)).is_authenticated


def test_a_session_without_its_hash_is_refused(staff):
    session = staff.session
    del session[HASH_SESSION_KEY]
    session.save()
    assert not _user(staff.get(QUEUE)).is_authenticated


def test_a_role_removed_takes_effect_on_the_next_request(staff, reviewer):
    assert staff.get(QUEUE).status_code == 200
    reviewer.groups.remove(Group.objects.get(name=REVIEWER))
    assert staff.get(QUEUE).status_code == 403


def test_a_role_given_takes_effect_on_the_next_request(client, outsider):
    verified_session(client, outsider)
    assert client.get(QUEUE).status_code == 403
    outsider.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    assert client.get(QUEUE).status_code == 200


@pytest.mark.parametrize("change", ["deleted", "unconfirmed"])
def test_a_device_deleted_or_unconfirmed_unverifies_the_staff_on_the_next_request(
    staff, reviewer, change
):
    assert _user(staff.get(MISSING)).is_verified()
    devices = TOTPDevice.objects.filter(user=reviewer)
    if change == "deleted":
        devices.delete()
    else:
        devices.update(confirmed=False)
    user = _user(staff.get(MISSING))
    assert user.is_authenticated and not user.is_verified()
    assert DEVICE_ID_SESSION_KEY not in staff.session  # dropped, as django-otp drops it
    assert staff.get(QUEUE).status_code == 302


def test_another_users_device_does_not_verify(staff, reviewer, outsider):
    theirs = TOTPDevice.objects.create(user=outsider, name="theirs", confirmed=True)
    session = staff.session
    session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert not _user(staff.get(MISSING)).is_verified()


def test_the_door_answers_only_for_the_ids_the_sessions_data_holds(staff, reviewer, outsider):
    """The user and device the columns name are read with the session; the session's data
    decides: columns that disagree with it (a row written otherwise) are not believed."""
    theirs = TOTPDevice.objects.create(user=outsider, name="theirs", confirmed=True)
    key = staff.cookies[settings.SESSION_COOKIE_NAME].value
    _sessions().filter(pk=key).update(user_id=outsider.pk, totp_device_id=theirs.pk)
    user = _user(staff.get(MISSING))
    assert user == reviewer
    assert user.is_verified() and user.otp_device.user_id == reviewer.pk


def test_a_session_of_a_deleted_user_is_anonymous(staff, reviewer):
    type(reviewer).objects.filter(pk=reviewer.pk).delete()
    assert not _user(staff.get(QUEUE)).is_authenticated


def test_the_columns_are_written_from_the_data_at_each_save(staff, reviewer):
    key = staff.cookies[settings.SESSION_COOKIE_NAME].value
    device = TOTPDevice.objects.get(user=reviewer)
    row = _sessions().get(pk=key)
    assert (row.user_id, row.totp_device_id) == (reviewer.pk, device.pk)
    staff.post("/accounts/logout/")
    session = _store()()
    session["anything"] = 1
    session.save()
    row = _sessions().get(pk=session.session_key)
    assert (row.user_id, row.totp_device_id) == (None, None)


def test_a_session_of_an_unknown_backend_is_anonymous(staff):
    session = staff.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # not ours
    session.save()
    assert not _user(staff.get(MISSING)).is_authenticated


def test_a_session_names_its_user_as_django_does(staff, reviewer):
    assert staff.session[SESSION_KEY] == str(reviewer.pk)


@pytest.fixture
def oidc_session(client, settings, django_user_model):
    from tests import oidc_support

    oidc_support.configure(settings)
    user = django_user_model.objects.create_user("oidc:subject-9")
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "voucher.accounts.oidc.EnterpriseOIDCBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client, user


def test_an_enterprises_oidc_session_reads_one_query(oidc_session, django_assert_num_queries):
    client, user = oidc_session
    client.get(MISSING)
    with django_assert_num_queries(1):
        assert _user(client.get(MISSING)) == user


def test_a_deactivated_oidc_users_session_is_refused(oidc_session):
    """mozilla-django-oidc's get_user returns a user active or not: a deactivated enterprise
    user kept their session. The backend refuses them now, as Django's ModelBackend does."""
    client, user = oidc_session
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert not _user(client.get(MISSING)).is_authenticated


@pytest.mark.parametrize(
    ("persistent_id", "pk"),
    [
        ("otp_totp.totpdevice/5", 5),
        ("django_otp.plugins.otp_totp.models.TOTPDevice/5", None),  # legacy: not ours to read
        ("otp_static.staticdevice/5", None),  # another kind: django-otp asks for it
        ("otp_totp.totpdevice/²", None),
        ("otp_totp.totpdevice/", None),
        ("otp_totp.totpdevice/4294967296", None),
        (None, None),
    ],
)
def test_the_device_column_holds_only_a_totp_devices_id(persistent_id, pk):
    from voucher.accounts.door import _device_pk

    assert _device_pk(persistent_id) == pk
