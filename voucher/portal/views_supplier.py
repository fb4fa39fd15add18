"""The compute supplier's pages (issue 22): its contracts across applicants, and each contract's
lines to confirm or dispute. A supplier's member sees only the contracts that name its USCC
(access.access_supplier_contract: 404 for any other) and of each only the contract and its
delivery lines: no other data of the applicant."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from voucher.applications import supplier
from voucher.applications.access import access_supplier_contract, access_supplier_contracts
from voucher.applications.models import LINE_CONFIRMED, LINE_DISPUTED
from voucher.core.refusals import Refused


@login_required
@require_GET
def supplier_contracts(request: HttpRequest) -> HttpResponse:
    uscc = access_supplier_contracts(request.user)
    rows = []
    for contract in supplier.contracts_of_supplier(request.user):
        lines = supplier.lines_of(contract)
        rows.append({"c": contract, "state": supplier.contract_state(lines), "lines": len(lines)})
    return render(request, "portal/supplier_contracts.html", {"uscc": uscc, "rows": rows})


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
        {"line": line, "error": errors.get(line.key, "")} for line in supplier.lines_of(contract)
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
