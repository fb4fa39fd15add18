"""`{% typed "propose" "amount" default %}`: the value typed into a refused form, or `default`;
`{% typed_checked "propose" "kind" "approval" True %}`: ` checked` when it was."""

from __future__ import annotations

from typing import Any

from django import template

from voucher.review import typed as kept

register = template.Library()


@register.simple_tag(takes_context=True)
def typed(context: Any, form: str, field: str, default: Any = "") -> Any:
    return kept.value(context.get("typed_form"), form, field, default)


@register.simple_tag(takes_context=True)
def typed_checked(context: Any, form: str, field: str, option: Any, default: bool = False) -> str:
    return (
        " checked" if kept.checked(context.get("typed_form"), form, field, option, default) else ""
    )
