from django.urls import path

from voucher.documents import views

app_name = "documents"
urlpatterns = [
    path(
        "applications/<int:application_id>/documents/<slug:document>.<str:extension>",
        views.download,
        name="download",
    ),
    path(
        "applications/<int:application_id>/documents/jobs/<int:job_pk>/",
        views.job_status,
        name="job_status",
    ),
    path(
        "applications/<int:application_id>/contracts/<int:contract_pk>/invoices/prefill/",
        views.invoice_prefill_page,
        name="invoice_prefill",
    ),
]
