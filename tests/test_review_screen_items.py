"""What branch screen (issue 23) wrote faster on the review screen, compared with what it
replaced: a group's findings written by `finding_items` (the template's loop, kept here
verbatim), a contract's table by `contract_table`, the findings' texts of a Chinese page taken
without working out the English (`_finding_text_as`), the clauses' texts looked up once per
process, and the invoice numbers the cross checks take from what the screen fetched. The
season's screens were also compared whole, before and after (docs/performance.md, "Branch
screen")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.utils import translation

from voucher.applications.selectors import (
    DOCUMENT_PREFETCH,
    FindingView,
    _clause_texts,
    _finding_text,
    _finding_text_as,
)
from voucher.policy.clauses import CLAUSES, clause_ids

from .test_review_screen_rows import AFTER as ROWS_AFTER
from .test_review_screen_rows import BEFORE as ROWS_BEFORE
from .test_review_screen_rows import _contract

# The screen's loop over a group's findings as it was (review/screen.html, 2026-12-07), with
# the labels it translated before the groups.
FINDINGS_BEFORE = (
    "{% load i18n voucher_format review_screen %}"
    "{% if s.can_resolve.allowed %}{% url 'review:resolve' a.pk as resolve_url %}"
    '{% trans "认可" as t_accept %}{% trans "不认可" as t_reject %}{% trans "理由" as t_reason %}'
    '{% trans "记录处理意见" as t_record %}{% endif %}{% trans "已处理：" as t_resolved %}'
    "{% for f, res in items %}\n"
    "    {% finding_opening f %}\n"
    '      {% if f.rule == "SUPPLIER_EQUITY" and f.values %}'
    '{% include "registry/finding_paths.html" %}{% endif %}\n'
    "      {% finding_clauses f %}\n"
    '      {% if f.status == "review" %}\n'
    '        {% if res %}<p class="resolution resolution-{{ res.resolution }}">{{ t_resolved }}'
    "{% trans res.get_resolution_display %} — {{ res.reason }} "
    '<span class="muted">({{ res.resolved_by|person }}, '
    '{{ res.resolved_at|date:"Y-m-d H:i" }})</span></p>{% endif %}\n'
    "        {% if s.can_resolve.allowed %}\n"
    '        <form method="post" action="{{ resolve_url }}" class="resolve">{% csrf_token %}\n'
    '          <input type="hidden" name="rule" value="{{ f.rule }}">'
    '<input type="hidden" name="contract" value="{{ f.contract|default:\'\' }}">\n'
    '          <label><input type="radio" name="resolution" value="accept" required> '
    "{{ t_accept }}</label>\n"
    '          <label><input type="radio" name="resolution" value="reject"> '
    "{{ t_reject }}</label>\n"
    '          <label class="grow">{{ t_reason }} <input name="reason" required></label>\n'
    '          <button type="submit">{{ t_record }}</button>\n'
    "        </form>\n"
    "        {% endif %}\n"
    "      {% endif %}\n"
    "    </li>\n"
    "  {% endfor %}"
)
FINDINGS_AFTER = (
    "{% load review_screen %}"
    "{% if s.can_resolve.allowed %}{% url 'review:resolve' a.pk as resolve_url %}{% endif %}"
    "{% finding_items items s.can_resolve.allowed resolve_url %}"
)

# A contract's table as the screen's template wrote it around the row tags (2026-12-07).
TABLE_BEFORE = (
    "{% load i18n review_screen %}"
    '<div class="table-scroll"><table class="apps lines"><thead><tr><th>{% trans "期间" %}</th>'
    '<th>{% trans "服务" %}</th><th>{% trans "设备" %}</th><th class="num">{% trans "数量" %}</th>'
    '<th>{% trans "单位" %}</th><th class="num">{% trans "单价" %}</th>'
    '<th class="num">{% trans "金额" %}</th><th>{% trans "算力供给方" %}</th></tr></thead><tbody>\n'
    "{% delivery_rows c asked %}\n</tbody></table></div>\n"
    '<p class="small supplier-invoices">{% trans "发票：" %}{% invoice_list c asked %}\n'
    ' · {% trans "付款：" %}{% payment_list c asked %}</p>'
)
TABLE_AFTER = "{% load review_screen %}{% contract_table c asked %}"


def _finding(rule: str, status: str, contract: str | None = None, **values: str) -> FindingView:
    return FindingView(
        rule=rule,
        status=status,
        contract=contract,
        message="发票金额 <合计> & 50% 不符 (not on the official list in force)",
        clause="二（四）",
        clause_texts=_clause_texts("二（四）"),
        values=values,
    )


def _resolution(resolution: str, reason: str) -> SimpleNamespace:
    labels = {"accept": "认可（视为通过）", "reject": "不认可（视为不通过）"}
    return SimpleNamespace(
        resolution=resolution,
        get_resolution_display=lambda: labels[resolution],
        reason=reason,
        resolved_by=get_user_model()(username="shenhe<01>", first_name="审核 & 员"),
        # late in the evening in UTC: the next day in Beijing (the `date` filter's local time)
        resolved_at=datetime(2026, 12, 7, 23, 15, tzinfo=UTC),
    )


def _items() -> list[tuple[FindingView, SimpleNamespace | None]]:
    return [
        (_finding("CONTRACT_SIGNED", "pass"), None),
        (_finding("INVOICE_TOTAL", "fail", "HT-<1>", amount="1,000.00 元", note="[]"), None),
        (_finding("INVOICE_DATE", "review", "HT-2"), None),
        (_finding("INVOICE_DATE", "review"), _resolution("accept", "核对 <原件> & 50%")),
        (_finding("SUPPLIER_EQUITY", "review", effective_ratio="0.3"), _resolution("reject", "")),
        (_finding("SUPPLIER_EQUITY", "pass"), None),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("may_resolve", [True, False])
@pytest.mark.parametrize("csrf", ["tok<en>", "NOTPROVIDED", ""])
def test_finding_items_writes_what_the_loop_wrote(language, may_resolve, csrf):
    context = {
        "items": _items(),
        "s": SimpleNamespace(can_resolve=SimpleNamespace(allowed=may_resolve)),
        "a": SimpleNamespace(pk=7),
        "csrf_token": csrf,
    }
    with translation.override(language):
        before = Template(FINDINGS_BEFORE).render(Context(context))
        after = Template(FINDINGS_AFTER).render(Context(context))
    assert after == before
    assert ("2026-12-08 07:15" in after) and ("&lt;原件&gt; &amp; 50%" in after)
    assert ('name="rule"' in after) == may_resolve


@pytest.mark.django_db
def test_finding_items_of_no_findings_writes_nothing():
    context = {
        "items": [],
        "s": SimpleNamespace(can_resolve=SimpleNamespace(allowed=True)),
        "a": SimpleNamespace(pk=7),
    }
    assert Template(FINDINGS_AFTER).render(Context(context)) == ""
    assert Template(FINDINGS_BEFORE).render(Context(context)) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("asked", [True, False])
@pytest.mark.parametrize("empty", [False, True])
def test_contract_table_writes_what_the_template_wrote(language, asked, empty):
    context = {"c": _contract(empty), "asked": asked}
    with translation.override(language):
        before = Template(TABLE_BEFORE).render(Context(context))
        after = Template(TABLE_AFTER).render(Context(context))
        # the rows' tags, called by contract_table, keep writing what the loops wrote
        rows_before = Template(ROWS_BEFORE).render(Context(context))
        rows_after = Template(ROWS_AFTER).render(Context(context))
    assert after == before
    assert rows_after == rows_before


def test_a_render_formats_a_value_once_and_each_written_form_apart():
    """The dates and figures are formatted once per render, keyed by their type and text:
    1.5 and 1.50 keep their own forms, a date and a datetime of one day theirs."""
    from voucher.review.templatetags.review_screen import _day, _figure

    template = Template(
        '{{ a|floatformat:"-6" }}|{{ b|floatformat:"-6" }}|{{ c|floatformat:"-6" }}|'
        '{{ d|date:"Y-m-d" }}|{{ e|date:"Y-m-d" }}'
    )
    values = {
        "a": Decimal("1.5"),
        "b": Decimal("1.50"),
        "c": Decimal("7"),
        "d": date(2026, 12, 7),
        "e": datetime(2026, 12, 7, 20, 0, tzinfo=UTC),  # 12-08 in Beijing
    }
    for language in ("zh-hans", "en"):
        with translation.override(language):
            context = Context(values)
            expected = template.render(context)
            written = "|".join(
                [
                    _figure(context, values["a"]),
                    _figure(context, values["b"]),
                    _figure(context, values["c"]),
                    _day(context, values["d"]),
                    _day(context, values["e"]),
                ]
            )
            again = _figure(context, values["a"]) + _day(context, values["e"])
        assert written == expected
        assert again == expected.split("|")[0] + expected.split("|")[4]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_chinese_page_s_finding_texts_are_those_finding_text_gives(language):
    findings = [
        {"rule": rule, "status": status, "message": message, "values": values}
        for rule, status in [("INVOICE_DATE", "review"), ("NO_SUCH_RULE", "fail")]
        for message in ["发票日期早于合同（not on the official list in force）", "合同 <1> & 2"]
        for values in [{}, {"amount": "12.00", "date": "2026-12-07"}]
    ]
    with translation.override(language):
        english = language == "en"
        for f in findings:
            assert _finding_text_as(f, english) == _finding_text(f)


def test_the_clauses_texts_are_looked_up_as_before():
    references = [*CLAUSES, "二（四）", "一（四）; 二（四）", "no such clause", ""]
    for reference in references:
        expected = [
            (CLAUSES[c].where, CLAUSES[c].text) for c in clause_ids(reference) if c in CLAUSES
        ]
        assert _clause_texts(reference) == expected
        assert _clause_texts(reference) == expected  # the cached answer, and a list of its own
        assert _clause_texts(reference) is not _clause_texts(reference)


def test_the_invoice_numbers_fetched_onto_the_screen_s_application_are_those_read(demo_data):
    from voucher.applications.models import Application
    from voucher.review.crosscheck import _invoice_numbers

    from .conftest import application_from

    a = application_from("batch-two-directions", "application-1.json")
    b = application_from("batch-two-directions", "application-2.json")
    plain = list(Application.objects.filter(pk__in=[a.pk, b.pk]))
    loaded = list(
        Application.objects.filter(pk__in=[a.pk, b.pk])
        .select_related("enterprise", "round")
        .prefetch_related(*DOCUMENT_PREFETCH)
    )
    read = sorted(_invoice_numbers(plain))
    assert read and sorted(_invoice_numbers(loaded)) == read
    assert sorted(_invoice_numbers([loaded[0], plain[1]])) == read


@pytest.mark.parametrize("where", ["registry", "extract of the other", "extract of its own"])
def test_a_supplier_holding_its_own_applicant_is_found_as_the_round_finds_it(demo_data, where):
    """Two applications of one enterprise, the supplier of one holding the enterprise (in the
    registry, or by an extract of either): the screen's checks, which take the shareholdings
    their neighbourhood read when it is one enterprise's (KnownHoldings), find what the
    round's checks find."""
    from voucher.applications.models import Application, RegistryShareholding
    from voucher.registry.models import Shareholding
    from voucher.review.crosscheck import application_checks, round_checks

    from .conftest import application_from
    from .review_support import put_in_state
    from .season_support import copy_applications

    first = put_in_state(application_from("d4-small"), "submitted")
    [second] = copy_applications(first, 1)
    # of one enterprise (a copy is of an enterprise of its own)
    Application.objects.filter(pk=second.pk).update(state="submitted", enterprise=first.enterprise)
    supplier = first.contracts.order_by("pk").first().supplier_uscc
    held = first.enterprise.uscc
    if where == "registry":
        Shareholding.objects.create(holder=supplier, held=held, ratio=Decimal("0.3"))
    else:
        declared_in = second if where == "extract of the other" else first
        RegistryShareholding.objects.create(
            application_id=declared_in.pk, holder=supplier, held=held, ratio=Decimal("0.3")
        )
    whole = round_checks(first.round)
    named = set()
    for pk in (first.pk, second.pk):
        screen = (
            Application.objects.select_related("enterprise", "round")
            .prefetch_related(*DOCUMENT_PREFETCH)
            .get(pk=pk)
        )
        found = application_checks(screen)
        assert found == whole.for_application(pk)
        named |= {pk for f in found if f.check == "SUPPLIER_IS_SHAREHOLDER"}
    assert named  # the case it is about came up
