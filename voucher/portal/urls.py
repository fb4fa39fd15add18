from django.urls import path

from voucher.portal import views, views_supplier

app_name = "portal"
A = "applications/<int:application_id>/"
urlpatterns = [
    path("", views.home, name="home"),
    path("applications/new/", views.application_new, name="new"),
    path(A, views.application_open, name="open"),
    path(A + "direction/", views.direction, name="direction"),
    path(A + "delete/", views.delete_draft, name="delete_draft"),
    path(A + "applicant/", views.applicant, name="applicant"),
    path(A + "project/", views.project, name="project"),
    path(A + "contracts/", views.contracts, name="contracts"),
    path(A + "contracts/import/", views.contracts_import, name="contracts_import"),
    path(A + "contracts/<int:contract_pk>/", views.contract, name="contract"),
    path(A + "contracts/<int:contract_pk>/delete/", views.contract_delete, name="contract_delete"),
    path(
        A + "contracts/<int:contract_pk>/<slug:kind>/<int:row_pk>/delete/",
        views.contract_row_delete,
        name="contract_row_delete",
    ),
    path(A + "report/", views.report, name="report"),
    path(A + "declarations/", views.declarations, name="declarations"),
    path(A + "commitment/", views.commitment, name="commitment"),
    path(A + "materials/", views.materials, name="materials"),
    path(A + "files/<int:file_pk>/", views.file_download, name="file"),
    path(A + "files/<int:file_pk>/delete/", views.file_delete, name="file_delete"),
    path(A + "selfcheck/", views.selfcheck, name="selfcheck"),
    path(A + "submit/", views.submit, name="submit"),
    path(A + "supplement/", views.supplement, name="supplement"),
    path(A + "status/", views.status, name="status"),
    path(A + "notice.pdf", views.notice, name="notice"),
    path(A + "receipt.pdf", views.receipt, name="receipt"),
    path(A + "consent/", views.consent, name="consent"),
    path(A + "follow-up/", views.follow_up, name="follow_up"),
    # the compute supplier's pages (issue 22)
    path("supplier/", views_supplier.supplier_contracts, name="supplier_contracts"),
    path(
        "supplier/contracts.<str:extension>",
        views_supplier.supplier_export,
        name="supplier_export",
    ),
    path("supplier/upload/", views_supplier.supplier_upload, name="supplier_upload"),
    path(
        "supplier/contracts/<int:contract_pk>/attestation.pdf",
        views_supplier.supplier_attestation_pdf,
        name="supplier_attestation_pdf",
    ),
    path(
        "supplier/contracts/<int:contract_pk>/",
        views_supplier.supplier_contract,
        name="supplier_contract",
    ),
    path("templates/<slug:kind>.<str:extension>", views.import_template, name="import_template"),
]
