"""Issue 23, branch status (decision 0055): the applicant's status page writes its uploaded files
and its contracts' supplier's words with tags, not with the template's loops; what the loops
wrote (kept here verbatim, as they were in portal/status.html) is what the tags must write, to
the byte: escaping, empty values, a material the choices do not name, Chinese and English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import engines
from django.utils import translation

from voucher.applications.models import MaterialFile
from voucher.applications.supplier import Line

# portal/status.html's list of files as it was before material_file_list
FILES_LOOP = """{% load i18n voucher_format portal_format %}{% if files %}<section><h2>{% translate "已上传材料" %}</h2><ul>{% for f in files %}<li>{{ f.get_material_display|tr }}{% translate "：" context "label separator" %}<a href="{% url 'portal:file' a.pk f.pk %}">{{ f.original_name }}</a> <span class="small muted">{{ f.size|filesize }}</span></li>{% endfor %}</ul></section>{% endif %}"""
FILES_TAG = """{% load portal_format %}{% material_file_list a files %}"""

# portal/status.html's contracts with the supplier's words as they were before
# supplier_contract_words (the include is portal/_supplier_word_list.html, whose own loop
# tests/test_pages_read_less.py compares)
CONTRACTS_LOOP = """{% load i18n %}{% for item in supplier_contracts %}<h3>{% blocktranslate with id=item.c.contract_id %}合同 {{ id }}{% endblocktranslate %}</h3>{% include "portal/_supplier_word_list.html" with lines=item.lines %}{% endfor %}"""
CONTRACTS_TAG = """{% load portal_format %}{% supplier_contract_words supplier_contracts %}"""
# and that include as it was before the tag wrote its lines (tests/test_pages_read_less.py)
WORD_LIST_LOOP = """{% load i18n voucher_format portal_format %}<ul class="supplier-words">{% for line in lines %}{% with r=line.row %}<li class="supplier-word state-{{ line.state }}">{% if line.is_contract %}{% translate "合同条款（签订日期、有效期、总额）" %}{% elif line.kind == "invoice" %}{% blocktranslate with n=r.number d=r.date|cn_date x=r.amount|yuan_text %}发票 {{ n }}（{{ d }}），{{ x }}{% endblocktranslate %}{% elif line.kind == "payment" %}{% blocktranslate with d=r.date|cn_date x=r.amount|yuan_text %}付款 {{ d }}，{{ x }}{% endblocktranslate %}{% else %}{% blocktranslate with s=r.start|cn_date e=r.end|cn_date x=r.amount|yuan_text %}交付记录 {{ s }} – {{ e }}，{{ x }}{% endblocktranslate %}{% endif %}{% translate "：" context "label separator" %}<strong>{% if line.state == "confirmed" %}{% translate "供给方已确认" %}{% elif line.state == "disputed" %}{% translate "供给方有异议：" %}{{ line.reason }}{% else %}{% translate "供给方未确认" %}{% endif %}</strong></li>{% endwith %}{% endfor %}</ul>
"""


def _files() -> list[MaterialFile]:
    return [
        MaterialFile(pk=3, material="contract", original_name='合同<1>&"2".pdf', size=125),
        MaterialFile(pk=12, material="demand_qualification", original_name="", size=0),
        MaterialFile(pk=7, material="no<such>&material", original_name="x'y.pdf", size=5000),
        MaterialFile(pk=4, material="", original_name="b.pdf", size=3 * 2**20 + 17),
        MaterialFile(pk=2**40, material="usage_table", original_name="big id.pdf", size=None),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("count", [0, 1, 5])
def test_the_file_list_writes_what_its_loop_wrote(language, count):
    engine = engines["django"]
    context = {"a": SimpleNamespace(pk=41), "files": _files()[:count]}
    with translation.override(language):
        expected = engine.from_string(FILES_LOOP).render(context)
        written = engine.from_string(FILES_TAG).render(context)
    assert written == expected
    if count == 5:
        assert "合同&lt;1&gt;&amp;&quot;2&quot;.pdf" in written
        assert 'href="/portal/applications/41/files/1099511627776/"' in written
    if count == 0:
        assert written == ""


def _lines(amount: Decimal | None) -> list[Line]:
    invoice = SimpleNamespace(number="F<1>&2", date=date(2026, 1, 2), amount=amount)
    payment = SimpleNamespace(date=datetime(2026, 1, 3, 23, 0, tzinfo=UTC), amount=amount)
    delivery = SimpleNamespace(start=date(2025, 12, 1), end=None, amount=Decimal("0.00"))
    odd = SimpleNamespace(start="", end="not a date", amount="")
    return [
        Line("contract", SimpleNamespace(), "confirmed"),
        Line("invoice:1", invoice, "confirmed"),
        Line("payment:2", payment, "disputed", 'the "amount" <differs> & more'),
        Line("delivery:3", delivery, "unconfirmed"),
        Line("delivery:4", odd, "disputed", ""),
        Line("invoice:5", SimpleNamespace(number=None, date=None, amount=None), "unconfirmed"),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_contracts_supplier_words_write_what_their_loop_wrote(language):
    contracts = [
        {"c": SimpleNamespace(contract_id='HT-<1>&"x"'), "lines": _lines(Decimal("10.5"))},
        {"c": SimpleNamespace(contract_id=""), "lines": []},
        {"c": SimpleNamespace(contract_id="HT-3"), "lines": _lines(Decimal("1234567.00"))},
    ]
    engine = engines["django"]
    for shown in (contracts, contracts[:1], []):
        with translation.override(language):
            expected = engine.from_string(CONTRACTS_LOOP).render({"supplier_contracts": shown})
            written = engine.from_string(CONTRACTS_TAG).render({"supplier_contracts": shown})
        assert written == expected
    assert "HT-&lt;1&gt;&amp;&quot;x&quot;" in written or written == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_word_list_include_writes_what_its_loop_wrote(language):
    """portal/_supplier_word_list.html (the supplier's own page includes it too), its lines
    now written with the messages translated once a render: what the loop wrote."""
    engine = engines["django"]
    for amount in (Decimal("10.5"), None):
        context = {"lines": _lines(amount)}
        with translation.override(language):
            expected = engine.from_string(WORD_LIST_LOOP).render(context)
            written = engine.get_template("portal/_supplier_word_list.html").render(context)
        assert written == expected


DOCUMENT_LINKS_URL = """{% for pk in ids %}{% for d, x in names %}<a href="{% url 'documents:download' pk d x %}">|{% endfor %}{% endfor %}"""
DOCUMENT_LINKS_TAG = """{% load portal_format %}{% for pk in ids %}{% for d, x in names %}<a href="{% document_url pk d x %}">|{% endfor %}{% endfor %}"""


@pytest.mark.parametrize("prefix", ["/", "/sub/path/"])
def test_the_document_links_are_what_the_url_tag_wrote(prefix):
    """The status page's links to its documents: reversed once a render, each name put in place;
    the same addresses as `{% url %}` wrote, under a script prefix too, and for names that are
    not plain (reversed as before)."""
    from django.urls import get_script_prefix, set_script_prefix

    names = [
        ("usage-table", "pdf"),
        ("implementation-report", "docx"),
        ("commitment-letter", "pdf"),
        ("package", "pdf"),
        ("Upper_Case", "pdf"),
        ("a", "tar.gz"),
        ("x", "&<>"),
    ]
    engine = engines["django"]
    context = {"ids": [1, 41, 2**40], "names": names}
    before = get_script_prefix()
    set_script_prefix(prefix)
    try:
        expected = engine.from_string(DOCUMENT_LINKS_URL).render(context)
        written = engine.from_string(DOCUMENT_LINKS_TAG).render(context)
    finally:
        set_script_prefix(before)
    assert written == expected
    assert f'href="{prefix}applications/41/documents/usage-table.pdf"' in written


# --- the applicant's pages' queries, compiled once (decision 0055) ---------------------------


@pytest.fixture
def compiled(monkeypatch):
    """The SQL of each query the ORM compiles meanwhile (the compiled ones ask without it)."""
    from django.db.models.sql.compiler import SQLCompiler

    written: list[str] = []
    as_sql = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        sql, params = as_sql(self, *args, **kwargs)
        written.append(sql)
        return sql, params

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    return written


@pytest.fixture
def draft(settings, tmp_path, client):
    from django.urls import reverse

    from voucher.applications.models import Application

    from .portal_helpers import USCC_A, fill_d2, member, open_round

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("owner@a.example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    application = Application.objects.get()
    fill_d2(client, application)
    return application


def _table(sql: str) -> str:
    return sql.split(" FROM ", 1)[1].split()[0] if " FROM " in sql else sql.split()[0]


@pytest.mark.django_db
def test_the_status_page_and_the_step_compile_none_of_their_own_queries(client, draft, compiled):
    """Visited again, the status page, the wizard's step and its save compile none but the save's
    writes (the session with its user is compiled once too since branch door, decision 0053):
    the application, its contracts and their rows, the timeline, the files, the steps done, the
    compute total and the lock are asked with the SQL written at the first visit."""
    from django.urls import reverse

    from .portal_helpers import PROJECT_D2

    status = reverse("portal:status", args=[draft.pk])
    step = reverse("portal:project", args=[draft.pk])
    for url in (status, step):
        client.get(url)
        compiled.clear()
        assert client.get(url).status_code == 200
        assert sorted(map(_table, compiled)) == [], url
    draft.refresh_from_db()
    client.post(step, {"version": draft.version, **PROJECT_D2})
    draft.refresh_from_db()
    compiled.clear()
    assert client.post(step, {"version": draft.version, **PROJECT_D2}).status_code == 302
    selects = sorted(_table(sql) for sql in compiled if sql.startswith("SELECT"))
    # the audit chain's head (core.audit's, not compiled once)
    assert selects == ['"core_auditchainhead"'], selects
