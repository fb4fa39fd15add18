from django.urls import path

from voucher.review import (
    views,
    views_enterprises,
    views_lists,
    views_payments,
    views_staff,
    views_statistics,
    views_supervision,
)

app_name = "review"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("otp/enrol/<str:token>/", views.otp_enrol, name="otp_enrol"),
    path("", views.queue, name="queue"),
    path("mine/", views.mine, name="mine"),
    path("parameters/", views.parameters, name="parameters"),
    path("staff/", views_staff.desk, name="staff"),
    path("staff/<int:user_id>/", views_staff.staff_member, name="staff_member"),
    path("suppliers/invite/", views_staff.supplier_invite, name="supplier_invite"),
    path("enterprises/", views_enterprises.enterprises, name="enterprises"),
    path("enterprises/<int:enterprise_id>/", views_enterprises.enterprise, name="enterprise"),
    path(
        "enterprises/corrections/<int:correction_id>/",
        views_enterprises.enterprise_correction,
        name="enterprise_correction",
    ),
    path("<int:application_id>/assign/", views.assign, name="assign"),
    path("export.xlsx", views.queue_export, name="queue_export"),
    path("<int:application_id>/", views.screen, name="screen"),
    path("<int:application_id>/contact/", views.contact, name="contact"),
    path("<int:application_id>/transition/<str:name>/", views.transition, name="transition"),
    path("<int:application_id>/files/<int:file_pk>/", views.material_file, name="material_file"),
    path(
        "<int:application_id>/files/<int:file_pk>/view/", views.material_view, name="material_view"
    ),
    path(
        "<int:application_id>/materials/<slug:material>/check/",
        views.material_check,
        name="material_check",
    ),
    path("<int:application_id>/resolve/", views.resolve, name="resolve"),
    path("<int:application_id>/resolve-cross/", views.resolve_cross, name="resolve_cross"),
    path("<int:application_id>/supplement/", views.supplement, name="supplement"),
    path("<int:application_id>/propose/", views.propose, name="propose"),
    path("<int:application_id>/notice.pdf", views.notice_pdf, name="notice"),
    path(
        "<int:application_id>/contracts/<int:contract_pk>/attestation.pdf",
        views.supplier_attestation_pdf,
        name="supplier_attestation_pdf",
    ),
    path("<int:application_id>/payment/", views.payment, name="payment"),
    path("<int:application_id>/clawback/", views.clawback, name="clawback"),
    path("<int:application_id>/objection/", views.objection, name="objection"),
    path("decisions/<int:decision_id>/confirm/", views.confirm, name="confirm"),
    path("decisions/<int:decision_id>/return/", views.return_decision, name="return"),
    path(
        "objections/<int:objection_id>/resolve/", views.objection_resolve, name="objection_resolve"
    ),
    path("clawbacks/<int:clawback_id>/refund/", views.refund, name="refund"),
    path("clawbacks/", views.clawbacks, name="clawbacks"),
    path("publicity/", views.publicity, name="publicity"),
    path(
        "publicity/<int:publicity_id>/export.xlsx", views.publicity_export, name="publicity_export"
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("checks/", views.checks, name="checks"),
    path("lists/", views.lists, name="lists"),
    path("official-lists/", views_lists.official_lists, name="official_lists"),
    path("official-lists/<int:list_id>/", views_lists.official_list, name="official_list"),
    path("notifications/", views.notifications, name="notifications"),
    path("statistics/", views_statistics.statistics, name="statistics"),
    path("statistics.xlsx", views_statistics.statistics_export, name="statistics_export"),
    path("supervision/", views_supervision.supervision, name="supervision"),
    path("<int:application_id>/spot-check/", views_supervision.spot_check, name="spot_check"),
    path("payees/", views_payments.payees, name="payees"),
    path("payees/<int:account_id>/", views_payments.payee_act, name="payee_act"),
    path("payments/", views_payments.payment_batches, name="payment_batches"),
    path("payments/<int:batch_id>/", views_payments.payment_batch, name="payment_batch"),
    path(
        "payments/<int:batch_id>/batch.csv",
        views_payments.payment_batch_csv,
        name="payment_batch_csv",
    ),
    path(
        "payments/<int:batch_id>/batch.xlsx",
        views_payments.payment_batch_xlsx,
        name="payment_batch_xlsx",
    ),
    path("answer/<int:application_id>/", views.supplement_answer, name="supplement_answer"),
]
