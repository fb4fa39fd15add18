"""What the benchmarks that request pages in-process share (bench_pages_cpu and the save_*
scripts that compare two versions of the code): Django set up as production serves (DEBUG off),
a staff client signed in and TOTP-verified, and a page saved with its CSRF tokens blanked (a
token differs at every request, nothing else should)."""

from __future__ import annotations

import os
import re
from typing import Any

# the form field's token, and the one a page's script sends in a header
_TOKENS = re.compile(rb'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*')


def setup_django() -> None:
    """Django on the database of DATABASE_URL, with DEBUG off (as production renders) and the
    test client's host allowed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voucher.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def staff_client(username: str, language: str = "") -> Any:
    """A test client signed in as `username`, TOTP-verified by their confirmed device;
    `language`: the language cookie (else Chinese, the default)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    client = Client()
    client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def applicant_with_draft() -> Any:
    """The first enterprise administrator (by membership) with a draft and an e-mail: the
    applicant whose pages the benchmarks request."""
    from voucher.applications import models as m

    return (
        m.Membership.objects.filter(
            role="admin", enterprise__applications__state="draft", user__email__isnull=False
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )


def save_page(directory: str, name: str, response: Any) -> None:
    """`response` written to directory/name: its status on the first line, then its body with
    the CSRF tokens blanked."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as out:
        out.write(f"{response.status_code}\n".encode())
        out.write(_TOKENS.sub(rb"\1", response.content))
