"""Dates as 2026年4月10日 (in English: 10 April 2026); sizes as KB/MB."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from voucher.applications.templatetags.voucher_format import variable_html, yuan_text
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


@register.simple_tag(takes_context=True)
def supplier_word_list(context: Any, lines: Any) -> str:
    def v(value: Any) -> str:
        return variable_html(value, context)

    separator = pgettext("label separator", "：")
    out = ['<ul class="supplier-words">']
    for line in lines:
        r = line.row
        out.append(f'<li class="supplier-word state-{v(line.state)}">')
        if line.is_contract:
            out.append(gettext("合同条款（签订日期、有效期、总额）"))
        elif line.kind == "invoice":
            out.append(
                gettext("发票 %(n)s（%(d)s），%(x)s")
                % {"n": v(r.number), "d": v(cn_date(r.date)), "x": v(yuan_text(r.amount))}
            )
        elif line.kind == "payment":
            out.append(
                gettext("付款 %(d)s，%(x)s")
                % {"d": v(cn_date(r.date)), "x": v(yuan_text(r.amount))}
            )
        else:
            out.append(
                gettext("交付记录 %(s)s – %(e)s，%(x)s")
                % {"s": v(cn_date(r.start)), "e": v(cn_date(r.end)), "x": v(yuan_text(r.amount))}
            )
        out.append(f"{separator}<strong>")
        if line.state == "confirmed":
            out.append(gettext("供给方已确认"))
        elif line.state == "disputed":
            out.append(gettext("供给方有异议：") + v(line.reason))
        else:
            out.append(gettext("供给方未确认"))
        out.append("</strong></li>")
    out.append("</ul>")
    return mark_safe("".join(out))  # the values are escaped, the messages are ours


@register.simple_tag(takes_context=True)
def timeline_items(context: Any, timeline: Any) -> str:
    """The status page's timeline (portal/status.html): one item per entry, and a draft saved
    step by step has hundreds; the same HTML as the template's loop, written here. Each entry's
    time as cn_datetime writes it, with the language and the time zone asked once, not per
    entry (they are the page's), and a day written once however many entries it has."""

    def v(value: Any) -> str:
        return variable_html(value, context)

    day_text = english_date if translation.get_language() == "en" else chinese_date
    zone = timezone.get_current_timezone()
    days: dict[date, str] = {}
    out = []
    for e in timeline:
        when = e.when
        if isinstance(when, datetime):
            local = when.astimezone(zone) if timezone.is_aware(when) else when  # localtime
            day = local.date()
            if day not in days:
                days[day] = day_text(local)
            shown = f"{days[day]} {local:%H:%M}"
        else:
            shown = cn_datetime(when)
        detail = f" · {v(e.detail)}" if e.detail else ""
        out.append(
            f"<li><time>{v(shown)}</time> <strong>{v(e.what)}</strong>{detail} "
            f'<span class="muted small">{v(e.who)}</span></li>'
        )
    return mark_safe("".join(out))  # every value is escaped
