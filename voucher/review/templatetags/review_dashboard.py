"""The dashboard's (预算与统计, review/dashboard.html) loops written by tags (decision 0059).

`{% direction_figures figures %}`: the four directions' cards and their bar charts;
`{% monthly_columns series %}`: the approved and paid columns of each month. Each writes, to
the byte, what its template loop wrote (kept verbatim in tests/test_dashboard_tags.py, which
compares the two in Chinese and English): the values written and escaped as the engine writes
a `{{ value }}` (variable_html), the texts translated as `{% blocktrans %}` translates them.
The loops were a third of the dashboard's own template time: each `{{ }}`, `{% trans %}` and
loop iteration goes through the engine's node and variable machinery (~5 µs each).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voucher.applications.templatetags.voucher_format import variable_html, yuan_text_writer
from voucher.applications.wording import direction_name

register = template.Library()


@register.simple_tag(takes_context=True)
def direction_figures(context: Any, figures: Any) -> str:
    """What review/dashboard.html's `{% for f in figures %}` loop wrote: a card per direction
    (DirectionFigures), its count of applications and its bars (DirectionFigures.bars)."""

    def h(value: Any) -> str:
        return variable_html(value, context)

    yuan = yuan_text_writer()  # its words translated once, not once an amount
    out = []
    for f in figures:
        # {% blocktrans count n=f.count %}{{ n }} 份{% plural %}{{ n }} 份{% endblocktrans %}
        counted = ngettext("%(n)s 份", "%(n)s 份", f.count) % {"n": h(f.count)}
        out.append(
            f'\n<section class="card chart" id="direction-{h(f.direction)}">\n'
            f"  <h2>{h(direction_name(f.direction))} "
            f'<small class="muted">{counted}</small></h2>\n'
            '  <dl class="bars">\n  '
        )
        for label, css, value, pct in f.bars():
            out.append(
                f"\n    <div><dt>{h(label)}</dt><dd>"
                f'<span class="bar bar-{h(css)}" style="width: {h(pct)}%"></span>'
                f'<span class="bar-value">{h(yuan(value))}</span></dd></div>\n  '
            )
        out.append("\n  </dl>\n</section>\n")
    return mark_safe("".join(out))  # every value above is escaped by variable_html


@register.simple_tag(takes_context=True)
def monthly_columns(context: Any, series: Any) -> str:
    """What review/dashboard.html's `{% for m, a, b, pa, pb in series %}` loop wrote: a month's
    two SVG columns (approved, paid) at (y, height) pa and pb, with their titles."""

    def h(value: Any) -> str:
        return variable_html(value, context)

    approved, paid = _("%(m)s 已核定 %(a)s"), _("%(m)s 已拨付 %(b)s")
    out = []
    for i, (m, a, b, pa, pb) in enumerate(series):
        month = h(m)
        out.append(
            f'\n  <g transform="translate({h(i)}00,0)">\n'
            f'    <rect class="bar-approved" x="18" y="{h(pa[0])}" width="30" '
            f'height="{h(pa[1])}"><title>{approved % {"m": month, "a": h(a)}}</title></rect>\n'
            f'    <rect class="bar-paid" x="52" y="{h(pb[0])}" width="30" '
            f'height="{h(pb[1])}"><title>{paid % {"m": month, "b": h(b)}}</title></rect>\n'
            f'    <text x="50" y="122" text-anchor="middle" font-size="12">{month}</text>\n'
            "  </g>\n"
        )
    return mark_safe("".join(out))  # every value above is escaped by variable_html
