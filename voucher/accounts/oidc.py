"""Enterprises log in through OpenID Connect (the government's unified identity service).

mozilla-django-oidc runs the authorization-code flow (state, nonce and PKCE kept in the session and
checked at the callback); this backend adds what the library leaves out and what the programme
needs (docs/decisions/0024-oidc-login.md):

- the ID token's issuer, audience and expiry are checked (the library checks only the signature
  and the nonce);
- the claims are those of the signed ID token, not of the userinfo endpoint;
- the user is found by the token's subject (username ``oidc:<sub>``), never by an e-mail address;
- the enterprise and the membership come from the claims (VOUCHER_OIDC_USCC_CLAIM,
  VOUCHER_OIDC_NAME_CLAIM), through ``actions.enterprise_from_identity``, never from a form;
- the person's own name (VOUCHER_OIDC_PERSON_NAME_CLAIM, OpenID Connect's ``name``) is what the
  pages show of them, never the synthetic username.

A refusal (no USCC, a malformed one, a wrong check character, another enterprise than last time)
creates nothing; its message is put on the login page the callback returns to.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend  # type: ignore[import-untyped]
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView  # type: ignore[import-untyped]

from voucher.accounts import actions, door
from voucher.applications.people import SYNTHETIC_PREFIX
from voucher.core.refusals import Refused

USERNAME_PREFIX = SYNTHETIC_PREFIX  # "oidc:": never shown (applications/people.py)
LEEWAY_SECONDS = 60  # clocks of the provider and of this server may differ a little


class IdentityRefused(SuspiciousOperation):
    """The provider's claims do not let this person in; the message says why."""


def enabled() -> bool:
    return bool(getattr(settings, "VOUCHER_OIDC_ENABLED", False))


class EnterpriseOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if not enabled() or request is None or "code" not in getattr(request, "GET", {}):
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        """The user of the session, read with it (accounts/door.py, decision 0053), if active:
        the library's get_user returned a deactivated user too, who then kept their session
        (Django's ModelBackend refuses them, and so does this backend now)."""
        user = door.user_from_door(user_id)
        if user is door.NOT_READ:
            user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:  # expired, not yet valid…: PyJWT's, not a 500
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        now = time.time()
        issuer = settings.OIDC_OP_ISSUER
        if payload.get("iss") != issuer:
            raise SuspiciousOperation(f"ID token from issuer {payload.get('iss')!r}")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        expires = payload.get("exp")
        if not isinstance(expires, int | float) or expires + LEEWAY_SECONDS < now:
            raise SuspiciousOperation("ID token expired")
        if not payload.get("sub"):
            raise SuspiciousOperation("ID token without a subject")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        return payload  # the signed ID token's claims; the userinfo endpoint is not asked

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(username=USERNAME_PREFIX + str(claims["sub"]))

    def _identity(self, claims: dict[str, Any]) -> tuple[str, str]:
        return (
            str(claims.get(settings.VOUCHER_OIDC_USCC_CLAIM) or ""),
            str(claims.get(settings.VOUCHER_OIDC_NAME_CLAIM) or ""),
        )

    def _refuse(self, message: str) -> None:
        messages.error(self.request, message)
        raise IdentityRefused(message)

    def _person_name(self, claims: dict[str, Any]) -> str:
        return str(claims.get(settings.VOUCHER_OIDC_PERSON_NAME_CLAIM) or "")

    def create_user(self, claims: dict[str, Any]) -> Any:
        """The first login; also when a simultaneous first login of the same person made the
        user a moment ago (the action returns that user: no 500, no second user)."""
        uscc, name = self._identity(claims)
        try:
            user, _membership = actions.enterprise_from_identity(
                username=USERNAME_PREFIX + str(claims["sub"]),
                uscc=uscc,
                name=name,
                issuer=settings.OIDC_OP_ISSUER,
                person_name=self._person_name(claims),
            )
        except Refused as exc:
            self._refuse(str(exc))
        return user

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        uscc, _name = self._identity(claims)
        try:
            actions.identity_matches(user=user, uscc=uscc)
        except Refused as exc:
            self._refuse(str(exc))
        actions.identity_name_update(user=user, person_name=self._person_name(claims))
        return user


def _refuse_unless_enabled() -> None:
    if not enabled():
        raise Http404(_("本系统未启用统一身份认证登录。"))


class OIDCLoginView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce, PKCE challenge in the session)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _refuse_unless_enabled()
        response: HttpResponse = super().get(request)
        return response


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: a state not in this session is refused (400) by the library."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _refuse_unless_enabled()
        response: HttpResponse = super().get(request)
        return response
