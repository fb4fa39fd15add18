"""The token page: a staff member, logged in with TOTP, issues (the secret is shown once) and
revokes their own tokens for the bureau's API. Thin: actions write, selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from voucher.applications.access import staff_verified
from voucher.staffapi import actions, selectors
from voucher.staffapi.models import DEFAULT_DAYS, MAX_DAYS, SCOPE_LABELS, SCOPES, StaffApiToken


def _page(request: HttpRequest, **extra: Any) -> HttpResponse:
    context = {
        "tokens": selectors.tokens_of(request.user),
        "scopes": [(s, _(SCOPE_LABELS[s])) for s in actions.scopes_for(request.user)],
        "max_days": MAX_DAYS,
        "default_days": DEFAULT_DAYS,
        "form": {"label": "", "days": DEFAULT_DAYS, "scopes": [SCOPES[0]]},
        **extra,
    }
    return render(request, "staffapi/tokens.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_verified
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    label = request.POST.get("label", "")
    scopes = request.POST.getlist("scopes")
    form = {"label": label, "days": request.POST.get("days", ""), "scopes": scopes}
    try:
        days = int(request.POST.get("days", ""))
    except ValueError:
        messages.error(request, _("有效期须为 1 至 %(max)s 天") % {"max": MAX_DAYS})
        return _page(request, form=form)
    try:
        token, secret = actions.token_issue(
            user=request.user, label=label, scopes=scopes, days=days, acting_user=request.user
        )
    except actions.TokenError as refused:
        messages.error(request, str(refused))
        return _page(request, form=form)
    # shown this once, on this response; never stored, never cached
    return _page(request, issued=token, secret=secret)


@staff_verified  # the door before the method: every page answers who may, first
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(StaffApiToken, pk=token_id, user=request.user)
    try:
        actions.token_revoke(token=token, acting_user=request.user)
    except actions.TokenError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("令牌 %(prefix)s 已撤销") % {"prefix": token.prefix})
    return redirect("staffapi:tokens")
