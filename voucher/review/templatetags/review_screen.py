"""The review screen's findings, the parts of each that are the same whatever the reader may do
(its heading, message, values and the clauses it cites): written here rather than by the
template's tags because a season's application shows a hundred and more findings, and the
template engine's lookups, escaping and localising of each of their dozen fields were much of
the screen's CPU (issue 23). The markup is the template's as it was; every value is rendered
as a template variable renders it (localised, escaped).

`{% finding_opening f %}`: the finding's `<li>`, its heading, message and values.
`{% finding_clauses f %}`: the verbatim clauses it cites.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import render_value_in_context
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def finding_opening(context: Any, f: Any) -> SafeString:
    def out(value: Any) -> str:
        if type(value) is str:  # what localising leaves as it is: escaped only
            return escape(value)
        return render_value_in_context(value, context)  # as {{ value }}: localised, escaped

    values = (
        format_html(
            '<dl class="values">{}</dl>',
            format_html_join(
                "",
                "<div><dt>{}</dt><dd>{}</dd></div>",
                ((out(k), out(v)) for k, v in f.values.items() if v and v != "[]"),
            ),
        )
        if f.values
        else ""
    )
    return format_html(
        '<li class="finding finding-{status}" id="finding-{rule}{suffix}">\n      '
        '<div class="finding-head"><code class="rule">{rule}</code>{tag}'
        '<span class="tag tag-clause">{clause}</span></div>\n      '
        '<p class="message" lang="{lang}">{message}</p>\n      '
        "{values}",
        status=out(f.status),
        rule=out(f.rule),
        suffix=format_html("-{}", out(f.contract)) if f.contract else "",
        tag=format_html('<span class="tag">{} {}</span>', out(_("合同")), out(f.contract))
        if f.contract
        else "",
        clause=out(f.clause),
        lang=out(f.message_lang),
        message=out(f.message),
        values=values,
    )


@register.simple_tag(takes_context=True)
def finding_clauses(context: Any, f: Any) -> SafeString:
    return format_html_join(
        "",
        '<blockquote class="clause" lang="zh-Hans"><cite>{}</cite>{}</blockquote>',
        (
            (render_value_in_context(where, context), render_value_in_context(text, context))
            for where, text in f.clause_texts
        ),
    )
