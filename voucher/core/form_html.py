"""A form renderer that writes Django's own field, label, error and widget templates in Python.

A wizard step of the applicant portal is a dozen fields, and each went through Django's form
templates (django/forms/field.html, label.html, the error list, the widget and its attrs.html
and option templates): half a dozen template renders a field, a radio button's option three
more, about a third of the step's CPU (branch portal, decision 0052). `WrittenRenderer` writes
those templates' output here, to the byte, from the same context Django hands the template:
each value escaped as the template engine escapes it (`{{ value }}`, `stringformat:'s'`), the
whitespace of each template and of the templates it includes, the result stripped as
`BaseRenderer.render` strips it. Any other template (a form rendered whole, a widget of its own
template, an option template not listed here) is rendered by the templates, as before.
tests/test_form_html.py renders every portal form both ways, bound, unbound and with errors, in
Chinese and English, and compares them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData

# what render_value_in_context reads of a template's Context (autoescape, use_l10n, use_tz): the
# forms engine's defaults. Only read, never pushed to: one for every render.
_CONTEXT = Context()


def _v(value: Any) -> str:
    """`{{ value }}`: a plain string escaped (html.escape is django.utils.html.escape without
    its lazy wrapper), anything else as the engine shows it (localized, a SafeString as is)."""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, SafeData):
        return str(value)
    return str(render_value_in_context(value, _CONTEXT))


def _s(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: "%s" % value, escaped unless the value was safe."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        text = "%s" % value  # noqa: UP031 (what the filter does)
    except (ValueError, TypeError):
        return ""
    return text if isinstance(value, SafeData) else html.escape(text)


def _attrs(attrs: dict[str, Any] | None) -> str:
    """django/forms/widgets/attrs.html (and django/forms/attrs.html, the same loop)."""
    if not attrs:
        return ""
    out = []
    for name, value in attrs.items():
        if value is not False:
            out.append(f" {_v(name)}" if value is True else f' {_v(name)}="{_s(value)}"')
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    """django/forms/widgets/input.html, its final newline included (as an include writes it)."""
    value = widget["value"]
    shown = "" if value is None else f' value="{_s(value)}"'
    return (
        f'<input type="{_v(widget["type"])}" name="{_v(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>\n"
    )


def _input_option(option: dict[str, Any]) -> str:
    """django/forms/widgets/input_option.html, and its final newline."""
    if not option["wrap_label"]:
        return _input(option) + "\n"
    id_ = option["attrs"].get("id")
    for_ = f' for="{_v(id_)}"' if id_ else ""
    return f"<label{for_}>{_input(option)} {_v(option['label'])}</label>\n"


def _select_option(option: dict[str, Any]) -> str:
    """django/forms/widgets/select_option.html, and its final newline."""
    return (
        f'<option value="{_s(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_v(option['label'])}</option>\n"
    )


# an option template and what it writes (radio_option.html and checkbox_option.html include
# input_option.html and end with a newline of their own)
_OPTIONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "django/forms/widgets/radio_option.html": lambda o: _input_option(o) + "\n",
    "django/forms/widgets/checkbox_option.html": lambda o: _input_option(o) + "\n",
    "django/forms/widgets/select_option.html": _select_option,
}


class _Unwritten(Exception):
    """A template this module does not write (an option's own template): the engine's turn."""


def _option(option: dict[str, Any]) -> str:
    write = _OPTIONS.get(option["template_name"])
    if write is None:
        raise _Unwritten
    return write(option)


def _multiple_input(context: dict[str, Any]) -> str:
    """django/forms/widgets/multiple_input.html (radio.html, checkbox_select.html)."""
    widget = context["widget"]
    id_ = widget["attrs"].get("id")
    out = [
        "<div",
        f' id="{_v(id_)}"' if id_ else "",
        f' class="{_v(widget["attrs"]["class"])}"' if widget["attrs"].get("class") else "",
        ">",
    ]
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_v(group)}</label>")
        for option in options:
            out.append(f"<div>\n    {_option(option)}</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>")
    return "".join(out)


def _select(context: dict[str, Any]) -> str:
    """django/forms/widgets/select.html."""
    widget = context["widget"]
    out = [f'<select name="{_v(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f'\n  <optgroup label="{_v(group)}">')
        for option in options:
            out.append(f"\n  {_option(option)}")
        if group:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _textarea(context: dict[str, Any]) -> str:
    """django/forms/widgets/textarea.html."""
    widget = context["widget"]
    value = widget["value"]
    return (
        f'<textarea name="{_v(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_v(value) if value else ''}</textarea>"
    )


def _label(context: dict[str, Any]) -> str:
    """django/forms/label.html, stripped."""
    label = _v(context["label"])
    if not context["use_tag"]:
        return label.strip()
    tag = _v(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _errors(context: dict[str, Any]) -> str:
    """django/forms/errors/list/default.html (ul.html)."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = errors.field_id
    id_ = f' id="{_v(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_v(error)}</li>" for error in errors)
    return f'<ul class="{_v(context["error_class"])}"{id_}>{items}</ul>'


def _field(context: dict[str, Any]) -> str:
    """django/forms/field.html, line by line, stripped."""
    field = context["field"]
    fieldset = field.use_fieldset
    if fieldset:
        described = field.aria_describedby
        aria = f' aria-describedby="{_v(described)}"' if described else ""
        head = f"\n  <fieldset{aria}>\n  {_v(field.legend_tag()) if field.label else ''}\n"
    else:
        head = f"\n  {_v(field.label_tag()) if field.label else ''}\n"
    help_text = ""
    if field.help_text:
        id_ = f' id="{_v(field.auto_id)}_helptext"' if field.auto_id else ""
        help_text = f'<div class="helptext"{id_}>{field.help_text}</div>'  # |safe
    end = "</fieldset>" if fieldset else ""
    return f"{head}\n{help_text}\n{_v(field.errors)}\n{_v(field)}{end}\n".strip()


def _plain_input(context: dict[str, Any]) -> str:
    return _input(context["widget"]).strip()


WRITTEN: dict[str, Callable[[dict[str, Any]], str]] = {
    "django/forms/field.html": _field,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/radio.html": _multiple_input,
    "django/forms/widgets/checkbox_select.html": _multiple_input,
    **{
        f"django/forms/widgets/{name}.html": _plain_input
        for name in (
            "input", "text", "date", "hidden", "email", "number", "url", "password", "checkbox",
            "datetime", "time", "search", "tel", "color",
        )
    },
}  # fmt: skip


class WrittenRenderer(DjangoTemplates):
    """DjangoTemplates, with the templates of WRITTEN written in Python (the same HTML)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = WRITTEN.get(template_name)
        if write is not None:
            try:
                return write(context)
            except _Unwritten:
                pass
        return super().render(template_name, context, request)


# one renderer for every form that uses it: like Django's default renderer (one instance,
# functools.lru_cache), it keeps its template engine, which the templates not written here use
WRITTEN_RENDERER = WrittenRenderer()
