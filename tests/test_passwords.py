"""Passwords are hashed with Argon2id at OWASP's parameters (19 MiB, t=2, p=1; issue 23 item 4),
and a hash stored with Django's former parameters (100 MiB, 8 lanes) or with PBKDF2 is stored
again with them when its user logs in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    get_hasher,
    identify_hasher,
)
from django.urls import reverse

from .portal_helpers import PASSWORD, USCC_A, member

pytestmark = pytest.mark.django_db

OWASP = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


def test_new_passwords_are_hashed_with_owasps_argon2id_parameters():
    encoded = get_hasher("default").encode("a password", "somesaltsomesalt")
    assert encoded.startswith(OWASP)
    user = get_user_model().objects.create_user("new@example.cn", password="a password")
    assert user.password.startswith(OWASP)
    assert user.check_password("a password") and not user.check_password("another")


@pytest.mark.parametrize(
    "old_hasher", [Argon2PasswordHasher, PBKDF2PasswordHasher], ids=["argon2-100MiB", "pbkdf2"]
)
def test_a_hash_with_the_old_parameters_is_upgraded_when_its_user_logs_in(client, old_hasher):
    user = member("old@a.example.cn", USCC_A, "甲公司")
    old = old_hasher().encode(PASSWORD, old_hasher().salt())
    get_user_model().objects.filter(pk=user.pk).update(password=old)
    if old_hasher is Argon2PasswordHasher:
        assert "m=102400,t=2,p=8" in old  # Django's parameters, what was stored before
    response = client.post(
        reverse("accounts:login"), {"username": "old@a.example.cn", "password": PASSWORD}
    )
    assert response.status_code == 302
    stored = get_user_model().objects.get(pk=user.pk).password
    assert stored != old and stored.startswith(OWASP)
    assert identify_hasher(stored).algorithm == "argon2"
    client.logout()
    again = client.post(
        reverse("accounts:login"), {"username": "old@a.example.cn", "password": PASSWORD}
    )
    assert again.status_code == 302
    assert get_user_model().objects.get(pk=user.pk).password == stored  # not rehashed again
