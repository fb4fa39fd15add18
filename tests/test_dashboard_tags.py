"""Decision 0059 (branch dash3): the dashboard's loops written by tags write what the loops wrote.

Each loop of review/dashboard.html replaced by a tag is kept here verbatim and rendered beside
its tag, in Chinese and English, with values to escape, empty lists, no budget, a count of one
(English's singular) and none, and more than ten months (the columns' offsets).
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.paginator import Paginator
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from voucher.review.selectors.dashboard import DirectionFigures

# review/dashboard.html's loops before decision 0059
FIGURES_LOOP = """{% load i18n voucher_format %}{% for f in figures %}
<section class="card chart" id="direction-{{ f.direction }}">
  <h2>{{ f.direction|direction_name }} <small class="muted">{% blocktrans count n=f.count %}{{ n }} 份{% plural %}{{ n }} 份{% endblocktrans %}</small></h2>
  <dl class="bars">
  {% for label, css, value, pct in f.bars %}
    <div><dt>{{ label }}</dt><dd><span class="bar bar-{{ css }}" style="width: {{ pct }}%"></span><span class="bar-value">{{ value|yuan_text }}</span></dd></div>
  {% endfor %}
  </dl>
</section>
{% endfor %}"""
FIGURES_TAG = """{% load review_dashboard %}{% direction_figures figures %}"""

SERIES_LOOP = """{% load i18n %}{% for m, a, b, pa, pb in series %}
  <g transform="translate({{ forloop.counter0 }}00,0)">
    <rect class="bar-approved" x="18" y="{{ pa.0 }}" width="30" height="{{ pa.1 }}"><title>{% blocktrans %}{{ m }} 已核定 {{ a }}{% endblocktrans %}</title></rect>
    <rect class="bar-paid" x="52" y="{{ pb.0 }}" width="30" height="{{ pb.1 }}"><title>{% blocktrans %}{{ m }} 已拨付 {{ b }}{% endblocktrans %}</title></rect>
    <text x="50" y="122" text-anchor="middle" font-size="12">{{ m }}</text>
  </g>
{% endfor %}"""
SERIES_TAG = """{% load review_dashboard %}{% monthly_columns series %}"""

# the simulation's choice of direction and the budget form's (review_lists' direction_options)
SELECT_LOOP = """{% load voucher_format %}{% for n in "1234" %}<option value="{{ n }}"{% if direction|stringformat:"d" == n %} selected{% endif %}>{{ n|direction_name }}</option>{% endfor %}"""
SELECT_TAG = """{% load review_lists %}{% direction_options direction|stringformat:"d" %}"""
BUDGET_LOOP = """{% load voucher_format %}{% for n in "1234" %}<option value="{{ n }}">{{ n|direction_name }}</option>{% endfor %}"""
BUDGET_TAG = """{% load review_lists %}{% direction_options "" %}"""

# the simulation's pager (review_lists' pager, already checked against the include for the
# lists' names, here under the dashboard's condition and parameter)
PAGER_INCLUDE = """{% if sim_page %}{% include "review/_pager.html" with p=sim_page name="sim_page" %}{% endif %}"""
PAGER_TAG = """{% load review_lists %}{% if sim_page %}{% pager sim_page "sim_page" %}{% endif %}"""

LANGUAGES = ["zh-hans", "en"]


def _both(loop: str, tag: str, context: dict, request=None) -> str:
    engine = engines["django"]
    expected = engine.from_string(loop).render(context, request)
    written = engine.from_string(tag).render(context, request)
    assert written == expected
    return written


def _figures() -> list[DirectionFigures]:
    zero = Decimal("0.00")
    return [
        DirectionFigures(
            1,
            Decimal("500000000.00"),
            Decimal("456478000.00"),
            Decimal("446598039.63"),
            Decimal("334637878.40"),
            Decimal("164617351.98"),
            767,
        ),
        DirectionFigures(2, None, Decimal("1.5"), zero, zero, zero, 1),  # no budget, one
        DirectionFigures(3, zero, zero, zero, zero, zero, 0),  # nothing at all
        DirectionFigures(
            4, None, Decimal("12345678901.01"), Decimal("0.01"), zero, Decimal("7"), 12345
        ),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_figures_tag_writes_what_the_loop_wrote(language):
    with translation.override(language):
        written = _both(FIGURES_LOOP, FIGURES_TAG, {"figures": _figures()})
        assert _both(FIGURES_LOOP, FIGURES_TAG, {"figures": []}) == ""
    assert written.count("<section") == 4
    assert ("1 application<" in written) == (language == "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_figures_tag_escapes_as_the_loop_did(language):
    # a label, a class and an amount that must be escaped (the engine's escaping of each)
    odd = SimpleNamespace(
        direction='9"<',
        count=2,
        bars=lambda: [
            ("甲 <b>&\"'", 'x" onclick="y', Decimal("1.00"), 50),
            ("乙", "paid", None, 0),
            ("", "", "", 100),
        ],
    )
    with translation.override(language):
        written = _both(FIGURES_LOOP, FIGURES_TAG, {"figures": [odd]})
    assert "甲 &lt;b&gt;&amp;&quot;&#x27;" in written
    assert 'bar-x&quot; onclick=&quot;y"' in written


def _series(months: int) -> list:
    return [
        (
            f"2026-{n:02d}" if n % 3 else f"<m{n}>&",
            Decimal("2134419631.77") * n,
            Decimal("0.00") if n % 2 else Decimal(n),
            (100 - n, n),
            (0, 100),
        )
        for n in range(months)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("months", [0, 1, 12])
def test_the_monthly_columns_write_what_the_loop_wrote(language, months):
    with translation.override(language):
        written = _both(SERIES_LOOP, SERIES_TAG, {"series": _series(months)})
    assert written.count("<g ") == months
    if months > 10:
        assert "translate(1100,0)" in written and "&lt;m0&gt;&amp;" in written


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("direction", [1, 2, 3, 4, 5, 0, -1])
def test_the_direction_choices_write_what_their_loops_wrote(language, direction):
    with translation.override(language):
        chosen = _both(SELECT_LOOP, SELECT_TAG, {"direction": direction})
        _both(BUDGET_LOOP, BUDGET_TAG, {"direction": direction})
    assert chosen.count(" selected") == (1 if 1 <= direction <= 4 else 0)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size,number", [(0, 1), (1, 1), (50, 1), (51, 2), (980, 1), (980, 20)])
def test_the_simulation_pager_writes_what_the_include_wrote(language, size, number):
    request = RequestFactory().get(
        "/review/dashboard/", {"round": "bj<&>", "direction": "2", "sim_page": "7"}
    )
    page = Paginator(range(size), 50).get_page(number)
    with translation.override(language):
        written = _both(PAGER_INCLUDE, PAGER_TAG, {"sim_page": page, "request": request}, request)
        assert _both(PAGER_INCLUDE, PAGER_TAG, {"sim_page": None}, request) == ""
    assert ('rel="next"' in written) == page.has_next()
    if page.has_other_pages():
        assert "round=bj%3C%26%3E" in written
