"""Money for people: `¥12,345,678.90`, `2,300,000.00 元` and `1,234.56789 万元`, exact, from
Decimal only."""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.template.base import render_value_in_context
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from voucher.applications.people import display_name
from voucher.applications.wording import direction_name
from voucher.policy.money import (
    format_wan,
    format_yuan_grouped,
    yuan_in_english_words,
    yuan_in_words,
)

register = template.Library()


def variable_html(value: Any, context: Any) -> str:
    """`{{ value }}` as the template engine writes it (render_value_in_context), for the tags
    that write a long list's rows themselves (decision 0041): a plain string is escaped by the
    standard library's html.escape, which is django.utils.html.escape without its lazy-argument
    wrapper (a tenth of a long list's CPU when called through it ten thousand times)."""
    if type(value) is str and context.autoescape:
        return html.escape(value)
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        # what localize writes of an int without grouping (numberformat.format's "common
        # case"): its digits, which need no escaping; its three format look-ups per value were
        # ~0.5 ms of 我的待办's rows (decision 0058)
        return str(value)
    return str(render_value_in_context(value, context))


@register.filter
def yuan(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"¥{format_yuan_grouped(Decimal(value))}"


@register.filter
def yuan_text(value: Any) -> str:
    """What an applicant and an e-mail read: `2,300,000.00 元` (English `CNY 2,300,000.00`)."""
    return yuan_text_writer()(value)


def yuan_text_writer() -> Callable[[Any], str]:
    """`yuan_text` for the many amounts of a list a tag writes: its words translated once, in
    the language active now, not once an amount (a gettext look-up is most of its cost)."""
    pattern = _("%(amount)s 元")

    def write(value: Any) -> str:
        if value is None or value == "":
            return "—"
        return pattern % {"amount": format_yuan_grouped(Decimal(value))}

    return write


@register.filter
def wan(value: Any) -> str:
    """Yuan as 万元 (forms 14-2 use it), exact to the fen, at least two decimals."""
    if value is None or value == "":
        return "—"
    return format_wan(Decimal(value), grouped=True)


register.filter("direction_name", direction_name)


@register.filter
def tr(value: Any) -> str:
    """A label stored in Chinese (a choice's display, a material's name) in the reader's
    language: what `{% translate %}` does for a variable, usable inside other tags."""
    return _(str(value)) if value not in (None, "") else ""


def amount_in_words(amount: Decimal) -> str:
    """yuan_in_words, or its English when the active language is English."""
    if (translation.get_language() or "").startswith("en"):
        return yuan_in_english_words(amount)
    return yuan_in_words(amount)


@register.filter
def yuan_words(value: Any) -> str:
    """An amount in words, for confirmations: the capital numerals of a voucher (人民币大写),
    or English words on an English page."""
    if value is None or value == "":
        return "—"
    return amount_in_words(Decimal(value))


@register.filter
def yuan_figures(value: Any) -> str:
    """`2,300,000.00`: the figures of an amount without the currency sign."""
    if value is None or value == "":
        return "—"
    return format_yuan_grouped(Decimal(value))


@register.filter
def person(user: Any) -> str:
    """A user as a page names them (applications/people.py): never ``oidc:<sub>``."""
    return display_name(user)


@register.simple_tag(takes_context=True)
def language_switch(context: Any) -> str:
    """The language switch of every page's header (base.html, _site_header.html): what the
    template _language_switch.html wrote, its spaces and lines included, without its loop and
    its five tags' machinery (~0.15 ms of every page, decision 0058; tests/test_site_header.py
    compares it with that template). Each value escaped as `{{ }}` and `{% url %}` escape."""

    def v(value: Any) -> str:
        return variable_html(value, context)

    current = translation.get_language()
    action = reverse("set_language")
    action = conditional_escape(action) if context.autoescape else action
    request = context.get("request")
    # `{{ request.get_full_path }}`: nothing without a request (the engine's empty string)
    path = v(request.get_full_path()) if request is not None else ""
    buttons = []
    for code, _name in settings.LANGUAGES:  # get_available_languages' order
        info = translation.get_language_info(code)
        chosen = ' aria-current="true" class="current"' if info["code"] == current else ""
        lang = "en" if info["code"] == "en" else "zh-Hans"
        buttons.append(
            f'\n            <button type="submit" name="language" value="{v(info["code"])}"'
            f'{chosen} lang="{lang}">{v(info["name_local"])}</button>\n          '
        )
    return mark_safe(  # every value escaped
        f'<form class="lang-switch" action="{action}" method="post">\n'
        f"          {CsrfTokenNode().render(context)}\n"
        f'          <input name="next" type="hidden" value="{path}">\n'
        "          \n"
        "          \n"
        f"          {''.join(buttons)}\n"
        "        </form>\n"
    )
