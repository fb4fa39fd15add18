"""The lists' column headers that sort and their pager, keeping the filters in the address.

`{% sort_header "open" label %}`: a link that sorts by the column (ascending, then descending
when it already sorts that way), with the other parameters kept and the page back to the first.
`{% page_url "page" n %}`: the address of page n, with every other parameter kept.
`{% row_url "review:screen" as screen %}` … `{{ screen|for_row:r.id }}`: a row's address,
the URL reversed once per list instead of once per row (a page of two lists reversed 172
addresses, a fifth of its time).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
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


# the id a row's address is reversed with once (an id no row has: its digits are found only
# where the id goes), then replaced by each row's
_ROW_ID = 2147483647


@register.simple_tag
def row_url(name: str) -> str:
    return reverse(name, args=[_ROW_ID])


@register.filter
def for_row(address: str, row_id: Any) -> str:
    return address.replace(str(_ROW_ID), str(int(row_id)))
