from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from voucher.core.audit import audit
from voucher.core.models import AuditEntry, Job


class AuditedAdmin(admin.ModelAdmin):
    """Edits made in the admin land in the audit log too, in the admin's own transaction.

    Django calls log_addition/log_change once per saved form (inlines included, after they are
    saved), inside the atomic block of the change view, and log_deletions before deleting.
    """

    def _admin_action(self, verb: str) -> str:
        return f"admin_{verb}_{self.model._meta.model_name}"

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit(
            actor=request.user, action=self._admin_action("add"), obj=obj, data={"change": message}
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit(
            actor=request.user,
            action=self._admin_action("change"),
            obj=obj,
            data={"change": message},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        objects = list(queryset)
        audit(
            actor=request.user,
            action=self._admin_action("delete"),
            obj=objects[0] if len(objects) == 1 else None,
            data={"deleted": [{"id": o.pk, "repr": str(o)} for o in objects]},
        )
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record is what happened: nobody edits or deletes it through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("action", "actor_label", "object_repr", "object_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "data_pretty",
    )
    exclude = ("data",)

    @admin.display(description="数据")
    def data_pretty(self, obj: AuditEntry) -> str:
        text = json.dumps(obj.data, ensure_ascii=False, indent=2)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Read-only: the work done after the request by `voucher jobs worker` (docs/operations.md)."""

    list_display = ("pk", "kind", "key", "state", "attempts", "created_at", "finished_at")
    list_filter = ("state", "kind")
    search_fields = ("key",)
