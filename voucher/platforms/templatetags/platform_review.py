"""`{% platform_review_data application as pr %}`: what the platforms know about an application,
for the reviewer's screen (review/_settlement.html): the reconciliation a direction-3
application was built with, and the settlement data attached to another direction's contracts.
`{% platform_settlement application as settlement %}`: the settlement data alone (the
applicant's status page, portal/_settlement.html, shows no reconciliation)."""

from __future__ import annotations

from typing import Any

from django import template

from voucher.platforms import selectors

register = template.Library()


@register.simple_tag
def platform_review_data(application: Any) -> dict[str, Any]:
    if application is None or getattr(application, "pk", None) is None:
        return {}
    return {
        "reconciliations": selectors.reconciliations_of(application),
        "settlement": selectors.settlement_of(application),
    }


@register.simple_tag
def platform_settlement(application: Any) -> list[Any]:
    if application is None or getattr(application, "pk", None) is None:
        return []
    return list(selectors.settlement_of(application))
