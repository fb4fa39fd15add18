from __future__ import annotations

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.shortcuts import render as render_page
from django.urls import reverse
from django.utils.translation import gettext as _

from voucher.applications import access
from voucher.applications.models import Application, Contract
from voucher.applications.permissions import Check
from voucher.applications.roles import staff_roles_of
from voucher.applications.states import WIZARD_STATES
from voucher.core.fields import DayField, YuanField
from voucher.core.http import too_large, upload_limit, upload_limit_bytes
from voucher.core.refusals import CONFLICT, Refused
from voucher.documents import jobs, render
from voucher.documents.actions import document_request, invoice_add
from voucher.documents.data import load_application
from voucher.documents.invoices import NotParsed, invoice_prefill, read_invoice
from voucher.documents.models import DocumentJob
from voucher.policy.format import FormatError


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
    """The document at once when it is rendered from the application's data as it is now
    (its data hash); otherwise its job is queued and this page shows its progress until the
    worker has rendered it (voucher/documents/jobs.py)."""
    if not render.exists(document, extension):
        raise Http404
    found = _application_for(request, application_id)
    if isinstance(found, HttpResponse):
        return found
    try:
        digest = render.data_hash(found, document, extension)
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
    job, _created = document_request(
        application=found,
        document=document,
        extension=extension,
        data_hash=digest,
        acting_user=request.user,
    )
    if job.state == DocumentJob.DONE and not default_storage.exists(job.file):
        job = jobs.requeue(job)  # the stored file is gone (a store wiped): render it again
    if job.state in (DocumentJob.QUEUED, DocumentJob.RUNNING) and jobs.inline():
        job = jobs.run_inline(job)
    if job.state == DocumentJob.DONE:
        with default_storage.open(job.file, "rb") as stored:  # a few MB at most
            response = HttpResponse(stored.read(), content_type=render.CONTENT_TYPES[extension])
        response["Content-Disposition"] = _attachment(render.filename(found, document, extension))
        return response
    return _progress(request, found, job)


def _progress(request: HttpRequest, application: Application, job: DocumentJob) -> HttpResponse:
    """The page of a job not done: queued or running (202, refreshed every few seconds by
    static/voucher/documents.js polling job_status, or by the meta refresh without JavaScript),
    or failed (the reason)."""
    waiting = job.state != DocumentJob.FAILED
    staff = bool(staff_roles_of(request.user))
    response = render_page(
        request,
        "documents/progress.html",
        {
            "a": application,
            "job": job,
            "waiting": waiting,
            "failure": "" if waiting else jobs.failure_message(job),
            "refresh_seconds": REFRESH_SECONDS,
            "title": render.DOCUMENTS[job.document][0],
            "base": "base.html" if staff else "portal/base.html",
            "back": reverse(
                "applications:detail" if staff else "portal:status", args=[application.pk]
            ),
            "download": request.path,
            "status_url": reverse("documents:job_status", args=[application.pk, job.pk]),
        },
        status=202 if waiting else 200,
    )
    if waiting:
        response["Refresh"] = str(REFRESH_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


REFRESH_SECONDS = 3


def job_status(request: HttpRequest, application_id: int, job_pk: int) -> HttpResponse:
    """{state, label, error, seconds, download} of a document job, which the progress page polls."""
    found = _application_for(request, application_id)
    if isinstance(found, HttpResponse):
        return found
    job = get_object_or_404(DocumentJob, pk=job_pk, application=found)
    response = JsonResponse(
        {
            "state": job.state,
            "label": job.get_state_display(),
            "error": jobs.failure_message(job) if job.state == DocumentJob.FAILED else "",
            "seconds": job.seconds,
            "download": reverse("documents:download", args=[found.pk, job.document, job.extension]),
        }
    )
    response["Cache-Control"] = "no-store"
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
    return render_page(request, "documents/invoice_prefill.html", context)
