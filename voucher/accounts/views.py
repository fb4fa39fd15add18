"""Sign-up, the enterprise, invitations. Login, logout and password reset are Django's views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required as _login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from voucher.accounts import actions
from voucher.accounts.access import access_enterprise_admin, membership_of
from voucher.accounts.forms import EnterpriseForm, InvitationForm, SignUpForm

BACKEND = "django.contrib.auth.backends.ModelBackend"

login_required = _login_required(login_url="accounts:login")


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.user_sign_up(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"]
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
    if request.method == "POST" and form.is_valid():
        try:
            actions.enterprise_register(
                uscc=form.cleaned_data["uscc"],
                name=form.cleaned_data["name"],
                acting_user=request.user,
            )
        except actions.AccountError as exc:
            form.add_error("uscc", str(exc))
        else:
            for warning in form.uscc_warnings:
                messages.warning(request, warning)
            return redirect("portal:home")
    return render(request, "accounts/enterprise_new.html", {"form": form})


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
