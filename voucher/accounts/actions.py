"""Writes of the accounts app: keyword-only, one transaction, one audit entry each."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.accounts.models import APPROVED, PENDING, REFUSED, EnterpriseClaim, Invitation
from voucher.accounts.uscc import clean_uscc
from voucher.applications import permissions
from voucher.applications.models import (
    ADMIN,
    MEMBER,
    Enterprise,
    Membership,
    SupplierInvitation,
    SupplierMember,
)
from voucher.applications.people import display_name
from voucher.applications.roles import ADMINISTRATOR
from voucher.applications.uploads import upload_store
from voucher.core.audit import audit
from voucher.core.refusals import Refused
from voucher.policy import uscc as uscc_codes
from voucher.policy.text import strip_format

INVITATION_DAYS = 14


AccountError = Refused  # the accounts' steps refuse with the one refusal (core/refusals.py)


class ClaimRequired(AccountError):
    """The enterprise exists without members: becoming its administrator needs a claim request."""

    def __init__(self, enterprise: Enterprise):
        super().__init__(
            _(
                "“%(name)s”已在系统中登记，但还没有管理员。请上传营业执照并作出声明，"
                "提交认领申请，经管理部门审核通过后成为该单位的管理员。"
            )
            % {"name": enterprise.name},
            field="uscc",
        )
        self.enterprise = enterprise


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_sign_up(*, email: str, password: str, person_name: str = "") -> Any:
    """A new user whose username is the e-mail address (lower-cased), with the name they gave."""
    email = email.strip().lower()
    user_model = get_user_model()
    name = person_name_clean(person_name)
    with transaction.atomic():
        if user_model.objects.filter(username=email).exists():
            raise AccountError(_("该邮箱已注册，请直接登录或找回密码。"))
        user = user_model.objects.create_user(
            username=email, email=email, password=password, first_name=name
        )
        audit(
            actor=user,
            action="user_sign_up",
            obj=user,
            data={"email": email, "person_name": name},
        )
    return user


def _lock_user(user: Any) -> None:
    """Serialise one user's requests that check and then write (membership, claims)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def enterprise_register(*, uscc: str, name: str, acting_user: Any) -> Membership:
    """Register the user's enterprise; the first user of an enterprise is its administrator.

    An enterprise that already has members is joined only by invitation; one that exists
    without members (a registry import, an interchange file) only through a claim request
    (`enterprise_claim_request`), which a staff administrator decides.
    """
    with transaction.atomic():
        _lock_user(acting_user)
        if Membership.objects.filter(user=acting_user).exists():
            raise AccountError(_("您已属于一家企业。"))
        pending = (
            EnterpriseClaim.objects.filter(claimant=acting_user, status=PENDING)
            .select_related("enterprise")
            .first()
        )
        if pending is not None:
            raise AccountError(
                _("您认领“%(name)s”的申请正在审核，审核结束前不能登记其他单位。")
                % {"name": pending.enterprise.name}
            )
        enterprise, created = Enterprise.objects.select_for_update().get_or_create(
            uscc=uscc, defaults={"name": name}
        )
        if enterprise.memberships.exists():
            raise AccountError(
                _("该统一社会信用代码的企业已有管理员。请联系贵单位管理员在系统中邀请您加入。")
            )
        if not created:
            raise ClaimRequired(enterprise)
        membership = Membership.objects.create(user=acting_user, enterprise=enterprise, role=ADMIN)
        audit(
            actor=acting_user,
            action="enterprise_register",
            obj=enterprise,
            data={"uscc": uscc, "name": name, "enterprise_created": created},
        )
    return membership


def _identity_uscc(uscc: str) -> str:
    """The USCC the identity provider asserted: refused when missing, malformed or with a wrong
    check character (a provider that issues licences does not assert a wrong one)."""
    if not uscc.strip():
        raise AccountError(
            _("统一身份认证没有提供统一社会信用代码，无法确认您代表哪家单位。请联系身份认证服务。"),
            field="uscc",
        )
    try:
        code, _warnings = clean_uscc(uscc, applicant=True)
    except ValidationError as exc:
        raise AccountError(
            _("统一身份认证提供的统一社会信用代码“%(uscc)s”无效：%(reason)s")
            % {"uscc": uscc, "reason": " ".join(exc.messages)},
            field="uscc",
        ) from exc
    if not uscc_codes.has_valid_check_character(code):
        raise AccountError(
            _("统一身份认证提供的统一社会信用代码“%(uscc)s”校验位不正确，未予登录。")
            % {"uscc": uscc},
            field="uscc",
        )
    return code


def enterprise_from_identity(
    *, username: str, uscc: str, name: str, issuer: str, person_name: str = ""
) -> tuple[Any, Membership]:
    """The first login of a person the identity provider vouches for: a user, and the enterprise
    of the asserted USCC and name. A new enterprise: the person is its administrator; one that
    exists without members (a registry import), too (the provider's assertion is the proof a
    claim asks for); one that has members: the person joins as a member, and an administrator
    may promote them (docs/decisions/0024-oidc-login.md). Nothing is created when refused.

    Idempotent: two first logins of the same person at once (two tabs, a browser's retry) give
    one user. Both may find no user and try to create it; the username (``oidc:<sub>``) is unique,
    so the second insert fails (on PostgreSQL it waits for the first to commit), its transaction
    rolls back, and it returns the user the first one made — never a 500, never two users or
    enterprises (the USCC is unique too, and ``get_or_create`` reads the other's enterprise)."""
    code = _identity_uscc(uscc)
    name = name.strip()
    if not name:
        raise AccountError(
            _("统一身份认证没有提供单位名称，无法登记。请联系身份认证服务。"), field="name"
        )
    found = _identity_user(username, code)
    if found is not None:
        return found
    try:
        return _identity_create(
            username=username, code=code, name=name, issuer=issuer, person_name=person_name
        )
    except IntegrityError:
        found = _identity_user(username, code)  # the simultaneous login's, now committed
        if found is None:
            raise
        return found


def _identity_user(username: str, code: str) -> tuple[Any, Membership] | None:
    """The user a login of this subject created already, still of the asserted enterprise."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return None
    identity_matches(user=user, uscc=code)
    return user, Membership.objects.select_related("enterprise").get(user=user)


def _identity_create(
    *, username: str, code: str, name: str, issuer: str, person_name: str
) -> tuple[Any, Membership]:
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(username=username)
        user.set_unusable_password()
        user.first_name = person_name_clean(person_name)
        user.save(update_fields=["password", "first_name"])
        enterprise, created = Enterprise.objects.select_for_update().get_or_create(
            uscc=code, defaults={"name": name}
        )
        role = MEMBER if enterprise.memberships.filter(role=ADMIN).exists() else ADMIN
        membership = Membership.objects.create(user=user, enterprise=enterprise, role=role)
        audit(
            actor=user,
            action="enterprise_identity_login",
            obj=enterprise,
            data={
                "uscc": code,
                "name": name,
                "issuer": issuer,
                "subject": username,
                "person_name": user.first_name,
                "enterprise_created": created,
                "role": role,
            },
        )
    return user, membership


def person_name_clean(value: str) -> str:
    """A person's name as a provider or a form gives it: one line, at most 150 characters (the
    user's `first_name` holds the whole name; Chinese names are not split)."""
    return " ".join(strip_format(str(value or "")).split())[:150]


def identity_name_update(*, user: Any, person_name: str) -> None:
    """A later login: the provider's current name of the person replaces the stored one."""
    cleaned = person_name_clean(person_name)
    if cleaned and cleaned != user.first_name:
        previous = user.first_name
        user.first_name = cleaned
        user.save(update_fields=["first_name"])
        audit(
            actor=user,
            action="identity_name_update",
            obj=user,
            data={"old": previous, "new": cleaned},
        )


def identity_matches(*, user: Any, uscc: str) -> None:
    """A later login: the provider must still assert the enterprise the user belongs to."""
    code = _identity_uscc(uscc)
    membership = Membership.objects.select_related("enterprise").filter(user=user).first()
    if membership is None or membership.enterprise.uscc != code:
        raise AccountError(
            _("统一身份认证提供的统一社会信用代码与您账号所属单位不一致，未予登录。"),
            field="uscc",
        )


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
            "inviter": display_name(acting_user),
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


# --- a compute supplier's contact, invited by the bureau (issue 22) -----------------------------


def supplier_invitation_create(
    *, uscc: str, email: str, acting_user: Any, accept_url_for: Any
) -> tuple[SupplierInvitation, str]:
    """The bureau's administrator invites a compute supplier's contact (the USCC's, by e-mail);
    the link (also e-mailed after commit) is returned for the administrator to pass on."""
    allowed = permissions.can_invite_supplier(acting_user)
    if not allowed:
        raise AccountError(allowed.reason)
    try:
        code, _warnings = clean_uscc(uscc, applicant=False)
    except ValidationError as error:
        raise AccountError(" ".join(error.messages), field="uscc") from error
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise AccountError(_("请填写有效的邮箱地址。"), field="email") from error
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = SupplierInvitation.objects.create(
            uscc=code,
            email=email,
            token_hash=_token_sha256(token),
            invited_by=acting_user,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit(
            actor=acting_user,
            action="supplier_invitation_create",
            obj=None,
            data={"uscc": code, "email": email, "invitation": invitation.pk},
        )
        link = accept_url_for(token)
        subject = _("邀请您作为算力供给方确认算力券申报中的合同")
        body = _(
            "北京市算力券申报系统邀请统一社会信用代码为 %(uscc)s 的算力供给方确认申报单位填报的合同。\n\n"
            "请在 %(days)d 天内打开以下链接，注册或登录后即加入：\n%(link)s\n"
        ) % {"uscc": code, "days": INVITATION_DAYS, "link": link}
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        )
    return invitation, link


def supplier_invitation_find(token: str) -> SupplierInvitation | None:
    invitation = SupplierInvitation.objects.filter(
        token_hash=_token_sha256(token), accepted_at__isnull=True
    ).first()
    if invitation is None or invitation.expires_at < timezone.now():
        return None
    return invitation


def supplier_invitation_accept(*, token: str, acting_user: Any) -> SupplierMember:
    with transaction.atomic():
        invitation = supplier_invitation_find(token)
        if invitation is None:
            raise AccountError(_("邀请链接无效或已过期，请联系主管部门重新邀请。"))
        if SupplierMember.objects.filter(user=acting_user).exists():
            raise AccountError(_("您已是一家算力供给方的成员。"))
        if invitation.email != (acting_user.email or "").lower():
            raise AccountError(
                _("此邀请发给 %(email)s，请用该邮箱注册或登录。") % {"email": invitation.email}
            )
        member = SupplierMember.objects.create(user=acting_user, uscc=invitation.uscc)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit(
            actor=acting_user,
            action="supplier_invitation_accept",
            obj=None,
            data={"invitation": invitation.pk, "uscc": invitation.uscc},
        )
    return member


# --- claiming an enterprise that exists without members ----------------------------------------

CLAIM_LICENCE_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "ofd")


def _claim_mail(claim: EnterpriseClaim, subject: str, body: str) -> None:
    address = claim.claimant.email
    if address:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        )


def _administrators_told(claim: EnterpriseClaim) -> None:
    """The staff administrators learn of a new claim to decide (after commit)."""

    user_model = get_user_model()
    addresses = sorted(
        {
            u.email
            for u in user_model.objects.filter(is_active=True, groups__name=ADMINISTRATOR)
            if u.email
        }
    )
    if not addresses:
        return
    subject = f"企业认领申请待审核：{claim.enterprise.name}"
    body = (
        f"{claim.claimant_name}（{claim.claimant_position}，{claim.claimant.email}）申请成为"
        f"“{claim.enterprise.name}”（{claim.enterprise.uscc}）的管理员。\n"
        "请登录审核系统后在“企业认领申请”页面审核营业执照和声明。\n"
    )
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses))


def enterprise_claim_request(
    *,
    uscc: str,
    claimant_name: str,
    claimant_position: str,
    declaration: str,
    licence_name: str,
    licence_content: bytes,
    licence_content_type: str,
    acting_user: Any,
) -> EnterpriseClaim:
    """Ask to become the administrator of an enterprise without members.

    The licence has passed voucher.applications.uploads.check_upload (content, extension, PDF with
    JavaScript, zip bombs …); it is stored under its content hash outside the web root.
    """
    extension = licence_name.rsplit(".", 1)[-1].lower() if "." in licence_name else ""
    if extension not in CLAIM_LICENCE_EXTENSIONS:
        raise AccountError(_("营业执照请上传 PDF、JPG、PNG 或 OFD 文件。"), field="licence")
    sha = hashlib.sha256(licence_content).hexdigest()
    with transaction.atomic():
        _lock_user(acting_user)  # one pending claim per user, also when two requests race
        enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
        if enterprise is None:
            raise AccountError(_("系统中没有该统一社会信用代码的企业。"), field="uscc")
        if Membership.objects.filter(user=acting_user).exists():
            raise AccountError(_("您已属于一家企业。"), field="uscc")
        if enterprise.memberships.exists():
            raise AccountError(
                _("该统一社会信用代码的企业已有管理员。请联系贵单位管理员在系统中邀请您加入。"),
                field="uscc",
            )
        if EnterpriseClaim.objects.filter(claimant=acting_user, status=PENDING).exists():
            raise AccountError(_("您已有一份待审核的认领申请，请等待审核结果。"), field="uscc")
        claim = EnterpriseClaim.objects.create(
            enterprise=enterprise,
            claimant=acting_user,
            claimant_name=claimant_name,
            claimant_position=claimant_position,
            declaration=declaration,
            licence_name=licence_name,
            licence_size=len(licence_content),
            licence_sha256=sha,
            licence_content_type=licence_content_type,
        )
        upload_store(licence_content, sha)
        audit(
            actor=acting_user,
            action="enterprise_claim_request",
            obj=enterprise,
            data={
                "claim": claim.pk,
                "uscc": uscc,
                "claimant_name": claimant_name,
                "claimant_position": claimant_position,
                "licence": licence_name,
                "sha256": sha,
            },
        )
        _administrators_told(claim)
        _claim_mail(
            claim,
            _("已收到您认领“%(name)s”的申请") % {"name": enterprise.name},
            _(
                "您申请成为“%(name)s”（%(uscc)s）在北京市算力券申报系统中的管理员。\n"
                "管理部门审核营业执照和声明后，将通过邮件告知结果。\n"
            )
            % {"name": enterprise.name, "uscc": enterprise.uscc},
        )
    return claim


def enterprise_claim_decide(
    *, claim: EnterpriseClaim, approve: bool, reason: str, acting_user: Any
) -> EnterpriseClaim:
    """A staff administrator approves (the claimant becomes the administrator) or refuses."""

    check = permissions.can_decide_enterprise_claim(acting_user)
    if not check:
        raise AccountError(check.reason)
    reason = reason.strip()
    if not approve and not reason:
        raise AccountError(_("不予通过时请填写理由。"), field="reason")
    with transaction.atomic():
        locked = (
            EnterpriseClaim.objects.select_for_update()
            .select_related("enterprise", "claimant")
            .get(pk=claim.pk)
        )
        if locked.status != PENDING:
            raise AccountError(_("这份认领申请已审核过了，请刷新页面。"))
        enterprise = Enterprise.objects.select_for_update().get(pk=locked.enterprise_id)
        if approve:
            if enterprise.memberships.exists():
                raise AccountError(_("该企业已有管理员，不能再通过认领申请。"))
            if Membership.objects.filter(user=locked.claimant).exists():
                raise AccountError(_("申请人已属于另一家企业。"))
            Membership.objects.create(user=locked.claimant, enterprise=enterprise, role=ADMIN)
            if not locked.claimant.first_name:  # the name the claimant gave is what pages show
                locked.claimant.first_name = person_name_clean(locked.claimant_name)
                locked.claimant.save(update_fields=["first_name"])
        locked.status = APPROVED if approve else REFUSED
        locked.reason = reason
        locked.decided_by = acting_user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        audit(
            actor=acting_user,
            action="enterprise_claim_approve" if approve else "enterprise_claim_refuse",
            obj=enterprise,
            data={
                "claim": locked.pk,
                "claimant": locked.claimant.get_username(),
                "reason": reason,
            },
        )
        if approve:
            subject = _("您已成为“%(name)s”的管理员") % {"name": enterprise.name}
            body = _(
                "您认领“%(name)s”（%(uscc)s）的申请已审核通过，您现在是该单位在北京市算力券"
                "申报系统中的管理员，可以填报申报并邀请同事加入。\n%(reason)s\n"
            ) % {"name": enterprise.name, "uscc": enterprise.uscc, "reason": reason}
        else:
            subject = _("您认领“%(name)s”的申请未通过") % {"name": enterprise.name}
            body = _(
                "您认领“%(name)s”（%(uscc)s）的申请未通过审核。\n理由：%(reason)s\n"
                "如有疑问请联系管理部门，或更正后重新提交认领申请。\n"
            ) % {"name": enterprise.name, "uscc": enterprise.uscc, "reason": reason}
        _claim_mail(locked, subject, body)
    return locked
