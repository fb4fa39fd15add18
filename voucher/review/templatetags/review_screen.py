"""The review screen's findings, the parts of each that are the same whatever the reader may do
(its heading, message, values and the clauses it cites): written here rather than by the
template's tags because a season's application shows a hundred and more findings, and the
template engine's lookups, escaping and localising of each of their dozen fields were much of
the screen's CPU (issue 23). The markup is the template's as it was; every value is rendered
as a template variable renders it (localised, escaped).

`{% finding_opening f %}`: the finding's `<li>`, its heading, message and values.
`{% finding_clauses f %}`: the verbatim clauses it cites.
`{% finding_items items may_resolve resolve_url %}`: a group's findings, each from its
`<li>` to its `</li>`: the two above, the registry's paths of a SUPPLIER_EQUITY finding, and a
`review` finding's resolution and the form that resolves it.
`{% delivery_rows c asked %}`, `{% invoice_list c asked %}`, `{% payment_list c asked %}`: a
contract's lines (合同明细), below.
`{% contract_amount_rows d.contracts %}`: the rows of the contracts' figures (合同测算).
`{% contract_sections s.contract_lines s.supplier_asked a.pk %}`: each contract's heading, its
supplier's account and declaration, and its lines (合同明细).
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext as _

from voucher.applications.templatetags.voucher_format import (
    person,
    variable_html,
    yuan_text_writer,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def finding_opening(context: Any, f: Any, contract_html: str | None = None) -> SafeString:
    """`contract_html`: 合同 as the tag writes it, when its caller translated it already (a
    hundred findings asked it a hundred times)."""
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
        if contract_html is None:
            contract_html = variable_html(_("合同"), context)
        tag = f'<span class="tag">{contract_html} {contract}</span>'
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


_CLAUSES = object()  # the key of a render's clauses' texts, as written, in its render_context


def _local(value: Any, context: Any) -> Any:
    """A datetime as the engine hands it to the `date` filter (which expects local time)."""
    return template_localtime(value, context.use_tz)


def _resolution_html(res: Any, context: Any, resolved: str) -> str:
    """A finding's resolution as the template wrote it (`resolved`: 已处理：, translated)."""
    return (
        f'<p class="resolution resolution-{variable_html(res.resolution, context)}">{resolved}'
        f"{_translated_variable(res.get_resolution_display())} — "
        f'{variable_html(res.reason, context)} <span class="muted">('
        f"{variable_html(person(res.resolved_by), context)}, "
        f"{variable_html(date_filter(_local(res.resolved_at, context), 'Y-m-d H:i'), context)})"
        "</span></p>"
    )


@register.simple_tag(takes_context=True)
def finding_items(context: Any, items: Any, may_resolve: Any, resolve_url: Any) -> SafeString:
    """Each (finding, resolution) of `items` as the screen's loop wrote it, `<li>` to `</li>`
    with the whitespace between: a hundred and more findings were a hundred and more turns of
    the template's loop, a dozen nodes each (issue 23). `may_resolve`: the reader may resolve
    a `review` finding (its form is shown); `resolve_url`: where that form posts."""
    resolved = variable_html(_("已处理："), context)
    form_head = form_tail = ""
    if may_resolve:
        form_head = (
            f'\n        <form method="post" action="{variable_html(resolve_url, context)}" '
            f'class="resolve">{CsrfTokenNode().render(context)}\n          '
        )
        form_tail = (
            '">\n          <label><input type="radio" name="resolution" value="accept" required> '
            f"{variable_html(_('认可'), context)}</label>\n          "
            '<label><input type="radio" name="resolution" value="reject"> '
            f"{variable_html(_('不认可'), context)}</label>\n          "
            f'<label class="grow">{variable_html(_("理由"), context)} '
            '<input name="reason" required></label>\n          '
            f'<button type="submit">{variable_html(_("记录处理意见"), context)}</button>\n'
            "        </form>\n        "
        )
    paths = None
    contract_html = variable_html(_("合同"), context)
    # the clauses' texts as written, once per render for each set of clauses cited (a hundred
    # findings cite a dozen)
    clauses: dict[Any, str] = context.render_context.setdefault(_CLAUSES, {})
    out = []
    for f, res in items:
        out.append("\n    ")
        out.append(finding_opening(context, f, contract_html))
        out.append("\n      ")
        if f.rule == "SUPPLIER_EQUITY" and f.values:  # the registry's paths, its own template
            if paths is None:
                paths = context.template.engine.get_template("registry/finding_paths.html")
            with context.push(f=f, res=res):
                out.append(paths.render(context))
        out.append("\n      ")
        key = tuple(f.clause_texts)
        cited = clauses.get(key)
        if cited is None:
            cited = clauses[key] = finding_clauses(context, f)
        out.append(cited)
        out.append("\n      ")
        if f.status == "review":
            out.append("\n        ")
            if res:
                out.append(_resolution_html(res, context, resolved))
            out.append("\n        ")
            if may_resolve:
                out.append(form_head)
                out.append(
                    f'<input type="hidden" name="rule" value="{variable_html(f.rule, context)}">'
                    '<input type="hidden" name="contract" value="'
                    f"{variable_html(f.contract or '', context)}"
                )
                out.append(form_tail)
            out.append("\n      ")
        out.append("\n    </li>\n  ")
    return mark_safe("".join(out))


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


_LABELS = object()  # the key of a render's translated labels in its render_context
LINE_LABELS = ("期间", "服务", "设备", "数量", "单位", "单价", "金额", "算力供给方")
NUMBER_LABELS, NUMBER_HEAD = ("数量", "单价", "金额"), ' class="num"'


def _labels(context: Any) -> dict[str, str]:
    """The contracts' labels, translated once per render (a dozen contracts asked them a
    dozen times each): the message as `_()` gives it, and `_html`, as `{% trans %}` writes it."""
    labels: dict[str, str] | None = context.render_context.get(_LABELS)
    if labels is None:
        labels = {}
        for message in (*LINE_LABELS, "发票：", "付款："):
            labels[message] = _(message)
            labels[message + "_html"] = variable_html(labels[message], context)
        context.render_context[_LABELS] = labels
    return labels


_YUAN = object()  # the key of a render's yuan_text_writer


def _yuan(value: Any, context: Any) -> str:
    """`{{ value|yuan_text }}`, its words translated once per render (yuan_text_writer)."""
    write = context.render_context.get(_YUAN)
    if write is None:
        write = context.render_context[_YUAN] = yuan_text_writer()
    return variable_html(write(value), context)


_FORMATTED = object()  # the key of a render's formatted dates and quantities


def _memo(context: Any, kind: str, value: Any, format_value: Any) -> str:
    """`format_value(value)`, once per render for each value (a contract's lines repeat their
    months and prices): keyed by the value's type and text, so 1.50 and 1.5 are two."""
    memo: dict[Any, str] | None = context.render_context.get(_FORMATTED)
    if memo is None:
        memo = context.render_context[_FORMATTED] = {}
    key = (kind, type(value), str(value))
    if key not in memo:
        memo[key] = format_value(value)
    return memo[key]


def _day(context: Any, value: Any) -> str:
    """`{{ value|date:"Y-m-d" }}` of a date (a datetime is made local first, as the engine
    does for the `date` filter)."""
    return _memo(
        context,
        "day",
        value,
        lambda v: variable_html(date_filter(_local(v, context), "Y-m-d"), context),
    )


def _figure(context: Any, value: Any) -> str:
    """`{{ value|floatformat:"-6" }}`."""
    return _memo(context, "figure", value, lambda v: str(floatformat(v, "-6")))


@register.simple_tag(takes_context=True)
def contract_table(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """A contract's lines (合同明细) as the screen's template wrote them: the table of its
    delivery lines, its head included, then its invoices and payments."""
    labels = _labels(context)
    head = "".join(
        f"<th{NUMBER_HEAD if message in NUMBER_LABELS else ''}>{labels[message + '_html']}</th>"
        for message in LINE_LABELS
    )
    return mark_safe(
        f'<div class="table-scroll"><table class="apps lines"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{delivery_rows(context, contract, supplier_asked)}\n</tbody></table></div>\n"
        f'<p class="small supplier-invoices">{labels["发票：_html"]}'
        f"{invoice_list(context, contract, supplier_asked)}\n · {labels['付款：_html']}"
        f"{payment_list(context, contract, supplier_asked)}</p>"
    )


@register.simple_tag(takes_context=True)
def delivery_rows(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """The `<tr>` of each of the contract's delivery lines (period, service, device, quantity,
    unit, unit price, amount, the supplier's word)."""
    labels = _labels(context)
    period, service, device, quantity, unit, price, amount, supplier_label = (
        labels[message] for message in LINE_LABELS
    )
    rows = []
    for line in contract.delivery_lines:
        d = line.row
        word = supplier_word(line, context) if supplier_asked else "—"
        rows.append(
            f'<tr><td data-label="{period}">{_day(context, d.start)}–{_day(context, d.end)}</td>'
            f'<td data-label="{service}">{_translated_variable(d.get_service_display())}</td>'
            f'<td data-label="{device}">{variable_html(d.device or "—", context)}</td>'
            f'<td class="num" data-label="{quantity}">{_figure(context, d.quantity)}</td>'
            f'<td data-label="{unit}">{variable_html(d.unit, context)}</td>'
            f'<td class="num" data-label="{price}">{_figure(context, d.unit_price)}</td>'
            f'<td class="num" data-label="{amount}">{_yuan(d.amount, context)}</td>'
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
            f"{variable_html(i.number, context)} ({_day(context, i.date)}, "
            f"{_yuan(i.amount, context)})"
        ),
    )


@register.simple_tag(takes_context=True)
def payment_list(context: Any, contract: Any, supplier_asked: bool) -> SafeString:
    """The contract's payments: `date amount` and the supplier's word, or 无."""
    return _paper_list(
        context,
        contract.payment_lines,
        supplier_asked,
        lambda p: f"{_day(context, p.date)} {_yuan(p.amount, context)}",
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


# --- the contracts' figures (合同测算) and each contract's heading (合同明细): a dozen contracts,
# each a row of four amounts and a heading of a blocktrans, an include and a declaration, were
# a few hundred template nodes and a millisecond or more of the screen (issue 23, branch
# screen3). Written as the template wrote them (decision 0050).


def supplier_delivered(state: Any) -> str:
    """review/_supplier_delivered.html rendered for `state` (its trailing newline included)."""
    if state == "confirmed":
        return (
            f'<span class="tag supplier-confirmed" title="{_("每条交付记录均经算力供给方确认")}">'
            f"{_('供给方已确认')}</span>\n"
        )
    if state == "disputed":
        return f'<span class="tag supplier-disputed">{_("供给方有异议")}</span>\n'
    return f'<span class="tag supplier-unconfirmed">{_("供给方未确认")}</span>\n'


@register.simple_tag(takes_context=True)
def contract_amount_rows(context: Any, contracts: Any) -> SafeString:
    """The `<tr>` of each contract's figures (the evaluation's amounts, a dict each): its id
    and supplier, delivered (and whether its supplier confirmed it), evidenced, verified cost
    and subsidy."""
    delivered, evidenced, verified, subsidy = (_(m) for m in ("交付", "凭证", "核定成本", "补贴"))
    rows = []
    for c in contracts:
        word = c.get("supplier_delivered", "")
        excluded = ' class="excluded"' if c.get("excluded", "") else ""
        rows.append(
            f'<tr{excluded}><th scope="row">'
            f'{variable_html(c.get("id", ""), context)} <small class="muted">'
            f"{variable_html(c.get('supplier', ''), context)}</small></th>"
            f'<td class="num" data-label="{delivered}">'
            f"{_yuan(c.get('delivered', ''), context)}"
            f"{' ' + supplier_delivered(word) if word else ''}</td>"
            f'<td class="num" data-label="{evidenced}">'
            f"{_yuan(c.get('evidenced', ''), context)}</td>"
            f'<td class="num" data-label="{verified}">'
            f"{_yuan(c.get('verified_cost', ''), context)}</td>"
            f'<td class="num strong" data-label="{subsidy}">'
            f"{_yuan(c.get('subsidy', ''), context)}</td></tr>"
        )
    return mark_safe("".join(rows))


def _attestation_html(context: Any, attestation: Any, application_pk: Any, contract: Any) -> str:
    """The supplier's declaration (附件14-1 三) as the heading's paragraph wrote it."""
    if not attestation:
        return _("供给方尚未声明（附件14-1 三）")
    separator = pgettext("list separator", "；")
    by = variable_html(person(attestation.by), context)
    at = variable_html(date_filter(_local(attestation.at, context), "Y-m-d H:i"), context)
    sharing = (
        _("不存在收益分成、风险共担等协议")
        if attestation.no_sharing
        else f"<strong>{_('存在收益分成、风险共担等协议')}</strong>"
    )
    hierarchy = (
        _("不存在行政/业务上下级关系")
        if attestation.no_hierarchy
        else f"<strong>{_('存在行政/业务上下级关系')}</strong>"
    )
    url = html_escape(
        reverse("review:supplier_attestation_pdf", args=(application_pk, contract.pk))
    )
    return (
        _("供给方声明（附件14-1 三，%(who)s，%(when)s）：")
        % {"who": by, "when": at}
        + f"{_('属于合规的智算资源')}{separator}{sharing}{separator}{hierarchy}"
        f' <a href="{url}" class="attestation-pdf">{_("声明 PDF（电子签名）")}</a>'
    )


@register.simple_tag(takes_context=True)
def contract_sections(
    context: Any, contracts: Any, supplier_asked: bool, application_pk: Any
) -> SafeString:
    """Each contract of the 合同明细, as the screen's loop wrote it: its heading (id, supplier,
    term and total, and the supplier's word on the contract when it is asked), whether the
    supplier has an account, its declaration, then its lines (contract_table)."""
    no_account = (
        '<p class="small supplier-no-account">'
        f"{_('该算力供给方尚未在系统中开设账号，未能通知其确认；可由系统管理员发出邀请。')}</p>"
    )
    out = []
    for c in contracts:
        term = _("%(start)s–%(end)s，总额 %(total)s") % {
            "start": _day(context, c.valid_from),
            "end": _day(context, c.valid_to),
            "total": _yuan(c.total_amount, context),
        }
        word = ""
        if supplier_asked:
            first = c.supplier_lines[0] if c.supplier_lines else None
            word = " " + (
                supplier_word(first, context) if first is not None else supplier_word_none()
            )
        out.append(
            f"\n<h3>{variable_html(c.contract_id, context)} · "
            f"{variable_html(c.supplier_name, context)} "
            f"<code>{variable_html(c.supplier_uscc, context)}</code> "
            f'<span class="muted">{term}</span>{word}</h3>\n'
        )
        if supplier_asked and not c.supplier_has_account:
            out.append(no_account)
        out.append("\n")
        if supplier_asked:
            out.append(
                '<p class="small supplier-attestation">'
                f"{_attestation_html(context, c.attestation, application_pk, c)}</p>"
            )
        out.append("\n")
        out.append(contract_table(context, c, supplier_asked))
        out.append("\n")
    return mark_safe("".join(out))


def supplier_word_none() -> str:
    """review/_supplier_word.html rendered for no line (`c.supplier_lines.0` of no lines)."""
    return f'<span class="tag supplier-unconfirmed">{_("供给方未确认")}</span>\n'
