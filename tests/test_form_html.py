"""Branch portal (issue 23, decision 0052): the portal's forms are written by
voucher.core.form_html's renderer, which must write what Django's templates write, to the byte:
every portal form, unbound, bound with values that need escaping and with errors, each field as
a group, as a widget, its label, legend and errors, in Chinese and English; and widgets the
portal does not use yet (option groups, a checkbox list, a class on a radio list)."""

from __future__ import annotations

import types
from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from voucher.core.form_html import WRITTEN_RENDERER, WrittenRenderer
from voucher.policy.round import get_rounds
from voucher.portal import forms as pf

TEMPLATES = DjangoTemplates()
NASTY = "<b>\"甲\" & '乙'</b>"


class Everything(forms.Form):
    """Widgets and options beyond the portal's: groups, a checkbox list, classes, no label."""

    grouped = forms.ChoiceField(
        label="分组?",
        choices=[("", "——"), ("甲组", [("a", "A <1>"), ("b", "B")]), ("c", NASTY)],
        required=False,
    )
    ticks = forms.MultipleChoiceField(
        choices=[("x", "X"), ("分组", [("y", "Y"), ("z", "Z & z")])],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ticks"}),
        help_text=NASTY,
    )
    radio = forms.ChoiceField(
        label="",
        choices=[(1, "一"), (2, "二")],
        widget=forms.RadioSelect(attrs={"class": "r", "data-x": NASTY}),
    )
    number = forms.IntegerField(label="数", initial=7, disabled=True)
    email = forms.EmailField(label="邮箱", widget=forms.EmailInput(attrs={"aria-describedby": "x"}))
    when = forms.DateField(label="日", initial=date(2026, 4, 10))
    amount = forms.DecimalField(label="额", initial=Decimal("1.50"))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    note = forms.CharField(widget=forms.Textarea, initial="\n第一行\n" + NASTY, label=NASTY)
    flag = forms.BooleanField(label="勾", initial=True)
    upload = forms.FileField(label="文件", required=False)


def _contracts():
    return [
        types.SimpleNamespace(pk=7, supplier_name=NASTY, contract_id="HT-1"),
        types.SimpleNamespace(pk=8, supplier_name="乙公司", contract_id="HT<2>"),
    ]


def _forms(data):
    policy_round = next(iter(get_rounds().values()))
    made = [
        (pf.DirectionForm, {}),
        (pf.DirectionChangeForm, {}),
        (pf.DeleteDraftForm, {}),
        (pf.RowDeleteForm, {}),
        (pf.ContractDeleteForm, {}),
        (pf.ApplicantForm, {}),
        *[(pf.ProjectForm, {"direction": d, "policy_round": policy_round}) for d in (1, 2, 3, 4)],
        (pf.ContractForm, {}),
        (pf.DeliveryForm, {}),
        (pf.InvoiceForm, {}),
        (pf.PaymentForm, {}),
        (pf.OtherSubsidyForm, {}),
        (pf.ImportForm, {}),
        (pf.ReportForm, {}),
        (pf.DeclarationsForm, {"contracts": _contracts()}),
        (pf.CommitmentForm, {}),
        (pf.MaterialUploadForm, {}),
        (pf.SubmitForm, {}),
        (pf.SupplementForm, {"items": [(3, 1, NASTY, "已改"), (4, 2, "第二项", "")]}),
        (Everything, {}),
    ]
    for cls, kwargs in made:
        yield cls, kwargs, data


def _pages(form):
    """Everything a template may ask of the form, as text."""
    out = [str(form), str(form.non_field_errors()), *[str(h) for h in form.hidden_fields()]]
    for field in form:
        out += [
            field.as_field_group(),
            str(field),
            field.label_tag(),
            field.legend_tag(),
            str(field.errors),
        ]
    return out


BOUND = {
    "version": "x",
    "direction": "3",
    "project_name": NASTY,
    "project_start_date": "2026-13-01",
    "requested_amount": "12.5",
    "ai_field": "1",
    "project_overview": "\n" + NASTY,
    "topic": "agent",
    "contract_id": NASTY,
    "total_amount": "-1",
    "contact_email": "not an address",
    "grouped": "b",
    "ticks": ["y", "q"],
    "radio": "2",
    "when": "2026-04-10",
    "note": "",
    "flag": "on",
    "sharing_7": "1",
    "answer_3": NASTY,
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("data", [None, BOUND, {}], ids=["unbound", "bound", "empty"])
def test_the_written_forms_are_the_templates(language, data):
    assert isinstance(pf.ProjectForm.default_renderer, WrittenRenderer)
    with translation.override(language):
        for cls, kwargs, data_ in _forms(data):
            initial = {"version": 5, "project_name": NASTY, "ai_field": "0", "acknowledged": True}
            written = cls(data_, initial=initial, renderer=WRITTEN_RENDERER, **kwargs)
            templated = cls(data_, initial=initial, renderer=TEMPLATES, **kwargs)
            if data_ is not None:
                assert written.is_valid() == templated.is_valid()
                written.add_error(None, NASTY)
                templated.add_error(None, NASTY)
            assert _pages(written) == _pages(templated), cls.__name__


def test_an_option_of_its_own_template_is_left_to_the_templates():
    class Own(forms.RadioSelect):
        option_template_name = "django/forms/widgets/select_option.html"

    class Form(forms.Form):
        choice = forms.ChoiceField(choices=[("a", "A")], widget=Own)

    assert str(Form(renderer=WRITTEN_RENDERER)["choice"]) == str(Form(renderer=TEMPLATES)["choice"])
    Own.option_template_name = "portal/_no_such_option.html"  # not written: the engine's
    with pytest.raises(Exception, match="_no_such_option"):
        str(Form(renderer=WRITTEN_RENDERER)["choice"])
