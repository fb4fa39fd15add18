"""The compute supplier's pages (issue 22): its contracts across applicants, and each contract's
lines to confirm or dispute. A supplier's member sees only the contracts that name its USCC
(access.access_supplier_contract: 404 for any other) and of each only the contract and its
delivery lines: no other data of the applicant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from voucher.applications import supplier
from voucher.applications.access import access_supplier_contract, access_supplier_contracts
from voucher.applications.models import LINE_CONFIRMED, LINE_DISPUTED
from voucher.applications.states import STATE_CHOICES
from voucher.core import clock
from voucher.core.audit import audit
from voucher.core.http import upload_limit
from voucher.core.refusals import Refused
from voucher.documents.attestations import attestation_pdf
from voucher.portal import supplier_files
from voucher.portal.imports import ImportFailed, RowError

PAGE_SIZE = 25
SUPPLIER_STATE_WORDS = {
    supplier.UNCONFIRMED: _lazy("未确认"),
    LINE_CONFIRMED: _lazy("已确认"),
    LINE_DISPUTED: _lazy("有异议"),
}


class SupplierFileForm(forms.Form):
    file = forms.FileField(label=_lazy("填写后的导出文件（.xlsx 或 .csv）"))


def _filters(request: HttpRequest) -> dict[str, str]:
    """The list's filters from the query string; a value it does not know is no filter."""
    state = request.GET.get("state", "")
    word = request.GET.get("word", "")
    return {
        "application_state": state if state in dict(STATE_CHOICES) else "",
        "supplier_state": word if word in supplier.SUPPLIER_STATES else "",
    }


def _contracts_page(
    request: HttpRequest,
    *,
    form: SupplierFileForm | None = None,
    file_errors: Sequence[RowError] = (),
    applied: supplier_files.WordsApplied | None = None,
    status: int = 200,
) -> HttpResponse:
    uscc = access_supplier_contracts(request.user)
    filters = _filters(request)
    contracts = supplier.supplier_contracts_query(request.user, **filters)
    page = Paginator(contracts.prefetch_related("deliveries"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shown = list(page.object_list)
    words, _declared = supplier.words_and_attestations(shown)
    rows = []
    for contract in shown:
        lines = supplier.lines_of(contract, words[contract.pk])
        rows.append({"c": contract, "state": supplier.contract_state(lines), "lines": len(lines)})
    query = urlencode(
        {
            k: v
            for k, v in {
                "state": request.GET.get("state", ""),
                "word": request.GET.get("word", ""),
            }.items()
            if v
        }
    )
    return render(
        request,
        "portal/supplier_contracts.html",
        {
            "uscc": uscc,
            "rows": rows,
            "page": page,
            "query": query,
            "state_choices": STATE_CHOICES,
            "word_choices": list(SUPPLIER_STATE_WORDS.items()),
            "state": filters["application_state"],
            "word": filters["supplier_state"],
            "form": form or SupplierFileForm(),
            "file_errors": file_errors,
            "applied": applied,
        },
        status=status,
    )


@login_required
@require_GET
def supplier_contracts(request: HttpRequest) -> HttpResponse:
    return _contracts_page(request)


@login_required
@require_GET
def supplier_export(request: HttpRequest, extension: str) -> HttpResponse:
    """Its contracts (as filtered on the list) and their lines, with each line's key and content
    hash, to confirm by file; audited like the review's exports."""
    access_supplier_contracts(request.user)
    contracts = list(
        supplier.supplier_contracts_query(request.user, **_filters(request)).prefetch_related(
            "deliveries"
        )
    )
    if extension == "csv":
        content = supplier_files.export_csv(contracts)
        content_type = "text/csv; charset=utf-8"
    elif extension == "xlsx":
        content = supplier_files.export_xlsx(contracts)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404
    audit(
        actor=request.user,
        action="supplier_contracts_export",
        data={"format": extension, "contracts": len(contracts), "filters": _filters(request)},
    )
    response = HttpResponse(content, content_type=content_type)
    day = clock.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="supplier-contracts-{day}.{extension}"'
    return response


@upload_limit(supplier_files.UPLOAD_KIND)
@login_required
def supplier_upload(request: HttpRequest) -> HttpResponse:
    """The exported file back with the words filled in: checked row by row, then each word
    through the page's action (voucher/portal/supplier_files.py says what is all-or-nothing)."""
    access_supplier_contracts(request.user)  # 404 for anyone else, before the method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = SupplierFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _contracts_page(request, form=form, status=422)
    upload = form.cleaned_data["file"]
    data = upload.read(supplier_files.max_bytes() + 1)
    try:
        words = supplier_files.read_words(upload.name, data, acting_user=request.user)
    except ImportFailed as exc:
        form.add_error(
            "file", _("文件中有 %(n)d 处错误，未保存任何确认。") % {"n": len(exc.errors)}
        )
        return _contracts_page(request, form=form, file_errors=exc.errors, status=422)
    applied = supplier_files.words_apply(
        words, source_name=upload.name, data=data, acting_user=request.user
    )
    return _contracts_page(request, applied=applied)


@login_required
@require_GET
def supplier_attestation_pdf(request: HttpRequest, contract_pk: int) -> HttpResponse:
    """The signed PDF of its declaration on this contract (附件14-1 三)."""
    contract = access_supplier_contract(request.user, contract_pk)
    pdf = attestation_pdf(contract)
    if pdf is None:
        raise Http404("not declared")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="attestation-{contract.application_id}-{contract.pk}.pdf"'
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def supplier_contract(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = access_supplier_contract(request.user, contract_pk)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and request.POST.get("form") == "attestation":
        try:
            supplier.attestation_make(
                contract=contract,
                compliant=request.POST.get("compliant") == "on",
                no_sharing=request.POST.get("no_sharing") == "on",
                no_hierarchy=request.POST.get("no_hierarchy") == "on",
                acting_user=request.user,
            )
        except Refused as refused:
            errors["attestation"] = str(refused.message)
            status = 422
        else:
            messages.success(request, _("声明已保存。"))
            return redirect("portal:supplier_contract", contract_pk=contract.pk)
    elif request.method == "POST":
        line = request.POST.get("line", "")
        state = request.POST.get("state", "")
        try:
            supplier.line_word(
                contract=contract,
                line=line,
                state=state,
                reason=request.POST.get("reason", ""),
                acting_user=request.user,
                # the content the page showed: a line changed since is not confirmed unseen
                expected_hash=request.POST.get("content_hash") or None,
            )
        except Refused as refused:
            errors[line] = str(refused.message)
            status = 422
        else:
            messages.success(
                request, _("已确认。") if state == LINE_CONFIRMED else _("已提出异议。")
            )
            return redirect("portal:supplier_contract", contract_pk=contract.pk)
    lines: list[dict[str, Any]] = [
        {
            "line": line,
            "error": errors.get(line.key, ""),
            "content_hash": supplier.content_hash(line.row),
        }
        for line in supplier.lines_of(contract)
    ]
    return render(
        request,
        "portal/supplier_contract.html",
        {
            "c": contract,
            "lines": lines,
            "attestation": supplier.attestation_of(contract),
            "attestation_error": errors.get("attestation", ""),
            "CONFIRMED": LINE_CONFIRMED,
            "DISPUTED": LINE_DISPUTED,
        },
        status=status,
    )
