"""The registry in the admin: read-only (it changes only through imports, which are audited)."""

from __future__ import annotations

from django.contrib import admin

from voucher.core.admin import ReadOnlyAdmin
from voucher.registry import models


@admin.register(models.Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ("uscc", "name", "status")
    search_fields = ("=uscc", "name")
    show_full_result_count = False


@admin.register(models.Shareholding)
class ShareholdingAdmin(ReadOnlyAdmin):
    list_display = ("holder", "held", "ratio", "source", "as_of")
    search_fields = ("=holder", "=held")
    show_full_result_count = False


@admin.register(models.Officer)
class OfficerAdmin(ReadOnlyAdmin):
    list_display = ("person", "company", "role")
    list_filter = ("role",)
    search_fields = ("=person", "=company")
    show_full_result_count = False


@admin.register(models.ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "files", "counts", "error_count")


@admin.register(models.SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "round_code", "pairs", "changed", "seconds")
