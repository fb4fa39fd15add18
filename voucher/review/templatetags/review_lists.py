"""The lists' column headers that sort and their pager, keeping the filters in the address.

`{% sort_header "open" label %}`: a link that sorts by the column (ascending, then descending
when it already sorts that way), with the other parameters kept and the page back to the first.
`{% page_url "page" n %}`: the address of page n, with every other parameter kept.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def _query(context: Any, **changes: Any) -> str:
    request = context.get("request")
    if request is None:
        return ""
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return str(params.urlencode())


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, label: str, pages: str = "page") -> str:
    request = context.get("request")
    current = request.GET.get("sort", "") if request is not None else ""
    descending = current == key
    target = f"-{key}" if descending else key
    drop = {name: None for name in pages.split(",")}
    query = _query(context, sort=target, **drop)
    arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
    title = _("按“%(column)s”降序排列") if descending else _("按“%(column)s”升序排列")
    return format_html(
        '<a class="sort{}" href="?{}" title="{}" data-sort="{}">{}{}</a>',
        " sorted" if arrow else "",
        query,
        title % {"column": label},
        key,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def page_url(context: Any, name: str, number: int) -> str:
    return "?" + _query(context, **{name: str(number)})
