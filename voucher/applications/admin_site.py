"""The Django admin behind the same door as every staff page: administrators only, in a session
verified by a TOTP code. A password alone opens no staff data anywhere; the admin's own password
form is never shown (its login sends to the review site's, which asks for the code)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from voucher.applications import permissions as p
from voucher.applications.access import staff_session_verified


class AdministratorsAdminSite(admin.AdminSite):
    site_header = "算力券 · 系统管理"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(
            user.is_active and p.can_use_admin(user).allowed and staff_session_verified(request)
        )

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and not p.can_use_admin(request.user):
            # logged in, but no administrator: the same 403 as every page the role may not open
            raise PermissionDenied(p.can_use_admin(request.user).reason)
        return redirect(f"{reverse('review:login')}?next={target}")


class AdministratorBackend:
    """Django's model permissions, answered by the access layer: the administrator holds them
    all (the admin's read-only tables still refuse writes the actions own); nobody else holds
    any through this backend. Authentication is not its business (authenticate → None)."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return bool(user_obj.is_active and p.can_use_admin(user_obj).allowed)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(user_obj.is_active and p.can_use_admin(user_obj).allowed)
