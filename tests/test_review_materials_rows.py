"""The review screen's materials (branch materials, issue 23): each material's files and its
checklist's items written by `material_file_rows` and `checklist_rows` (decision 0041), compared
with the template loops they replaced, kept here verbatim, in Chinese and English, with values
that need escaping, every state of an item and of a file's signatures, the form kept after a
refusal or not. The season's screens were also compared whole, before and after
(docs/performance.md, "Branch materials"): they have files but no judgement, hence the items
here."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.utils import translation

# review/_material_files.html's loop as it was (2026-12-07)
FILES_BEFORE = "{% load i18n %}" + (
    "{% for f in files %}\n"
    '  <tr id="file-{{ f.pk }}">\n'
    '    <td data-label="{% trans "文件" %}">{{ f.original_name }}</td>\n'
    '    <td data-label="{% trans "类型" %}"><code>{{ f.content_type }}</code></td>\n'
    '    <td class="num" data-label="{% trans "大小" %}">{{ f.size|filesizeformat }}</td>\n'
    '    <td data-label="SHA-256"><code class="wrap small sha">{{ f.sha256 }}</code></td>\n'
    '    <td data-label="{% trans "密级标志检查" %}" class="scan scan-{{ f.classified_scan|default:"none" }}">{% trans f.get_classified_scan_display %}</td>\n'
    '    <td data-label="{% trans "电子签名" %}" class="file-signatures">{% include "review/_signatures.html" with s=f.signatures %}</td>\n'
    '    <td data-label="{% trans "上传时间" %}">{{ f.uploaded_at|date:"Y-m-d H:i" }}</td>\n'
    '    <td data-label="{% trans "操作" %}" class="file-actions">\n'
    '      {% if f.previewable %}<a href="{% url \'review:material_view\' a.pk f.pk %}">{% trans "在页面中查看" %}</a> · {% endif %}<a href="{% url \'review:material_file\' a.pk f.pk %}">{% trans "下载" %}</a>\n'
    "    </td>\n"
    "  </tr>\n"
    "  {% endfor %}"
)
FILES_AFTER = "{% load review_materials %}{% material_file_rows files %}"

# review/_material_checklist.html's loop as it was (2026-12-07)
ITEMS_BEFORE = "{% load i18n review_typed voucher_format %}" + (
    "{% for i in m.items %}\n"
    '    <tr class="check check-{{ i.status }}" id="check-{{ i.id }}" data-item="{{ i.id }}">\n'
    '      <th scope="row">{{ i.item.text }} <span class="tag tag-clause">{{ i.item.clause }}</span>\n'
    '        {% if i.status == "reopened" %}<span class="reopened">{% trans "材料已更新，须重新核对" %}{% if i.check %}{% trans i.check.get_status_display as result %}（{% blocktrans %}上次核对：{{ result }}{% endblocktrans %}）{% endif %}</span>{% endif %}\n'
    '        {% if i.check and i.status != "reopened" %}<span class="by">{% blocktrans with who=i.check.checked_by|person when=i.check.checked_at|date:"Y-m-d H:i" %}{{ who }} 核对于 {{ when }}{% endblocktrans %}</span>{% endif %}\n'
    "      </th>\n"
    '      <td class="result">\n'
    "        {% if ms.can_check.allowed %}\n"
    '        <label><input type="radio" name="status-{{ i.id }}" value="ok"{% if typed_form.material.0 == m.material %}{% typed_checked "material_check" "status-"|add:i.id "ok" %}{% elif i.status == "ok" %} checked{% endif %}> {% trans "符合" %}</label>\n'
    '        <label><input type="radio" name="status-{{ i.id }}" value="wrong"{% if typed_form.material.0 == m.material %}{% typed_checked "material_check" "status-"|add:i.id "wrong" %}{% elif i.status == "wrong" %} checked{% endif %}> {% trans "不符合" %}</label>\n'
    "        {% else %}\n"
    '        <span class="status-word">{% if i.status == "ok" %}{% trans "符合" %}{% elif i.status == "wrong" %}{% trans "不符合" %}{% else %}{% trans "未核对" %}{% endif %}</span>\n'
    "        {% endif %}\n"
    "      </td>\n"
    '      <td class="note">\n'
    '        {% if ms.can_check.allowed %}<label class="sr-only" for="note-{{ i.id }}">{% blocktrans with item=i.item.text %}说明：{{ item }}{% endblocktrans %}</label><input id="note-{{ i.id }}" name="note-{{ i.id }}" placeholder="{% trans "说明（不符合时必填）" %}" value="{% typed "material_check" "note-"|add:i.id i.check.note|default:"" %}">\n'
    "        {% elif i.check %}{{ i.check.note }}{% endif %}\n"
    '        {% if i.wrong and ms.can_check.allowed %}<a class="supplement-link" href="{% url \'review:screen\' a.pk %}?supplement={{ i.id|urlencode }}#supplement-form">{% trans "就此项要求补正" %}</a>{% endif %}\n'
    "      </td>\n"
    "    </tr>\n"
    "    {% endfor %}"
)
ITEMS_AFTER = (
    "{% load review_materials %}{% if typed_form.material.0 == m.material %}"
    "{% checklist_rows m ms.can_check.allowed True %}"
    "{% else %}{% checklist_rows m ms.can_check.allowed False %}{% endif %}"
)


def _files() -> list:
    from voucher.applications.models import MaterialFile

    late = datetime(2026, 12, 7, 23, 15, tzinfo=UTC)  # the next day in Beijing
    signer = SimpleNamespace(
        signer_name="王<五> & 李", signed_at=late, problem=None, intact=True, covers_whole_file=True
    )
    signed = SimpleNamespace(
        state="signed",
        signatures=[
            SimpleNamespace(**{**vars(signer), "trusted": True}),
            SimpleNamespace(**{**vars(signer), "trusted": False, "signer_name": ""}),
            SimpleNamespace(
                **{**vars(signer), "trusted": False, "signed_at": None, "intact": False}
            ),
            SimpleNamespace(**{**vars(signer), "trusted": False, "problem": "bad"}),
            SimpleNamespace(**{**vars(signer), "trusted": True, "covers_whole_file": False}),
        ],
    )
    states = [
        (None, "business_license", "image/png", ""),
        (SimpleNamespace(state="unreadable"), "business_license", "application/pdf", "clean"),
        (SimpleNamespace(state="unsigned"), "commitment_letter", "application/pdf", "not_read"),
        (SimpleNamespace(state="unsigned"), "business_license", "application/pdf", "unreadable"),
        (signed, "commitment_letter", "application/pdf", "clean"),
    ]
    files = []
    for n, (signatures, material, kind, scan) in enumerate(states):
        f = MaterialFile(
            pk=12345 + n,
            material=material,
            original_name=f"合同<{n}> & 'x\".pdf",
            size=123456789 * n,
            sha256="ab" * 32,
            content_type=kind,
            classified_scan=scan,
            uploaded_at=late,
        )
        f.previewable = n % 2 == 0  # type: ignore[attr-defined]
        f.signatures = signatures  # type: ignore[attr-defined]
        files.append(f)
    return files


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_material_file_rows_write_what_the_loop_wrote(language):
    context = {"files": _files(), "a": SimpleNamespace(pk=7)}
    with translation.override(language):
        before = Template(FILES_BEFORE).render(Context(context))
        after = Template(FILES_AFTER).render(Context(context))
    assert after == before
    assert "2026-12-08 07:15" in after and "王&lt;五&gt; &amp; 李" in after
    assert Template(FILES_AFTER).render(Context({"files": [], "a": None})) == ""


def _items() -> list:
    from voucher.applications.models import MaterialCheck
    from voucher.review.selectors.materials import OPEN, REOPENED, ItemState

    who = get_user_model()(username="shenhe<01>", first_name="审核 & 员")
    at = datetime(2026, 12, 7, 23, 15, tzinfo=UTC)

    def check(status: str, note: str = "") -> MaterialCheck:
        return MaterialCheck(status=status, note=note, checked_by=who, checked_at=at)

    def item(key: str) -> SimpleNamespace:
        return SimpleNamespace(
            id=f"m<1>.{key}", text=f"核对 <{key}> & 'x' 50%", clause="附件14-1（二）"
        )

    return [
        ItemState(item("open"), None, OPEN),  # type: ignore[arg-type]
        ItemState(item("ok"), check("ok"), "ok"),  # type: ignore[arg-type]
        ItemState(item("wrong"), check("wrong", "缺 <公章> & 50%"), "wrong"),  # type: ignore[arg-type]
        ItemState(item("again"), check("wrong", "旧"), REOPENED),  # type: ignore[arg-type]
        ItemState(item("again-ok"), check("ok"), REOPENED),  # type: ignore[arg-type]
        ItemState(item("gone"), None, REOPENED),  # type: ignore[arg-type]
        ItemState(item("nobody"), MaterialCheck(status="ok", checked_at=at), "ok"),  # type: ignore[arg-type]
    ]


TYPED = {
    "_form": "material_check",
    "material": ["m<1>"],
    "status-m<1>.open": ["wrong"],
    "status-m<1>.wrong": ["ok"],
    "note-m<1>.open": ["键入 <的> & 说明"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("may_check", [True, False])
@pytest.mark.parametrize(
    "typed_form", [None, TYPED, {**TYPED, "material": ["other"]}, {**TYPED, "_form": "propose"}]
)
def test_checklist_rows_write_what_the_loop_wrote(language, may_check, typed_form):
    context = {
        "m": SimpleNamespace(material="m<1>", items=_items()),
        "ms": SimpleNamespace(can_check=SimpleNamespace(allowed=may_check)),
        "a": SimpleNamespace(pk=7),
    }
    if typed_form is not None:
        context["typed_form"] = typed_form
    with translation.override(language):
        before = Template(ITEMS_BEFORE).render(Context(context))
        after = Template(ITEMS_AFTER).render(Context(context))
    assert after == before
    assert "2026-12-08 07:15" in after and "核对 &lt;wrong&gt; &amp; &#x27;x&#x27; 50%" in after
    assert ("supplement-link" in after) == may_check
    empty = {**context, "m": SimpleNamespace(material="m<1>", items=[])}
    assert Template(ITEMS_AFTER).render(Context(empty)) == ""
