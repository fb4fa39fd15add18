"""The access_* functions: every portal view asks one of these before it reads or writes.

An outsider (a user of another enterprise, or of none) gets 404 for another enterprise's
application, whatever the URL: the answer does not even say that the application exists.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from voucher.accounts.models import Membership
from voucher.applications.models import Application


def membership_of(user: Any) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("enterprise").filter(user=user).first()


def access_enterprise_admin(user: Any) -> Membership:
    """The membership of an enterprise administrator; PermissionDenied for a plain member."""
    membership = membership_of(user)
    if membership is None:
        raise Http404("no enterprise")
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def user_may_access_application(user: Any, application: Application) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.enterprise_id == application.enterprise_id


def access_application(user: Any, application_id: int) -> Application:
    """The application, if the user is a member of the enterprise that owns it; else 404.

    Reads, writes, uploads, downloads and submission all come through here; whether the
    application may still be changed is the actions' business (they refuse a frozen one).
    """
    membership = membership_of(user)
    if membership is None:
        raise Http404("no enterprise")
    application = (
        Application.objects.select_related("round", "enterprise")
        .filter(pk=application_id, enterprise_id=membership.enterprise_id)
        .first()
    )
    if application is None:
        raise Http404("no such application")
    return application


def accessible_applications(user: Any) -> list[Application]:
    membership = membership_of(user)
    if membership is None:
        return []
    return list(
        Application.objects.filter(enterprise_id=membership.enterprise_id)
        .select_related("round", "enterprise")
        .order_by("-created_at", "-id")
    )
