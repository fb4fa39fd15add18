"""Writes of the accounts app: keyword-only, one transaction, one audit entry each."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.accounts.models import ADMIN, MEMBER, Invitation, Membership
from voucher.applications.models import Enterprise
from voucher.core.audit import audit

INVITATION_DAYS = 14


class AccountError(Exception):
    """A request the rules refuse; the message is for the user."""


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_sign_up(*, email: str, password: str) -> Any:
    """A new user whose username is the e-mail address (lower-cased)."""
    email = email.strip().lower()
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username=email).exists():
            raise AccountError(_("该邮箱已注册，请直接登录或找回密码。"))
        user = user_model.objects.create_user(username=email, email=email, password=password)
        audit(actor=user, action="user_sign_up", obj=user, data={"email": email})
    return user


def enterprise_register(*, uscc: str, name: str, acting_user: Any) -> Membership:
    """Register the user's enterprise; the first user of an enterprise is its administrator.

    An enterprise that already has members is joined only by invitation.
    """
    with transaction.atomic():
        if Membership.objects.filter(user=acting_user).exists():
            raise AccountError(_("您已属于一家企业。"))
        enterprise, created = Enterprise.objects.select_for_update().get_or_create(
            uscc=uscc, defaults={"name": name}
        )
        if enterprise.memberships.exists():
            raise AccountError(
                _("该统一社会信用代码的企业已有管理员。请联系贵单位管理员在系统中邀请您加入。")
            )
        membership = Membership.objects.create(user=acting_user, enterprise=enterprise, role=ADMIN)
        audit(
            actor=acting_user,
            action="enterprise_register",
            obj=enterprise,
            data={"uscc": uscc, "name": name, "enterprise_created": created},
        )
    return membership


def invitation_create(*, email: str, acting_user: Any, accept_url_for: Any) -> Invitation:
    """Invite a colleague; the e-mail with the one-time link goes out after commit.

    `accept_url_for(token)` builds the absolute link (the view knows the host).
    """
    email = email.strip().lower()
    membership = Membership.objects.select_related("enterprise").get(user=acting_user)
    if not membership.is_admin:
        raise AccountError(_("只有企业管理员可以邀请成员。"))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            enterprise=membership.enterprise,
            email=email,
            token_sha256=_token_sha256(token),
            invited_by=acting_user,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit(
            actor=acting_user,
            action="invitation_create",
            obj=membership.enterprise,
            data={"email": email, "invitation": invitation.pk},
        )
        link = accept_url_for(token)
        subject = _("邀请您加入“%(name)s”的算力券申报") % {"name": membership.enterprise.name}
        body = _(
            "%(inviter)s 邀请您作为“%(name)s”的成员使用北京市算力券申报系统。\n\n"
            "请在 %(days)d 天内打开以下链接，注册或登录后即加入：\n%(link)s\n"
        ) % {
            "inviter": acting_user.get_username(),
            "name": membership.enterprise.name,
            "days": INVITATION_DAYS,
            "link": link,
        }
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        )
    return invitation


def invitation_find(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("enterprise")
        .filter(token_sha256=_token_sha256(token), accepted_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at < timezone.now():
        return None
    return invitation


def invitation_accept(*, token: str, acting_user: Any) -> Membership:
    with transaction.atomic():
        invitation = invitation_find(token)
        if invitation is None:
            raise AccountError(_("邀请链接无效或已过期，请联系企业管理员重新邀请。"))
        if Membership.objects.filter(user=acting_user).exists():
            raise AccountError(_("您已属于一家企业，不能再加入另一家。"))
        if invitation.email != acting_user.email.lower():
            raise AccountError(
                _("此邀请发给 %(email)s，请用该邮箱注册或登录。") % {"email": invitation.email}
            )
        membership = Membership.objects.create(
            user=acting_user, enterprise=invitation.enterprise, role=MEMBER
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit(
            actor=acting_user,
            action="invitation_accept",
            obj=invitation.enterprise,
            data={"invitation": invitation.pk, "email": invitation.email},
        )
    return membership
