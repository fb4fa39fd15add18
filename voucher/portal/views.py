"""The applicant portal's pages. Thin: access through accounts.access, writes through actions.

Forms post normally (the pages work without JavaScript); with htmx they post in place and the
self-check panel reloads itself from the stored evaluation after every save.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required as _login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from voucher.applications import models as m
from voucher.applications import supplier
from voucher.applications.absent_rows import has_none, note_absent_rows, prefetch_known
from voucher.applications.access import access_application, accessible_applications, membership_of
from voucher.applications.interchange import ContractRows
from voucher.applications.models import MaterialFile
from voucher.applications.payees import payee_in_force, payee_waiting
from voucher.applications.roles import supplier_uscc_of
from voucher.applications.rounds import current_round
from voucher.applications.selectors import confirmed_decision, supplement_requests_for
from voucher.applications.states import DRAFT, EDITABLE_STATES, SUPPLEMENT_STATES, WIZARD_STATES
from voucher.applications.supervision import follow_up_submit, reports_due
from voucher.applications.uploads import (
    UploadRefused,
    check_upload,
    material_file_response,
)
from voucher.core import clock, precompiled
from voucher.core.http import int_param, upload_limit, upload_limit_bytes
from voucher.core.refusals import Refused
from voucher.documents.models import ImplementationReport
from voucher.documents.notices import (
    decision_notice,
    submission_receipt,
)
from voucher.documents.report_sections import SECTIONS
from voucher.documents.source_text import (
    COMMITMENT_ATTACHMENT,
    COMMITMENT_DATE,
    COMMITMENT_INTRO,
    COMMITMENT_SEAL,
    COMMITMENT_SIGNATURE,
    COMMITMENT_TITLE,
    COMMITMENTS,
)
from voucher.policy.clauses import CLAUSES
from voucher.policy.money import format_yuan_grouped, line_amount_difference
from voucher.policy.round import get_round
from voucher.portal import actions, imports, selectors
from voucher.portal import forms as pf
from voucher.portal.consent import consent_problem, d3_consent_give
from voucher.portal.steps import PORTAL_DIRECTIONS, STEPS

PortalView = Callable[..., HttpResponseBase]

login_required = _login_required(login_url="accounts:login")


def portal_view(view: PortalView) -> PortalView:
    """Login, then the one access check: the application of the user's enterprise, or 404."""

    @login_required
    @wraps(view)
    def wrapped(
        request: HttpRequest, application_id: int, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        application = access_application(request.user, application_id)
        return view(request, application, *args, **kwargs)

    return wrapped


def editable(view: PortalView) -> PortalView:
    """A step of the wizard: a draft, or an application returned for 补正 while the request is
    open and not past its due date; any other is shown on its status page instead."""

    @wraps(view)
    def wrapped(
        request: HttpRequest, application: m.Application, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        problem = actions.edit_problem(application, _today())
        if problem:
            if application.state in EDITABLE_STATES | SUPPLEMENT_STATES:
                messages.error(request, problem)
            else:
                messages.info(request, _("这份申报已提交，内容已冻结。"))
            return redirect("portal:status", application_id=application.pk)
        return view(request, application, *args, **kwargs)

    return wrapped


def _fail(form: forms.Form, exc: actions.PortalError, application: m.Application) -> None:
    """Show a refusal beside its field; after a stale save, keep the input and the new version."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc))
    if isinstance(exc, actions.StaleVersion):
        application.refresh_from_db()
        data = form.data.copy()  # type: ignore[attr-defined]
        data["version"] = str(application.version)
        form.data = data


def _save_valid_fields(
    request: HttpRequest,
    application: m.Application,
    form: forms.Form,
    changes: dict[str, Any],
    step: str,
) -> None:
    """A field-level save of Application columns after is_valid() failed (see _save_part)."""
    changed = {k: v for k, v in changes.items() if getattr(application, k) != v}
    _save_part(
        request,
        application,
        form,
        len(changed),
        lambda version, refused: actions.application_update(
            application=application,
            expected_version=version,
            changes=changed,
            step=step,
            acting_user=request.user,
            refused=refused,
        ),
    )


def _save_part(
    request: HttpRequest,
    application: m.Application,
    form: forms.Form,
    count: int,
    save: Callable[[int, list[str]], Any],
) -> None:
    """A field-level save after is_valid() failed: the fields that are valid are saved (by
    `save(version, refused)`, an action that audits what was not saved and leaves the step not
    done), the invalid ones keep their error and what was typed. The form is shown again with
    the new version, so the next save is not refused as stale."""
    if "version" not in form.cleaned_data or form.non_field_errors() or not count:
        return
    refused = [name for name in form.errors if name in form.fields]
    try:
        save(form.cleaned_data["version"], refused)
    except actions.PortalError as exc:
        _fail(form, exc, application)
        return
    application.refresh_from_db(fields=["version"])
    data = form.data.copy()  # type: ignore[attr-defined]
    data["version"] = str(application.version)
    form.data = data
    labels = [str(form.fields[name].label) for name in refused]
    messages.warning(
        request,
        _("已保存填写正确的 %(saved)d 项；%(fields)s 未保存，请按提示修改后再保存。")
        % {"saved": count, "fields": "、".join(f"“{x}”" for x in labels)},
    )


def _total_consumed(application: m.Application) -> Decimal:
    """14-2 该项目消耗算力总额: the compute delivery lines declared (as the form 14-2 prints),
    read in one query however many contracts."""
    return sum(
        # its SQL written once per process (decisions 0050 and 0055): every wizard step asks it
        precompiled.rows(
            "portal.views._total_consumed",
            m.Delivery,
            lambda application_id: m.Delivery.objects.filter(
                contract__application_id=application_id, service="compute"
            ).values_list("amount", flat=True),
            application_id=application.pk,
        ),
        Decimal("0.00"),
    )


def _page(
    request: HttpRequest,
    application: m.Application,
    step: str,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    progress = selectors.progress_of(application)
    supplement = selectors.open_supplement_view(application)
    steps = [
        {
            "slug": s.slug,
            "title": _("补正提交") if supplement and s.slug == "submit" else _(s.title),
            "done": s.slug in progress.steps_done,
            "current": s.slug == step,
            "url": reverse(
                "portal:supplement" if supplement and s.slug == "submit" else f"portal:{s.slug}",
                args=[application.pk],
            ),
        }
        for s in STEPS
    ]
    response = render(
        request,
        template,
        {
            "a": application,
            "step": step,
            "steps": steps,
            "progress": progress,
            "policy_round": get_round(application.round.code),
            "supplement": supplement,
            **context,
        },
        status=status,
    )
    if request.headers.get("HX-Request"):
        response["HX-Push-Url"] = request.get_full_path()
    return response


def _after_save(request: HttpRequest, application: m.Application, step: str) -> HttpResponse:
    messages.success(request, _("已保存。"))
    target = request.POST.get("next") or step
    names = {s.slug for s in STEPS}
    if target not in names:
        target = step
    return redirect(f"portal:{target}", application_id=application.pk)


# --- home and a new application --------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None:
        if supplier_uscc_of(request.user):  # a compute supplier's member (issue 22)
            return redirect("portal:supplier_contracts")
        return redirect("accounts:enterprise_new")
    record = current_round()
    return render(
        request,
        "portal/home.html",
        {
            "membership": membership,
            "applications": accessible_applications(request.user, membership),
            "round": record,
            "round_problem": actions.round_open_problem(record, _today()),
        },
    )


def _today() -> Any:
    return clock.today()


def _direction_explanations() -> list[dict[str, Any]]:
    record = current_round()
    policy_round = get_round(record.code)
    who = {
        1: _(
            "北京市人工智能领域的新型研发机构，项目围绕世界模型、具身智能、AI for Science、Agent 等方向开展研究攻关。"
        ),
        2: _(
            "入围工信部2025年人工智能产业及赋能新型工业化创新任务揭榜名单，或按北京市两个2025年人工智能行动方案所支持方向研发落地的项目；使用智能算力的合同总额不低于 %(min)s 万元。"
        )
        % {"min": f"{policy_round.d2_minimum_contract_total / 10000:,.0f}"},
        3: _(
            "开源项目，符合北京市开源生态体系建设实施方案的开源场景或行动方案支持方向，并在所列平台发布。方向三试行“免申即享”：通常由发布平台代为申报。"
        ),
        4: _("2026年1月1日之后新备案登记的模型产品（含 Agent）。"),
    }
    out = []
    for number, terms in policy_round.directions.items():
        clause = f"一（四）方向{'一二三四'[number - 1]}"
        out.append(
            {
                "number": number,
                "label": dict(m.DIRECTION_CHOICES)[number],
                "rate": terms.rate,
                "cap": terms.amount_cap,
                "who": who[number],
                "clause": CLAUSES[clause].text if clause in CLAUSES else "",
                "selectable": number in PORTAL_DIRECTIONS,
            }
        )
    return out


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None:
        return redirect("accounts:enterprise_new")
    form = pf.DirectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = actions.application_create(
                enterprise=membership.enterprise,
                direction=form.cleaned_data["direction"],
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("portal:applicant", application_id=application.pk)
    return render(
        request,
        "portal/new.html",
        {"form": form, "directions": _direction_explanations(), "round": current_round()},
    )


@portal_view
@require_GET
def application_open(request: HttpRequest, application: m.Application) -> HttpResponse:
    if application.state in SUPPLEMENT_STATES and not actions.edit_problem(application, _today()):
        return redirect("portal:supplement", application_id=application.pk)
    if application.state not in EDITABLE_STATES:
        return redirect("portal:status", application_id=application.pk)
    done = selectors.progress_of(application).steps_done
    for s in STEPS[1:]:
        if s.slug not in done:
            return redirect(f"portal:{s.slug}", application_id=application.pk)
    return redirect("portal:submit", application_id=application.pk)


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def direction(request: HttpRequest, application: m.Application) -> HttpResponse:
    """The direction of the draft, and the control to change it (a draft only)."""
    form = pf.DirectionChangeForm(
        request.POST or None,
        initial={"version": application.version, "direction": application.direction},
    )
    if request.method == "POST" and form.is_valid():
        before = application.get_direction_display()
        try:
            changed = actions.application_direction_change(
                application=application,
                expected_version=form.cleaned_data["version"],
                direction=form.cleaned_data["direction"],
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            if changed.get_direction_display() != before:
                messages.success(
                    request,
                    _(
                        "申报方向已由%(before)s改为%(after)s，右侧自查按新方向测算。"
                        "请在“项目情况”一步填写新方向的申报条件。"
                    )
                    % {"before": _(before), "after": _(changed.get_direction_display())},
                )
            return redirect("portal:direction", application_id=application.pk)
    return _page(
        request,
        application,
        "direction",
        "portal/step_direction.html",
        {
            "directions": _direction_explanations(),
            "form": form,
            "may_change": application.state == DRAFT and application.direction in PORTAL_DIRECTIONS,
        },
        status=400 if form.errors else 200,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def delete_draft(request: HttpRequest, application: m.Application) -> HttpResponse:
    """Delete a draft: a confirmation page first (no script needed), then the delete."""
    form = pf.DeleteDraftForm(request.POST or None, initial={"version": application.version})
    problem = None
    if application.state != DRAFT:
        problem = _("这份申报已提交（%(state)s），不能删除。如确需变更，请联系审核人员。") % {
            "state": application.get_state_display()
        }
    if request.method == "POST" and problem is None and form.is_valid():
        try:
            reference = actions.application_delete_draft(
                application=application,
                expected_version=form.cleaned_data["version"],
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            messages.success(request, _("申报草稿 %(r)s 已删除。") % {"r": reference})
            return redirect("portal:home")
    return render(
        request,
        "portal/delete_draft.html",
        {
            "a": application,
            "form": form,
            "problem": problem,
            "contracts": application.contracts.count(),
            "files": MaterialFile.objects.filter(application=application).count(),
        },
        status=400 if (problem and request.method == "POST") or form.errors else 200,
    )


# --- the steps with one form -----------------------------------------------------------------


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def applicant(request: HttpRequest, application: m.Application) -> HttpResponse:
    form = pf.ApplicantForm(
        request.POST or None, initial=pf.ApplicantForm.initial_from(application)
    )
    valid = request.method == "POST" and form.is_valid()
    changes = {k: v for k, v in getattr(form, "cleaned_data", {}).items() if k != "version"}
    if valid:
        try:
            actions.application_update(
                application=application,
                expected_version=form.cleaned_data["version"],
                changes=changes,
                step="applicant",
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            return _after_save(request, application, "applicant")
    elif request.method == "POST":
        _save_valid_fields(request, application, form, changes, "applicant")
    return _page(
        request,
        application,
        "applicant",
        "portal/step_form.html",
        {"form": form},
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def project(request: HttpRequest, application: m.Application) -> HttpResponse:
    policy_round = get_round(application.round.code)
    form = pf.ProjectForm(
        request.POST or None,
        initial=pf.ProjectForm.initial_from(application),
        direction=application.direction,
        policy_round=policy_round,
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.application_update(
                application=application,
                expected_version=form.cleaned_data["version"],
                changes=form.changes(),
                step="project",
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            return _after_save(request, application, "project")
    elif request.method == "POST":
        _save_valid_fields(request, application, form, form.valid_changes(), "project")
    return _page(
        request,
        application,
        "project",
        "portal/step_project.html",
        {"form": form, "total_consumed": _total_consumed(application)},
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, application: m.Application) -> HttpResponse:
    saved, _created = ImplementationReport.objects.get_or_create(application=application)
    initial = {
        "version": application.version,
        **{s.field: getattr(saved, s.field) for s in SECTIONS},
    }
    form = pf.ReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.implementation_report_save(
                application=application,
                expected_version=form.cleaned_data["version"],
                sections={s.field: form.cleaned_data[s.field] for s in SECTIONS},
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            return _after_save(request, application, "report")
    elif request.method == "POST":
        valid = {
            s.field: form.cleaned_data[s.field]
            for s in SECTIONS
            if s.field in form.cleaned_data
            and form.cleaned_data[s.field] != getattr(saved, s.field)
        }
        _save_part(
            request,
            application,
            form,
            len(valid),
            lambda version, refused: actions.implementation_report_save(
                application=application,
                expected_version=version,
                sections=valid,
                acting_user=request.user,
                refused=refused,
            ),
        )
    sections = [
        {
            "section": s,
            "field": form[s.field],
            "low": s.suggested_chars[0],
            "high": s.suggested_chars[1],
        }
        for s in SECTIONS
    ]
    return _page(
        request,
        application,
        "report",
        "portal/step_report.html",
        {"form": form, "sections": sections},
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def declarations(request: HttpRequest, application: m.Application) -> HttpResponse:
    contracts = list(application.contracts.all())
    progress = selectors.progress_of(application)
    done = "declarations" in progress.steps_done
    initial: dict[str, Any] = {"version": application.version}
    answered = set(progress.declarations_answered)  # a field-level save's answers
    for name in ("other_municipal_compute_support", "dishonest_entity"):
        if done or name in answered:
            initial[name] = "1" if getattr(application, name) else "0"
    # a contract typed by hand is asked; one imported with the template's columns is answered
    imported = [c for c in contracts if c.pk in progress.relationships_declared]
    for c in contracts:
        for name, value in ((f"sharing_{c.pk}", c.revenue_or_risk_sharing),
                            (f"hierarchy_{c.pk}", c.hierarchy)):  # fmt: skip
            if done or c in imported or name in answered:
                initial[name] = "1" if value else "0"
    form = pf.DeclarationsForm(request.POST or None, initial=initial, contracts=contracts)
    if request.method == "POST" and form.is_valid():
        try:
            actions.declarations_save(
                application=application,
                expected_version=form.cleaned_data["version"],
                other_municipal_compute_support=form.cleaned_data[
                    "other_municipal_compute_support"
                ],
                dishonest_entity=form.cleaned_data["dishonest_entity"],
                relationships=form.relationships(),
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            return _after_save(request, application, "declarations")
    elif request.method == "POST":
        _save_part(
            request,
            application,
            form,
            form.answered(),
            lambda version, refused: actions.declarations_save(
                application=application,
                expected_version=version,
                other_municipal_compute_support=form.cleaned_data.get(
                    "other_municipal_compute_support"
                ),
                dishonest_entity=form.cleaned_data.get("dishonest_entity"),
                relationships=form.relationships(),
                acting_user=request.user,
                refused=refused,
            ),
        )
    return _page(
        request,
        application,
        "declarations",
        "portal/step_declarations.html",
        {
            "form": form,
            "contracts": contracts,
            "imported": [c.contract_id for c in imported],
            "footnote": CLAUSES.get("一（五）注1"),
        },
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def commitment(request: HttpRequest, application: m.Application) -> HttpResponse:
    form = pf.CommitmentForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST" and form.is_valid():
        try:
            actions.commitment_acknowledge(
                application=application,
                expected_version=form.cleaned_data["version"],
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            return _after_save(request, application, "commitment")
    letter = {
        "attachment": COMMITMENT_ATTACHMENT,
        "title": COMMITMENT_TITLE,
        "intro": COMMITMENT_INTRO,
        "items": COMMITMENTS,
        "signature": COMMITMENT_SIGNATURE,
        "seal": COMMITMENT_SEAL,
        "date": COMMITMENT_DATE,
    }
    return _page(
        request,
        application,
        "commitment",
        "portal/step_commitment.html",
        {"form": form, "letter": letter},
    )


# --- contracts ---------------------------------------------------------------------------------


def _contracts_page(
    request: HttpRequest,
    application: m.Application,
    form: pf.ContractForm | None = None,
    import_form: pf.ImportForm | None = None,
    import_errors: list[imports.RowError] | None = None,
    status: int = 200,
) -> HttpResponse:
    contracts = list(
        application.contracts.prefetch_related(
            "deliveries", "invoices", "payments", "other_subsidies"
        )
    )
    rows = []
    for c in contracts:
        rows.append(
            {
                "c": c,
                "compute": sum(
                    (d.amount for d in c.deliveries.all() if d.service == "compute"),
                    Decimal("0.00"),
                ),
                "invoiced": sum((i.amount for i in c.invoices.all()), Decimal("0.00")),
                "paid": sum((p.amount for p in c.payments.all()), Decimal("0.00")),
            }
        )
    return _page(
        request,
        application,
        "contracts",
        "portal/step_contracts.html",
        {
            "rows": rows,
            "total": sum((c.total_amount for c in contracts), Decimal("0.00")),
            "form": form or pf.ContractForm(initial={"version": application.version}),
            "import_form": import_form or pf.ImportForm(initial={"version": application.version}),
            "import_errors": import_errors or [],
            "tables": imports.TABLES,
        },
        status=status,
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def contracts(request: HttpRequest, application: m.Application) -> HttpResponse:
    if request.method == "GET":
        return _contracts_page(request, application)
    form = pf.ContractForm(request.POST)
    if form.is_valid():
        try:
            contract = actions.contract_save(
                application=application,
                expected_version=form.cleaned_data["version"],
                contract_pk=None,
                values=form.values(),
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            for warning in form.uscc_warnings:
                messages.warning(request, warning)
            messages.success(
                request,
                _("合同 %(id)s 已保存，请录入其交付记录、发票和付款。")
                % {"id": contract.contract_id},
            )
            return redirect(
                "portal:contract", application_id=application.pk, contract_pk=contract.pk
            )
    return _contracts_page(request, application, form=form)


@upload_limit("application_import")
@portal_view
@editable
@require_POST
def contracts_import(request: HttpRequest, application: m.Application) -> HttpResponse:
    form = pf.ImportForm(request.POST, request.FILES)
    errors: list[imports.RowError] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(imports.max_bytes() + 1)
        try:
            parsed = imports.read_spreadsheet(
                upload.name,
                data,
                existing_contract_ids=application.contracts.values_list("contract_id", flat=True),
            )
            counts = actions.contract_rows_import(
                application=application,
                expected_version=form.cleaned_data["version"],
                imported=parsed,
                acting_user=request.user,
            )
        except imports.ImportFailed as exc:
            errors = exc.errors
            form.add_error(
                "file", _("文件中有 %(n)d 处错误，未导入任何数据。") % {"n": len(errors)}
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            parts = [f"{imports.TABLES_BY_KIND[k].sheet} {n}" for k, n in counts.items() if n]
            messages.success(request, _("已导入：%(parts)s。") % {"parts": "，".join(parts) or "0"})
            return redirect("portal:contracts", application_id=application.pk)
    return _contracts_page(request, application, import_form=form, import_errors=errors)


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str, extension: str) -> HttpResponse:
    if extension == "xlsx" and kind == "all":
        content = imports.template_xlsx()
        name = "contracts-template.xlsx"
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif extension == "csv" and kind in imports.TABLES_BY_KIND:
        content = imports.template_csv(kind)
        name = f"{kind}-template.csv"
        content_type = "text/csv; charset=utf-8"
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _contract_of(application: m.Application, contract_pk: int) -> m.Contract:
    contract = application.contracts.filter(pk=contract_pk).first()
    if contract is None:
        raise Http404
    return contract


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def contract(request: HttpRequest, application: m.Application, contract_pk: int) -> HttpResponse:
    c = _contract_of(application, contract_pk)
    version = {"version": application.version}
    form = pf.ContractForm(initial=pf.ContractForm.initial_from(c, application.version))
    row_forms: dict[str, forms.Form] = {
        k: cls(initial=version, prefix=k) for k, cls in pf.ROW_FORMS.items()
    }
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "contract")
        if which == "contract":
            form = pf.ContractForm(request.POST)
            if form.is_valid():
                try:
                    actions.contract_save(
                        application=application,
                        expected_version=form.cleaned_data["version"],
                        contract_pk=c.pk,
                        values=form.values(),
                        acting_user=request.user,
                    )
                except actions.PortalError as exc:
                    _fail(form, exc, application)
                else:
                    for warning in form.uscc_warnings:
                        messages.warning(request, warning)
                    messages.success(request, _("已保存。"))
                    return redirect(
                        "portal:contract", application_id=application.pk, contract_pk=c.pk
                    )
            else:
                current = pf.ContractForm.initial_from(c, application.version)
                valid = {
                    k: v for k, v in form.cleaned_data.items() if k != "version" and v != current[k]
                }
                _save_part(
                    request,
                    application,
                    form,
                    len(valid),
                    lambda version, refused: actions.contract_save(
                        application=application,
                        expected_version=version,
                        contract_pk=c.pk,
                        values=valid,
                        acting_user=request.user,
                        refused=refused,
                    ),
                )
                c.refresh_from_db()
                row_forms = {  # the new version, so that adding a line next is not stale
                    k: cls(initial={"version": application.version}, prefix=k)
                    for k, cls in pf.ROW_FORMS.items()
                }
        elif which in pf.ROW_FORMS:
            row_form = pf.ROW_FORMS[which](request.POST, prefix=which)
            row_forms[which] = row_form
            if row_form.is_valid():
                try:
                    actions.contract_row_add(
                        application=application,
                        expected_version=row_form.cleaned_data["version"],
                        contract_pk=c.pk,
                        kind=which,
                        values=row_form.values(),  # type: ignore[attr-defined]
                        acting_user=request.user,
                    )
                except actions.PortalError as exc:
                    _fail(row_form, exc, application)
                else:
                    messages.success(request, _("已添加。"))
                    warning = (
                        _line_amount_warning(row_form.cleaned_data) if which == "deliveries" else ""
                    )
                    if warning:
                        messages.warning(request, warning)
                    return redirect(
                        f"{reverse('portal:contract', args=[application.pk, c.pk])}#{which}"
                    )
        else:
            raise Http404
    return _page(
        request,
        application,
        "contracts",
        "portal/contract.html",
        {
            "c": c,
            "form": form,
            "row_forms": row_forms,
            "terms": selectors.claim_terms(application, c),
            "supplier_lines": supplier.lines_of(c),  # the supplier's word (issue 22)
        },
        status=status,
    )


def _line_amount_warning(values: dict[str, Any]) -> str:
    """A delivery line whose amount is not quantity × unit price: saved (the amount is what
    counts, RULES.md), with a warning to check it."""
    difference = line_amount_difference(values["quantity"], values["unit_price"], values["amount"])
    if not difference:
        return ""
    values_ = {
        "expected": format_yuan_grouped(values["amount"] - difference),
        "amount": format_yuan_grouped(values["amount"]),
        "difference": format_yuan_grouped(abs(difference)),
    }
    if difference > 0:
        text = _(
            "请核对这条交付记录：数量 × 单价 = %(expected)s 元，填写的金额 %(amount)s 元"
            "比它多 %(difference)s 元。测算按填写的金额计；如有误，请删除后重新添加。"
        )
    else:
        text = _(
            "请核对这条交付记录：数量 × 单价 = %(expected)s 元，填写的金额 %(amount)s 元"
            "比它少 %(difference)s 元。测算按填写的金额计；如有误，请删除后重新添加。"
        )
    return text % values_


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def contract_delete(
    request: HttpRequest, application: m.Application, contract_pk: int
) -> HttpResponse:
    """Delete a whole contract with its rows: a page shows what goes and asks first (no script
    needed, as for one line); the delete is the POST with the box ticked."""
    c = _contract_of(application, contract_pk)
    form = pf.ContractDeleteForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST" and form.is_valid():
        try:
            actions.contract_delete(
                application=application,
                expected_version=form.cleaned_data["version"],
                contract_pk=c.pk,
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            messages.error(request, str(exc))
            return redirect("portal:contract", application_id=application.pk, contract_pk=c.pk)
        messages.success(request, _("合同 %(id)s 已删除。") % {"id": c.contract_id})
        return redirect("portal:contracts", application_id=application.pk)
    counts = [
        (ROW_LABELS[kind], actions.ROW_MODELS[kind]._default_manager.filter(contract=c).count())
        for kind in pf.ROW_FORMS
    ]
    return _page(
        request,
        application,
        "contracts",
        "portal/contract_delete.html",
        {"c": c, "form": form, "counts": counts},
        status=400 if form.errors else 200,
    )


ROW_LABELS = {
    "deliveries": _lazy("交付记录"),
    "invoices": _lazy("发票"),
    "payments": _lazy("付款记录"),
    "other_subsidies": _lazy("其他财政补贴"),
}


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def contract_row_delete(
    request: HttpRequest, application: m.Application, contract_pk: int, kind: str, row_pk: int
) -> HttpResponse:
    """Delete a line of a contract: a page shows the line and asks first (no script needed,
    the CSP allows none inline); the delete is the POST with the box ticked."""
    c = _contract_of(application, contract_pk)
    if kind not in pf.ROW_FORMS:
        raise Http404
    row = actions.ROW_MODELS[kind]._default_manager.filter(contract=c, pk=row_pk).first()
    if row is None:
        raise Http404
    form = pf.RowDeleteForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST" and form.is_valid():
        try:
            actions.contract_row_delete(
                application=application,
                expected_version=form.cleaned_data["version"],
                contract_pk=c.pk,
                kind=kind,
                row_pk=row_pk,
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已删除。"))
        return redirect(f"{reverse('portal:contract', args=[application.pk, c.pk])}#{kind}")
    return _page(
        request,
        application,
        "contracts",
        "portal/row_delete.html",
        {"c": c, "row": row, "kind": kind, "what": ROW_LABELS[kind], "form": form},
        status=400 if form.errors else 200,
    )


# --- materials ---------------------------------------------------------------------------------

# the materials of 14-1 that are forms this system makes (documents:download's slugs)
SIGNED_FORMS = {
    "usage_table": "usage-table",
    "implementation_report": "implementation-report",
    "commitment_letter": "commitment-letter",
}


@upload_limit(
    "materials",
    request_bytes=lambda: settings.VOUCHER_UPLOAD_MAX_APPLICATION_BYTES,
    request_what=_lazy("一次提交的申报材料合计"),
)
@portal_view
@editable
@require_http_methods(["GET", "POST"])
def materials(request: HttpRequest, application: m.Application) -> HttpResponse:
    refusals: dict[str, list[str]] = {}
    if request.method == "POST":
        form = pf.MaterialUploadForm(request.POST)
        files = request.FILES.getlist("files")
        if not form.is_valid() or not files:
            messages.error(request, _("请选择要上传的文件。"))
        else:
            material = form.cleaned_data["material"]
            version = form.cleaned_data["version"]
            stored = 0
            for upload in files:
                checked = None
                try:
                    checked = check_upload(upload.name or "", upload.read(pf_max_bytes() + 1))
                    actions.material_file_add(
                        application=application,
                        expected_version=version,
                        material=material,
                        name=checked.name,
                        content=checked.content,
                        content_type=checked.content_type,
                        classified_scan=checked.classified_scan,
                        acting_user=request.user,
                    )
                except (UploadRefused, actions.PortalError) as exc:
                    # check_upload's refusal names the file; the action's does not
                    text = str(exc) if checked is None else f"{checked.name}：{exc}"
                    refusals.setdefault(material, []).append(text)
                    if isinstance(exc, actions.StaleVersion):
                        break
                else:
                    stored += 1
                    version += 1
            if stored:
                messages.success(request, _("已上传 %(n)d 个文件。") % {"n": stored})
            if not refusals:
                return redirect(
                    f"{reverse('portal:materials', args=[application.pk])}#m-{material}"
                )
        application.refresh_from_db()
    slots = selectors.material_slots(application)
    for slot in slots:  # 14-2, 14-3, 14-4: made here, printed, signed, sealed, scanned
        slot["document"] = SIGNED_FORMS.get(slot["id"])
    required = [s for s in slots if s["required"]]
    done = sum(1 for s in required if s["files"])
    used = sum(f.size for s in slots for f in s["files"])
    return _page(
        request,
        application,
        "materials",
        "portal/step_materials.html",
        {
            "slots": slots,
            "done": done,
            "required_count": len(required),
            "percent": int(100 * done / len(required)) if required else 100,
            "refusals": refusals,
            "used": used,
            "document_problems": selectors.document_problems(application),
        },
        status=400 if refusals else 200,
    )


# the materials that are the forms this system fills in (documents' kinds), to sign and upload
SIGNED_FORMS = {
    "usage_table": "usage-table",
    "implementation_report": "implementation-report",
    "commitment_letter": "commitment-letter",
}


def pf_max_bytes() -> int:
    return upload_limit_bytes("materials")


@portal_view
@require_GET
def file_download(
    request: HttpRequest, application: m.Application, file_pk: int
) -> HttpResponseBase:
    record = MaterialFile.objects.filter(application=application, pk=file_pk).first()
    if record is None:
        raise Http404
    return material_file_response(record)


@portal_view
@editable
@require_POST
def file_delete(request: HttpRequest, application: m.Application, file_pk: int) -> HttpResponse:
    try:
        actions.material_file_delete(
            application=application,
            expected_version=int_param(request.POST, "version", -1),
            file_pk=file_pk,
            acting_user=request.user,
        )
    except MaterialFile.DoesNotExist:
        raise Http404 from None
    except actions.PortalError as exc:
        messages.error(request, str(exc))
    return redirect("portal:materials", application_id=application.pk)


# --- self-check, submission, status ----------------------------------------------------------


@portal_view
@require_GET
def selfcheck(request: HttpRequest, application: m.Application) -> HttpResponse:
    check = selectors.self_check(application, acting_user=request.user)
    return render(request, "portal/_selfcheck.html", {"a": application, "check": check})


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, application: m.Application) -> HttpResponse:
    if application.state in SUPPLEMENT_STATES:
        return redirect("portal:supplement", application_id=application.pk)
    form = pf.SubmitForm(request.POST or None, initial={"version": application.version})
    if request.method == "POST" and form.is_valid():
        try:
            submission = actions.application_submit(
                application=application,
                expected_version=form.cleaned_data["version"],
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            messages.success(
                request,
                _("申报已提交，回执编号 %(r)s。回执已发送到您的邮箱。")
                % {"r": submission.receipt_number},
            )
            return redirect("portal:status", application_id=application.pk)
    return _page(
        request,
        application,
        "submit",
        "portal/step_submit.html",
        {
            "form": form,
            "blockers": selectors.submission_blockers(application),
            "round_problem": actions.round_open_problem(application.round, _today()),
            "total_consumed": _total_consumed(application),
        },
    )


@portal_view
@editable
@require_http_methods(["GET", "POST"])
def supplement(request: HttpRequest, application: m.Application) -> HttpResponse:
    """补正: the bureau's list, one answer per item, and resubmission of the corrected version."""
    if application.state not in SUPPLEMENT_STATES:
        return redirect("portal:submit", application_id=application.pk)
    shown = selectors.open_supplement_view(application)
    if shown is None:  # pragma: no cover - `editable` lets no such application through
        raise Http404
    form = pf.SupplementForm(
        request.POST or None, initial={"version": application.version}, items=shown.items
    )
    if request.method == "POST" and form.is_valid():
        try:
            submission = actions.supplement_resubmit(
                application=application,
                expected_version=form.cleaned_data["version"],
                answers=form.answers(),
                acting_user=request.user,
            )
        except actions.PortalError as exc:
            _fail(form, exc, application)
        else:
            messages.success(
                request,
                _("补正已重新提交，回执编号 %(r)s。审核人员将继续审核。")
                % {"r": submission.receipt_number},
            )
            return redirect("portal:status", application_id=application.pk)
    return _page(
        request,
        application,
        "submit",
        "portal/step_supplement.html",
        {
            "form": form,
            "blockers": selectors.submission_blockers(application),
            "total_consumed": _total_consumed(application),
        },
        status=400 if form.errors else 200,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, application: m.Application) -> HttpResponse:
    """意愿确认 (direction 3): the administrator confirms, accepting the commitments of 14-4."""
    if application.direction != 3:
        raise Http404("only direction 3")
    error = ""
    if request.method == "POST":
        try:
            d3_consent_give(
                application=application,
                accept_commitments=request.POST.get("accept") == "1",
                acting_user=request.user,
            )
        except Refused as refused:
            error = str(refused.message)
        else:
            messages.success(request, _("已确认申请方向三补贴，并接受承诺书各项承诺。"))
            return redirect("portal:status", application_id=application.pk)
    membership = membership_of(request.user)
    return render(
        request,
        "portal/consent.html",
        {
            "a": application,
            "intro": COMMITMENT_INTRO,
            "items": COMMITMENTS,
            "problem": consent_problem(application),
            "consent": getattr(application, "d3_consent", None),
            "is_admin": bool(membership and membership.is_admin),
            "payee": payee_in_force(application.enterprise_id)
            or payee_waiting(application.enterprise_id),
            "error": error,
        },
        status=422 if error else 200,
    )


@portal_view
@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, application: m.Application) -> HttpResponse:
    """跟踪报告: the yearly report a funded application owes (承诺书 第6条)."""
    dues = reports_due(application)
    if not dues:
        raise Http404("not paid")
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {k: request.POST.get(k, "") for k in ("compute_used", "outcomes", "problems")}
        try:
            follow_up_submit(
                application=application,
                year=int_param(request.POST, "year", 0),
                acting_user=request.user,
                **typed,
            )
        except Refused as refused:
            errors = {e["location"]: e["message"] for e in refused.errors} or {
                refused.field or "year": str(refused.message)
            }
        else:
            messages.success(request, _("跟踪报告已报送。"))
            return redirect("portal:follow_up", application_id=application.pk)
    today = clock.today()
    open_due = next((d for d in dues if not d.submitted), None)
    return render(
        request,
        "portal/follow_up.html",
        {
            "a": application,
            "dues": [(d, d.overdue(today)) for d in dues],
            "open_due": open_due,
            "typed": typed,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@portal_view
@require_GET
def notice(request: HttpRequest, application: m.Application) -> HttpResponse:
    """审核结果通知书: the confirmed decision, as the bureau issued it."""
    pdf = decision_notice(application)
    if pdf is None:
        raise Http404("no decision")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=notice-{application.reference}.pdf"
    return response


@portal_view
@require_GET
def receipt(request: HttpRequest, application: m.Application) -> HttpResponse:
    """提交回执: the receipt of the latest submission, a signed PDF."""
    submission = selectors.latest_submission(application)
    if submission is None:
        raise Http404("not submitted")
    pdf = submission_receipt(
        application,
        receipt_number=submission.receipt_number,
        submitted_at=submission.submitted_at,
        sha256=submission.document_sha256,
        round_code=submission.round_code,
        engine_version=submission.engine_version,
        applicant=selectors.submitted_applicant(submission),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=receipt-{submission.receipt_number}.pdf"
    return response


# the states whose status page shows the payment (_payment.html): the payee, the payment line
PAYMENT_SHOWN = frozenset({"approved", "publicized", "paid"})


def _supplier_words_of(rows: ContractRows, *, none: bool = False) -> list[dict[str, Any]]:
    """Each contract with the supplier's word on its lines (directions 1, 2 and 4): the status
    page shows them once the wizard is frozen, where the contract pages are no longer open to
    the applicant (issue 22: a line the supplier disputed after submission is corrected through
    补正, and the applicant must see what to correct). `none`: the caller knows there is no
    word on any line (no query then)."""
    words = {c.pk: {} for c in rows.contracts} if none else supplier.words_of(rows.contracts)
    return [{"c": c, "lines": supplier.lines_of(c, words[c.pk], rows)} for c in rows.contracts]


@portal_view
@require_GET
def status(request: HttpRequest, application: m.Application) -> HttpResponse:
    # A draft was never submitted (no transition leads back to it: states.TRANSITIONS), so
    # a submission's receipt does not exist for it: a query a draft's page need not make. (Its
    # decision, none, is among the absent rows below.)
    submitted = application.state != DRAFT
    # which of the lists the page reads the application has no row of, in one query (decision
    # 0048): a draft has no decision, most applications no settlement batch, no other subsidy,
    # no registry extract; each list noted absent is not asked for (about 0.3 ms of CPU each)
    note_absent_rows(application)
    submission = selectors.latest_submission_shown(application) if submitted else None
    # a submitted version, frozen, was complete when submitted: no export to find out
    exported = submission is None or application.state in WIZARD_STATES
    words = application.direction in supplier.CONFIRMED_DIRECTIONS
    # the contracts and their rows read once, for the export and the supplier's words
    contracts = (
        selectors.contracts_with_rows(application, exported=exported) if exported or words else None
    )
    if exported:  # the registry's rows the export reads: none asked for where none was noted
        prefetch_known([application], ("shareholdings", "officers"))
    return render(
        request,
        "portal/status.html",
        {
            "a": application,
            "submission": submission,
            "timeline": selectors.timeline(application),
            "files": []
            if has_none(application, "material_files")
            else selectors.material_files(application),
            "supplements": []
            if has_none(application, "supplement_requests")
            else supplement_requests_for(application),
            "document_problems": selectors.document_problems(application, contracts)
            if exported
            else [],
            "may_correct": application.state in WIZARD_STATES
            and not actions.edit_problem(application, _today()),
            "decision": None
            if has_none(application, "decisions")
            else confirmed_decision(application),
            # the supplier's word on each contract, also once the wizard is frozen (issue 22)
            "supplier_contracts": _supplier_words_of(
                contracts, none=has_none(application, "supplier_words")
            )
            if contracts and words
            else [],
            # the page shows it for direction 3 only (a query the others need not make)
            "consent": getattr(application, "d3_consent", None)
            if application.direction == 3
            else None,
            "payment_shown": application.state in PAYMENT_SHOWN,
            # the payment part of the page (_payment.html) is shown in these states only
            **(
                {
                    "payee_in_force": payee_in_force(application.enterprise_id),
                    "payment_line": application.payment_lines.select_related("batch").last(),
                }
                if application.state in PAYMENT_SHOWN
                else {}
            ),
        },
    )
