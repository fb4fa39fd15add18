"""The bureau's side of `voucher demo`: one login per role with a known TOTP secret, and the
example applications submitted so that the queue has work in it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.applications import roles as r
from voucher.applications.lifecycle import application_transition
from voucher.applications.models import Application
from voucher.applications.roles import SYSTEM_ACTOR
from voucher.core.audit import audit

DEMO_STAFF = (
    ("shenhe", r.REVIEWER),
    ("shenhe2", r.REVIEWER),
    ("fuhe", r.APPROVER),
    ("chushen", r.SCREENER),
    ("shenji", r.AUDITOR),
    ("guanli", r.ADMINISTRATOR),
)


def demo_key(username: str) -> bytes:
    """A fixed secret per demo login (published, like the demo password): 20 bytes."""
    return hashlib.sha1(f"voucher-demo-totp:{username}".encode()).digest()


def demo_secret(username: str) -> str:
    return base64.b32encode(demo_key(username)).decode()


def totp_now(device: TOTPDevice) -> str:
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def demo_staff_ensure(*, password: str, acting_user: Any = None) -> list[tuple[str, str, str]]:
    """(username, role, base32 secret) of each demo staff login, created once."""
    user_model = get_user_model()
    made = []
    with transaction.atomic():
        for username, role in DEMO_STAFF:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@jxj.example.cn", "is_staff": True},
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            TOTPDevice.objects.get_or_create(
                user=user,
                name="演示验证器",
                defaults={"key": demo_key(username).hex(), "confirmed": True},
            )
            made.append((username, str(r.ROLE_LABELS[role]), demo_secret(username)))
        for role in r.STAFF_ROLES:
            Group.objects.get_or_create(name=role)
        audit(
            actor=acting_user,
            action="demo_staff_ensure",
            data={"users": [u for u, _ in DEMO_STAFF]},
        )
    return made


def demo_examples_submit(*, acting_user: Any = None) -> list[Application]:
    """The imported examples (drafts) become submitted applications, waiting in the queue."""
    with transaction.atomic():
        moved = []
        for application in Application.objects.select_for_update().filter(
            state="draft", source_name__startswith="examples/"
        ):
            application_transition(
                application=application,
                transition="submit",
                acting_user=acting_user or SYSTEM_ACTOR,
                record=False,  # one audit entry for the batch, below
            )
            moved.append(application)
        if moved:
            audit(
                actor=acting_user,
                action="demo_examples_submit",
                data={"applications": [a.pk for a in moved]},
            )
    return moved
