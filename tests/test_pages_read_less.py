"""Issue 23, session 13: the pages at a season's scale read only what they show and write their
lists' rows without the template engine, showing the same HTML.

- the queue's and 我的待办's rows (review_lists' row tags) are what the templates' loops wrote,
  escaping, empty values, English and the 领取 button included;
- the portal's home reads the user's membership once; the status page does not read the frozen
  document nor the evaluation's JSON;
- django-fsm's state fields of an application are those django-fsm finds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from voucher.review.selectors.queue import PendingDecision, QueueRow

from .portal_helpers import USCC_A, fill_d2, member, open_round

# the templates' loops as they were (review/queue.html, review/mine.html) before the rows were
# written by a tag: what the tags must write, to the byte
QUEUE_LOOP = """{% load i18n voucher_format review_lists %}{% trans "编号" as l_ref %}{% trans "申报单位" as l_app %}{% trans "方向" as l_dir %}{% trans "状态" as l_state %}{% trans "评估" as l_outcome %}{% trans "最高可核定" as l_max %}{% trans "待审核" context "open review items" as l_open %}{% trans "承办人" as l_assignee %}{% row_url "review:screen" as screen_url %}
  {% for r in rows %}
  <tr data-state="{{ r.state }}">
    <td data-label="{{ l_ref }}"><a href="{{ screen_url|for_row:r.id }}">{{ r.reference }}</a></td>
    <td class="applicant" data-label="{{ l_app }}"><a href="{{ screen_url|for_row:r.id }}">{{ r.applicant_name }}</a></td>
    <td data-label="{{ l_dir }}">{{ r.direction|direction_name }}</td>
    <td data-label="{{ l_state }}"><span class="state state-{{ r.state }}">{{ r.state_label }}</span></td>
    <td data-label="{{ l_outcome }}"><span class="outcome outcome-{{ r.outcome }}">{{ r.outcome_label }}</span></td>
    <td class="num" data-label="{{ l_max }}">{% if r.approved_max is not None %}{{ r.approved_max|yuan_text }}{% else %}—{% endif %}</td>
    <td class="num" data-label="{{ l_open }}">{{ r.review_open }}</td>
    <td data-label="{{ l_assignee }}">{{ r.assignee|default:"—" }}</td>
  </tr>
  {% endfor %}|"""
QUEUE_TAG = """{% load i18n voucher_format review_lists %}{% trans "编号" as l_ref %}{% trans "申报单位" as l_app %}{% trans "方向" as l_dir %}{% trans "状态" as l_state %}{% trans "评估" as l_outcome %}{% trans "最高可核定" as l_max %}{% trans "待审核" context "open review items" as l_open %}{% trans "承办人" as l_assignee %}{% row_url "review:screen" as screen_url %}
  {% queue_table_rows rows screen_url %}|"""

MINE_LOOPS = """{% load i18n voucher_format review_lists %}{% row_url "review:screen" as screen_url %}{% row_url "review:assign" as assign_url %}
    {% for r in rows %}
    <tr data-state="{{ r.state }}">
      <td><a href="{{ screen_url|for_row:r.id }}">{{ r.reference }}</a></td>
      <td class="applicant">{{ r.applicant_name }}</td>
      <td>{{ r.direction|direction_name }}</td>
      <td><span class="state state-{{ r.state }}">{{ r.state_label }}</span></td>
      <td><span class="outcome outcome-{{ r.outcome }}">{{ r.outcome_label }}</span></td>
      <td class="num">{% if r.approved_max is not None %}{{ r.approved_max|yuan_text }}{% else %}—{% endif %}</td>
      <td class="num">{{ r.review_open }}</td>
    </tr>
    {% endfor %}|
    {% for d in pending %}
    <tr>
      <td><a href="{{ screen_url|for_row:d.application_id }}#decision">{{ d.reference }}</a></td>
      <td class="applicant">{{ d.applicant_name }}</td>
      <td>{{ d.kind_label }}</td>
      <td class="num">{{ d.amount|yuan_text }}</td>
      <td>{{ d.proposed_by }}</td>
    </tr>
    {% endfor %}|
    {% url 'review:mine' as mine_url %}{% trans "领取" as l_take %}
    {% for r in rows %}
    <tr data-state="{{ r.state }}">
      <td><a href="{{ screen_url|for_row:r.id }}">{{ r.reference }}</a></td>
      <td class="applicant">{{ r.applicant_name }}</td>
      <td>{{ r.direction|direction_name }}</td>
      <td><span class="state state-{{ r.state }}">{{ r.state_label }}</span></td>
      <td class="num">{{ r.review_open }}</td>
      <td>{% if may_take %}<form method="post" action="{{ assign_url|for_row:r.id }}" class="inline">{% csrf_token %}<input type="hidden" name="assignee" value="me"><input type="hidden" name="next" value="{{ mine_url }}"><button type="submit" class="secondary">{{ l_take }}</button></form>{% endif %}</td>
    </tr>
    {% endfor %}|"""
MINE_TAGS = """{% load i18n voucher_format review_lists %}{% row_url "review:screen" as screen_url %}{% row_url "review:assign" as assign_url %}
    {% assigned_rows rows screen_url %}|
    {% to_confirm_rows pending screen_url %}|
    {% url 'review:mine' as mine_url %}{% trans "领取" as l_take %}
    {% unassigned_rows rows screen_url assign_url may_take mine_url l_take %}|"""


def _row(pk: int, **changes) -> QueueRow:
    values = dict(
        id=pk,
        reference=f"R-2026-{pk:05d}",
        applicant_name="甲公司 <b>&\"'",
        direction=pk % 4 + 1,
        state="in_review",
        state_label="审核中",
        submitted_on=date(2026, 3, 1),
        outcome="approvable",
        outcome_label="可核定",
        approved_max=Decimal("1234567.89"),
        requested=None,
        proposed=None,
        decided=None,
        review_open=pk * 7,
        assignee="reviewer<1>",
    )
    values.update(changes)
    return QueueRow(**values)


ROWS = [
    _row(1),
    _row(22, outcome=None, outcome_label="评估中", approved_max=None, assignee="", direction=9),
    _row(1234, review_open=1234567, approved_max=Decimal("0.00"), state="formal_check"),
]
PENDING = [
    PendingDecision(
        id=5,
        application_id=22,
        reference="R-2026-00022",
        applicant_name="乙 & <丙>",
        kind="approval",
        kind_label="予以支持",
        amount=Decimal("1000.5"),
        proposed_by="reviewer2",
        proposed_at=datetime(2026, 3, 2, 10, 0),
    )
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("may_take", [True, False])
@pytest.mark.parametrize("rows", [ROWS, []])
def test_the_row_tags_write_what_the_loops_wrote(language, may_take, rows):
    request = RequestFactory().get("/review/mine/")
    request.META["CSRF_COOKIE"] = "a" * 32
    context = {"rows": rows, "pending": PENDING if rows else [], "may_take": may_take}
    engine = engines["django"]
    with translation.override(language):
        for loop, tag in ((QUEUE_LOOP, QUEUE_TAG), (MINE_LOOPS, MINE_TAGS)):
            expected = engine.from_string(loop).render(context, request)
            written = engine.from_string(tag).render(context, request)
            # the CSRF token is masked anew for each rendering: compare all but its value
            cut = 'name="csrfmiddlewaretoken" value="'

            def unmasked(html: str, cut: str = cut) -> str:
                return "".join(part[64:] if i else part for i, part in enumerate(html.split(cut)))

            assert unmasked(written) == unmasked(expected)
            assert written.count(cut) == expected.count(cut)
    if rows:
        assert "&lt;b&gt;&amp;&quot;&#x27;" in written  # escaped, as the engine escapes


SIMULATION_LOOP = """{% load voucher_format %}{% for row in sim_rows %}<tr><td>{{ row.application.reference }} {{ row.application.applicant_name }}</td><td class="num">{{ row.approved_max|yuan_text }}</td><td class="num">{{ row.scaled|yuan_text }}</td></tr>{% endfor %}"""
SIMULATION_TAG = """{% load review_lists %}{% simulation_rows sim_rows %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_simulation_rows_write_what_their_loop_wrote(language):
    from types import SimpleNamespace

    from voucher.review.selectors.dashboard import SimulationRow

    rows = [
        SimulationRow(
            SimpleNamespace(reference=f"R-{n}", applicant_name='甲 <&> "乙"'),
            Decimal("1234567.8"),
            Decimal("1000.00") * n,
        )
        for n in range(3)
    ]
    engine = engines["django"]
    with translation.override(language):
        expected = engine.from_string(SIMULATION_LOOP).render({"sim_rows": rows})
        written = engine.from_string(SIMULATION_TAG).render({"sim_rows": rows})
    assert written == expected
    assert "甲 &lt;&amp;&gt; &quot;乙&quot;" in written


# portal/_supplier_word_list.html as it was, before the lines were written by a tag
SUPPLIER_WORDS_LOOP = """{% load i18n voucher_format portal_format %}<ul class="supplier-words">{% for line in lines %}{% with r=line.row %}<li class="supplier-word state-{{ line.state }}">{% if line.is_contract %}{% translate "合同条款（签订日期、有效期、总额）" %}{% elif line.kind == "invoice" %}{% blocktranslate with n=r.number d=r.date|cn_date x=r.amount|yuan_text %}发票 {{ n }}（{{ d }}），{{ x }}{% endblocktranslate %}{% elif line.kind == "payment" %}{% blocktranslate with d=r.date|cn_date x=r.amount|yuan_text %}付款 {{ d }}，{{ x }}{% endblocktranslate %}{% else %}{% blocktranslate with s=r.start|cn_date e=r.end|cn_date x=r.amount|yuan_text %}交付记录 {{ s }} – {{ e }}，{{ x }}{% endblocktranslate %}{% endif %}{% translate "：" context "label separator" %}<strong>{% if line.state == "confirmed" %}{% translate "供给方已确认" %}{% elif line.state == "disputed" %}{% translate "供给方有异议：" %}{{ line.reason }}{% else %}{% translate "供给方未确认" %}{% endif %}</strong></li>{% endwith %}{% endfor %}</ul>"""


def _lines():
    from types import SimpleNamespace

    from voucher.applications.supplier import Line

    invoice = SimpleNamespace(number="F<1>&2", date=date(2026, 1, 2), amount=Decimal("10.5"))
    payment = SimpleNamespace(date=datetime(2026, 1, 3, 9, 0), amount=Decimal("1234567.00"))
    delivery = SimpleNamespace(start=date(2025, 12, 1), end=None, amount=Decimal("0.00"))
    return [
        Line("contract", SimpleNamespace(), "unconfirmed"),
        Line("invoice:1", invoice, "confirmed"),
        Line("payment:2", payment, "disputed", 'the "amount" <differs> & more'),
        Line("delivery:3", delivery, "unconfirmed"),
        Line("delivery:4", delivery, "disputed", ""),
        Line("invoice:5", SimpleNamespace(number=None, date=None, amount=None), "confirmed"),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_supplier_word_list_writes_what_its_loop_wrote(language):
    engine = engines["django"]
    context = {"lines": _lines()}
    with translation.override(language):
        expected = engine.from_string(SUPPLIER_WORDS_LOOP).render(context)
        written = engine.get_template("portal/_supplier_word_list.html").render(context)
    assert written == expected + "\n"
    assert "&lt;differs&gt;" in written and "F&lt;1&gt;&amp;2" in written


TIMELINE_LOOP = """{% load portal_format %}<ol class="timeline">{% for e in timeline %}<li><time>{{ e.when|cn_datetime }}</time> <strong>{{ e.what }}</strong>{% if e.detail %} · {{ e.detail }}{% endif %} <span class="muted small">{{ e.who }}</span></li>{% endfor %}</ol>"""
TIMELINE_TAG = """{% load portal_format %}<ol class="timeline">{% timeline_items timeline %}</ol>"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_timeline_writes_what_its_loop_wrote(language):
    from voucher.portal.selectors import TimelineEntry

    when = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 3月2日 in Beijing
    timeline = [
        TimelineEntry(when, "owner@a.example.cn", "保存“项目情况”", ""),
        TimelineEntry(when, "管理部门", "提交申报", "回执编号 <R&1>"),
        TimelineEntry(datetime(2026, 3, 2, 8, 5), 'a "b"', "x", None),
        # a day written once (branch portal): the same local day, the day before, a date
        TimelineEntry(datetime(2026, 3, 1, 16, 0, tzinfo=UTC), "x", "y", ""),
        TimelineEntry(datetime(2026, 3, 1, 15, 59, tzinfo=UTC), "x", "y", ""),
        TimelineEntry(date(2026, 3, 3), "x", "y", ""),
        TimelineEntry(None, "x", "y", ""),
    ]
    engine = engines["django"]
    with translation.override(language):
        expected = engine.from_string(TIMELINE_LOOP).render({"timeline": timeline})
        written = engine.from_string(TIMELINE_TAG).render({"timeline": timeline})
    assert written == expected
    assert "&lt;R&amp;1&gt;" in written


@pytest.fixture
def applicant(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("owner@a.example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


def _read(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.django_db
def test_the_portal_home_reads_the_membership_once(client, applicant):
    read = _read(client, reverse("portal:home"))
    assert sum('FROM "accounts_membership"' in sql for sql in read) == 1
    # the session with its user (one query since branch door, decision 0053), the membership,
    # the round, the applications
    assert len(read) <= 4


@pytest.mark.django_db
def test_the_status_page_does_not_read_the_frozen_document(client, applicant):
    fill_d2(client, applicant)
    applicant.refresh_from_db()
    response = client.post(
        reverse("portal:submit", args=[applicant.pk]),
        {"version": applicant.version, "confirm": "on"},
    )
    assert response.status_code == 302
    read = " ".join(_read(client, reverse("portal:status", args=[applicant.pk])))
    assert '"portal_submission"."document_json"' not in read
    assert '"applications_storedevaluation"."findings"' not in read
    assert '"core_auditentry"."entry_hash"' not in read  # the timeline: what an entry shows
    page = client.get(reverse("portal:status", args=[applicant.pk])).content.decode()
    submission = applicant.submissions.get()
    assert submission.receipt_number in page and submission.document_sha256 in page


def test_an_application_s_state_fields_are_django_fsm_s():
    from django_fsm import FSMFieldMixin

    from voucher.applications.models import Application

    found = [f for f in Application._meta.fields if isinstance(f, FSMFieldMixin)]
    assert list(Application().state_fields) == found == [Application._meta.get_field("state")]


# the filter form's loops as they were (review/_queue_filters.html), before a tag wrote them
FILTER_LOOPS = """{% load i18n voucher_format %}{% for v, l in states %}<option value="{{ v }}"{% if filters.state == v %} selected{% endif %}>{% trans l %}</option>{% endfor %}|{% for n in "1234" %}<option value="{{ n }}"{% if filters.direction == n %} selected{% endif %}>{{ n|direction_name }}</option>{% endfor %}"""
FILTER_TAGS = """{% load review_lists %}{% state_options states filters.state %}|{% direction_options filters.direction %}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "filters", [{}, {"state": "in_review", "direction": "2"}, {"state": "a&<b>", "direction": "4"}]
)
def test_the_filter_options_write_what_their_loops_wrote(language, filters):
    from voucher.applications.states import STATE_CHOICES

    # the states the form offers, and labels the engine escapes or whose % it doubles
    states = [*STATE_CHOICES[1:], ("a&<b>", '甲 <&> "乙"'), ("pct", "50% 以上 %(x)s")]
    context = {"states": states, "filters": filters}
    engine = engines["django"]
    with translation.override(language):
        expected = engine.from_string(FILTER_LOOPS).render(context)
        written = engine.from_string(FILTER_TAGS).render(context)
    assert written == expected
    assert written.count(" selected") == len(filters)
    assert "甲 &lt;&amp;&gt; &quot;乙&quot;" in written and "50% 以上 %(x)s" in written


def _sort_header_as_it_was(context, key, label, pages="page"):
    """review_lists.sort_header before branch mine: a deep copy of the query, format_html."""
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    request = context["request"]
    current = request.GET.get("sort", "")
    descending = current == key
    params = request.GET.copy()
    params["sort"] = f"-{key}" if descending else key
    for name in pages.split(","):
        params.pop(name, None)
    arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
    title = _("按“%(column)s”降序排列") if descending else _("按“%(column)s”升序排列")
    return format_html(
        '<a class="sort{}" href="?{}" title="{}" data-sort="{}">{}{}</a>',
        " sorted" if arrow else "",
        params.urlencode(),
        title % {"column": label},
        key,
        label,
        arrow,
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "query",
    ["", "?sort=open", "?sort=-open&q=a%26b%3Cc%3E&page=3", "?state=x&state=y&assigned_page=2"],
)
def test_the_sort_header_writes_what_format_html_wrote(language, query):
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    from voucher.review.templatetags.review_lists import sort_header

    request = RequestFactory().get("/review/mine/" + query)
    before = request.GET.urlencode()
    context = {"request": request}
    with translation.override(language):
        for label in (escape('R&D <"甲">'), 'R&D <"甲">', mark_safe("<b>编号</b>"), "待审核"):
            for pages in ("page", "assigned_page,unassigned_page"):
                written = sort_header(context, "open", label, pages)
                assert written == _sort_header_as_it_was(context, "open", label, pages)
    assert request.GET.urlencode() == before  # the request's query is left as it was


# --- branch portal (issue 23): the applicant's pages ------------------------------------------


@pytest.mark.django_db
def test_a_draft_s_status_page_does_not_ask_for_what_follows_a_submission(client, applicant):
    """A draft was never submitted: no receipt or decision to look for. And what the page's
    application has no row of (asked in one query, decision 0048) is not read: this draft has no
    supplement request, other subsidy, registry extract, supplier's word or settlement."""
    fill_d2(client, applicant)
    read = _read(client, reverse("portal:status", args=[applicant.pk]))
    (absent,) = [sql for sql in read if sql.startswith("SELECT EXISTS")]
    read.remove(absent)
    for table in (
        "portal_submission",
        "review_decision",
        "review_supplementrequest",
        "applications_othersubsidy",
        "applications_registryshareholding",
        "applications_registryofficer",
        "applications_lineconfirmation",
        "platforms_consumptionbatch",
    ):
        assert not any(f'FROM "{table}"' in sql for sql in read), table
    # 15 on main (this draft: direction 2, a contract); 9 since the session and its user are
    # one query (branch door, decision 0053)
    assert len(read) + 1 <= 9, len(read) + 1


@pytest.mark.django_db
def test_a_submitted_status_page_still_shows_its_receipt(client, applicant):
    fill_d2(client, applicant)
    applicant.refresh_from_db()
    client.post(
        reverse("portal:submit", args=[applicant.pk]),
        {"version": applicant.version, "confirm": "on"},
    )
    read = _read(client, reverse("portal:status", args=[applicant.pk]))
    for table in ("portal_submission", "review_supplementrequest", "review_decision"):
        assert any(f'FROM "{table}"' in sql for sql in read), table
    page = client.get(reverse("portal:status", args=[applicant.pk])).content.decode()
    assert applicant.submissions.get().receipt_number in page


@pytest.mark.django_db
def test_the_timeline_reads_the_entries_it_shows_as_values(client, applicant):
    """The timeline asks for the actions it shows, and their actor's name, not a user object."""
    from voucher.core.models import AuditEntry
    from voucher.portal.selectors import TIMELINE_ACTIONS, timeline

    fill_d2(client, applicant)
    with CaptureQueriesContext(connection) as captured:
        entries = timeline(applicant)
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert '"core_auditentry"."action" IN' in sql
    assert '"auth_user"."password"' not in sql and '"auth_user"."email"' not in sql
    shown = AuditEntry.objects.filter(
        object_type="applications.application",
        object_id=str(applicant.pk),
        action__in=TIMELINE_ACTIONS,
    )
    assert len(entries) == shown.count() > 3
    assert {e.who for e in entries} == {"owner@a.example.cn"}


@pytest.mark.django_db
def test_a_saved_step_and_its_audit_entry_are_what_they_were(client, applicant):
    """The wizard's save (the project step) after branch portal: the same columns saved, the
    version bumped once, the step marked done, one audit entry with the same data; its lock
    reads the application's row only, the round and the enterprise kept from the page's read."""
    from voucher.core.models import AuditEntry
    from voucher.portal.models import DraftProgress

    from .portal_helpers import PROJECT_D2

    applicant.refresh_from_db()
    before = applicant.version
    url = reverse("portal:project", args=[applicant.pk])
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, {"version": before, **PROJECT_D2})
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.version == before + 1
    assert applicant.project_name == "工业质检大模型训练"
    assert applicant.project_start_date == date(2025, 9, 15)
    assert applicant.requested_amount == Decimal("4000000.00")
    assert applicant.ai_field is True and applicant.miit_2025_list is True
    assert applicant.action_plan_aligned is False and applicant.topic is None
    assert "project" in DraftProgress.objects.get(application=applicant).steps_done
    entry = AuditEntry.objects.filter(action="application_update").latest("id")
    assert entry.object_id == str(applicant.pk)
    assert entry.object_repr == str(applicant)  # the reference: the round's code
    assert entry.actor_label == "owner@a.example.cn"
    assert entry.data == {
        "step": "project",
        "version": before + 1,
        "changed": [
            "ai_field",
            "miit_2025_list",
            "project_name",
            "project_overview",
            "project_start_date",
            "requested_amount",
        ],
    }
    # the page's read (joined to the membership), then the lock's (FOR NO KEY UPDATE on
    # PostgreSQL; SQLite has no row locks)
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "applications_application"' in q["sql"]
    ]
    assert len(reads) == 2 and "membership" in reads[0]
    assert "applications_policyroundrecord" in reads[0] and "applications_enterprise" in reads[0]
    assert "applications_policyroundrecord" not in reads[1]
    assert "applications_enterprise" not in reads[1]
    # the steps done read with the locked row, not asked for again
    assert 'LEFT OUTER JOIN "portal_draftprogress"' in reads[1]
    assert not any(
        q["sql"].startswith("SELECT") and 'FROM "portal_draftprogress"' in q["sql"]
        for q in captured.captured_queries
    )
