"""The staff roles are Django groups; the applicant is a member of the application's enterprise."""

from __future__ import annotations

from typing import Any, Final

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from voucher.applications.models import Membership, SupplierMember
from voucher.core import precompiled

REVIEWER: Final = "bureau_reviewer"
APPROVER: Final = "bureau_approver"
SCREENER: Final = "centre_screener"
AUDITOR: Final = "auditor"
ADMINISTRATOR: Final = "administrator"
APPLICANT: Final = "applicant"  # not a group: membership of the enterprise (models.Membership)
SYSTEM: Final = "system"  # not a user: the command line's own steps (the demo's data)


class _System:
    """The actor of the command line's own steps: no user, no login, audited as the system."""

    is_authenticated = False
    is_active = False
    pk = None

    def __repr__(self) -> str:
        return "SYSTEM_ACTOR"


SYSTEM_ACTOR: Final = _System()

STAFF_ROLES: Final = (REVIEWER, APPROVER, SCREENER, AUDITOR, ADMINISTRATOR)
ROLE_LABELS: Final = {
    REVIEWER: _("市经信局审核人员"),
    APPROVER: _("市经信局复核（审批）人员"),
    SCREENER: _("市数字经济中心初审人员（方向三）"),
    AUDITOR: _("审计人员（只读）"),
    ADMINISTRATOR: _("系统管理员"),
    APPLICANT: _("申报单位"),
    SYSTEM: _("系统（命令行）"),
}


def _roles_of_groups(group_names: Any, is_superuser: bool) -> frozenset[str]:
    roles = frozenset(name for name in group_names if name in STAFF_ROLES)
    return roles | {ADMINISTRATOR} if is_superuser else roles


def staff_roles_of(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_voucher_roles", None)
    if cached is None:
        # groups.all(), not values_list: a list of users fetched with prefetch_related("groups")
        # then costs no query per user
        cached = _roles_of_groups((g.name for g in user.groups.all()), user.is_superuser)
        user._voucher_roles = cached
    return frozenset(cached)


def know_groups(user: Any, group_names: Any) -> None:
    """The user's staff roles from the names of its groups read at this request with its
    session (accounts/door.py, decision 0053): staff_roles_of then asks no query."""
    user._voucher_roles = _roles_of_groups(group_names, user.is_superuser)


def staff_holding(*roles: str) -> list[Any]:
    """The active users holding one of the staff `roles` (groups), by username, each with all
    its staff roles known (staff_roles_of asks no query of them): in one query, the users read
    with their staff groups (the review screen's assignable staff, issue 23)."""
    through = get_user_model().groups.through
    # its SQL written once per process: nothing in it varies (decision 0050)
    memberships = precompiled.rows(
        "roles.staff_holding",
        through,
        lambda: (
            through.objects.filter(user__is_active=True, group__name__in=STAFF_ROLES)
            .select_related("user", "group")
            .order_by("user__username", "user_id")
        ),
    )
    users: dict[int, Any] = {}
    groups: dict[int, list[str]] = {}
    for membership in memberships:
        users.setdefault(membership.user_id, membership.user)
        groups.setdefault(membership.user_id, []).append(membership.group.name)
    wanted = frozenset(roles)
    held = []
    for pk, user in users.items():
        user._voucher_roles = _roles_of_groups(groups[pk], user.is_superuser)
        if user._voucher_roles & wanted:
            held.append(user)
    return held


def is_applicant_of(user: Any, application: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    # A row lifecycle.lock returned lives for the transaction that locked it: the answer is
    # kept on it, so a transition's check and its guard (workflow._centre_on_direction_3) ask
    # once. Any other application object asks each time (a membership may change meanwhile).
    locked = getattr(application, "_voucher_locked", False)
    known = application.__dict__.setdefault("_voucher_applicants", {}) if locked else {}
    if user.pk not in known:
        membership = membership_of(user)
        known[user.pk] = (
            membership is not None and membership.enterprise_id == application.enterprise_id
        )
    return bool(known[user.pk])


def membership_of(user: Any) -> Membership | None:
    """The user's membership of an enterprise (one at most), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.select_related("enterprise").filter(user=user).first()


def roles_of(
    user: Any, application: Any = None, among: frozenset[str] | None = None
) -> frozenset[str]:
    """The user's roles, the applicant's on `application` too. With `among` (the roles a
    transition allows), the applicant's membership, which costs a query, is asked only when
    it could matter: the staff's transitions do not need it."""
    if user is SYSTEM_ACTOR:
        return frozenset({SYSTEM})
    roles = staff_roles_of(user)
    wanted = among is None or APPLICANT in among
    if application is not None and wanted and is_applicant_of(user, application):
        roles |= {APPLICANT}
    return roles


def supplier_uscc_of(user: Any) -> str | None:
    """The USCC of the compute supplier the user acts for (issue 22); None for anyone else."""
    if not getattr(user, "is_authenticated", False):
        return None
    return SupplierMember.objects.filter(user_id=user.pk).values_list("uscc", flat=True).first()
