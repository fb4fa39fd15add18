"""Sign-up, the enterprise, invitations. Login, logout and password reset are Django's views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required as _login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from voucher.accounts import actions, door
from voucher.accounts.forms import (
    APPROVE,
    CLAIM_DECLARATION,
    ClaimDecisionForm,
    ClaimForm,
    EnterpriseForm,
    InvitationForm,
    SignUpForm,
)
from voucher.accounts.models import PENDING, EnterpriseClaim
from voucher.applications import payees
from voucher.applications.access import access_enterprise_admin, membership_of, staff_verified_by
from voucher.applications.models import Enterprise
from voucher.applications.permissions import can_decide_enterprise_claim
from voucher.applications.uploads import (
    UploadRefused,
    check_upload,
    upload_file_response,
)
from voucher.core.http import upload_limit, upload_limit_bytes
from voucher.core.refusals import Refused

BACKEND = door.BACKEND

login_required = _login_required(login_url="accounts:login")


class LoginView(auth_views.LoginView):
    """The password login, with the identity service's button when OIDC is configured and the
    sign-up link when password sign-up is open."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.VOUCHER_OIDC_ENABLED
        context["password_signup"] = settings.VOUCHER_PASSWORD_SIGNUP
        return context


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    # Production: enterprises log in through OIDC; a person invited by an enterprise's
    # administrator (the invitation page put its token in the session) still signs up here.
    if not settings.VOUCHER_PASSWORD_SIGNUP and not request.session.get("invitation_token"):
        raise Http404(_("本系统不开放密码注册，请使用统一身份认证登录。"))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.user_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                person_name=form.cleaned_data.get("person_name") or "",
            )
        except actions.AccountError as exc:
            form.add_error("email", str(exc))
        else:
            login(request, user, backend=BACKEND)
            following = request.session.pop("invitation_token", None)
            if following:
                return redirect("accounts:invitation", token=following)
            return redirect("accounts:enterprise_new")
    return render(request, "accounts/sign_up.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_new(request: HttpRequest) -> HttpResponse:
    if membership_of(request.user) is not None:
        return redirect("portal:home")
    form = EnterpriseForm(request.POST or None)
    claims = EnterpriseClaim.objects.filter(claimant=request.user.pk).select_related("enterprise")
    latest = claims.first()
    if request.method == "POST" and latest is not None and latest.status == PENDING:
        messages.error(
            request,
            _("您认领“%(name)s”的申请正在审核，审核结束前不能登记其他单位。")
            % {"name": latest.enterprise.name},
        )
        return redirect("accounts:enterprise_new")
    if request.method == "POST" and form.is_valid():
        try:
            actions.enterprise_register(
                uscc=form.cleaned_data["uscc"],
                name=form.cleaned_data["name"],
                acting_user=request.user,
            )
        except actions.ClaimRequired as exc:
            messages.info(request, str(exc))
            query = urlencode({"uscc": exc.enterprise.uscc})
            return redirect(f"{reverse('accounts:enterprise_claim')}?{query}")
        except actions.AccountError as exc:
            form.add_error("uscc", str(exc))
        else:
            for warning in form.uscc_warnings:
                messages.warning(request, warning)
            return redirect("portal:home")
    return render(request, "accounts/enterprise_new.html", {"form": form, "claim": latest})


# --- claiming an enterprise that exists without members ------------------------------------------


@upload_limit("licence")
@login_required
@require_http_methods(["GET", "POST"])
def enterprise_claim(request: HttpRequest) -> HttpResponse:
    """The claimant's request: business licence (checked like every upload) and declaration."""

    if membership_of(request.user) is not None:
        return redirect("portal:home")
    pending = EnterpriseClaim.objects.filter(claimant=request.user.pk, status=PENDING).first()
    if pending is not None:
        return redirect("accounts:enterprise_new")
    uscc = (request.POST.get("uscc") or request.GET.get("uscc") or "").strip().upper()
    enterprise = Enterprise.objects.filter(uscc=uscc).first()
    if enterprise is None or enterprise.memberships.exists():
        raise Http404
    form = ClaimForm(request.POST or None, request.FILES or None, initial={"uscc": uscc})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["licence"]
        try:
            checked = check_upload(
                upload.name or "", upload.read(_max_upload_bytes() + 1), kind="licence"
            )
            actions.enterprise_claim_request(
                uscc=enterprise.uscc,
                claimant_name=form.cleaned_data["claimant_name"],
                claimant_position=form.cleaned_data["claimant_position"],
                declaration=str(CLAIM_DECLARATION),
                licence_name=checked.name,
                licence_content=checked.content,
                licence_content_type=checked.content_type,
                acting_user=request.user,
            )
        except UploadRefused as exc:
            form.add_error("licence", str(exc))
        except actions.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("认领申请已提交，审核结果将通过邮件通知您。"))
            return redirect("accounts:enterprise_new")
    return render(
        request,
        "accounts/enterprise_claim.html",
        {"form": form, "enterprise": enterprise},
        status=400 if form.errors else 200,
    )


def _max_upload_bytes() -> int:
    return upload_limit_bytes("licence")


StaffView = Callable[..., HttpResponseBase]


def claim_administrator(view: StaffView) -> StaffView:
    """A staff administrator with a TOTP-verified session: the review site's own check
    (`staff_verified_by`), with the claims' permission."""

    return staff_verified_by(can_decide_enterprise_claim)(view)


@claim_administrator
@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    rows = EnterpriseClaim.objects.select_related("enterprise", "claimant", "decided_by")
    return render(
        request,
        "accounts/claims.html",
        {
            "pending": [c for c in rows if c.status == PENDING],
            "decided": [c for c in rows if c.status != PENDING][:50],
        },
    )


@claim_administrator
@require_http_methods(["GET", "POST"])
def claim_decide(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(
        EnterpriseClaim.objects.select_related("enterprise", "claimant", "decided_by"), pk=claim_id
    )
    form = ClaimDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.enterprise_claim_decide(
                claim=claim,
                approve=form.cleaned_data["decision"] == APPROVE,
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except actions.AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("已审核，结果已通过邮件告知申请人。"))
            return redirect("accounts:claims")
    return render(
        request,
        "accounts/claim.html",
        {"claim": claim, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def claim_licence(request: HttpRequest, claim_id: int) -> HttpResponseBase:
    """The licence of a claim: to the claimant and to a staff administrator, to nobody else."""

    claim = EnterpriseClaim.objects.filter(pk=claim_id).first()
    if claim is None:
        raise Http404
    user: Any = request.user
    administrator = (
        can_decide_enterprise_claim(user).allowed and getattr(user, "is_verified", lambda: False)()
    )
    if claim.claimant_id != user.pk and not administrator:
        raise Http404
    return upload_file_response(
        claim.licence_sha256, filename=claim.licence_name, content_type=claim.licence_content_type
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_members(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None:
        return redirect("accounts:enterprise_new")
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        access_enterprise_admin(request.user)
        if form.is_valid():
            try:
                actions.invitation_create(
                    email=form.cleaned_data["email"],
                    acting_user=request.user,
                    accept_url_for=lambda token: request.build_absolute_uri(
                        reverse("accounts:invitation", kwargs={"token": token})
                    ),
                )
            except actions.AccountError as exc:
                form.add_error("email", str(exc))
            else:
                messages.success(request, "邀请邮件已发送。")
                return redirect("accounts:enterprise")
    enterprise = membership.enterprise
    return render(
        request,
        "accounts/enterprise.html",
        {
            "membership": membership,
            "enterprise": enterprise,
            "members": enterprise.memberships.select_related("user"),
            "invitations": enterprise.invitations.filter(accepted_at__isnull=True),
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = actions.invitation_find(token)
    if not request.user.is_authenticated:
        request.session["invitation_token"] = token
        return render(request, "accounts/invitation.html", {"invitation": found})
    if request.method == "POST":
        try:
            actions.invitation_accept(token=token, acting_user=request.user)
        except actions.AccountError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("portal:home")
    return render(request, "accounts/invitation.html", {"invitation": found})


@require_http_methods(["GET", "POST"])
def supplier_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """A compute supplier's contact joins by the bureau's invitation (issue 22)."""
    found = actions.supplier_invitation_find(token)
    if request.user.is_authenticated and request.method == "POST":
        try:
            actions.supplier_invitation_accept(token=token, acting_user=request.user)
        except actions.AccountError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("portal:supplier_contracts")
    return render(request, "accounts/supplier_invitation.html", {"invitation": found})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_payee(request: HttpRequest) -> HttpResponse:
    """收款账户: the administrator enters it; every member sees where the subsidy will go."""
    membership = membership_of(request.user)
    if membership is None:
        return redirect("accounts:enterprise_new")
    enterprise = membership.enterprise
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        access_enterprise_admin(request.user)
        typed = {
            k: request.POST.get(k, "") for k in ("account_name", "bank", "branch", "account_number")
        }
        try:
            payees.payee_enter(enterprise=enterprise, acting_user=request.user, **typed)
        except Refused as refused:
            errors = {e["location"]: e["message"] for e in refused.errors} or {
                refused.field or "account_name": str(refused.message)
            }
        else:
            messages.success(request, _("收款账户已提交，经工作人员核验和确认后用于拨付。"))
            return redirect("accounts:payee")
    return render(
        request,
        "accounts/payee.html",
        {
            "membership": membership,
            "enterprise": enterprise,
            "in_force": payees.payee_in_force(enterprise.pk),
            "waiting": payees.payee_waiting(enterprise.pk),
            "rejected": enterprise.payee_accounts.filter(state="rejected").first(),
            "typed": typed or {"account_name": enterprise.name},
            "errors": errors,
        },
        status=422 if errors else 200,
    )
