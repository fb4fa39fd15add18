"""The review screen's contracts (branch screen3, issue 23, decision 0050): the rows of their
figures (合同测算) written by `contract_amount_rows`, and each contract's heading, its supplier's
account and declaration and its lines (合同明细) by `contract_sections`, rather than by template
loops. Each is compared here with the loop it replaced, kept verbatim, character for character:
in Chinese and English, the supplier asked or not, with and without an account and a
declaration (each of its two answers both ways), the contract's word confirmed, disputed (with
a reason to escape), unconfirmed or absent, values that need escaping. The season's screens were
also compared whole, before and after (docs/performance.md, "Branch screen3"): they hold no
declaration, hence the cases here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.utils import translation

from voucher.applications.models import Delivery, Invoice
from voucher.applications.supplier import Line

# review/screen.html's loop of the contracts' figures as it was (2026-12-07)
AMOUNTS_BEFORE = (
    "{% load i18n voucher_format %}"
    '{% trans "交付" as t_delivered %}{% trans "凭证" as t_evidenced %}'
    '{% trans "核定成本" as t_verified %}{% trans "补贴" as t_subsidy %}'
    '{% for c in d.contracts %}<tr{% if c.excluded %} class="excluded"{% endif %}>'
    '<th scope="row">{{ c.id }} <small class="muted">{{ c.supplier }}</small></th>'
    '<td class="num" data-label="{{ t_delivered }}">{{ c.delivered|yuan_text }}'
    "{% if c.supplier_delivered %} "
    '{% include "review/_supplier_delivered.html" with state=c.supplier_delivered %}{% endif %}'
    '</td><td class="num" data-label="{{ t_evidenced }}">{{ c.evidenced|yuan_text }}</td>'
    '<td class="num" data-label="{{ t_verified }}">{{ c.verified_cost|yuan_text }}</td>'
    '<td class="num strong" data-label="{{ t_subsidy }}">{{ c.subsidy|yuan_text }}</td></tr>'
    "{% endfor %}"
)
AMOUNTS_AFTER = "{% load review_screen %}{% contract_amount_rows d.contracts %}"

# review/screen.html's loop of the contracts' headings and lines as it was (2026-12-07)
SECTIONS_BEFORE = (
    "{% load i18n voucher_format review_screen %}"
    "{% for c in s.contract_lines %}\n"
    "<h3>{{ c.contract_id }} · {{ c.supplier_name }} <code>{{ c.supplier_uscc }}</code> "
    '<span class="muted">{% blocktrans with start=c.valid_from|date:"Y-m-d" '
    'end=c.valid_to|date:"Y-m-d" total=c.total_amount|yuan_text %}'
    "{{ start }}–{{ end }}，总额 {{ total }}{% endblocktrans %}</span>"
    "{% if s.supplier_asked %}{% with line=c.supplier_lines.0 %} "
    '{% include "review/_supplier_word.html" %}{% endwith %}{% endif %}</h3>\n'
    "{% if s.supplier_asked and not c.supplier_has_account %}"
    '<p class="small supplier-no-account">'
    '{% trans "该算力供给方尚未在系统中开设账号，未能通知其确认；可由系统管理员发出邀请。" %}'
    "</p>{% endif %}\n"
    '{% if s.supplier_asked %}<p class="small supplier-attestation">{% if c.attestation %}'
    "{% blocktrans with who=c.attestation.by|person "
    'when=c.attestation.at|date:"Y-m-d H:i" %}'
    "供给方声明（附件14-1 三，{{ who }}，{{ when }}）：{% endblocktrans %}"
    '{% trans "属于合规的智算资源" %}{% trans "；" context "list separator" %}'
    '{% if c.attestation.no_sharing %}{% trans "不存在收益分成、风险共担等协议" %}'
    '{% else %}<strong>{% trans "存在收益分成、风险共担等协议" %}</strong>{% endif %}'
    '{% trans "；" context "list separator" %}'
    '{% if c.attestation.no_hierarchy %}{% trans "不存在行政/业务上下级关系" %}'
    '{% else %}<strong>{% trans "存在行政/业务上下级关系" %}</strong>{% endif %} '
    "<a href=\"{% url 'review:supplier_attestation_pdf' a.pk c.pk %}\" "
    'class="attestation-pdf">{% trans "声明 PDF（电子签名）" %}</a>'
    '{% else %}{% trans "供给方尚未声明（附件14-1 三）" %}{% endif %}</p>{% endif %}\n'
    "{% contract_table c s.supplier_asked %}{# its lines #}\n"
    "{% endfor %}"
)
SECTIONS_AFTER = (
    "{% load review_screen %}{% contract_sections s.contract_lines s.supplier_asked a.pk %}"
)


def _amounts() -> list[dict]:
    return [
        {
            "id": "HT<1> & 'x'",
            "supplier": '供给 <方> & "甲"',
            "delivered": "1234567.8",
            "evidenced": "1000",
            "verified_cost": "999.99",
            "subsidy": "300.00",
            "excluded": False,
            "supplier_delivered": state,
        }
        for state in ("confirmed", "disputed", "unconfirmed", "")
    ] + [
        {"id": 7, "supplier": "", "delivered": None, "excluded": True},  # fields missing
        {"id": None, "supplier": None, "delivered": "", "evidenced": "0", "subsidy": "-1.5"},
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("with_word", [True, False])
def test_contract_amount_rows_write_what_the_loop_wrote(language, with_word):
    contracts = _amounts()
    if not with_word:  # direction 3: no supplier's word on the delivered amounts
        for c in contracts:
            c.pop("supplier_delivered", None)
    context = {"d": SimpleNamespace(contracts=contracts)}
    with translation.override(language):
        before = Template(AMOUNTS_BEFORE).render(Context(context))
        after = Template(AMOUNTS_AFTER).render(Context(context))
    assert after == before
    assert "HT&lt;1&gt; &amp; &#x27;x&#x27;" in after and 'class="excluded"' in after
    assert ("supplier-disputed" in after) == with_word
    empty = Context({"d": SimpleNamespace(contracts=[])})
    assert Template(AMOUNTS_AFTER).render(empty) == ""


def _contracts() -> list[SimpleNamespace]:
    who = get_user_model()(username="gongji<01>", first_name="供给 & 方")
    late = datetime(2026, 12, 7, 23, 15, tzinfo=UTC)  # the next day in Beijing

    def attestation(no_sharing: bool, no_hierarchy: bool) -> SimpleNamespace:
        return SimpleNamespace(by=who, at=late, no_sharing=no_sharing, no_hierarchy=no_hierarchy)

    row = Delivery(
        pk=1,
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        service="compute",
        device="H100",
        quantity=Decimal("10.5"),
        unit="卡时",
        unit_price=Decimal("2.5"),
        amount=Decimal("26.25"),
    )
    invoice = Invoice(pk=2, number="F<1>", date=date(2026, 2, 1), amount=Decimal("26.25"))
    cases = [
        ("confirmed", "", True, attestation(True, True)),
        ("disputed", "<b>不符 & 50%</b>", False, attestation(False, True)),
        ("unconfirmed", "", True, attestation(True, False)),
        ("confirmed", "", False, attestation(False, False)),
        (None, "", True, None),  # no line at all: the contract's word is absent
        ("unconfirmed", "", False, None),
    ]
    contracts = []
    for n, (state, reason, account, declared) in enumerate(cases):
        lines = [] if state is None else [Line("contract", None, state, reason)]  # type: ignore[arg-type]
        deliveries = [Line("delivery:1", row, "confirmed")] if n % 2 else []
        contracts.append(
            SimpleNamespace(
                pk=100 + n,
                contract_id=f"HT-{n} <&>",
                supplier_name=f"供给方 {n} & 'x'",
                supplier_uscc="91110000<X>",
                valid_from=date(2026, 1, n + 1) if n != 5 else None,
                valid_to=date(2026, 12, 31),
                total_amount=Decimal("1234567.891") if n else None,
                supplier_lines=lines,
                supplier_has_account=account,
                attestation=declared,
                delivery_lines=deliveries,
                invoice_lines=[Line("invoice:2", invoice, "disputed", "x")] if n % 3 else [],
                payment_lines=[],
            )
        )
    return contracts


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("asked", [True, False])
def test_contract_sections_write_what_the_loop_wrote(language, asked):
    context = {
        "s": SimpleNamespace(contract_lines=_contracts(), supplier_asked=asked),
        "a": SimpleNamespace(pk=7),
    }
    with translation.override(language):
        before = Template(SECTIONS_BEFORE).render(Context(context))
        after = Template(SECTIONS_AFTER).render(Context(context))
    assert after == before
    assert "HT-1 &lt;&amp;&gt;" in after
    if asked:
        assert "2026-12-08 07:15" in after and "供给 &amp; 方" in after
        assert "/review/7/" in after and "attestation-pdf" in after
        assert "&lt;b&gt;不符 &amp; 50%&lt;/b&gt;" in after and "<strong>" in after
        assert "supplier-no-account" in after
    else:
        assert "attestation" not in after and "supplier-no-account" not in after
    none = Context({"s": SimpleNamespace(contract_lines=[], supplier_asked=asked), "a": None})
    assert Template(SECTIONS_AFTER).render(none) == ""


# review/_materials.html's loop of the materials as it was (2026-12-07), with its two includes
# (which the materials page and the list of other files still use)
MATERIALS_BEFORE = "{% load i18n %}" + (
    "{% for m in ms.review.materials %}\n"
    '<details class="material{% if m.missing %} material-missing{% elif m.complete %} '
    'material-complete{% endif %}" id="m-{{ m.material }}"{% if not m.complete %} open{% endif %}>\n'
    "  <summary><h3>{{ forloop.counter }}. {{ m.heading }}\n"
    '    {% if m.missing %}<span class="tag tag-missing">{% trans "未上传" %}</span>\n'
    '    {% elif m.complete %}<span class="tag tag-ok">{% trans "核对完毕" %}</span>\n'
    '    {% else %}<span class="tag tag-open">{% blocktrans with ok=m.counts.ok all=m.counts.all %}'
    "已核对符合 {{ ok }}/{{ all }}{% endblocktrans %}{% if m.counts.wrong %} · "
    "{% blocktrans with n=m.counts.wrong %}不符合 {{ n }}{% endblocktrans %}{% endif %}</span>"
    "{% endif %}\n"
    "  </h3></summary>\n"
    '  {% if m.missing %}<p class="missing">{% trans "申报单位未上传此材料。" %}</p>\n'
    '  {% else %}{% include "review/_material_files.html" with files=m.files %}{% endif %}\n'
    '  {% include "review/_material_checklist.html" with next="" %}\n'
    "</details>\n"
    "{% endfor %}"
)
MATERIALS_AFTER = "{% load review_materials %}{% material_sections ms %}"


def _materials() -> list:
    from tests.test_review_materials_rows import _files, _items
    from voucher.review.selectors.materials import MaterialState

    items = _items()
    files = _files()
    ok = [i for i in items if i.status == "ok"]
    still_open = [i for i in items if not i.done and not i.wrong]
    return [
        MaterialState("business_license", "营业执照 <副本> & 'x'", files[:2], items),
        MaterialState("commitment_letter", "承诺书", [], items[:2], hint="须 <盖章> & 签字"),
        MaterialState("contracts", "合同", files[2:3], ok),  # every item 符合: complete
        MaterialState("invoices", "发票", files[3:], still_open, hint="发票 50%"),
        MaterialState("others", "其他", files[4:], []),  # no item: complete
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("may_check", [True, False])
@pytest.mark.parametrize(
    "typed_form",
    [
        None,
        {"_form": "material_check", "material": ["business_license"], "status-m<1>.open": ["ok"]},
        {"_form": "material_check", "material": ["invoices"], "note-m<1>.open": ["<说明>"]},
        {"_form": "propose", "kind": ["approval"]},
    ],
)
def test_material_sections_write_what_the_loop_wrote(language, may_check, typed_form):
    ms = SimpleNamespace(
        review=SimpleNamespace(materials=_materials()),
        can_check=SimpleNamespace(allowed=may_check),
    )
    context = {"ms": ms, "a": SimpleNamespace(pk=7), "csrf_token": "tok<en>"}
    if typed_form is not None:
        context["typed_form"] = typed_form
    with translation.override(language):
        before = Template(MATERIALS_BEFORE).render(Context(context))
        after = Template(MATERIALS_AFTER).render(Context(context))
    assert after == before
    assert "material-missing" in after and "material-complete" in after and "tag-open" in after
    assert "营业执照 &lt;副本&gt; &amp; &#x27;x&#x27;" in after and "tok&lt;en&gt;" in after
    assert "/review/7/materials/invoices/check/" in after
    assert ('type="submit"' in after) == may_check
    none = {**context, "ms": SimpleNamespace(review=SimpleNamespace(materials=[]), can_check=None)}
    assert Template(MATERIALS_AFTER).render(Context(none)) == ""
