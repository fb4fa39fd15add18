from django.contrib import admin

from voucher.documents import models


@admin.register(models.DocumentJob)
class DocumentJobAdmin(admin.ModelAdmin):
    """Read-only: the rendering of documents by `voucher documents worker` (docs/operations.md)."""

    list_display = (
        "pk",
        "application",
        "document",
        "extension",
        "state",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
        "size",
    )
    list_filter = ("state", "document", "extension")
    search_fields = ("application__reference", "data_hash")
    raw_id_fields = ("application", "requested_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
