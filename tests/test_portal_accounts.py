"""Password reset by e-mail and login lockout after repeated failures."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from .portal_helpers import PASSWORD, USCC_A, member

pytestmark = pytest.mark.django_db

EMAIL = "owner@a.example.cn"


@pytest.fixture
def owner():
    return member(EMAIL, USCC_A, "甲公司")


def _login(client, password):
    return client.post(
        reverse("accounts:login"),
        {"username": EMAIL, "password": password},
        REMOTE_ADDR="10.0.0.7",
    )


def test_a_forgotten_password_is_reset_through_the_link_sent_by_e_mail(client, owner):
    response = client.post(reverse("accounts:password_reset"), {"email": EMAIL})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(
        1
    )
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "Another-Horse-2027"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(new_password)
    assert not owner.check_password(PASSWORD)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, owner):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.cn"})
    assert response.status_code == 302  # nothing tells an outsider which addresses exist
    assert mail.outbox == []


def test_five_wrong_passwords_lock_the_login_even_with_the_right_one_after(client, owner, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200  # the form again, with an error
    locked = _login(client, "wrong-password")
    assert locked.status_code == 429
    refused = _login(client, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_login_before_the_limit_resets_the_count(client, owner):
    for _ in range(4):
        _login(client, "wrong-password")
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200
