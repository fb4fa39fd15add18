"""The bureau's pages. Thin: they ask permissions.py, call actions or selectors, render."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.db.models.query import MAX_GET_RESULTS
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, reverse
from django.urls import resolve as resolve_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from voucher.accounts import door, enrolment
from voucher.applications import actions as application_actions
from voucher.applications import otp
from voucher.applications import parameters as params
from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.applications.access import staff_verified
from voucher.applications.models import (
    LIST_KIND_CHOICES,
    Application,
    Clawback,
    Decision,
    FlaggedDevice,
    ListedEnterprise,
    MaterialFile,
    Objection,
    PolicyRoundRecord,
    PublicityList,
    UnitPriceBand,
)
from voucher.applications.states import STATE_CHOICES, TRANSITIONS
from voucher.applications.templatetags.voucher_format import amount_in_words
from voucher.applications.uploads import material_file_response, upload_content
from voucher.core import clock, precompiled
from voucher.core.http import (
    int_param,
    int_value,
    row_id,
    too_large,
    upload_limit,
    upload_limit_bytes,
)
from voucher.core.refusals import BAD_REQUEST, Refused
from voucher.documents.attestations import attestation_pdf
from voucher.documents.notices import decision_notice
from voucher.documents.preview import preview
from voucher.policy.dates import DateError, parse_date
from voucher.policy.money import MoneyError, format_yuan_grouped, parse_yuan
from voucher.review import actions, exports, selectors, typed
from voucher.review.crosscheck import round_checks, round_cross_counts


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # only a path on this site: "//evil.example" and "/\evil.example" are other hosts to a browser
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith("/") else reverse("review:queue")


def _application(request: HttpRequest, application_id: int, *related: str) -> Application:
    """The application, if the user may view it; `related`: more relations read with it."""
    # as get_object_or_404 asks it, its SQL written once per process for each `related`
    # (decision 0050: the screen's largest query to compile)
    found = precompiled.rows(
        "review.views._application:" + ",".join(related),
        Application,
        lambda pk: (
            Application.objects.select_related("round", "enterprise", *related)
            .filter(pk=pk)
            .order_by()[:MAX_GET_RESULTS]
        ),
        pk=application_id,
    )
    if not found:
        raise Http404("No Application matches the given query.")
    application = found[0]
    check = p.can_view_application(request.user, application)
    if not check:
        raise PermissionDenied(check.reason)
    return application


def _run(request: HttpRequest, done: str, fn: Callable[[], Any]) -> Any:
    try:
        result = fn()
    except actions.ConflictError as exc:
        messages.error(request, _("冲突：%(reason)s") % {"reason": exc})
        typed.keep(request)
        return None
    except actions.ReviewError as exc:
        messages.error(request, str(exc))
        typed.keep(request)
        return None
    messages.success(request, done)
    return result


def _date(value: str | None, default: date | None = None) -> date:
    if not value:
        if default is None:
            raise actions.ReviewError(_("请填写日期"))
        return default
    try:
        return parse_date(value)  # as people type a day (voucher.policy.dates)
    except DateError as refused:
        raise actions.ReviewError(refused.message(_)) from None


# --- login --------------------------------------------------------------------------------------


def _enrolment_for(target: str, user: Any) -> bool:
    """Whether `target` (the login's next page) is an open enrolment link of `user`."""
    try:
        match = resolve_path(target.split("?", 1)[0])
    except Resolver404:
        return False
    if match.view_name != "review:otp_enrol":
        return False
    found = enrolment.enrolment_find(match.kwargs.get("token", ""))
    return found is not None and found.user_id == user.pk


def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        user, device, error = otp.check_login(
            request.POST.get("username", ""),
            request.POST.get("password", ""),
            request.POST.get("otp_token", ""),
            request,
        )
        if user is not None and device is None and not _enrolment_for(_next(request), user):
            # no device yet: a password alone never shows a secret, only the link does
            user, error = None, _("请使用管理员发送的绑定链接完成验证器绑定")
        if user is not None:
            login(request, user, backend=door.BACKEND)
            if device is None:
                return redirect(_next(request))  # the enrolment link
            otp_login(request, device)
            return HttpResponseRedirect(_next(request))
    return render(request, "review/login.html", {"error": error, "next": _next(request)})


def otp_setup(request: HttpRequest) -> HttpResponse:
    """A staff member without a device, in a password session: no secret here, only the way."""
    user: Any = request.user
    if not user.is_authenticated:
        return redirect("review:login")
    if otp.confirmed_device(user) is not None and not user.is_verified():
        return redirect("review:login")
    return render(request, "review/otp_setup.html")


@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link: after the password login, its owner sees the secret and confirms it."""
    found = enrolment.enrolment_find(token)
    if found is None:
        return render(request, "review/otp_enrol.html", {"invalid": True}, status=404)
    user: Any = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('review:login')}?{urlencode({'next': request.path})}")
    if found.user_id != user.pk:
        raise PermissionDenied(_("此绑定链接不属于当前登录的账号"))
    device = enrolment.enrolment_device(found)
    if request.method == "POST":
        try:
            confirmed = enrolment.enrolment_confirm(
                token=token, code=request.POST.get("otp_token", ""), acting_user=user
            )
        except enrolment.EnrolmentError as exc:
            messages.error(request, exc.message)
            return redirect("review:login")
        if confirmed is not None:
            otp_login(request, confirmed)
            messages.success(request, _("动态验证码已启用"))
            return redirect("review:queue")
        messages.error(request, _("验证码不正确，请按验证器上当前显示的六位数字输入"))
    return render(
        request,
        "review/otp_enrol.html",
        {
            "secret": otp.secret_base32(device),
            "url": device.config_url,
            "qr": otp.qr_data_url(device.config_url),
        },
    )


def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("review:login")


# --- the queue ---------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[dict[str, str], dict[str, Any]]:
    """The lists' filters as typed (for the form) and as read (for the query); a direction or
    an amount that cannot be read is a 400 naming the parameter, not a 500."""
    filters = {
        k: request.GET[k].strip() for k in selectors.FILTERS if request.GET.get(k, "").strip()
    }
    read: dict[str, Any] = dict(filters)
    if "direction" in filters:
        read["direction"] = int_param(filters, "direction")
        filters["direction"] = str(read["direction"])
    for name, label in (
        ("amount_min", _("最高可核定不低于")),
        ("amount_max", _("最高可核定不高于")),
    ):
        if name in filters:
            try:
                read[name] = parse_yuan(filters[name], field=name, label=label)
            except MoneyError as refused:
                raise Refused(refused.message(_), code=BAD_REQUEST, field=name) from None
    return filters, read


def _sort(request: HttpRequest) -> str:
    sort = request.GET.get("sort", "")
    return sort if sort.removeprefix("-") in selectors.SORTS else ""


@staff_verified
def queue(request: HttpRequest) -> HttpResponse:
    filters, read = _filters(request)
    sort = _sort(request)
    return render(
        request,
        "review/queue.html",
        {
            "page": selectors.review_page(request.user, read, sort, request.GET.get("page")),
            "filters": filters,
            "sort": sort,
            "states": STATE_CHOICES[1:],
            "roles": sorted(str(r.ROLE_LABELS[x]) for x in r.staff_roles_of(request.user)),
            "query": request.GET.urlencode(),
        },
    )


@staff_verified
def queue_export(request: HttpRequest) -> HttpResponse:
    filters, read = _filters(request)
    rows = selectors.review_rows(request.user, read)
    actions.export_record(
        what="review_list", filters=filters, rows=len(rows), acting_user=request.user
    )
    response = HttpResponse(
        exports.queue_workbook(rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=review-list.xlsx"
    return response


# --- one application ---------------------------------------------------------------------------


@staff_verified
def screen(request: HttpRequest, application_id: int) -> HttpResponse:
    # its assignment read with it: the screen shows the assignee; and the count of its cross
    # findings kept for the lists, which the screen writes again when it differs
    application = _application(request, application_id, "review_case__assignee", "cross_count")
    data = selectors.review_screen(application, request.user)
    return render(
        request,
        "review/screen.html",
        {
            # ?supplement=wrong (or an item's id): the supplement request filled from the
            # materials' items judged 不符合
            "ms": selectors.materials_section(
                application, request.user, request.GET.get("supplement", "")
            ),
            "s": data,
            "d": data.detail,
            "a": application,
            "e": data.detail.evaluation,
            "today": clock.today(),
            "due_default": clock.today() + timedelta(days=15),
        },
    )


@staff_verified
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, application_id: int) -> HttpResponse:
    """Personal data, shown on a POST that is recorded: a GET (a link followed, a prefetch, a
    crawler) shows only the button, and records nothing."""
    application = _application(request, application_id)
    if request.method != "POST":
        return render(request, "review/contact.html", {"a": application, "shown": False})
    actions.contact_view(application=application, acting_user=request.user)
    return render(request, "review/contact.html", {"a": application, "shown": True})


@staff_verified
@require_POST
def transition(request: HttpRequest, application_id: int, name: str) -> HttpResponse:
    application = _application(request, application_id)
    if name not in selectors.SITE_TRANSITIONS:  # submit, withdraw …: not the review site's
        messages.error(request, _("未知的流转：%(name)s") % {"name": name})
        return redirect("review:screen", application_id)
    _run(
        request,
        _("已办理：%(action)s")
        % {"action": p.transition_label(name) if name in TRANSITIONS else name},
        lambda: actions.application_transition(
            application=application,
            transition=name,
            acting_user=request.user,
            note=request.POST.get("note", ""),
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_GET
def material_file(request: HttpRequest, application_id: int, file_pk: int) -> HttpResponseBase:
    """A material the applicant uploaded, downloaded by the staff who may view the application
    (recorded)."""
    application = _application(request, application_id)
    record = get_object_or_404(MaterialFile, application=application, pk=file_pk)
    response = material_file_response(record)
    actions.material_file_seen(
        application=application, record=record, how="download", acting_user=request.user
    )
    return response


@staff_verified
@require_GET
def material_view(request: HttpRequest, application_id: int, file_pk: int) -> HttpResponse:
    """A material's file in the page (its pages as pictures, rendered here), what is known of
    it, and its material's checklist beside it; recorded, every time."""
    application = _application(request, application_id)
    record = get_object_or_404(MaterialFile, application=application, pk=file_pk)
    content = upload_content(record.sha256)
    shown = preview(content, record.content_type) if content is not None else None
    actions.material_file_seen(
        application=application,
        record=record,
        how="view",
        pages=len(shown.pictures) if shown else 0,
        acting_user=request.user,
    )
    section = selectors.materials_section(application, request.user)
    material = selectors.material_of(section.review, record.material)
    selectors.with_file_facts([record])
    return render(
        request,
        "review/material.html",
        {
            "m": material,
            "others": [x for x in material.files if x.pk != record.pk] if material else [],
            "a": application,
            "f": record,
            "shown": shown,
            "intact": content is not None and hashlib.sha256(content).hexdigest() == record.sha256,
            "ms": section,
        },
    )


@staff_verified
@require_POST
def material_check(request: HttpRequest, application_id: int, material: str) -> HttpResponse:
    """The checklist of one material, judged item by item (status-<item id>, note-<item id>)."""
    application = _application(request, application_id)
    prefix = f"{material}."
    marks = [
        actions.Mark(
            name.removeprefix("status-").removeprefix(prefix),
            request.POST.get(name, ""),
            request.POST.get(f"note-{name.removeprefix('status-')}", ""),
        )
        for name in request.POST
        if name.startswith("status-") and request.POST.get(name)
    ]
    try:
        changed = actions.material_check_set(
            application=application, material=material, marks=marks, acting_user=request.user
        )
    except actions.ReviewError as exc:
        messages.error(request, str(exc))
        typed.keep(request)
    else:
        if changed:
            messages.success(request, _("已保存核对结果"))
        else:
            messages.info(request, _("核对结果没有变化"))
    if request.POST.get("next"):  # the file's page, where the checklist is beside the file
        return HttpResponseRedirect(_next(request))
    return redirect(f"{reverse('review:screen', args=[application_id])}#m-{material}")


@staff_verified
@require_POST
def resolve(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    _run(
        request,
        _("已记录处理意见"),
        lambda: actions.finding_resolve(
            application=application,
            rule=request.POST.get("rule", ""),
            contract=request.POST.get("contract") or None,
            resolution=request.POST.get("resolution", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        ),
    )
    return redirect(f"{reverse('review:screen', args=[application_id])}#findings")


@staff_verified
@require_POST
def resolve_cross(request: HttpRequest, application_id: int) -> HttpResponse:
    """Answer one cross-application finding (its key as the review screen showed it)."""
    application = _application(request, application_id)
    _run(
        request,
        _("已记录处理意见"),
        lambda: actions.cross_finding_resolve(
            application=application,
            key=request.POST.get("key", ""),
            resolution=request.POST.get("resolution", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        ),
    )
    return redirect(f"{reverse('review:screen', args=[application_id])}#cross-findings")


@staff_verified
@require_POST
def supplement(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    items = request.POST.get("items", "").splitlines()
    _run(
        request,
        _("已发出补正通知"),
        lambda: actions.supplement_request(
            application=application,
            items=items,
            due_on=_date(request.POST.get("due_on")),
            note=request.POST.get("note", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_POST
def propose(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    _run(
        request,
        _("已拟定审核意见，待另一名复核人员确认"),
        lambda: actions.decision_propose(
            application=application,
            kind=request.POST.get("kind", ""),
            amount=request.POST.get("amount") or None,
            lowered_reason=request.POST.get("lowered_reason", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_POST
def confirm(request: HttpRequest, decision_id: int) -> HttpResponse:
    """复核确认: an approval is confirmed only with the box "我已核对金额 … 元" ticked, and for
    the amount that box showed (a proposal changed since is refused by the action)."""
    decision = get_object_or_404(Decision, pk=decision_id)
    _application(request, decision.application_id)
    if decision.kind == "approval" and request.POST.get("amount_checked") != "on":
        messages.error(
            request,
            _("请先勾选“我已核对金额 %(figures)s 元（%(words)s）”，再复核确认。")
            % {
                "figures": format_yuan_grouped(decision.amount),
                "words": amount_in_words(decision.amount),
            },
        )
        return redirect(f"{reverse('review:screen', args=[decision.application_id])}#decision")
    seen = request.POST.get("amount_seen") if decision.kind == "approval" else None
    _run(
        request,
        _("已复核确认"),
        lambda: actions.decision_confirm(
            decision=decision,
            acting_user=request.user,
            amount_seen=_amount(seen) if seen is not None else None,
        ),
    )
    return redirect("review:screen", decision.application_id)


def _amount(text: str) -> Decimal:
    try:
        return parse_yuan(text, field="amount_seen", label=_("核对的金额"))
    except MoneyError:
        raise actions.ReviewError(_("核对的金额无法识别，请刷新页面后重新核对。")) from None


@staff_verified
@require_POST
def return_decision(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = get_object_or_404(Decision, pk=decision_id)
    _application(request, decision.application_id)
    _run(
        request,
        _("已退回"),
        lambda: actions.decision_return(
            decision=decision, reason=request.POST.get("reason", ""), acting_user=request.user
        ),
    )
    return redirect("review:screen", decision.application_id)


@staff_verified
def notice_pdf(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    pdf = decision_notice(application)
    if pdf is None:
        raise Http404("no decision")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=notice-{application.pk}.pdf"
    return response


@staff_verified
def supplier_attestation_pdf(
    request: HttpRequest, application_id: int, contract_pk: int
) -> HttpResponse:
    """The supplier's declaration on one contract of the application (附件14-1 三), signed."""
    application = _application(request, application_id)
    contract = get_object_or_404(application.contracts, pk=contract_pk)
    pdf = attestation_pdf(contract)
    if pdf is None:
        raise Http404("not declared")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"inline; filename=attestation-{application.pk}-{contract.pk}.pdf"
    )
    return response


@staff_verified
@require_POST
def payment(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    _run(
        request,
        _("已登记拨付"),
        lambda: actions.payment_record(
            application=application,
            paid_on=_date(request.POST.get("paid_on"), clock.today()),
            amount=request.POST.get("amount", ""),
            reference=request.POST.get("reference", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_POST
def clawback(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    _run(
        request,
        _("已登记退还通知"),
        lambda: actions.clawback_request(
            application=application,
            notice_date=_date(request.POST.get("notice_date"), clock.today()),
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_POST
def refund(request: HttpRequest, clawback_id: int) -> HttpResponse:
    item = get_object_or_404(Clawback, pk=clawback_id)
    _application(request, item.application_id)
    _run(
        request,
        _("已登记退还"),
        lambda: actions.clawback_refund(
            clawback=item,
            refunded_on=_date(request.POST.get("refunded_on"), clock.today()),
            amount=request.POST.get("amount", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", item.application_id)


@staff_verified
@require_POST
def objection(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _application(request, application_id)
    _run(
        request,
        _("已登记异议"),
        lambda: actions.objection_record(
            application=application,
            received_on=_date(request.POST.get("received_on"), clock.today()),
            text=request.POST.get("text", ""),
            acting_user=request.user,
        ),
    )
    return redirect("review:screen", application_id)


@staff_verified
@require_POST
def objection_resolve(request: HttpRequest, objection_id: int) -> HttpResponse:
    item = get_object_or_404(Objection, pk=objection_id)
    _application(request, item.application_id)
    _run(
        request,
        _("已记录异议处理结果"),
        lambda: actions.objection_resolve(
            objection=item, resolution=request.POST.get("resolution", ""), acting_user=request.user
        ),
    )
    return redirect("review:screen", item.application_id)


# --- the round ---------------------------------------------------------------------------------


def _newest() -> Any:
    return PolicyRoundRecord.objects.order_by("-window_start")[:1]


def round_asked(request: HttpRequest) -> PolicyRoundRecord:
    """The round a page asks for (?round=code), or the newest; 404 when there is none."""
    code = request.GET.get("round") or request.POST.get("round")
    records = PolicyRoundRecord.objects.order_by("-window_start")
    if code:
        record = records.filter(code=code).first()
    else:
        # the newest round, as records.first() asks it, its SQL written once per process
        # (decision 0059: building and compiling it was 0.2 ms of each page that opens on the
        # newest round, the dashboard's among them); a code is text, which precompiled.rows
        # does not put in a sentinel's place, so that lookup stays the ORM's
        record = next(
            iter(precompiled.rows("round_asked:newest", PolicyRoundRecord, _newest)), None
        )
    if record is None:
        raise Http404("no round")
    return record


@staff_verified
def publicity(request: HttpRequest) -> HttpResponse:
    record = round_asked(request)
    if request.method == "POST":
        ids = [int_value(x, "application") for x in request.POST.getlist("application")]
        chosen = list(Application.objects.filter(pk__in=ids, round=record))
        published = _run(
            request,
            _("已发布公示名单"),
            lambda: actions.publicity_publish(
                round=record,
                applications=chosen,
                starts_on=_date(request.POST.get("starts_on")),
                ends_on=_date(request.POST.get("ends_on")),
                acting_user=request.user,
            ),
        )
        if published is not None:
            return redirect(f"{reverse('review:publicity')}?round={record.code}")
    today = clock.today()
    return render(
        request,
        "review/publicity.html",
        {
            "round": record,
            "candidates": selectors.publicity_candidates(record),
            "lists": PublicityList.objects.filter(round=record).prefetch_related(
                Prefetch("applications", Application.objects.select_related("round"))
            ),
            "can_publish": p.can_publish_publicity(request.user),
            "starts_default": today,
            "ends_default": today + timedelta(days=7),
        },
    )


@staff_verified
def publicity_export(request: HttpRequest, publicity_id: int) -> HttpResponse:
    item = get_object_or_404(PublicityList, pk=publicity_id)
    rows = selectors.publicity_rows(list(item.applications.select_related("enterprise", "round")))
    actions.export_record(
        what="publicity_list",
        filters={"publicity": item.pk},
        rows=len(rows),
        acting_user=request.user,
    )
    response = HttpResponse(
        exports.publicity_workbook(rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename=publicity-{item.pk}.xlsx"
    return response


@staff_verified
def dashboard(request: HttpRequest) -> HttpResponse:
    record = round_asked(request)
    if request.method == "POST":
        chosen = int_param(request.POST, "direction", 0)  # a bad number: 400, naming it
        _run(
            request,
            _("预算已保存"),
            lambda: actions.budget_set(
                round=record,
                direction=chosen,
                amount=request.POST.get("amount", ""),
                acting_user=request.user,
            ),
        )
        return redirect(f"{reverse('review:dashboard')}?round={record.code}")
    direction = int_param(request.GET, "direction", 1)
    budgets = selectors.round_budgets(record)  # the figures and the simulation read them both
    simulation, rows, sim_page = selectors.budget_simulation_page(
        record, direction, request.GET.get("sim_page") or 1, budgets
    )
    sums = selectors.round_sums(record)  # the figures and the series read them both
    series = selectors.monthly_series(record, sums)
    top = max([max(a, b) for _month, a, b in series], default=0) or 1
    return render(
        request,
        "review/dashboard.html",
        {
            "round": record,
            "figures": selectors.dashboard(record, sums, budgets),
            "direction": direction,
            "simulation": simulation,
            "sim_rows": rows,
            "sim_page": sim_page,
            "series": [(m, a, b, _column(a, top), _column(b, top)) for m, a, b in series],
            "svg_width": max(1, len(series)) * 100,
            "can_manage": p.can_manage_round(request.user),
        },
    )


def _column(value: Any, top: Any) -> tuple[int, int]:
    """(y, height) of an SVG column 100 high whose base is at y=100."""
    height = int(value * 100 / top)
    return 100 - height, height


@staff_verified
def checks(request: HttpRequest) -> HttpResponse:
    record = round_asked(request)
    found = round_checks(record)
    round_cross_counts(record, found)  # the lists' counts, from the checks just worked out
    return render(request, "review/checks.html", {"round": record, "checks": found})


@upload_limit("list")
@staff_verified
def lists(request: HttpRequest) -> HttpResponse:

    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件"))
        elif (upload.size or 0) > upload_limit_bytes("list"):
            messages.error(request, str(too_large("list", upload.size or 0)))
        else:
            result = _run(
                request,
                _("名单已导入"),
                lambda: actions.outside_list_import(
                    kind=request.POST.get("kind", ""),
                    content=upload.read(),
                    filename=upload.name or "list",
                    acting_user=request.user,
                ),
            )
            if result is not None:
                messages.info(
                    request,
                    _("导入 %(count)s 家；%(errors)s 行有误")
                    % {"count": result.count, "errors": len(result.errors)},
                )
                for error in result.errors[:20]:
                    messages.warning(request, error)
        return redirect("review:lists")
    return render(
        request,
        "review/lists.html",
        {
            "kinds": LIST_KIND_CHOICES,
            "counts": {
                k: ListedEnterprise.objects.filter(kind=k).count()
                for k, _label in LIST_KIND_CHOICES
            },
            "can_manage": p.can_manage_round(request.user),
        },
    )


@staff_verified
def clawbacks(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _run(
            request,
            _("已更新逾期状态"),
            lambda: actions.clawbacks_mark_overdue(acting_user=request.user),
        )
        return redirect("review:clawbacks")
    return render(
        request,
        "review/clawbacks.html",
        {
            "open": selectors.open_clawbacks(),
            "overdue": selectors.overdue_report(),
            "can_mark_overdue": p.can_mark_overdue(request.user),
        },
    )


@staff_verified
def notifications(request: HttpRequest) -> HttpResponse:
    check = p.can_see_notifications(request.user)
    if not check:
        raise PermissionDenied(check.reason)
    return render(
        request, "review/notifications.html", {"failed": selectors.failed_notifications()}
    )


# --- the applicant's answer to a supplement request ----------------------------------------------


def supplement_answer(request: HttpRequest, application_id: int) -> HttpResponse:
    """Older e-mails link here: the applicant corrects and answers in the portal's wizard, which
    checks completeness and the draft's version before the resubmission."""
    return redirect("portal:supplement", application_id)


# --- my queue -----------------------------------------------------------------------------------


@staff_verified
def mine(request: HttpRequest) -> HttpResponse:
    filters, read = _filters(request)
    sort = _sort(request)
    work = selectors.my_work(
        request.user,
        read,
        sort,
        assigned_page=request.GET.get("assigned_page"),
        unassigned_page=request.GET.get("unassigned_page"),
        confirm_page=request.GET.get("confirm_page"),
    )
    return render(
        request,
        "review/mine.html",
        {"work": work, "filters": filters, "sort": sort, "states": STATE_CHOICES[1:]},
    )


@staff_verified
@require_POST
def assign(request: HttpRequest, application_id: int) -> HttpResponse:
    """Take an application (assignee "me") or hand it to a colleague."""
    from django.contrib.auth import get_user_model

    application = _application(request, application_id)
    name = request.POST.get("assignee", "")
    assignee = (
        request.user
        if name in ("", "me")
        else get_user_model().objects.filter(username=name, is_active=True).first()
    )
    if assignee is None:
        messages.error(request, _("承办人“%(name)s”不存在") % {"name": name})
    else:
        _run(
            request,
            _("已分配给 %(name)s") % {"name": assignee.get_username()},
            lambda: actions.application_assign(
                application=application, assignee=assignee, acting_user=request.user
            ),
        )
    return HttpResponseRedirect(_next(request))


# --- round parameters: unit-price bands and flagged devices ---------------------------------------


@staff_verified
def parameters(request: HttpRequest) -> HttpResponse:

    record = round_asked(request)
    errors: dict[str, str] = {}
    form = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        check = p.can_manage_round(request.user)
        if not check:
            raise PermissionDenied(check.reason)
        what = request.POST.get("what", "")
        try:
            if what == "band":
                band = params.price_band_set(
                    record=record,
                    device=request.POST.get("device"),
                    unit=request.POST.get("unit"),
                    minimum=request.POST.get("minimum"),
                    maximum=request.POST.get("maximum"),
                    note=request.POST.get("note"),
                    acting_user=request.user,
                )
                messages.success(request, _("已设定 %(band)s 的单价区间") % {"band": band.device})
            elif what == "band_remove":
                item = get_object_or_404(
                    UnitPriceBand, pk=row_id(request.POST.get("id")), round=record
                )
                params.price_band_remove(band=item, acting_user=request.user)
                messages.success(request, _("已删除单价区间"))
            elif what == "flag":
                flag = params.device_flag(
                    record=record,
                    model=request.POST.get("model"),
                    notice=request.POST.get("notice"),
                    acting_user=request.user,
                )
                messages.success(request, _("已将 %(model)s 列入通报设备") % {"model": flag.model})
            elif what == "unflag":
                found = get_object_or_404(
                    FlaggedDevice, pk=row_id(request.POST.get("id")), round=record
                )
                params.device_unflag(flag=found, acting_user=request.user)
                messages.success(request, _("已移出通报设备名单"))
            elif what == "reevaluate":
                count = application_actions.round_reevaluate_undecided(
                    record=record, acting_user=request.user
                )
                messages.success(request, _("已按当前参数重新评估 %(n)s 件申报") % {"n": count})
            else:
                raise Http404("unknown parameter action")
        except params.ParameterError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
        if not errors:
            return redirect(f"{reverse('review:parameters')}?round={record.code}")
    return render(
        request,
        "review/parameters.html",
        {
            "page": params.parameters_page(record),
            "errors": errors,
            "form": form,
            "what": request.POST.get("what", "") if request.method == "POST" else "",
            "can_manage": p.can_manage_round(request.user),
        },
        status=422 if errors else 200,
    )
