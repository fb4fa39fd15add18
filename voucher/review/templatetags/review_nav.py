"""`{% review_nav as nav %}`: which of the review site's pages the user may open, so that the
navigation offers no link that answers 403 (the pages check the same permissions)."""

from __future__ import annotations

from typing import Any

from django import template

from voucher.applications import permissions as p

register = template.Library()


@register.simple_tag(takes_context=True)
def review_nav(context: Any) -> dict[str, bool]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "notifications": bool(p.can_see_notifications(user)),
        "screening": bool(p.can_screen(user)),
        "registry_import": bool(p.can_import_registry(user)),
        "staff": bool(p.can_manage_users(user)),
        "claims": bool(p.can_decide_enterprise_claim(user)),
        "payees": bool(p.can_check_payee(user)),
    }
