"""Writes of the bureau's API tokens: issue, revoke, and the audited use of a token.

A token is `cvb_<prefix>_<secret>`: the prefix is looked up, only the SHA-256 of the secret is
kept (the secret is 256 random bits, so a plain hash cannot be brute-forced). Every issue, revoke
and use is written to the audit log; the decisions themselves are audited by the review actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.core import bearer
from voucher.core.audit import audit
from voucher.core.refusals import Refused
from voucher.staffapi.models import DECIDE, DEFAULT_DAYS, MAX_DAYS, SCOPES, StaffApiToken

TOKEN_PREFIX = "cvb"


TokenError = Refused  # a token refused: the one refusal (core/refusals.py)


def scopes_for(user: Any) -> tuple[str, ...]:
    """The scopes a user's roles can use: `decide` only for the roles the decisions of the API
    belong to (a reviewer proposes; an approver confirms or returns). Anyone else's decide
    token would only be refused at every use."""

    deciding = r.staff_roles_of(user) & {r.REVIEWER, r.APPROVER}
    return SCOPES if deciding else tuple(s for s in SCOPES if s != DECIDE)


def token_issue(
    *,
    user: Any,
    label: str,
    scopes: Iterable[str],
    days: int = DEFAULT_DAYS,
    acting_user: Any,
) -> tuple[StaffApiToken, str]:
    """A new token for `user`, issued by that user; the returned text is shown once."""
    if acting_user is None or user is None or acting_user.pk != user.pk:
        raise TokenError(_("只能为自己签发令牌"))
    check = p.can_use_review_site(user)
    if not check:
        raise TokenError(check.reason)
    label = label.strip()
    if not label:
        raise TokenError(_("请填写令牌用途"))
    if len(label) > 100:
        raise TokenError(_("用途最多100个字"))
    chosen = sorted(set(scopes), key=SCOPES.index) if set(scopes) <= set(SCOPES) else None
    if chosen is None:
        raise TokenError(
            _("未知的权限范围：%(scopes)s") % {"scopes": sorted(set(scopes) - set(SCOPES))}
        )
    if not chosen:
        raise TokenError(_("请至少选择一项权限范围"))
    beyond = [scope for scope in chosen if scope not in scopes_for(user)]
    if beyond:
        raise TokenError(_("您的角色不能使用权限范围：%(scopes)s") % {"scopes": ", ".join(beyond)})
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(_("有效期须为 1 至 %(max)s 天") % {"max": MAX_DAYS})
    parts = bearer.new_parts()
    with transaction.atomic():
        token = StaffApiToken.objects.create(
            user=user,
            label=label,
            prefix=parts.prefix,
            secret_sha256=bearer.secret_sha256(parts.secret),
            scopes=chosen,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit(
            actor=acting_user,
            action="staff_token_issue",
            obj=token,
            data={"token": parts.prefix, "label": label, "scopes": chosen, "days": days},
        )
    return token, bearer.text(TOKEN_PREFIX, parts)


def token_revoke(*, token: StaffApiToken, acting_user: Any) -> StaffApiToken:
    """A user revokes one of their own tokens (at once; a revoked token stays revoked)."""
    if acting_user is None or token.user_id != acting_user.pk:
        raise TokenError(_("只能撤销自己的令牌"))
    with transaction.atomic():
        current = StaffApiToken.objects.select_for_update().get(pk=token.pk)
        if current.revoked_at is not None:
            raise TokenError(_("该令牌已撤销"))
        current.revoked_at = timezone.now()
        current.save(update_fields=["revoked_at"])
        audit(
            actor=acting_user,
            action="staff_token_revoke",
            obj=current,
            data={"token": current.prefix},
        )
    return current


def token_authenticate(
    *, raw: str, method: str, path: str, client: str = ""
) -> StaffApiToken | None:
    """The live token `raw` names, its use audited; None otherwise (audited when the token
    exists: revoked, expired, or its user no longer staff)."""

    def refuse(reason: str) -> None:  # audited too: a token that names none (never its secret)
        bearer.refused(
            kind=TOKEN_PREFIX, raw=raw, reason=reason, method=method, path=path, client=client
        )

    parts = bearer.parse(raw, TOKEN_PREFIX)
    if parts is None:
        refuse(bearer.MALFORMED)
        return None
    token = StaffApiToken.objects.select_related("user").filter(prefix=parts.prefix).first()
    if token is None:
        refuse(bearer.UNKNOWN_PREFIX)
        return None
    if not bearer.matches(token.secret_sha256, parts.secret):
        refuse(bearer.WRONG_SECRET)
        return None
    now = timezone.now()
    staff = p.can_use_review_site(token.user)
    live = token.live_at(now) and bool(staff)  # the same `now` as the audit's "expired"
    with transaction.atomic():
        if live:
            StaffApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        audit(
            actor=token.user,
            action="staff_token_use" if live else "staff_token_refused",
            obj=token,
            data={
                "token": token.prefix,
                "method": method,
                "path": path[:300],
                "client": client,
                "revoked": token.revoked_at is not None,
                "expired": token.expires_at <= now,
                "staff": bool(staff),
            },
        )
    return token if live else None
