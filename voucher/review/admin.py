"""The admin shows the bureau's records read-only: every decision is made through the actions
(the review screen), so the four-eyes rule and the approved_max ceiling cannot be bypassed here."""

from __future__ import annotations

from django.contrib import admin

from voucher.applications import models
from voucher.core.admin import ReadOnlyAdmin


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        "kind",
        "status",
        "amount",
        "approved_max_at_decision",
        "proposed_by",
        "confirmed_by",
    )
    list_filter = ("kind", "status")


@admin.register(models.Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "subject", "sent_at", "error")
    list_filter = ("event",)


for model in (
    models.ReviewCase,
    models.FindingResolution,
    models.CrossFindingResolution,
    models.SupplementRequest,
    models.Budget,
    models.PublicityList,
    models.Objection,
    models.PaymentRecord,
    models.Clawback,
    models.ListedEnterprise,
    models.Snapshot,
    models.UnitPriceBand,  # set on the review site's parameters page, where it is audited
    models.FlaggedDevice,
):
    admin.site.register(model, ReadOnlyAdmin)
