"""Issue 23, branch near (decision 0058): the status page and 我的待办 a little cheaper, the same.

- the language switch of every page's header written by a tag: what _language_switch.html (kept
  here verbatim) wrote, to the byte;
- an int written by the rows' tags by its digits: what the engine's `{{ }}` wrote;
- the timeline's repeated values written once: what the loop wrote, a safe string and a plain
  one of the same text each as the loop wrote it;
- the review navigation's addresses reversed once per URLconf and script prefix: those of the
  prefix of the request;
- platform_data_changed_of in one compiled query: what platform_data_changed says of each;
- a compiled query's converters asked once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models.expressions import Col
from django.db.models.sql.compiler import SQLCompiler
from django.template import Context, engines
from django.template.base import render_value_in_context
from django.test import RequestFactory
from django.urls import reverse, set_script_prefix
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from voucher.applications.templatetags.voucher_format import variable_html

# _language_switch.html as it was before the tag language_switch (its final newline included)
SWITCH_TEMPLATE = """{% load i18n %}{% get_current_language as LANGUAGE_CODE %}<form class="lang-switch" action="{% url 'set_language' %}" method="post">
          {% csrf_token %}
          <input name="next" type="hidden" value="{{ request.get_full_path }}">
          {% get_available_languages as LANGUAGES %}
          {% get_language_info_list for LANGUAGES as languages %}
          {% for language in languages %}
            <button type="submit" name="language" value="{{ language.code }}"{% if language.code == LANGUAGE_CODE %} aria-current="true" class="current"{% endif %} lang="{% if language.code == 'en' %}en{% else %}zh-Hans{% endif %}">{{ language.name_local }}</button>
          {% endfor %}
        </form>
"""
SWITCH_TAG = """{% load voucher_format %}{% language_switch %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("path", [None, "/portal/", "/x/?a=1&b=\"<2>\"&c='3'"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_the_language_switch_writes_what_its_template_wrote(language, path, autoescape):
    engine = engines["django"].engine
    context = {"csrf_token": "tok<en>"}
    if path is not None:
        context["request"] = RequestFactory().get(path)
    with translation.override(language):
        expected = engine.from_string(SWITCH_TEMPLATE).render(
            Context(context, autoescape=autoescape)
        )
        written = engine.from_string(SWITCH_TAG).render(Context(context, autoescape=autoescape))
    assert written == expected
    assert written.count('aria-current="true"') == 1
    if path and autoescape:
        assert f'value="{conditional_escape(context["request"].get_full_path())}"' in written


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize(
    "value", [0, 7, -12, 1234567, 2**70, True, False, None, 3.5, "12<3>", mark_safe("<b>")]
)
def test_a_value_is_written_as_the_engine_writes_it(settings, language, grouped, value):
    settings.USE_THOUSAND_SEPARATOR = grouped
    for autoescape in (True, False):
        context = Context({}, autoescape=autoescape)
        with translation.override(language):
            assert variable_html(value, context) == str(render_value_in_context(value, context))
    if grouped and value == 1234567:
        with translation.override("en"):
            assert variable_html(value, Context({})) == "1,234,567"  # not its bare digits


# the loop portal/status.html had (tests/test_pages_read_less.py compares its other cases)
TIMELINE_LOOP = """{% load portal_format %}<ol class="timeline">{% for e in timeline %}<li><time>{{ e.when|cn_datetime }}</time> <strong>{{ e.what }}</strong>{% if e.detail %} · {{ e.detail }}{% endif %} <span class="muted small">{{ e.who }}</span></li>{% endfor %}</ol>"""
TIMELINE_TAG = """{% load portal_format %}<ol class="timeline">{% timeline_items timeline %}</ol>"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_timeline_writes_each_repeated_value_as_its_loop_did(language):
    from voucher.portal.selectors import TimelineEntry

    when = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    same = "<b>甲 & 乙</b>"
    timeline = [
        TimelineEntry(when, same, same, ""),
        # the same text, safe: not escaped, where the plain one before and after it is
        TimelineEntry(when, mark_safe(same), mark_safe(same), ""),
        TimelineEntry(when + timedelta(minutes=1), same, same, "a<1>"),
        TimelineEntry(when, gettext_lazy("管理部门"), gettext_lazy("提交申报"), ""),
        TimelineEntry(when, gettext_lazy("管理部门"), gettext_lazy("提交申报"), ""),
        TimelineEntry(when, ["not", "<hashable>"], 12, ""),
        TimelineEntry(when, ["not", "<hashable>"], 12, ""),
        TimelineEntry(when, "", "", ""),
        TimelineEntry(when + timedelta(days=40), 'a "b"', "x'y", ""),
    ]
    engine = engines["django"]
    with translation.override(language):
        expected = engine.from_string(TIMELINE_LOOP).render({"timeline": timeline})
        written = engine.from_string(TIMELINE_TAG).render({"timeline": timeline})
    assert written == expected
    assert "<b>甲 & 乙</b>" in written and "&lt;b&gt;甲 &amp; 乙&lt;/b&gt;" in written


@pytest.mark.django_db
def test_the_navigation_s_addresses_follow_the_script_prefix():
    from voucher.review.templatetags.review_nav import NAV_LINKS, _addresses

    names = [name for _flag, name, _label in NAV_LINKS] + ["review:logout"]
    try:
        for prefix in ("/", "/voucher/", "/other/", "/"):
            set_script_prefix(prefix)
            addresses = _addresses()
            assert addresses == {name: reverse(name) for name in names}
            assert addresses["review:queue"].startswith(prefix)
    finally:
        set_script_prefix("/")


# --- the platform's data changed since a direction-3 application was built ---------------------

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    """Five applications, each built at T0 from a screening (the third from two, the fourth
    from none), the platform's data of each pair changed (or not) in a different way."""
    from tests.documents_support import make_application
    from voucher.platforms.models import (
        ConsumptionBatch,
        Platform,
        PlatformContract,
        Project,
        ShortlistEntry,
    )

    screener = get_user_model().objects.create_user("screener-near")
    platform = Platform.objects.create(code="p-near", name="平台")
    applications = [make_application() for _ in range(5)]

    def screening(n: int, application, uscc: str):
        project = Project.objects.create(
            platform=platform,
            external_id=f"x-{n}",
            enterprise_uscc=uscc,
            enterprise={},
            name="项目",
            url="https://example.cn/p",
            scenario="s",
            start_date=T0.date(),
            open_source_licence="MIT",
        )
        return ShortlistEntry.objects.create(
            project=project,
            decision="listed",
            open_source=True,
            scenario_aligned=True,
            action_plan_aligned=True,
            platform_listed=True,
            reasons="r",
            screened_by=screener,
            application=application,
        )

    usccs = [f"91110000MA0000000{n}" for n in range(6)]
    for n, application in enumerate(applications):
        if n != 3:
            screening(n, application, usccs[n])
    screening(5, applications[2], usccs[5])  # a second screening: the first one counts

    def batch(n: int, uscc: str, **kwargs):
        return ConsumptionBatch.objects.create(
            platform=platform,
            enterprise_uscc=uscc,
            idempotency_key=f"k-{n}",
            file_sha256="0" * 64,
            file_name="b.csv",
            file_size=1,
            **kwargs,
        )

    # 0: a batch done after the build; 1: one done before, one withdrawn after
    batch(1, usccs[0], status=ConsumptionBatch.DONE, finished_at=T0 + timedelta(hours=1))
    batch(2, usccs[1], status=ConsumptionBatch.DONE, finished_at=T0 - timedelta(hours=1))
    batch(3, usccs[1], withdrawn_at=T0 + timedelta(seconds=1))
    # 2 (its first screening): a batch failed after, and one settling an application: no
    # change; its second screening's pair changed (which does not count)
    batch(4, usccs[2], status=ConsumptionBatch.FAILED, finished_at=T0 + timedelta(hours=1))
    batch(
        5,
        usccs[2],
        status=ConsumptionBatch.DONE,
        finished_at=T0 + timedelta(hours=1),
        settles_application=applications[0],
    )
    batch(6, usccs[5], status=ConsumptionBatch.DONE, finished_at=T0 + timedelta(hours=1))
    # 4: a contract saved after the build (and one at the very time of it: no change)
    PlatformContract.objects.create(
        platform=platform, enterprise_uscc=usccs[4], contract_id="C1", document={}
    )
    PlatformContract.objects.create(
        platform=platform, enterprise_uscc=usccs[4], contract_id="C2", document={}
    )
    PlatformContract.objects.filter(contract_id="C1").update(updated_at=T0 + timedelta(days=1))
    PlatformContract.objects.filter(contract_id="C2").update(updated_at=T0)
    return applications


def _as_the_list_makes_them(applications, direction=3, built=T0):
    from voucher.applications.models import Application

    return [Application(id=a.pk, direction=direction, created_at=built) for a in applications]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_the_platform_data_of_many_are_what_each_one_s_are(world, count):
    from voucher.platforms.selectors import platform_data_changed, platform_data_changed_of

    for chosen in (world[:count], world[-count:], world[::-1][:count]):
        applications = _as_the_list_makes_them(chosen)
        expected = {a.pk for a in applications if platform_data_changed(a)}
        assert platform_data_changed_of(applications) == expected
    every = _as_the_list_makes_them(world)
    assert platform_data_changed_of(every) == {world[0].pk, world[1].pk, world[4].pk}
    # built after every change: none changed; not direction 3: not asked
    later = _as_the_list_makes_them(world, built=T0 + timedelta(days=2))
    assert platform_data_changed_of(later) == set()
    assert platform_data_changed_of(_as_the_list_makes_them(world, direction=2)) == set()


def test_the_platform_data_of_a_page_are_one_query_compiled_once(
    world, django_assert_num_queries, monkeypatch
):
    from voucher.platforms.selectors import platform_data_changed_of

    platform_data_changed_of(_as_the_list_makes_them(world[:3]))  # compiled for 3 and 4
    compiled = []
    real = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or real(self, *a, **k)
    )
    for chosen in (world[:3], world[1:5], world[2:5]):
        with django_assert_num_queries(1):
            platform_data_changed_of(_as_the_list_makes_them(chosen))
    assert compiled == []


@pytest.mark.django_db
def test_a_compiled_query_asks_its_converters_once(monkeypatch):
    from voucher.core import precompiled

    user_model = get_user_model()
    user = user_model.objects.create_user("near", first_name="甲")
    key = "test_pages_near.users"
    precompiled._compiled.pop(precompiled._where("default", key), None)

    def build(user_id):
        return user_model.objects.filter(pk=user_id)

    def values(users):
        return [{k: v for k, v in u.__dict__.items() if k != "_state"} for u in users]

    assert values(precompiled.rows(key, user_model, build, user_id=user.pk)) == values(
        build(user.pk)
    )
    # what get_converters asks of each column, once compiled: nothing
    asked = []
    real = Col.get_db_converters
    monkeypatch.setattr(
        Col, "get_db_converters", lambda self, connection: asked.append(1) or real(self, connection)
    )
    (again,) = precompiled.rows(key, user_model, build, user_id=user.pk)
    assert asked == []
    assert (again.pk, again.first_name, again.date_joined) == (
        user.pk,
        "甲",
        user_model.objects.get().date_joined,
    )
    # other columns than the compiled ones are asked of the compiler as before
    compiler = precompiled._compiled[precompiled._where("default", key)][1]
    assert compiler.get_converters([]) == {}
