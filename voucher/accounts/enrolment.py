"""A staff member binds their authenticator (TOTP) only through a one-time link.

An administrator issues the link (e-mailed to the member's address, and shown once on the staff
page to hand over): a random token of which only the SHA-256 is stored, valid for
`ENROLMENT_HOURS`, for one use, for one user. A newer link revokes the older ones; a reset also
removes the member's devices. The member logs in with the password, opens the link, sees the
secret and confirms it with a code. A password alone never shows a secret (issue 18, item 3).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.accounts.models import TotpEnrolment
from voucher.applications import otp
from voucher.applications import permissions as p
from voucher.applications.refusals import FieldRefusal
from voucher.core.audit import audit

ENROLMENT_HOURS = 72

EnrolmentError = FieldRefusal


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def enrolment_issue(
    *,
    user: Any,
    acting_user: Any,
    link_for: Callable[[str], str],
    reset: bool = False,
    checked: bool = False,
) -> str:
    """A new enrolment link for `user` (returned, and e-mailed after commit); older open links
    are revoked. `reset` also removes the user's devices (a lost phone); without it, a user who
    has a device is refused (a reset is what replaces one). `checked`: the caller (creating the
    account) has asked the permission already, inside its own transaction."""
    if not checked:
        EnrolmentError.unless(p.can_manage_users(acting_user))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise EnrolmentError("", _("账号已停用，不能签发绑定链接"))
        devices = TOTPDevice.objects.filter(user=locked)
        if not reset and devices.filter(confirmed=True).exists():
            raise EnrolmentError("", _("该账号已绑定验证器；如需更换，请重置"))
        removed, _counts = devices.delete()  # unconfirmed ones too: the new link shows a new key
        revoked = TotpEnrolment.objects.filter(
            user=locked, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        enrolment = TotpEnrolment.objects.create(
            user=locked,
            token_sha256=_sha256(token),
            issued_by=acting_user if getattr(acting_user, "pk", None) else None,
            expires_at=now + timedelta(hours=ENROLMENT_HOURS),
        )
        audit(
            actor=acting_user,
            action="staff_totp_reset" if reset else "staff_totp_link",
            data={
                "user": locked.get_username(),
                "enrolment": enrolment.pk,
                "expires_at": enrolment.expires_at.isoformat(),
                "devices": removed,
                "links_revoked": revoked,
            },
        )
        link = link_for(token)
        if locked.email:
            subject = _("绑定身份验证器")
            body = _(
                "管理员为您的工作人员账号 %(name)s 签发了身份验证器绑定链接。\n\n"
                "请在 %(hours)d 小时内用密码登录后打开以下链接，按页面提示绑定验证器；"
                "链接只能使用一次：\n%(link)s\n\n"
                "如非本人申请，请联系系统管理员。\n"
            ) % {"name": locked.get_username(), "hours": ENROLMENT_HOURS, "link": link}
            address = locked.email
            transaction.on_commit(
                lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
            )
    return link


def enrolment_find(token: str) -> TotpEnrolment | None:
    """The open link of this token: unused, not revoked, not expired; else None."""
    enrolment = (
        TotpEnrolment.objects.select_related("user")
        .filter(token_sha256=_sha256(token), used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if enrolment is None or enrolment.expires_at <= timezone.now():
        return None
    if not enrolment.user.is_active:
        return None
    return enrolment


def enrolment_device(enrolment: TotpEnrolment) -> TOTPDevice:
    """The unconfirmed device whose secret the link's page shows (made at the first opening)."""
    return otp.pending_device(enrolment.user)


def enrolment_confirm(*, token: str, code: str, acting_user: Any) -> TOTPDevice | None:
    """The code from the new authenticator confirms its device and uses up the link; None when
    the code is wrong. Refused when the link is not open or not `acting_user`'s."""
    with transaction.atomic():
        found = enrolment_find(token)
        if found is None:
            raise EnrolmentError("", _("绑定链接无效、已使用或已过期，请联系系统管理员重新签发"))
        enrolment = TotpEnrolment.objects.select_for_update().get(pk=found.pk)
        if enrolment.used_at is not None or enrolment.revoked_at is not None:
            raise EnrolmentError("", _("绑定链接无效、已使用或已过期，请联系系统管理员重新签发"))
        if enrolment.user_id != getattr(acting_user, "pk", None):
            raise EnrolmentError("", _("此绑定链接不属于当前登录的账号"))
        device = otp.pending_device(acting_user)
        if not otp.confirm(device, code):
            return None
        enrolment.used_at = timezone.now()
        enrolment.save(update_fields=["used_at"])
        audit(
            actor=acting_user,
            action="staff_totp_enrol",
            data={"user": acting_user.get_username(), "enrolment": enrolment.pk},
        )
    return device
