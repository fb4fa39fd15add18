"""Staff two-factor login (TOTP, django-otp): password and a six-digit code from an app.

A staff member without a confirmed device binds one only through an administrator's one-time
link (voucher/accounts/enrolment.py; the secret is shown there, as text and as an otpauth://
link); every review page wants a session verified by a code. A wrong password and a wrong code
get the same answer: the login never confirms that a password was right.
"""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "身份验证器"


def login_refused() -> str:
    """The one answer to a wrong user name, password or code (which one is not said)."""
    return _("用户名、密码或验证码不正确")


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def check_login(
    username: str, password: str, token: str, request: Any = None
) -> tuple[Any, Any, str]:
    """(user, device, error): device None means the user still has to set one up."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        return None, None, login_refused()
    if confirmed_device(user) is None:
        return user, None, ""
    device = match_token(user, token.strip()) if token.strip() else None
    if device is None:
        return None, None, login_refused()  # not another message: the password was right
    return user, device, ""


def pending_device(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


def qr_data_url(uri: str) -> str:
    """The otpauth:// URI as a QR code: a PNG data URL made here on the server (no script, no
    third party sees the secret), shown by an <img> (CSP img-src allows data:)."""
    return str(segno.make(uri, error="m", micro=False).png_data_uri(scale=5, border=4))


def confirm(device: TOTPDevice, token: str) -> bool:
    if device.verify_token(token.strip()):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return True
    return False
