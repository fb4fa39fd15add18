"""Decision 0054 (branch lists): the review lists as opened, their SQL written once, and the
review site's navigation written by a tag.

- the queue's and 我的待办's lists, counts and proposals to confirm, asked through the SQL
  compiled once per shape, are what the ORM's own queries answer (every order, pages past the
  end and not numbers, a reviewer, an approver, a screener who sees direction 3 only);
- `{% review_nav_links %}` writes what review/base.html's navigation wrote (kept here verbatim),
  in Chinese and English, with every link offered or not and a name that must be escaped.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from voucher.review.selectors import queue
from voucher.review.templatetags import review_nav

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff
from .season_support import copy_applications

# review/base.html's navigation as it was before decision 0054: what the tag must write
NAV_TEMPLATE = """{% load i18n review_nav voucher_format %}{% review_nav as nav %}<nav class="review-nav" aria-label="{% trans "审核" %}">
  <a href="{% url 'review:queue' %}">{% trans "审核队列" %}</a>
  <a href="{% url 'review:mine' %}">{% trans "我的待办" %}</a>
  <a href="{% url 'review:publicity' %}">{% trans "公示" %}</a>
  <a href="{% url 'review:dashboard' %}">{% trans "预算与统计" %}</a>
  <a href="{% url 'review:statistics' %}">{% trans "分类统计" %}</a>
  <a href="{% url 'review:checks' %}">{% trans "跨申报核查" %}</a>
  <a href="{% url 'review:payment_batches' %}">{% trans "拨付" %}</a>
  {% if nav.payees %}<a href="{% url 'review:payees' %}">{% trans "收款账户" %}</a>{% endif %}
  <a href="{% url 'review:supervision' %}">{% trans "跟踪管理" %}</a>
  <a href="{% url 'review:clawbacks' %}">{% trans "退还" %}</a>
  <a href="{% url 'review:lists' %}">{% trans "外部名单" %}</a>
  <a href="{% url 'review:official_lists' %}">{% trans "官方名单" %}</a>
  <a href="{% url 'review:parameters' %}">{% trans "轮次参数" %}</a>
  {% if nav.notifications %}<a href="{% url 'review:notifications' %}">{% trans "通知" %}</a>{% endif %}
  {% if nav.screening %}<a href="{% url 'platforms:screening' %}">{% trans "开源项目筛选" %}</a>{% endif %}
  <a href="{% url 'registry:relation' %}">{% trans "关联关系查询" %}</a>
  <a href="{% url 'registry:sweeps' %}">{% trans "全轮次关联排查" %}</a>
  {% if nav.registry_import %}<a href="{% url 'registry:import' %}">{% trans "导入登记信息" %}</a>{% endif %}
  {% if nav.staff %}<a href="{% url 'review:staff' %}">{% trans "系统管理" %}</a>{% endif %}
  <a href="{% url 'review:enterprises' %}">{% trans "企业信息" %}</a>
  {% if nav.claims %}<a href="{% url 'accounts:claims' %}">{% trans "企业认领" %}</a>{% endif %}
  <a href="{% url 'staffapi:tokens' %}">{% trans "接口令牌" %}</a>
  <span class="who">{{ user|person }}</span>
  <form method="post" action="{% url 'review:logout' %}" class="inline">{% csrf_token %}<button type="submit" class="link">{% trans "退出" %}</button></form>
</nav>"""
NAV_TAG = """{% load review_nav %}{% review_nav_links %}"""

FLAGS = {
    "notifications": "can_see_notifications",
    "screening": "can_screen",
    "registry_import": "can_import_registry",
    "staff": "can_manage_users",
    "claims": "can_decide_enterprise_claim",
    "payees": "can_check_payee",
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("offered", [(), tuple(FLAGS), ("payees", "screening", "claims")])
def test_the_navigation_tag_writes_what_the_template_wrote(monkeypatch, language, offered):
    for flag, check in FLAGS.items():
        monkeypatch.setattr(review_nav.p, check, lambda user, on=flag in offered: on)
    user = get_user_model()(username="x", first_name="<b>&\"'", last_name="审核")
    request = RequestFactory().get("/review/")
    request.META["CSRF_COOKIE"] = "a" * 32
    request.user = user
    context = {"user": user}
    engine = engines["django"]
    cut = 'name="csrfmiddlewaretoken" value="'
    with translation.override(language):
        expected = engine.from_string(NAV_TEMPLATE).render(context, request)
        written = engine.from_string(NAV_TAG).render(context, request)
    # the CSRF token is masked anew for each rendering: compare all but its value
    assert written.split(cut)[0] == expected.split(cut)[0]
    assert written.split(cut)[1][64:] == expected.split(cut)[1][64:]
    assert written.count(cut) == expected.count(cut) == 1
    assert "&lt;b&gt;&amp;&quot;&#x27;" in written
    assert written.count("<a href=") == 16 + len(offered)
    if language == "en":
        assert "审核队列" not in written  # translated, as {% trans %} translates


@pytest.fixture
def world(demo_data, django_user_model, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    reviewer2 = make_staff(django_user_model, "reviewer2", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    screener = make_staff(django_user_model, "screener", "centre_screener")
    template = application_from("d2-common-shareholder-review")
    copy_applications(template, 60, assignee=reviewer, proposer=reviewer2)
    copy_applications(template, 55, assignee=None, proposer=reviewer2)
    return [reviewer, reviewer2, approver, screener]


def _mine(work):
    return (
        work.assigned.rows,
        work.assigned.page.number,
        work.assigned.page.paginator.count,
        work.unassigned.rows,
        work.unassigned.page.number,
        work.unassigned.page.paginator.count,
        work.to_confirm,
        work.to_confirm_page.number,
        work.to_confirm_page.paginator.count,
        work.may_take,
    )


def _queue(page):
    return page.rows, page.page.number, page.page.paginator.count


@pytest.mark.django_db
def test_the_lists_compiled_once_answer_what_the_orm_answers(world, monkeypatch):
    shape = queue._shape
    sorts = ["", *(s for key in queue.SORTS for s in (key, f"-{key}"))]
    seen = set()
    for user in world:
        for sort in sorts:
            for number in (None, "2", "99", "x"):
                compiled_queue = queue.review_page(user, {}, sort, number)
                compiled_mine = queue.my_work(user, {}, sort, number, number, number)
                monkeypatch.setattr(queue, "_shape", lambda user: None)
                assert _queue(queue.review_page(user, {}, sort, number)) == _queue(compiled_queue)
                assert _mine(queue.my_work(user, {}, sort, number, number, number)) == _mine(
                    compiled_mine
                )
                monkeypatch.setattr(queue, "_shape", shape)
                seen.add((compiled_queue.page.paginator.count, len(compiled_mine.assigned.rows)))
    # the world had full pages, a second page, and the screener's empty lists
    assert any(count > queue.PAGE_SIZE for count, _ in seen)
    assert (0, 0) in seen or any(count == 0 for count, _ in seen)


# review/_queue_filters.html as it was before decision 0054: what queue_filters must write
FILTERS_TEMPLATE = """{% load i18n voucher_format review_lists %}{# the lists' filter form: `filters` as typed, `states`; keeps the order asked #}
<form method="get" class="filters">
  {% if sort %}<input type="hidden" name="sort" value="{{ sort }}">{% endif %}
  <label>{% trans "状态" %} <select name="state"><option value="">{% trans "全部" %}</option>{% state_options states filters.state %}</select></label>
  <label>{% trans "方向" %} <select name="direction"><option value="">{% trans "全部" %}</option>{% direction_options filters.direction %}</select></label>
  <label>{% trans "结论" %} <select name="outcome"><option value="">{% trans "全部" %}</option>
    <option value="eligible"{% if filters.outcome == "eligible" %} selected{% endif %}>{% trans "符合条件" %}</option>
    <option value="needs_review"{% if filters.outcome == "needs_review" %} selected{% endif %}>{% trans "需人工审核" %}</option>
    <option value="ineligible"{% if filters.outcome == "ineligible" %} selected{% endif %}>{% trans "不符合条件" %}</option>
    <option value="incomplete"{% if filters.outcome == "incomplete" %} selected{% endif %}>{% trans "材料不全" %}</option></select></label>
  <label>{% trans "待审核" context "open review items" %} <select name="open"><option value="">{% trans "全部" %}</option>
    <option value="yes"{% if filters.open == "yes" %} selected{% endif %}>{% trans "有未处理项" %}</option>
    <option value="no"{% if filters.open == "no" %} selected{% endif %}>{% trans "无未处理项" %}</option></select></label>
  {% if with_assignee %}<label>{% trans "承办人" %} <input name="assignee" value="{{ filters.assignee|default:'' }}" size="10"></label>{% endif %}
  <label>{% trans "最高可核定（元）" %} <input name="amount_min" value="{{ filters.amount_min|default:'' }}" size="10" inputmode="decimal" placeholder="{% trans "不低于" %}"> – <input name="amount_max" value="{{ filters.amount_max|default:'' }}" size="10" inputmode="decimal" placeholder="{% trans "不高于" %}"></label>
  <label>{% trans "单位或代码" %} <input name="q" value="{{ filters.q|default:'' }}"></label>
  <button type="submit">{% trans "筛选" %}</button>
  {% if export %}<a class="button secondary" href="{% url 'review:queue_export' %}?{{ query }}">{% trans "导出 Excel" %}</a>{% endif %}
</form>
"""
FILTERS_TAG = (
    """{% load review_lists %}{% queue_filters with_assignee=with_assignee export=export %}"""
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"state": "in_review", "direction": "2", "outcome": "needs_review", "open": "yes"},
        {"outcome": "incomplete", "open": "no", "assignee": "<b>&\"'", "q": "科技 & <i>"},
        {"amount_min": "1,000", "amount_max": '9"9', "outcome": "nonsense", "open": "maybe"},
    ],
)
@pytest.mark.parametrize("sort", ["", "-amount", 'x"<'])
def test_the_filters_tag_writes_what_the_template_wrote(language, filters, sort):
    from voucher.applications.states import STATE_CHOICES

    engine = engines["django"]
    for with_assignee, export in ((True, True), (False, False), (True, False)):
        context = {
            "filters": filters,
            "sort": sort,
            "states": STATE_CHOICES[1:],
            "query": "state=in_review&q=%E7%A7%91&x=<'>",
            "with_assignee": with_assignee,
            "export": export,
        }
        with translation.override(language):
            expected = engine.from_string(FILTERS_TEMPLATE).render(context)
            written = engine.from_string(FILTERS_TAG).render(context)
        assert written == expected


PAGER_INCLUDE = """{% include "review/_pager.html" with p=p name=name %}"""
PAGER_TAG = """{% load review_lists %}{% pager p name %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "size,number", [(0, 1), (1, 1), (50, 1), (51, 2), (120, 1), (120, 2), (2345, 3)]
)
def test_the_pager_tag_writes_what_the_include_wrote(language, size, number):
    from django.core.paginator import Paginator

    request = RequestFactory().get("/review/mine/", {"q": "<b>&\"'", "sort": "-open", "page": "7"})
    page = Paginator(range(size), 50).get_page(number)
    engine = engines["django"]
    for name in ("page", "assigned_page", 'x"<'):
        context = {"p": page, "name": name, "request": request}
        with translation.override(language):
            expected = engine.from_string(PAGER_INCLUDE).render(context, request)
            written = engine.from_string(PAGER_TAG).render(context, request)
        assert written == expected
        assert ('rel="next"' in written) == page.has_next()
