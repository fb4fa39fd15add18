from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from voucher.staffapi.models import StaffApiToken


@admin.register(StaffApiToken)
class StaffApiTokenAdmin(admin.ModelAdmin):
    """Read-only: a staff member issues and revokes their own tokens on /bureau-api/tokens/
    (audited); the secret is shown once there and only its hash is stored."""

    list_display = (
        "user",
        "prefix",
        "label",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "label", "user__username")
    exclude = ("secret_sha256",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
