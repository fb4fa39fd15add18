"""The administrator's desk: staff accounts and their roles, and a round's application dates.

Every write is an action: permission from permissions.py, one transaction, one audit entry.
A staff account is created without a password; its owner sets one through the password-reset
link e-mailed to them (the administrator never knows it), then binds an authenticator (TOTP)
through the one-time enrolment link also e-mailed to them (voucher/accounts/enrolment.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.accounts import enrolment
from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.applications.models import Membership, PolicyRoundRecord
from voucher.applications.people import display_name
from voucher.applications.refusals import FieldRefusal
from voucher.core.audit import audit
from voucher.policy.dates import DateError, parse_date
from voucher.policy.text import strip_format

StaffError = FieldRefusal  # a staff account or round date refused, naming its field


_require = StaffError.unless


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    email: str
    active: bool
    roles: list[str]
    has_totp: bool
    last_login: Any
    superuser: bool = False  # counts as administrator without the group


def staff_rows() -> list[StaffRow]:
    """Everyone who holds a staff role (or the staff flag), with their roles and TOTP state."""
    users = (
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(groups__name__in=r.STAFF_ROLES))
        .distinct()
        .order_by("username")
        .prefetch_related("groups")
    )
    with_totp = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True).distinct()
    )
    return [
        StaffRow(
            id=u.pk,
            username=u.get_username(),
            email=u.email,
            active=u.is_active,
            roles=sorted(g.name for g in u.groups.all() if g.name in r.STAFF_ROLES),
            has_totp=u.pk in with_totp,
            last_login=u.last_login,
            superuser=u.is_superuser,
        )
        for u in users
    ]


# --- staff accounts -----------------------------------------------------------------------------


def _role(role: str) -> str:
    if role not in r.STAFF_ROLES:
        raise StaffError("role", _("未知的角色：%(role)s") % {"role": role})
    return role


def staff_create(
    *, username: str, email: str, role: str, acting_user: Any, request: Any = None
) -> Any:
    """A new staff account with one role; the owner is e-mailed a link to set the password."""
    _require(p.can_manage_users(acting_user))
    username = " ".join(strip_format(str(username or "")).split())  # no bidi overrides
    email = str(email or "").strip()
    if not username:
        raise StaffError("username", _("请填写用户名"))
    if len(username) > 150 or any(c.isspace() for c in username):
        raise StaffError("username", _("用户名不能含空格，最长 150 个字符"))
    if "@" not in email or len(email) > 254:
        raise StaffError("email", _("请填写有效的电子邮箱"))
    role = _role(role)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise StaffError("username", _("用户名“%(name)s”已被使用") % {"name": username})
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, email=email, is_staff=True)
            _staff_setup(user, role, email, acting_user, request)
    except IntegrityError:  # the same name created by someone else a moment ago
        raise StaffError("username", _("用户名“%(name)s”已被使用") % {"name": username}) from None
    return user


def _staff_setup(user: Any, role: str, email: str, acting_user: Any, request: Any) -> None:
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    audit(
        actor=acting_user,
        action="staff_create",
        data={"user": user.get_username(), "email": email, "role": role},
    )
    transaction.on_commit(lambda: _send_password_link(user, request))
    # then the authenticator's one-time link (e-mailed after the password's)
    enrolment.enrolment_issue(
        user=user, acting_user=acting_user, link_for=enrolment_link_for(request), checked=True
    )


def enrolment_link_for(request: Any) -> Callable[[str], str]:
    """The absolute address of an enrolment link (the request knows the host)."""

    def link(token: str) -> str:
        path = reverse("review:otp_enrol", args=[token])
        if request is None:
            return f"http://localhost:8000{path}"
        return str(request.build_absolute_uri(path))

    return link


def _send_password_link(user: Any, request: Any) -> None:
    """The password-reset e-mail of the accounts app, with a one-time link for this account."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    domain = request.get_host() if request is not None else "localhost:8000"
    PasswordResetForm().send_mail(
        "accounts/password_reset_subject.txt",
        "accounts/password_reset_email.txt",
        {
            "email": user.email,
            "domain": domain,
            "site_name": domain,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "user": user,
            "token": default_token_generator.make_token(user),
            "protocol": "https" if request is not None and request.is_secure() else "http",
        },
        None,
        user.email,
    )


def _locked_user(user: Any) -> Any:
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _refuse_enterprise_members(user: Any) -> None:
    """An applicant's account never holds a staff role: it would review its own application."""

    if Membership.objects.filter(user=user).exists():
        raise StaffError(
            "role",
            _("%(name)s 是申报单位的成员，不能担任工作人员角色") % {"name": display_name(user)},
        )


def _last_administrator(user: Any) -> bool:
    """Whether `user` is the only active administrator left.

    The administrator group's row is locked first, so that two administrators removing each
    other at once are serialised; the second one's count is a new statement after the first
    one's commit and sees it (READ COMMITTED), and is refused.
    """
    group, _created = Group.objects.get_or_create(name=r.ADMINISTRATOR)
    Group.objects.select_for_update().filter(pk=group.pk).first()
    active = set(
        get_user_model()
        .objects.filter(Q(groups__name=r.ADMINISTRATOR) | Q(is_superuser=True), is_active=True)
        .values_list("pk", flat=True)
    )
    return active == {user.pk}


def staff_role_grant(*, user: Any, role: str, acting_user: Any) -> None:
    _require(p.can_manage_users(acting_user))
    role = _role(role)
    _refuse_enterprise_members(user)
    with transaction.atomic():
        locked = _locked_user(user)
        if locked.groups.filter(name=role).exists():
            return
        locked.groups.add(Group.objects.get_or_create(name=role)[0])
        if not locked.is_staff:
            locked.is_staff = True
            locked.save(update_fields=["is_staff"])
        audit(
            actor=acting_user,
            action="staff_role_grant",
            data={"user": locked.get_username(), "role": role},
        )


def staff_role_revoke(*, user: Any, role: str, acting_user: Any) -> None:
    _require(p.can_manage_users(acting_user))
    role = _role(role)
    if user.pk == acting_user.pk and role == r.ADMINISTRATOR:
        # Nobody locks the desk from the inside: another administrator has to do it.
        raise StaffError("role", _("不能撤销自己的系统管理员角色"))
    with transaction.atomic():
        if role == r.ADMINISTRATOR and _last_administrator(user):
            raise StaffError("role", _("至少须保留一名在用的系统管理员"))
        locked = _locked_user(user)
        group = locked.groups.filter(name=role).first()
        if group is None:
            return
        locked.groups.remove(group)
        audit(
            actor=acting_user,
            action="staff_role_revoke",
            data={"user": locked.get_username(), "role": role},
        )


def staff_active_set(*, user: Any, active: bool, acting_user: Any) -> None:
    """Deactivate (leavers: the account and its API tokens stop working) or reactivate."""
    _require(p.can_manage_users(acting_user))
    if user.pk == acting_user.pk and not active:
        raise StaffError("", _("不能停用自己的账号"))
    with transaction.atomic():
        if not active and _last_administrator(user):
            raise StaffError("", _("至少须保留一名在用的系统管理员"))
        locked = _locked_user(user)
        if locked.is_active == active:
            return
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit(
            actor=acting_user,
            action="staff_activate" if active else "staff_deactivate",
            data={"user": locked.get_username()},
        )


def staff_totp_link(
    *, user: Any, acting_user: Any, request: Any = None, reset: bool = False
) -> str:
    """A new one-time enrolment link for `user` (e-mailed, and returned to be handed over);
    `reset` (a lost phone) also removes the devices. Audited; older links are revoked."""
    return enrolment.enrolment_issue(
        user=user, acting_user=acting_user, link_for=enrolment_link_for(request), reset=reset
    )


# --- the round's application dates ----------------------------------------------------------------


def _date(field: str, value: Any, label: str) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return parse_date(text, field=field, label=label)  # as people type a day
    except DateError as refused:
        raise StaffError(field, refused.message(_)) from None


def round_dates_set(
    *, record: PolicyRoundRecord, opens_on: Any, closes_on: Any, acting_user: Any
) -> PolicyRoundRecord:
    """When applications are accepted (both days included); empty = not announced = closed."""
    _require(p.can_manage_round(acting_user))
    opens = _date("opens_on", opens_on, _("申报开始日期"))
    closes = _date("closes_on", closes_on, _("申报截止日期"))
    if (opens is None) != (closes is None):
        raise StaffError(
            "closes_on" if closes is None else "opens_on",
            _("申报开始和截止日期须同时填写，或同时留空"),
        )
    if opens is not None and closes is not None and closes < opens:
        raise StaffError("closes_on", _("截止日期早于开始日期"))
    with transaction.atomic():
        locked = PolicyRoundRecord.objects.select_for_update().get(pk=record.pk)
        before = (locked.opens_on, locked.closes_on)
        locked.opens_on, locked.closes_on = opens, closes
        locked.save(update_fields=["opens_on", "closes_on"])
        audit(
            actor=acting_user,
            action="round_dates_set",
            obj=locked,
            data={
                "opens_on": opens.isoformat() if opens else None,
                "closes_on": closes.isoformat() if closes else None,
                "before": [d.isoformat() if d else None for d in before],
            },
        )
    return locked
