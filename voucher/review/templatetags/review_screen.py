"""The review screen's findings, the parts of each that are the same whatever the reader may do
(its heading, message, values and the clauses it cites): written here rather than by the
template's tags because a season's application shows a hundred and more findings, and the
template engine's lookups, escaping and localising of each of their dozen fields were much of
the screen's CPU (issue 23). The markup is the template's as it was; every value is rendered
as a template variable renders it (localised, escaped).

`{% finding_opening f %}`: the finding's `<li>`, its heading, message and values.
`{% finding_clauses f %}`: the verbatim clauses it cites.
`{% delivery_rows c asked %}`, `{% invoice_list c asked %}`, `{% payment_list c asked %}`: a
contract's lines (合同明细), below.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext as _

from voucher.applications.templatetags.voucher_format import variable_html, yuan_text

register = template.Library()


@register.simple_tag(takes_context=True)
def finding_opening(context: Any, f: Any) -> SafeString:
    values = (
        '<dl class="values">'
        + "".join(
            f"<div><dt>{variable_html(k, context)}</dt><dd>{variable_html(v, context)}</dd></div>"
            for k, v in f.values.items()
            if v and v != "[]"
        )
        + "</dl>"
        if f.values
        else ""
    )
    rule = variable_html(f.rule, context)
    if f.contract:
        contract = variable_html(f.contract, context)
        suffix = f"-{contract}"
        tag = f'<span class="tag">{variable_html(_("合同"), context)} {contract}</span>'
    else:
        suffix = tag = ""
    return mark_safe(
        f'<li class="finding finding-{variable_html(f.status, context)}" id="finding-{rule}{suffix}">\n      '
        f'<div class="finding-head"><code class="rule">{rule}</code>{tag}'
        f'<span class="tag tag-clause">{variable_html(f.clause, context)}</span></div>\n      '
        f'<p class="message" lang="{variable_html(f.message_lang, context)}">{variable_html(f.message, context)}</p>\n      '
        f"{values}"
    )


@register.simple_tag(takes_context=True)
def finding_clauses(context: Any, f: Any) -> SafeString:
    return mark_safe(
        "".join(
            '<blockquote class="clause" lang="zh-Hans">'
            f"<cite>{render_value_in_context(where, context)}</cite>"
            f"{render_value_in_context(text, context)}</blockquote>"
            for where, text in f.clause_texts
        )
    )


# --- the contracts' lines (合同明细): a season's application lists a hundred and more delivery,
# invoice and payment rows, each a dozen lookups, filters and an include through the template
# engine (about a third of the template's CPU, issue 23). Written here as the template wrote
# them, value for value: the same filters called directly, the same escaping, the same
# translations; `_supplier_word.html`'s markup as `supplier_word`.


def _translated_variable(value: Any) -> str:
    """`{% trans value %}` of a variable: translated, then escaped (the template's percent
    signs doubled and restored as TranslateNode does)."""
    return html_escape(gettext(str(value).replace("%", "%%")).replace("%%", "%"))


def supplier_word(line: Any, context: Any) -> str:
    """review/_supplier_word.html rendered for `line` (its trailing newline included)."""
    if line.state == "confirmed":
        tag = f'<span class="tag supplier-confirmed">{_("供给方已确认")}</span>'
    elif line.state == "disputed":
        tag = (
            f'<span class="tag supplier-disputed">{_("供给方有异议：")}'
            f"{variable_html(line.reason, context)}</span>"
        )
    else:
        tag = f'<span class="tag supplier-unconfirmed">{_("供给方未确认")}</span>'
    return tag + "\n"


@register.simple_tag(takes_context=True)
def delivery_rows(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """The `<tr>` of each of the contract's delivery lines (period, service, device, quantity,
    unit, unit price, amount, the supplier's word)."""
    period, service, device = _("期间"), _("服务"), _("设备")
    quantity, unit, price = _("数量"), _("单位"), _("单价")
    amount, supplier_label = _("金额"), _("算力供给方")
    rows = []
    for line in contract.delivery_lines:
        d = line.row
        word = supplier_word(line, context) if supplier_asked else "—"
        rows.append(
            f'<tr><td data-label="{period}">{variable_html(date_filter(d.start, "Y-m-d"), context)}–'
            f"{variable_html(date_filter(d.end, 'Y-m-d'), context)}</td>"
            f'<td data-label="{service}">{_translated_variable(d.get_service_display())}</td>'
            f'<td data-label="{device}">{variable_html(d.device or "—", context)}</td>'
            f'<td class="num" data-label="{quantity}">{floatformat(d.quantity, "-6")}</td>'
            f'<td data-label="{unit}">{variable_html(d.unit, context)}</td>'
            f'<td class="num" data-label="{price}">{floatformat(d.unit_price, "-6")}</td>'
            f'<td class="num" data-label="{amount}">{variable_html(yuan_text(d.amount), context)}</td>'
            f'<td data-label="{supplier_label}">{word}</td></tr>'
        )
    return mark_safe("".join(rows))


@register.simple_tag(takes_context=True)
def invoice_list(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """The contract's invoices: `number (date, amount)` and the supplier's word, or 无."""
    return _paper_list(
        context,
        contract.invoice_lines,
        supplier_asked,
        lambda i: (
            f"{variable_html(i.number, context)} ({variable_html(date_filter(i.date, 'Y-m-d'), context)}, "
            f"{variable_html(yuan_text(i.amount), context)})"
        ),
    )


@register.simple_tag(takes_context=True)
def payment_list(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """The contract's payments: `date amount` and the supplier's word, or 无."""
    return _paper_list(
        context,
        contract.payment_lines,
        supplier_asked,
        lambda p: (
            f"{variable_html(date_filter(p.date, 'Y-m-d'), context)} {variable_html(yuan_text(p.amount), context)}"
        ),
    )


def _paper_list(context: Any, lines: Any, supplier_asked: bool, text: Any) -> SafeString:
    if not lines:
        return mark_safe(_("无"))
    separator = pgettext("list separator", "；")
    return mark_safe(
        separator.join(
            text(line.row) + (" " + supplier_word(line, context) if supplier_asked else "")
            for line in lines
        )
    )
