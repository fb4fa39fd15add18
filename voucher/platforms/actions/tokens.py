"""Platforms and their API tokens: the round file's platforms, issuing, revoking and checking
a token, the organisation running a platform.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from voucher.applications.parameters import current_effective_round
from voucher.core import bearer
from voucher.core.audit import audit
from voucher.platforms.actions.common import _actor
from voucher.platforms.models import ApiToken, Platform
from voucher.policy import uscc as uscc_codes

TOKEN_PREFIX = "cvp"


def platforms_sync(*, acting_user: Any = None) -> list[Platform]:
    """One Platform per platform of the round file (二（二）)."""
    out = []
    with transaction.atomic():
        for code, name in sorted(current_effective_round().policy_round.d3_platforms.items()):
            platform, _ = Platform.objects.update_or_create(code=code, defaults={"name": name})
            out.append(platform)
        audit(actor=acting_user, action="platforms_sync", data={"platforms": [p.code for p in out]})
    return out


def token_issue(
    *,
    platform: Platform,
    label: str,
    scopes: list[str] | None = None,
    days: int = 365,
    acting_user: Any = None,
    fixed: tuple[str, str] | None = None,
) -> tuple[ApiToken, str]:
    """A new token; the returned text is the only time the secret exists outside the client.

    `fixed` (prefix, secret) is for `voucher demo` only: a published demo token, like the demo
    password, so that the walkthrough in docs/platform-api.md can be pasted as it is.
    """
    if days < 1:
        raise ValueError(f"a token lives at least one day (days={days})")
    scopes = list(scopes if scopes is not None else ApiToken.SCOPES)
    unknown = sorted(set(scopes) - set(ApiToken.SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {list(ApiToken.SCOPES)}")
    parts = bearer.Parts(*fixed) if fixed is not None else bearer.new_parts()
    with transaction.atomic():
        token = ApiToken.objects.create(
            platform=platform,
            label=label,
            prefix=parts.prefix,
            secret_sha256=bearer.secret_sha256(parts.secret),
            scopes=scopes,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit(
            actor=acting_user,
            action="platform_token_issue",
            obj=token,
            data={
                "platform": platform.code,
                "scopes": scopes,
                "days": days,
                "fixed": fixed is not None,
            },
        )
    return token, bearer.text(TOKEN_PREFIX, parts)


def platform_organisation_set(*, platform: Platform, uscc: str, acting_user: Any = None) -> None:
    """Record the USCC of the organisation running a platform (settlement data is accepted for
    contracts whose supplier it is). Empty clears it."""
    uscc = uscc.strip().upper()
    if uscc and (len(uscc) != 18 or not uscc_codes.is_well_formed(uscc)):
        raise ValueError(f"not a USCC: {uscc!r}")
    with transaction.atomic():
        previous = platform.uscc
        platform.uscc = uscc
        platform.save(update_fields=["uscc"])
        audit(
            actor=acting_user,
            action="platform_organisation_set",
            obj=platform,
            data={"platform": platform.code, "uscc": uscc, "previous": previous},
        )


def token_revoke(*, token: ApiToken, acting_user: Any = None) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=acting_user, action="platform_token_revoke", obj=token, data={})


def token_authenticate(*, raw: str, method: str, path: str, client: str = "") -> ApiToken | None:
    """The live token `raw` names, its use audited; None for anything else (also audited)."""

    def refuse(reason: str) -> None:  # audited too: a token that names none (never its secret)
        bearer.refused(
            kind=TOKEN_PREFIX, raw=raw, reason=reason, method=method, path=path, client=client
        )

    parts = bearer.parse(raw, TOKEN_PREFIX)
    if parts is None:
        refuse(bearer.MALFORMED)
        return None
    token = ApiToken.objects.select_related("platform").filter(prefix=parts.prefix).first()
    if token is None:
        refuse(bearer.UNKNOWN_PREFIX)
        return None
    if not bearer.matches(token.secret_sha256, parts.secret):
        refuse(bearer.WRONG_SECRET)
        return None
    now = timezone.now()
    live = token.revoked_at is None and token.expires_at > now
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit(
            actor=None,
            action="platform_token_use" if live else "platform_token_refused",
            obj=token,
            data={
                **_actor(token),
                "method": method,
                "path": path[:300],
                "client": client,
                "revoked": token.revoked_at is not None,
                "expired": token.expires_at <= now,
            },
        )
    return token if live else None
