"""The review screen's contracts' lines (合同明细) are written by review_screen's tags
(`delivery_rows`, `invoice_list`, `payment_list`) rather than by template loops, for the CPU a
season's screen spent on them (issue 23). They must write what the loops wrote, character for
character: each is compared here with the template it replaced, on lines the supplier
confirmed, disputed (with a reason to escape) and left unconfirmed, with and without the
supplier asked, in Chinese and in English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from voucher.applications.models import Delivery, Invoice, Payment
from voucher.applications.supplier import Line

# The template's loops as they were before the tags (review/screen.html, 2026-12-07).
BEFORE = (
    '{% load i18n voucher_format %}{% trans "期间" as t_period %}{% trans "服务" as t_service %}'
    '{% trans "设备" as t_device %}{% trans "数量" as t_quantity %}{% trans "单位" as t_unit %}'
    '{% trans "单价" as t_price %}{% trans "金额" as t_amount %}'
    '{% trans "算力供给方" as t_supplier %}'
    '{% for line in c.delivery_lines %}{% with l=line.row %}<tr><td data-label="{{ t_period }}">'
    '{{ l.start|date:"Y-m-d" }}–{{ l.end|date:"Y-m-d" }}</td><td data-label="{{ t_service }}">'
    '{% trans l.get_service_display %}</td><td data-label="{{ t_device }}">'
    '{{ l.device|default:"—" }}</td><td class="num" data-label="{{ t_quantity }}">'
    '{{ l.quantity|floatformat:"-6" }}</td><td data-label="{{ t_unit }}">{{ l.unit }}</td>'
    '<td class="num" data-label="{{ t_price }}">{{ l.unit_price|floatformat:"-6" }}</td>'
    '<td class="num" data-label="{{ t_amount }}">{{ l.amount|yuan_text }}</td>'
    '<td data-label="{{ t_supplier }}">{% if asked %}{% include "review/_supplier_word.html" %}'
    "{% else %}—{% endif %}</td></tr>{% endwith %}{% endfor %}\n"
    '{% for line in c.invoice_lines %}{% with i=line.row %}{{ i.number }} ({{ i.date|date:"Y-m-d" }}'
    ', {{ i.amount|yuan_text }}){% if asked %} {% include "review/_supplier_word.html" %}{% endif %}'
    '{% endwith %}{% if not forloop.last %}{% trans "；" context "list separator" %}{% endif %}'
    '{% empty %}{% trans "无" %}{% endfor %}\n'
    '{% for line in c.payment_lines %}{% with pmt=line.row %}{{ pmt.date|date:"Y-m-d" }} '
    '{{ pmt.amount|yuan_text }}{% if asked %} {% include "review/_supplier_word.html" %}{% endif %}'
    '{% endwith %}{% if not forloop.last %}{% trans "；" context "list separator" %}{% endif %}'
    '{% empty %}{% trans "无" %}{% endfor %}'
)
AFTER = (
    "{% load review_screen %}{% delivery_rows c asked %}\n{% invoice_list c asked %}\n"
    "{% payment_list c asked %}"
)


def _contract(empty: bool = False) -> SimpleNamespace:
    def delivery(n: int, **fields) -> Delivery:
        values = {
            "pk": n,
            "start": date(2026, 1, n),
            "end": date(2026, 2, n),
            "service": "compute",
            "device": "H100",
            "quantity": Decimal("1234.500000"),
            "unit": "卡时",
            "unit_price": Decimal("2.125000"),
            "amount": Decimal("2623.31"),
        }
        return Delivery(**{**values, **fields})

    deliveries = [
        Line("delivery:1", delivery(1), "confirmed"),
        Line("delivery:2", delivery(2, device=None, service="storage"), "disputed", "<b>&'\"x"),
        Line(
            "delivery:3", delivery(3, device="", unit="TB & 月", quantity=Decimal(7)), "unconfirmed"
        ),
    ]
    invoices = [
        Line(
            "invoice:4",
            Invoice(pk=4, number="A<1>", date=date(2026, 3, 1), amount=Decimal("1000000.5")),
            "confirmed",
        ),
        Line(
            "invoice:5",
            Invoice(pk=5, number="25110001", date=date(2026, 3, 2), amount=Decimal(3)),
            "disputed",
            "金额不符 50%",
        ),
    ]
    payments = [
        Line(
            "payment:6",
            Payment(pk=6, date=date(2026, 4, 1), amount=Decimal("12.30")),
            "unconfirmed",
        ),
        Line(
            "payment:7",
            Payment(pk=7, date=date(2026, 4, 2), amount=Decimal("1234567.89")),
            "disputed",
            "",
        ),
    ]
    if empty:
        deliveries, invoices, payments = [], [], []
    return SimpleNamespace(
        delivery_lines=deliveries, invoice_lines=invoices, payment_lines=payments
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("asked", [True, False])
@pytest.mark.parametrize("empty", [False, True])
def test_the_tags_write_what_the_template_wrote(language, asked, empty):
    context = {"c": _contract(empty), "asked": asked}
    with translation.override(language):
        before = Template(BEFORE).render(Context(context))
        after = Template(AFTER).render(Context(context))
    assert after == before
    if not empty and asked:
        assert "&lt;b&gt;&amp;&#x27;&quot;x" in after and "A&lt;1&gt;" in after
