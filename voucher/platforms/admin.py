from django.contrib import admin

from voucher.platforms import models


@admin.register(models.Platform)
class PlatformAdmin(admin.ModelAdmin):
    """`uscc`: the organisation running the platform; settlement data is accepted only for the
    contracts whose supplier it is (docs/platform-api.md). Set it with
    `voucher platforms organisation CODE USCC` (audited)."""

    list_display = ("code", "name", "uscc")
    readonly_fields = ("uscc",)


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are issued with `voucher platforms token` (the secret is shown once)."""

    list_display = (
        "platform",
        "prefix",
        "label",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    exclude = ("secret_sha256",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(models.ConsumptionBatch)
class ConsumptionBatchAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "platform",
        "enterprise_uscc",
        "settles_application",
        "settles_contract_id",
        "status",
        "attempts",
        "leased_until",
        "leased_by",
        "created_at",
    )
    list_filter = ("status", "platform")
    readonly_fields = tuple(f.name for f in models.ConsumptionBatch._meta.fields)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(models.ContractReconciliation)
class ContractReconciliationAdmin(admin.ModelAdmin):
    """Read-only: stored by the direction-3 build."""

    list_display = ("application", "contract_id", "differences", "created_at")
    readonly_fields = tuple(f.name for f in models.ContractReconciliation._meta.fields)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
