"""Who may see the pages: staff; everyone only in a public demo (DEBUG or VOUCHER_PUBLIC_DEMO)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def is_public_demo() -> bool:
    return bool(settings.DEBUG or getattr(settings, "VOUCHER_PUBLIC_DEMO", False))


def staff_or_public_demo(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_public_demo():
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.is_staff:
                raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
