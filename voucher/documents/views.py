from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from voucher.applications import access
from voucher.applications.models import Application, Contract
from voucher.applications.permissions import Check
from voucher.applications.states import WIZARD_STATES
from voucher.core.fields import DayField, YuanField
from voucher.core.http import too_large, upload_limit, upload_limit_bytes
from voucher.core.refusals import CONFLICT, Refused
from voucher.documents import docx_forms, pdf
from voucher.documents.actions import invoice_add
from voucher.documents.data import load_application
from voucher.documents.invoices import NotParsed, invoice_prefill, read_invoice
from voucher.policy.format import FormatError

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# document slug -> (file name stem, {extension: builder})
DOCUMENTS: dict[str, tuple[str, dict[str, Callable[[Application], bytes]]]] = {
    "usage-table": (
        "附件14-2 算力使用情况表",
        {"pdf": pdf.usage_table_pdf, "docx": docx_forms.usage_table_docx},
    ),
    "implementation-report": (
        "附件14-3 算力项目实施情况报告",
        {"pdf": pdf.implementation_report_pdf, "docx": docx_forms.implementation_report_docx},
    ),
    "commitment-letter": (
        "附件14-4 承诺书",
        {"pdf": pdf.commitment_letter_pdf, "docx": docx_forms.commitment_letter_docx},
    ),
    "package": ("算力券申报材料", {"pdf": pdf.package_pdf}),
}


def _application_for(request: HttpRequest, application_id: int) -> Application | HttpResponse:
    try:
        application = load_application(application_id)
    except Application.DoesNotExist:
        raise Http404 from None
    return _allowed(request, access.may_open_application_files(request, application)) or application


def _allowed(request: HttpRequest, check: Check) -> HttpResponse | None:
    """None when allowed; else the login (anonymous, or staff not verified by TOTP) or a 403."""
    if check:
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if check.reason == access.NOT_VERIFIED:
        return redirect_to_login(request.get_full_path(), login_url=reverse("review:login"))
    raise PermissionDenied(check.reason)


def download(
    request: HttpRequest, application_id: int, document: str, extension: str
) -> HttpResponse:
    if document not in DOCUMENTS or extension not in DOCUMENTS[document][1]:
        raise Http404
    found = _application_for(request, application_id)
    if isinstance(found, HttpResponse):
        return found
    stem, builders = DOCUMENTS[document]
    try:
        body = builders[extension](found)
    except FormatError as exc:
        if found.state not in WIZARD_STATES:
            raise  # stored under an older format: StoredDataRefused, a 409 asking for 补正
        # a draft not filled in yet: what to fill first, never a 500
        raise Refused(
            _("申报 %(reference)s 尚未填写完整，还不能生成申报文书。请先在填报页面填写以下内容：")
            % {"reference": found.reference},
            code=CONFLICT,
            errors=[{"location": path, "message": what} for path, what in exc.problems],
        ) from None
    response = HttpResponse(body, content_type=PDF if extension == "pdf" else DOCX)
    filename = f"{found.reference} {stem}.{extension}"
    response["Content-Disposition"] = _attachment(filename)
    return response


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode().strip() or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class InvoiceUploadForm(forms.Form):
    file = forms.FileField(label="数电票文件（XML 或 PDF；扫描件也可上传，由审核人员阅读）")


class InvoiceSaveForm(forms.Form):
    number = forms.CharField(label="发票号码", max_length=100)
    date = DayField(label="开票日期")
    amount = YuanField(label="价税合计（元）")


@upload_limit("invoice")
def invoice_prefill_page(
    request: HttpRequest, application_id: int, contract_pk: int
) -> HttpResponse:
    """Staff: upload an e-invoice for a contract, see what it says and the flags, then save."""
    found = _application_for(request, application_id)
    if isinstance(found, HttpResponse):
        return found
    refused = _allowed(request, access.may_prefill_invoices(request, found))
    if refused is not None:
        return refused
    contract = get_object_or_404(Contract, pk=contract_pk, application=found)
    context: dict[str, object] = {"a": found, "contract": contract}
    upload = InvoiceUploadForm()
    save = None
    if request.method == "POST" and "save" in request.POST:
        save = InvoiceSaveForm(request.POST)
        if save.is_valid():
            invoice_add(
                contract=contract,
                number=save.cleaned_data["number"],
                date=save.cleaned_data["date"],
                amount=save.cleaned_data["amount"],
                acting_user=request.user,
                source={"file": request.POST.get("source_name", "")},
            )
            return redirect("applications:detail", application_id=found.pk)
    elif request.method == "POST":
        upload = InvoiceUploadForm(request.POST, request.FILES)
        if upload.is_valid():
            f = upload.cleaned_data["file"]
            if f.size > upload_limit_bytes("invoice"):
                upload.add_error("file", str(too_large("invoice", f.size)))
            else:
                data = f.read()
                try:
                    result = read_invoice(data, f.name)
                except Exception:  # a malformed file is the applicant's problem, not a 500
                    result = NotParsed("文件无法读取，由审核人员阅读")
                context["source_name"] = f.name
                if isinstance(result, NotParsed):
                    context["not_parsed"] = result.reason
                else:
                    prefill = invoice_prefill(contract, result)
                    context["prefill"] = prefill
                    save = InvoiceSaveForm(
                        initial={
                            "number": prefill.invoice.number,
                            "date": prefill.invoice.date,
                            "amount": prefill.invoice.amount,
                        }
                    )
    context["upload"] = upload
    context["save"] = save
    return render(request, "documents/invoice_prefill.html", context)
