"""A wrong USCC check character is caught before the enterprise exists (issue 21 item 3): the form
says what the character should be and creates nothing until the user confirms the licence
really carries that code (some codes from before 2016 do)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from voucher.policy.uscc import expected_check_character

from .portal_helpers import PASSWORD, USCC_A
from .review_support import FAST_HASHERS

pytestmark = pytest.mark.django_db


def _wrong(code: str) -> str:
    right = expected_check_character(code)
    return code[:17] + ("1" if right != "1" else "2")


@pytest.fixture
def signed_up(client, settings, tmp_path, django_user_model):
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = FAST_HASHERS
    user = django_user_model.objects.create_user(
        "new@a.example.cn", email="new@a.example.cn", password=PASSWORD
    )
    client.force_login(user)
    return user


def test_a_wrong_check_character_creates_nothing_and_names_the_right_one(client, signed_up):
    from voucher.applications.models import Enterprise

    wrong = _wrong(USCC_A)
    response = client.post(reverse("accounts:enterprise_new"), {"uscc": wrong, "name": "甲公司"})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"（{expected_check_character(USCC_A)}）不一致" in page
    assert 'type="checkbox" name="confirm_check_character"' in page
    assert not Enterprise.objects.filter(uscc=wrong).exists()


def test_the_confirmed_code_is_registered_as_the_licence_carries_it(client, signed_up):
    from voucher.applications.models import Enterprise

    wrong = _wrong(USCC_A)
    response = client.post(
        reverse("accounts:enterprise_new"),
        {"uscc": wrong, "name": "甲公司", "confirm_check_character": "on"},
    )
    assert response.status_code == 302
    assert Enterprise.objects.get(uscc=wrong).memberships.filter(user=signed_up).exists()


def test_a_right_code_needs_no_confirmation(client, signed_up):
    from voucher.applications.models import Enterprise

    page = client.get(reverse("accounts:enterprise_new")).content.decode()
    assert 'type="checkbox" name="confirm_check_character"' not in page
    response = client.post(reverse("accounts:enterprise_new"), {"uscc": USCC_A, "name": "甲公司"})
    assert response.status_code == 302
    assert Enterprise.objects.filter(uscc=USCC_A).exists()
