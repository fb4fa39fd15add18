"""The administrator's desk (系统管理): staff accounts and roles, and the round's dates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voucher.accounts.actions import supplier_invitation_create
from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.applications.access import staff_verified, staff_verified_by
from voucher.core.refusals import Refused
from voucher.review import staff
from voucher.review.views import round_asked


def _page(
    request: HttpRequest, errors: dict[str, str], status: int = 200, **extra: object
) -> HttpResponse:
    record = round_asked(request)
    return render(
        request,
        "review/staff.html",
        {
            "rows": staff.staff_rows(),
            "roles": [(code, r.ROLE_LABELS[code]) for code in r.STAFF_ROLES],
            "round": record,
            "errors": errors,
            "form": request.POST if request.method == "POST" else {},
            "can_users": p.can_manage_users(request.user),
            "can_round": p.can_manage_round(request.user),
            **extra,
        },
        status=status,
    )


def _refuse_unless(check: p.Check) -> None:
    if not check:
        raise PermissionDenied(check.reason)


@staff_verified
def desk(request: HttpRequest) -> HttpResponse:
    users = p.can_manage_users(request.user)
    if not users and not p.can_manage_round(request.user):
        raise PermissionDenied(users.reason)
    if request.method != "POST":
        return _page(request, {})
    what = request.POST.get("what", "")
    try:
        if what == "create":
            _refuse_unless(p.can_manage_users(request.user))
            user = staff.staff_create(
                username=request.POST.get("username", ""),
                email=request.POST.get("email", ""),
                role=request.POST.get("role", ""),
                acting_user=request.user,
                request=request,
            )
            messages.success(
                request,
                _("已创建 %(name)s，设置密码的链接和验证器绑定链接已发往 %(email)s")
                % {"name": user.get_username(), "email": user.email},
            )
        elif what == "dates":
            _refuse_unless(p.can_manage_round(request.user))
            record = staff.round_dates_set(
                record=round_asked(request),
                opens_on=request.POST.get("opens_on"),
                closes_on=request.POST.get("closes_on"),
                acting_user=request.user,
            )
            messages.success(request, _("已保存 %(round)s 的申报日期") % {"round": record.code})
        else:
            raise Http404("unknown action")
    except staff.StaffError as exc:
        messages.error(request, exc.message)
        return _page(request, {exc.field or "form": exc.message}, status=422)
    return redirect(f"{reverse('review:staff')}?round={round_asked(request).code}")


@staff_verified_by(p.can_manage_users)
@require_POST
def staff_member(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    what = request.POST.get("what", "")
    role = request.POST.get("role", "")
    try:
        if what == "grant":
            staff.staff_role_grant(user=user, role=role, acting_user=request.user)
        elif what == "revoke":
            staff.staff_role_revoke(user=user, role=role, acting_user=request.user)
        elif what in ("activate", "deactivate"):
            staff.staff_active_set(user=user, active=what == "activate", acting_user=request.user)
        elif what in ("totp_link", "totp_reset"):
            link = staff.staff_totp_link(
                user=user, acting_user=request.user, request=request, reset=what == "totp_reset"
            )
            # shown once, on this answer only (never in a message cookie or the session)
            return _page(request, {}, enrolment_link={"user": user.get_username(), "url": link})
        else:
            raise Http404("unknown action")
    except staff.StaffError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已更新 %(name)s") % {"name": user.get_username()})
    return redirect("review:staff")


@staff_verified_by(p.can_invite_supplier)
def supplier_invite(request: HttpRequest) -> HttpResponse:
    """邀请算力供给方 (issue 22): a USCC and an e-mail; the one-time link is shown and mailed."""
    errors: dict[str, str] = {}
    link = ""
    status = 200
    if request.method == "POST":
        try:
            _invitation, link = supplier_invitation_create(
                uscc=request.POST.get("uscc", ""),
                email=request.POST.get("email", ""),
                acting_user=request.user,
                accept_url_for=lambda token: request.build_absolute_uri(
                    reverse("accounts:supplier_invitation", args=[token])
                ),
            )
        except Refused as refused:
            errors[refused.field or "uscc"] = str(refused.message)
            status = 422
        else:
            messages.success(request, _("邀请已发出。"))
    return render(
        request,
        "review/supplier_invite.html",
        {
            "errors": errors,
            "link": link,
            "form": request.POST if request.method == "POST" and errors else {},
        },
        status=status,
    )
