"""Dates as 2026年4月10日 (in English: 10 April 2026); sizes as KB/MB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from voucher.applications.templatetags.voucher_format import (
    tr,
    variable_html,
    yuan_text_writer,
)
from voucher.policy.dates import chinese_date, english_date

register = template.Library()


@register.filter
def cn_date(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    if not isinstance(value, date):
        return str(value)
    if translation.get_language() == "en":
        return english_date(value)
    return chinese_date(value)


@register.filter
def cn_datetime(value: Any) -> str:
    if not isinstance(value, datetime):
        return cn_date(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{cn_date(local)} {local:%H:%M}"


@register.filter
def filesize(value: Any) -> str:
    size = int(value or 0)
    if size < 1024:
        return f"{size} B"
    if size < 2**20:
        return f"{size / 1024:.0f} KB"
    return f"{size / 2**20:.1f} MB"


@register.filter
def percent(value: Any) -> str:
    from decimal import Decimal

    return f"{(Decimal(str(value)) * 100).normalize():f}%"


# --- the supplier's word on each line of a contract (portal/_supplier_word_list.html) ----------
#
# A submitted application's status page lists every line of every contract (some 60 at a
# season's size), each a translated sentence of three filtered values: the template engine's
# blocktranslate took a fifth of the page's CPU. Written here with the same messages, filters
# and escaping (a translated literal as it is, every value escaped), so the HTML is the
# template's to the byte (tests/test_pages_read_less.py compares them).


def _date_writer() -> Callable[[Any], str]:
    """`cn_date` for the many dates of a list a tag writes: the language asked once per render,
    not once a date (a thread-local look-up each)."""
    day_text = english_date if translation.get_language() == "en" else chinese_date

    def write(value: Any) -> str:
        if value in (None, ""):
            return "—"
        if isinstance(value, datetime):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
        if not isinstance(value, date):
            return str(value)
        return day_text(value)

    return write


def _supplier_word_writer(context: Any) -> Callable[[Any], str]:
    """portal/_supplier_word_list.html's list of lines, written by `write(lines)`: its messages,
    the language's date and the amount's words translated once per render (decision 0055: a
    submitted application's status page lists some 60 lines)."""

    def v(value: Any) -> str:
        return variable_html(value, context)

    day = _date_writer()
    amount = yuan_text_writer()
    separator = pgettext("label separator", "：")
    contract_terms = gettext("合同条款（签订日期、有效期、总额）")
    invoice, payment, delivery = (
        gettext("发票 %(n)s（%(d)s），%(x)s"),
        gettext("付款 %(d)s，%(x)s"),
        gettext("交付记录 %(s)s – %(e)s，%(x)s"),
    )
    confirmed, disputed, unconfirmed = (
        gettext("供给方已确认"),
        gettext("供给方有异议："),
        gettext("供给方未确认"),
    )

    def write(lines: Any) -> str:
        out = ['<ul class="supplier-words">']
        for line in lines:
            r = line.row
            out.append(f'<li class="supplier-word state-{v(line.state)}">')
            if line.is_contract:
                out.append(contract_terms)
            elif line.kind == "invoice":
                out.append(
                    invoice % {"n": v(r.number), "d": v(day(r.date)), "x": v(amount(r.amount))}
                )
            elif line.kind == "payment":
                out.append(payment % {"d": v(day(r.date)), "x": v(amount(r.amount))})
            else:
                out.append(
                    delivery % {"s": v(day(r.start)), "e": v(day(r.end)), "x": v(amount(r.amount))}
                )
            out.append(f"{separator}<strong>")
            if line.state == "confirmed":
                out.append(confirmed)
            elif line.state == "disputed":
                out.append(disputed + v(line.reason))
            else:
                out.append(unconfirmed)
            out.append("</strong></li>")
        out.append("</ul>")
        return "".join(out)

    return write


@register.simple_tag(takes_context=True)
def supplier_word_list(context: Any, lines: Any) -> str:
    return mark_safe(_supplier_word_writer(context)(lines))  # the values are escaped


@register.simple_tag(takes_context=True)
def supplier_contract_words(context: Any, contracts: Any) -> str:
    """The status page's contracts with the supplier's word on their lines (status.html): each
    contract's heading, then its lines as portal/_supplier_word_list.html writes them, the
    include's final newline included; what its loop of a blocktranslate and an include per
    contract wrote, with the messages translated once per render, not once a contract
    (decision 0055; tests/test_status_tags.py compares them)."""
    write = _supplier_word_writer(context)
    heading = gettext("合同 %(id)s")
    return mark_safe(  # the values are escaped, the messages are ours
        "".join(
            f"<h3>{heading % {'id': variable_html(item['c'].contract_id, context)}}</h3>"
            f"{write(item['lines'])}\n"
            for item in contracts
        )
    )


@register.simple_tag(takes_context=True)
def material_file_list(context: Any, application: Any, files: Any) -> str:
    """The status page's uploaded files (status.html), the section and nothing when there is
    none: what its loop wrote (a URL reversed, a label translated, three values filtered per
    file), with the file's URL reversed once per page and the separator translated once
    (decision 0055; tests/test_status_tags.py compares them)."""
    if not files:
        return ""

    def v(value: Any) -> str:
        return variable_html(value, context)

    # {% url 'portal:file' a.pk f.pk %}: the address of file 0, its id put in its place (an
    # int's digits are the converter's to_url, as reverse writes them); by reverse if the
    # address does not end in that id
    zero = reverse("portal:file", args=[application.pk, 0])
    prefix = zero[:-2] if zero.endswith("/0/") else None
    separator = pgettext("label separator", "：")
    out = [f"<section><h2>{gettext('已上传材料')}</h2><ul>"]
    for f in files:
        url = (
            f"{prefix}{f.pk}/"
            if prefix is not None and type(f.pk) is int
            else reverse("portal:file", args=[application.pk, f.pk])
        )
        out.append(
            f"<li>{v(tr(f.get_material_display()))}{separator}"
            f'<a href="{conditional_escape(url) if context.autoescape else url}">'
            f"{v(f.original_name)}</a> "
            f'<span class="small muted">{v(filesize(f.size))}</span></li>'
        )
    out.append("</ul></section>")
    return mark_safe("".join(out))  # every value is escaped, the messages are ours


@register.simple_tag(takes_context=True)
def timeline_items(context: Any, timeline: Any) -> str:
    """The status page's timeline (portal/status.html): one item per entry, and a draft saved
    step by step has hundreds; the same HTML as the template's loop, written here. Each entry's
    time as cn_datetime writes it, with the language and the time zone asked once, not per
    entry (they are the page's), and a day written once however many entries it has."""

    def v(value: Any) -> str:
        return variable_html(value, context)

    # what an entry is and who made it repeat entry after entry (a draft's hundred saves by one
    # person): each written once per render (decision 0058), by its type and value (a safe
    # string is not escaped, a plain one equal to it is)
    written: dict[tuple[type, Any], str] = {}

    def once(value: Any) -> str:
        try:
            return written[type(value), value]
        except KeyError:
            written[type(value), value] = html = v(value)
            return html
        except TypeError:  # not hashable: written each time
            return v(value)

    day_text = english_date if translation.get_language() == "en" else chinese_date
    zone = timezone.get_current_timezone()
    # a day's text written (escaped) once, with the space before the time: `{{ shown }}` of a
    # plain string escapes it character by character, and the time's digits need none
    days: dict[date, str] = {}
    out = []
    for e in timeline:
        when = e.when
        if isinstance(when, datetime):
            local = when.astimezone(zone) if timezone.is_aware(when) else when  # localtime
            day = local.date()
            if day not in days:
                days[day] = v(f"{day_text(local)} ")
            shown = f"{days[day]}{local:%H:%M}"
        else:
            shown = v(cn_datetime(when))
        detail = f" · {v(e.detail)}" if e.detail else ""
        out.append(
            f"<li><time>{shown}</time> <strong>{once(e.what)}</strong>{detail} "
            f'<span class="muted small">{once(e.who)}</span></li>'
        )
    return mark_safe("".join(out))  # every value is escaped


# a document's name and extension the address writes as they are (reverse quotes nothing here)
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@register.simple_tag(takes_context=True)
def document_url(context: Any, application_id: Any, document: str, extension: str) -> str:
    """`{% url 'documents:download' application_id document extension %}`, the status page's
    seven links to its documents (decision 0055): the application's address of its documents
    reversed once a render, each document's name and extension put after it (a resolver's
    reverse is ~60 µs each); any name or extension not plain letters, digits and hyphens, and
    any id not an int, by reverse as the tag did. Escaped as the url tag escapes (simple_tag)."""
    plain = (
        type(application_id) is int
        and document
        and extension
        and _PLAIN.issuperset(document)
        and _PLAIN.issuperset(extension)
    )
    if not plain:
        return reverse("documents:download", args=[application_id, document, extension])
    key = ("portal_format.document_url", application_id)
    prefix = context.render_context.get(key)
    if prefix is None:
        whole = reverse("documents:download", args=[application_id, "x", "y"])
        if not whole.endswith("/x.y"):
            return reverse("documents:download", args=[application_id, document, extension])
        prefix = context.render_context[key] = whole[: -len("x.y")]
    return f"{prefix}{document}.{extension}"
