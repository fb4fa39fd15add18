"""The lists' column headers that sort and their pager, keeping the filters in the address.

`{% sort_header "open" label %}`: a link that sorts by the column (ascending, then descending
when it already sorts that way), with the other parameters kept and the page back to the first.
`{% page_url "page" n %}`: the address of page n, with every other parameter kept.
`{% row_url "review:screen" as screen %}` … `{{ screen|for_row:r.id }}`: a row's address,
the URL reversed once per list instead of once per row (a page of two lists reversed 172
addresses, a fifth of its time).
"""

from __future__ import annotations

import copy
import html
from typing import Any

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from voucher.applications.templatetags.voucher_format import (
    variable_html,
    yuan_text_writer,
)
from voucher.applications.wording import direction_name

register = template.Library()


def _query(context: Any, **changes: Any) -> str:
    request = context.get("request")
    if request is None:
        return ""
    # a shallow copy (QueryDict.copy is a deep one): a value set or popped here replaces the
    # request's list of values, never changes it
    params = copy.copy(request.GET)
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
    # format_html's escaping without its lazy-argument wrappers (a dozen headers a page)
    return mark_safe(
        f'<a class="sort{" sorted" if arrow else ""}" href="?{_html(query)}" '
        f'title="{_html(title % {"column": label})}" data-sort="{_html(key)}">'
        f"{_html(label)}{arrow}</a>"
    )


def _html(value: Any) -> str:
    """conditional_escape(value) (what format_html does to each argument): a safe string as
    it is, anything else escaped by the standard library's html.escape, as escape() does."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


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


# --- the lists' rows, written here rather than by the template engine ----------------------------
#
# A page of 我的待办 shows two lists of 50 rows, the queue one: some 12 values a row, each a
# variable the engine resolves, localizes and escapes through a dozen calls, were half of the
# page's CPU (bench_pages_cpu). The rows are written here with the same values through the
# same filters and the same escaping (a string escaped, anything else as the engine would show
# it: render_value_in_context), so the HTML is the template's to the byte; the templates keep
# the tables, their headers and the empty rows.


def _amounts(context: Any) -> Any:
    """`{% if v is not None %}{{ v|yuan_text }}{% else %}—{% endif %}` for a list's amounts:
    yuan_text's words translated once per list, not once an amount (a gettext look-up each,
    50–100 a page)."""
    yuan = yuan_text_writer()

    def amount(value: Any) -> str:
        return "—" if value is None else variable_html(yuan(value), context)

    return amount


class _Once(dict[Any, str]):
    """A column's few values (directions, states, labels) written once per list, not per row."""

    def __init__(self, write: Any) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, value: Any) -> str:
        self[value] = written = self.write(value)
        return written


def _writers(context: Any) -> tuple[Any, _Once, _Once]:
    """`{{ v }}`; the same for a column's few values, once each; `{{ d|direction_name }}`."""

    def h(value: Any) -> str:
        return variable_html(value, context)

    return h, _Once(h), _Once(lambda d: h(direction_name(d)))


@register.simple_tag(takes_context=True)
def queue_table_rows(context: Any, rows: Any, screen_url: str) -> str:
    """The queue's rows (review/queue.html), each cell labelled with the column's name."""
    h, few, direction = _writers(context)
    amount = _amounts(context)
    l_ref, l_app, l_dir, l_state, l_outcome, l_max, l_open, l_assignee = (
        h(context.get(name))
        for name in (
            "l_ref", "l_app", "l_dir", "l_state", "l_outcome", "l_max", "l_open", "l_assignee"
        )
    )  # fmt: skip
    out = []
    for r in rows:
        url = h(for_row(screen_url, r.id))
        state = few[r.state]
        out.append(
            f'\n  <tr data-state="{state}">\n'
            f'    <td data-label="{l_ref}"><a href="{url}">{h(r.reference)}</a></td>\n'
            f'    <td class="applicant" data-label="{l_app}"><a href="{url}">'
            f"{h(r.applicant_name)}</a></td>\n"
            f'    <td data-label="{l_dir}">{direction[r.direction]}</td>\n'
            f'    <td data-label="{l_state}"><span class="state state-{state}">'
            f"{few[r.state_label]}</span></td>\n"
            f'    <td data-label="{l_outcome}"><span class="outcome outcome-'
            f'{few[r.outcome]}">{few[r.outcome_label]}</span></td>\n'
            f'    <td class="num" data-label="{l_max}">{amount(r.approved_max)}</td>\n'
            f'    <td class="num" data-label="{l_open}">{few[r.review_open]}</td>\n'
            f'    <td data-label="{l_assignee}">{few[r.assignee or "—"]}</td>\n'
            "  </tr>\n  "
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def assigned_rows(context: Any, rows: Any, screen_url: str) -> str:
    """我的待办's "由我承办" rows (review/mine.html)."""
    h, few, direction = _writers(context)
    amount = _amounts(context)
    out = []
    for r in rows:
        state = few[r.state]
        out.append(
            f'\n    <tr data-state="{state}">\n'
            f'      <td><a href="{h(for_row(screen_url, r.id))}">{h(r.reference)}</a></td>\n'
            f'      <td class="applicant">{h(r.applicant_name)}</td>\n'
            f"      <td>{direction[r.direction]}</td>\n"
            f'      <td><span class="state state-{state}">{few[r.state_label]}</span></td>\n'
            f'      <td><span class="outcome outcome-{few[r.outcome]}">'
            f"{few[r.outcome_label]}</span></td>\n"
            f'      <td class="num">{amount(r.approved_max)}</td>\n'
            f'      <td class="num">{few[r.review_open]}</td>\n'
            "    </tr>\n    "
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def to_confirm_rows(context: Any, rows: Any, screen_url: str) -> str:
    """我的待办's "待我复核" rows: the open proposals the user confirms (review/mine.html)."""
    h, few, _direction = _writers(context)
    yuan = yuan_text_writer()  # its words translated once, not once a row
    out = []
    for d in rows:
        out.append(
            "\n    <tr>\n"
            f'      <td><a href="{h(for_row(screen_url, d.application_id))}#decision">'
            f"{h(d.reference)}</a></td>\n"
            f'      <td class="applicant">{h(d.applicant_name)}</td>\n'
            f"      <td>{few[d.kind_label]}</td>\n"
            f'      <td class="num">{h(yuan(d.amount))}</td>\n'
            f"      <td>{few[d.proposed_by]}</td>\n"
            "    </tr>\n    "
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def unassigned_rows(
    context: Any,
    rows: Any,
    screen_url: str,
    assign_url: str,
    may_take: Any,
    mine_url: str,
    take: str,
) -> str:
    """我的待办's "尚无承办人" rows, each with its 领取 button when the user may take
    (review/mine.html; `mine_url` where the button comes back to, `take` its label)."""
    h, few, direction = _writers(context)
    form_tail = ""
    if may_take:
        form_tail = (
            f'" class="inline">{CsrfTokenNode().render(context)}'
            '<input type="hidden" name="assignee" value="me">'
            f'<input type="hidden" name="next" value="{h(mine_url)}">'
            f'<button type="submit" class="secondary">{h(take)}</button></form>'
        )
    out = []
    for r in rows:
        state = few[r.state]
        button = (
            f'<form method="post" action="{h(for_row(assign_url, r.id))}{form_tail}'
            if may_take
            else ""
        )
        out.append(
            f'\n    <tr data-state="{state}">\n'
            f'      <td><a href="{h(for_row(screen_url, r.id))}">{h(r.reference)}</a></td>\n'
            f'      <td class="applicant">{h(r.applicant_name)}</td>\n'
            f"      <td>{direction[r.direction]}</td>\n"
            f'      <td><span class="state state-{state}">{few[r.state_label]}</span></td>\n'
            f'      <td class="num">{few[r.review_open]}</td>\n'
            f"      <td>{button}</td>\n"
            "    </tr>\n    "
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def state_options(context: Any, states: Any, chosen: Any) -> str:
    """The lists' filter form's states (review/_queue_filters.html), the engine's loop
    `{% for v, l in states %}<option value="{{ v }}"{% if chosen == v %} selected{% endif %}>
    {% trans l %}</option>{% endfor %}` written here: on the queue and 我的待办 the form's two
    loops were half of its CPU."""
    h = _writers(context)[0]
    return mark_safe(  # every value escaped by variable_html
        "".join(
            f'<option value="{h(v)}"{" selected" if chosen == v else ""}>'
            # {% trans l %}: the text's % doubled for gettext, restored once written
            f"{h(_(label.replace('%', '%%'))).replace('%%', '%')}</option>"
            for v, label in states
        )
    )


@register.simple_tag(takes_context=True)
def direction_options(context: Any, chosen: Any) -> str:
    """`{% for n in "1234" %}<option value="{{ n }}"{% if chosen == n %} selected{% endif %}>
    {{ n|direction_name }}</option>{% endfor %}` (review/_queue_filters.html)."""
    h = _writers(context)[0]
    return mark_safe(  # every value escaped by variable_html
        "".join(
            f'<option value="{n}"{" selected" if chosen == n else ""}>'
            f"{h(direction_name(n))}</option>"
            for n in "1234"
        )
    )


@register.simple_tag(takes_context=True)
def simulation_rows(context: Any, rows: Any) -> str:
    """The dashboard's pro-rata simulation, a page of its rows (review/dashboard.html)."""
    h = _writers(context)[0]
    yuan = yuan_text_writer()
    out = []
    for row in rows:
        a = row.application
        out.append(
            f"<tr><td>{h(a.reference)} {h(a.applicant_name)}</td>"
            f'<td class="num">{h(yuan(row.approved_max))}</td>'
            f'<td class="num">{h(yuan(row.scaled))}</td></tr>'
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html


# the filter form's choices of outcome and of open items, in their order (value, label)
_OUTCOMES = (
    ("eligible", gettext_noop("符合条件")),
    ("needs_review", gettext_noop("需人工审核")),
    ("ineligible", gettext_noop("不符合条件")),
    ("incomplete", gettext_noop("材料不全")),
)
_OPEN = (("yes", gettext_noop("有未处理项")), ("no", gettext_noop("无未处理项")))


@register.simple_tag(takes_context=True)
def queue_filters(context: Any, with_assignee: Any = False, export: Any = False) -> str:
    """The lists' filter form (the queue's and 我的待办's), from the context's `filters` as
    typed, `states`, `sort` and `query`; `with_assignee`: the assignee's field, `export`: the
    link to the export. What review/_queue_filters.html wrote (tests/test_review_lists_compiled.py
    keeps it): its ~25 translations, 8 conditions and 5 values were 0.45 ms of each list page."""
    h = _writers(context)[0]
    filters = context.get("filters") or {}
    sort = context.get("sort")
    every = h(_("全部"))

    def typed(name: str) -> str:  # {{ filters.name|default:'' }}
        return h(filters.get(name) or "")

    def options(choices: Any, chosen: Any) -> str:
        return "".join(
            f'\n    <option value="{v}"{" selected" if chosen == v else ""}>{h(_(label))}</option>'
            for v, label in choices
        )

    out = [
        '\n<form method="get" class="filters">\n  ',
        f'<input type="hidden" name="sort" value="{h(sort)}">' if sort else "",
        f'\n  <label>{h(_("状态"))} <select name="state"><option value="">{every}</option>'
        f"{state_options(context, context.get('states') or (), filters.get('state', ''))}"
        "</select></label>",
        f'\n  <label>{h(_("方向"))} <select name="direction"><option value="">{every}</option>'
        f"{direction_options(context, filters.get('direction', ''))}</select></label>",
        f'\n  <label>{h(_("结论"))} <select name="outcome"><option value="">{every}</option>'
        f"{options(_OUTCOMES, filters.get('outcome'))}</select></label>",
        f'\n  <label>{h(pgettext("open review items", "待审核"))} <select name="open">'
        f'<option value="">{every}</option>{options(_OPEN, filters.get("open"))}'
        "</select></label>\n  ",
        f'<label>{h(_("承办人"))} <input name="assignee" value="{typed("assignee")}" size="10">'
        "</label>"
        if with_assignee
        else "",
        f'\n  <label>{h(_("最高可核定（元）"))} <input name="amount_min" '
        f'value="{typed("amount_min")}" size="10" inputmode="decimal" '
        f'placeholder="{h(_("不低于"))}"> – <input name="amount_max" '
        f'value="{typed("amount_max")}" size="10" inputmode="decimal" '
        f'placeholder="{h(_("不高于"))}"></label>',
        f'\n  <label>{h(_("单位或代码"))} <input name="q" value="{typed("q")}"></label>',
        f'\n  <button type="submit">{h(_("筛选"))}</button>\n  ',
        f'<a class="button secondary" href="{h(reverse("review:queue_export"))}?'
        f'{h(context.get("query", ""))}">{h(_("导出 Excel"))}</a>'
        if export
        else "",
        "\n</form>\n",
    ]
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def pager(context: Any, p: Any, name: str) -> str:
    """`{% include "review/_pager.html" with p=page name="page" %}` written here (the queue
    and 我的待办: three of them on 我的待办; the dashboard keeps the include): the same HTML,
    the numbers written and escaped as `{% blocktrans %}` writes them."""
    paginator = p.paginator
    if not paginator.count:
        return "\n\n"  # the include's lines around its condition
    h = _writers(context)[0]

    def url(number: Any) -> str:
        return h(page_url(context, name, number))

    def counted(text: str, **values: Any) -> str:  # {% blocktrans with … %}: values written
        return _(text) % {k: h(v) for k, v in values.items()}

    out = [
        f'\n<nav class="pager" aria-label="{h(_("分页"))}" data-pager="{h(name)}">\n'
        '  <span class="muted">'
        + counted(
            "第 %(start)s–%(end)s 件，共 %(total)s 件",
            start=p.start_index(),
            end=p.end_index(),
            total=paginator.count,
        )
        + "</span>\n  "
    ]
    if p.has_other_pages():
        out.append("\n  ")
        if p.has_previous():
            out.append(
                f'<a href="{url(1)}" rel="first">{h(_("首页"))}</a> '
                f'<a href="{url(p.previous_page_number())}" rel="prev">{h(_("上一页"))}</a>'
            )
        out.append(
            '\n  <span class="page-number">'
            + counted("第 %(n)s / %(pages)s 页", n=p.number, pages=paginator.num_pages)
            + "</span>\n  "
        )
        if p.has_next():
            out.append(
                f'<a href="{url(p.next_page_number())}" rel="next">{h(_("下一页"))}</a> '
                f'<a href="{url(paginator.num_pages)}" rel="last">{h(_("末页"))}</a>'
            )
        out.append("\n  ")
    out.append("\n</nav>\n")
    return mark_safe("".join(out))  # every value above is escaped by variable_html
