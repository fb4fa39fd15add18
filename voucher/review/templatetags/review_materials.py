"""The review screen's materials (附件14-1), their long loops: each material's files and each
item of its checklist, written here rather than by the template's loops because an application
of directions 1, 2 and 4 shows a dozen materials, each a table of files and a checklist, and
the engine's lookups, escaping and translations of their dozen fields each were about a fifth
of the screen's CPU (issue 23, decision 0041). The markup is the templates' as it was, value for
value: the same filters called directly, a variable escaped as the engine escapes it, a
`{% trans "…" %}` literal not escaped (the engine does not), the same msgids.

`{% material_file_rows files %}`: the `<tr>` of each file (review/_material_files.html).
`{% checklist_rows m may_check typed_here %}`: the `<tr>` of each item of material `m`'s
checklist (review/_material_checklist.html); `may_check`: the reader may judge it (the radio
buttons and notes); `typed_here`: the form kept after a refusal is this material's (its
choices are shown rather than the stored ones).

Tested against the loops they replaced, kept verbatim in tests/test_review_materials_rows.py.
"""

from __future__ import annotations

from html import escape as html_escape
from typing import Any

from django import template
from django.template.base import Variable, VariableDoesNotExist
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import filesizeformat
from django.template.defaultfilters import urlencode as urlencode_filter
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from voucher.applications.templatetags.voucher_format import person, variable_html
from voucher.review import typed as kept
from voucher.review.templatetags.review_screen import _local, _translated_variable

register = template.Library()

# an id no file has, reversed once per list and replaced by each file's (as review_lists.row_url)
_FILE_ID = 2147483647


def _signatures_html(f: Any, context: Any, signatures: Any) -> str:
    """review/_signatures.html with s=f.signatures: the states without a list written here, a
    signed file's list by the template itself (few files are signed)."""
    s = f.signatures
    if s is None:
        return '\n<span class="muted">—</span>\n\n'
    if s.state == "unreadable":
        return f'\n<span class="tag tag-missing sig-unreadable">{_("无法读取签名")}</span>\n\n'
    if s.state == "unsigned":
        if f.material == "commitment_letter":
            return f'\n<span class="tag tag-missing sig-unsigned">{_("未签名")}</span>\n\n'
        return f'\n<span class="muted sig-none">{_("无电子签名")}</span>\n\n'
    with context.push(s=s, f=f):
        return str(signatures().render(context))


_URLS = object()  # the key of a page's file addresses in its render context's first level


def _file_urls(context: Any) -> tuple[str, str]:
    """Where a file of the application `a` is viewed and downloaded (with _FILE_ID for the
    file's id), reversed once per page rather than per material: kept in the render context's
    first level, the page's, since each include (a material's files) has a level of its own."""
    pk = context["a"].pk
    page = context.render_context.dicts[0]
    urls: tuple[str, str] | None = page.get((_URLS, pk))
    if urls is None:
        urls = (
            html_escape(reverse("review:material_view", args=[pk, _FILE_ID])),
            html_escape(reverse("review:material_file", args=[pk, _FILE_ID])),
        )
        page[(_URLS, pk)] = urls
    return urls


@register.simple_tag(takes_context=True)
def material_file_rows(context: Any, files: Any) -> SafeString:
    """Each file of `files` as _material_files.html's loop wrote it, with the whitespace
    between (`a`: the application, from the context)."""
    files = list(files)
    if not files:
        return mark_safe("")
    view_url, file_url = _file_urls(context)

    def signatures() -> Any:
        return context.template.engine.get_template("review/_signatures.html")

    file_l, kind_l, size_l, scan_l, sig_l, at_l, act_l = (
        _("文件"),
        _("类型"),
        _("大小"),
        _("密级标志检查"),
        _("电子签名"),
        _("上传时间"),
        _("操作"),
    )
    see, download = _("在页面中查看"), _("下载")
    out = []
    for f in files:
        pk = variable_html(f.pk, context)
        at = variable_html(date_filter(_local(f.uploaded_at, context), "Y-m-d H:i"), context)
        here = str(int(f.pk))
        preview = (
            f'<a href="{view_url.replace(str(_FILE_ID), here)}">{see}</a> · '
            if f.previewable
            else ""
        )
        out.append(
            f'\n  <tr id="file-{pk}">\n'
            f'    <td data-label="{file_l}">{variable_html(f.original_name, context)}</td>\n'
            f'    <td data-label="{kind_l}"><code>{variable_html(f.content_type, context)}</code></td>\n'
            f'    <td class="num" data-label="{size_l}">{variable_html(filesizeformat(f.size), context)}</td>\n'
            f'    <td data-label="SHA-256"><code class="wrap small sha">{variable_html(f.sha256, context)}</code></td>\n'
            f'    <td data-label="{scan_l}" class="scan scan-{variable_html(f.classified_scan or "none", context)}">'
            f"{_translated_variable(f.get_classified_scan_display())}</td>\n"
            f'    <td data-label="{sig_l}" class="file-signatures">'
            f"{_signatures_html(f, context, signatures)}</td>\n"
            f'    <td data-label="{at_l}">{at}</td>\n'
            f'    <td data-label="{act_l}" class="file-actions">\n'
            f'      {preview}<a href="{file_url.replace(str(_FILE_ID), here)}">{download}</a>\n'
            "    </td>\n"
            "  </tr>\n  "
        )
    return mark_safe("".join(out))


@register.simple_tag(takes_context=True)
def checklist_rows(context: Any, m: Any, may_check: Any, typed_here: Any) -> SafeString:
    """Each item of material `m`'s checklist as _material_checklist.html's loop wrote it, with
    the whitespace between."""
    if not m.items:
        return mark_safe("")
    typed_form = context.get("typed_form")
    ok_l, wrong_l, open_l = _("符合"), _("不符合"), _("未核对")
    reopened_l = _("材料已更新，须重新核对")
    note_l, supplement_l = _("说明（不符合时必填）"), _("就此项要求补正")
    screen_url = ""  # reversed for the first item judged 不符合 (most materials have none)
    out = []
    for i in m.items:
        item_id = variable_html(i.id, context)
        text = variable_html(i.item.text, context)
        status = i.status
        check = i.check
        reopened = ""
        if status == "reopened":
            last = ""
            if check:
                result = _translated_variable(check.get_status_display())
                last = "（" + _("上次核对：%(result)s") % {"result": result} + "）"
            reopened = f'<span class="reopened">{reopened_l}{last}</span>'
        by = ""
        if check and status != "reopened":
            who = variable_html(person(check.checked_by), context)
            when = variable_html(
                date_filter(_local(check.checked_at, context), "Y-m-d H:i"), context
            )
            by = '<span class="by">' + _("%(who)s 核对于 %(when)s") % {"who": who, "when": when}
            by += "</span>"
        if may_check:
            field = "status-" + str(i.id)
            if typed_here:
                ok_on = (
                    " checked"
                    if kept.checked(typed_form, "material_check", field, "ok", False)
                    else ""
                )
                wrong_on = (
                    " checked"
                    if kept.checked(typed_form, "material_check", field, "wrong", False)
                    else ""
                )
            else:
                ok_on = " checked" if status == "ok" else ""
                wrong_on = " checked" if status == "wrong" else ""
            result_html = (
                f'\n        <label><input type="radio" name="status-{item_id}" value="ok"{ok_on}> '
                f"{ok_l}</label>\n"
                f'        <label><input type="radio" name="status-{item_id}" value="wrong"{wrong_on}> '
                f"{wrong_l}</label>\n        "
            )
            typed_note = kept.value(
                typed_form,
                "material_check",
                "note-" + str(i.id),
                (check.note if check else "") or "",
            )
            note_html = (
                '<label class="sr-only" for="note-'
                + item_id
                + '">'
                + _("说明：%(item)s") % {"item": text}
                + f'</label><input id="note-{item_id}" name="note-{item_id}" placeholder="{note_l}" '
                f'value="{conditional_escape(typed_note)}">\n        '
            )
        else:
            word = ok_l if status == "ok" else wrong_l if status == "wrong" else open_l
            result_html = f'\n        <span class="status-word">{word}</span>\n        '
            note_html = variable_html(check.note, context) if check else ""
        if i.wrong and may_check and not screen_url:
            screen_url = html_escape(reverse("review:screen", args=[context["a"].pk]))
        link = (
            f'<a class="supplement-link" href="{screen_url}?supplement='
            f'{variable_html(urlencode_filter(str(i.id)), context)}#supplement-form">{supplement_l}</a>'
            if i.wrong and may_check
            else ""
        )
        out.append(
            f'\n    <tr class="check check-{variable_html(status, context)}" id="check-{item_id}" '
            f'data-item="{item_id}">\n'
            f'      <th scope="row">{text} '
            f'<span class="tag tag-clause">{variable_html(i.item.clause, context)}</span>\n'
            f"        {reopened}\n"
            f"        {by}\n"
            "      </th>\n"
            f'      <td class="result">\n        {result_html}\n'
            "      </td>\n"
            '      <td class="note">\n'
            f"        {note_html}\n"
            f"        {link}\n"
            "      </td>\n"
            "    </tr>\n    "
        )
    return mark_safe("".join(out))


# --- the whole list of materials (review/_materials.html's loop): a material's heading, its
# files' table and its checklist's form were two includes and some forty template nodes each,
# a third of a millisecond per material (issue 23, branch screen3, decision 0050). Written as
# the loop and the two includes wrote them; the includes stay for the other pages and for the
# list of other files.


def _files_table() -> tuple[str, str]:
    """review/_material_files.html as its include writes it: what comes before its rows and
    what after."""
    labels = ("文件", "类型", "大小", "SHA-256", "密级标志检查", "电子签名", "上传时间", "操作")
    head = "".join(
        f'<th scope="col"{NUM if label == "大小" else ""}>'
        f"{label if label == 'SHA-256' else _(label)}</th>"
        for label in labels
    )
    return (
        '\n<div class="table-scroll"><table class="apps material-files">\n'
        f"  <thead><tr>{head}</tr></thead>\n  <tbody>\n  ",
        "\n  </tbody>\n</table></div>\n",
    )


NUM = ' class="num"'


def _typed_material(context: Any) -> Any:
    """`typed_form.material.0` as an `{% if %}` resolves it (None when it is not there)."""
    try:
        return Variable("typed_form.material.0").resolve(context)
    except VariableDoesNotExist:
        return None


@register.simple_tag(takes_context=True)
def material_sections(context: Any, ms: Any) -> SafeString:
    """Each material of the materials section `ms` as _materials.html's loop wrote it: its
    `<details>`, heading and state, its files' table (or that none was uploaded), and its
    checklist's form (_material_checklist.html with no `next`); `a`: the application."""
    materials = ms.review.materials
    if not materials:
        return mark_safe("")
    may_check = ms.can_check.allowed
    typed = _typed_material(context)
    pk = context["a"].pk
    csrf = CsrfTokenNode().render(context)
    checklist_head = (
        f'<thead><tr><th scope="col">{_("核对项")}</th><th scope="col">{_("核对结果")}</th>'
        f'<th scope="col">{_("说明（不符合时必填）")}</th></tr></thead>'
    )
    button = f'<button type="submit">{_("保存核对结果")}</button>' if may_check else ""
    missing_tag = f'<span class="tag tag-missing">{_("未上传")}</span>\n    '
    complete_tag = f'<span class="tag tag-ok">{_("核对完毕")}</span>\n    '
    missing_p = f'<p class="missing">{_("申报单位未上传此材料。")}</p>\n  '
    files_before, files_after = _files_table()
    out = []
    for n, m in enumerate(materials, 1):
        material = variable_html(m.material, context)
        missing, complete = m.missing, m.complete
        if missing:
            css, state = " material-missing", missing_tag
        elif complete:
            css, state = " material-complete", complete_tag
        else:
            counts = m.counts
            state = _("已核对符合 %(ok)s/%(all)s") % {
                "ok": variable_html(counts["ok"], context),
                "all": variable_html(counts["all"], context),
            }
            if counts["wrong"]:
                state += " · " + _("不符合 %(n)s") % {"n": variable_html(counts["wrong"], context)}
            css, state = "", f'<span class="tag tag-open">{state}</span>'
        files = (
            missing_p
            if missing
            else files_before + material_file_rows(context, m.files) + files_after
        )
        hint = f'<p class="muted small hint">{variable_html(m.hint, context)}</p>' if m.hint else ""
        action = conditional_escape(reverse("review:material_check", args=(pk, m.material)))
        rows = checklist_rows(context, m, may_check, typed == m.material)
        out.append(
            f'\n<details class="material{css}" id="m-{material}"{"" if complete else " open"}>\n'
            f"  <summary><h3>{n}. {variable_html(m.heading, context)}\n    {state}\n"
            f"  </h3></summary>\n  {files}\n  "
            f'\n{hint}\n<form method="post" action="{action}" class="checklist-form">{csrf}\n'
            f'  <input type="hidden" name="material" value="{material}">\n  \n'
            f'  <table class="checklist">\n    {checklist_head}\n    <tbody>\n    {rows}\n'
            f"    </tbody>\n  </table>\n  {button}\n</form>\n\n</details>\n"
        )
    return mark_safe("".join(out))
