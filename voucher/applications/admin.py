"""The admin: for staff to look things up. Evaluations and the registry extract are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from voucher.applications import models
from voucher.applications.actions import application_evaluate, round_evaluate_all
from voucher.applications.selectors import latest_seen_by_bureau
from voucher.core.admin import AuditedAdmin, ReadOnlyAdmin
from voucher.policy.clauses import clause_text
from voucher.policy.results import OUTCOME_LABELS, STATUS_LABELS

admin.site.site_header = "算力券申报与审核"
admin.site.site_title = "算力券"
admin.site.index_title = "管理"


@admin.register(models.PolicyRoundRecord)
class PolicyRoundAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "jurisdiction", "window_start", "window_end", "synced_at")
    actions = ("evaluate_round",)

    def has_evaluate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("applications.change_application")

    @admin.action(description="整轮批量评估（同一企业多方向在全轮判断）", permissions=["evaluate"])
    def evaluate_round(
        self, request: HttpRequest, queryset: QuerySet[models.PolicyRoundRecord]
    ) -> None:
        for record in queryset:
            stored = round_evaluate_all(round_code=record.code, acting_user=request.user)
            self.message_user(
                request, f"{record.code}: 已评估 {len(stored)} 份申报。", messages.SUCCESS
            )

    readonly_fields = (
        "code",
        "title",
        "jurisdiction",
        "window_start",
        "window_end",
        "source_sha256",
        "synced_at",
    )


@admin.register(models.Enterprise)
class EnterpriseAdmin(AuditedAdmin):
    list_display = ("name", "uscc", "created_at")
    search_fields = ("name", "uscc")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """An existing enterprise's USCC and name change only through the four-eyes correction
        (审核系统 › 企业信息; review/actions/enterprises.py), never by one person here."""
        if obj is not None:
            return ("uscc", "name", "created_at")
        return ()


@admin.register(models.EnterpriseCorrection)
class EnterpriseCorrectionAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "old_uscc", "new_uscc", "new_name", "status", "proposed_at")
    list_filter = ("status",)
    search_fields = ("old_uscc", "new_uscc", "old_name", "new_name")


class ContractInline(admin.StackedInline):
    model = models.Contract
    extra = 0
    show_change_link = True  # deliveries, invoices, payments and subsidies are on its own page
    fields = (
        ("contract_id", "position"),
        ("supplier_name", "supplier_uscc"),
        ("signed_on", "valid_from", "valid_to"),
        "total_amount",
        ("revenue_or_risk_sharing", "hierarchy"),
    )


class ShareholdingInline(admin.TabularInline):
    model = models.RegistryShareholding
    extra = 0
    fields = ("position", "holder", "held", "ratio", "ratio_places")


class OfficerInline(admin.TabularInline):
    model = models.RegistryOfficer
    extra = 0
    fields = ("position", "person", "company", "role")


class EvaluationInline(admin.TabularInline):
    model = models.StoredEvaluation
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("created_at", "outcome", "approved_max", "engine_version", "correction_in_progress")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Application)
class ApplicationAdmin(AuditedAdmin):
    list_display = (
        "id",
        "applicant_name",
        "direction",
        "submitted_on",
        "latest_outcome",
        "requested_amount",
    )
    list_display_links = ("id", "applicant_name")
    list_filter = ("round", "direction", "entity_type")
    search_fields = ("applicant_name", "enterprise__uscc", "project_name", "source_name")
    date_hierarchy = "submitted_on"
    list_select_related = ("enterprise", "round")
    autocomplete_fields = ("enterprise",)
    readonly_fields = ("source_name", "source_sha256", "created_at", "updated_at", "public_page")
    inlines = (ContractInline, ShareholdingInline, OfficerInline, EvaluationInline)
    actions = ("evaluate_selected",)
    fieldsets = (
        (
            None,
            {"fields": ("round", "enterprise", "direction", "submitted_on", "requested_amount")},
        ),
        (
            "申报单位",
            {
                "fields": (
                    "applicant_name",
                    ("registered_address", "business_address"),
                    ("entity_type", "industry"),
                    ("independent_legal_person", "ai_new_rd_institution"),
                    ("contact_name", "contact_mobile"),
                    ("contact_address", "contact_email"),
                )
            },
        ),
        (
            "项目",
            {
                "fields": (
                    "project_name",
                    "project_start_date",
                    "project_overview",
                    ("ai_field", "topic"),
                    ("miit_2025_list", "action_plan_aligned"),
                    ("open_source_platform", "open_source_url", "open_source_scenario_aligned"),
                    ("model_filing_number", "model_filing_date", "model_filing_kind"),
                )
            },
        ),
        (
            "声明与材料",
            {
                "fields": (
                    ("other_municipal_compute_support", "dishonest_entity"),
                    "has_registry",
                    "materials",
                )
            },
        ),
        (
            "来源",
            {"fields": ("public_page", "source_name", "source_sha256", "created_at", "updated_at")},
        ),
    )

    @admin.action(description="重新评估所选申报（与本轮其他申报一并判断）", permissions=["change"])
    def evaluate_selected(
        self, request: HttpRequest, queryset: QuerySet[models.Application]
    ) -> None:
        stored = [
            application_evaluate(application=a, acting_user=request.user)
            for a in queryset.select_related("round", "enterprise")
        ]
        self.message_user(request, f"已评估 {len(stored)} 份申报。", messages.SUCCESS)

    @admin.display(description="统一社会信用代码", ordering="enterprise__uscc")
    def uscc(self, obj: models.Application) -> str:
        return obj.enterprise.uscc

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Application]:
        latest = latest_seen_by_bureau()
        return (
            super()
            .get_queryset(request)
            .annotate(latest_outcome=Subquery(latest.values("outcome")[:1]))
        )

    @admin.display(description="最近评估结论", ordering="latest_outcome")
    def latest_outcome(self, obj: models.Application) -> str:
        outcome = getattr(obj, "latest_outcome", None)
        return OUTCOME_LABELS.get(outcome, "—") if outcome else "—"

    @admin.display(description="评估页面")
    def public_page(self, obj: models.Application) -> SafeString:
        url = reverse("applications:detail", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, url)


class DeliveryInline(admin.TabularInline):
    model = models.Delivery
    extra = 0
    fields = (
        "position",
        "start",
        "end",
        "service",
        "device",
        "quantity",
        "unit",
        "unit_price",
        "amount",
    )


class InvoiceInline(admin.TabularInline):
    model = models.Invoice
    extra = 0
    fields = ("position", "number", "date", "amount")


class PaymentInline(admin.TabularInline):
    model = models.Payment
    extra = 0
    fields = ("position", "date", "amount")


class OtherSubsidyInline(admin.TabularInline):
    model = models.OtherSubsidy
    extra = 0
    fields = ("position", "level", "policy", "amount", "status")


@admin.register(models.Contract)
class ContractAdmin(AuditedAdmin):
    list_display = (
        "contract_id",
        "application",
        "supplier_name",
        "supplier_uscc",
        "valid_from",
        "valid_to",
        "total_amount",
    )
    list_select_related = ("application__round",)
    search_fields = ("contract_id", "supplier_name", "supplier_uscc", "application__applicant_name")
    raw_id_fields = ("application",)
    inlines = (DeliveryInline, InvoiceInline, PaymentInline, OtherSubsidyInline)


class _ContractChildAdmin(AuditedAdmin):
    list_select_related = ("contract__application__round",)
    raw_id_fields = ("contract",)


@admin.register(models.Delivery)
class DeliveryAdmin(_ContractChildAdmin):
    list_display = ("contract", "start", "end", "service", "device", "quantity", "unit", "amount")
    list_filter = ("service",)


@admin.register(models.Invoice)
class InvoiceAdmin(_ContractChildAdmin):
    list_display = ("contract", "number", "date", "amount")
    search_fields = ("number",)


@admin.register(models.Payment)
class PaymentAdmin(_ContractChildAdmin):
    list_display = ("contract", "date", "amount")


@admin.register(models.OtherSubsidy)
class OtherSubsidyAdmin(_ContractChildAdmin):
    list_display = ("contract", "level", "policy", "amount", "status")
    list_filter = ("level", "status")


@admin.register(models.RegistryShareholding)
class RegistryShareholdingAdmin(AuditedAdmin):
    list_display = ("application", "holder", "held", "ratio")
    list_select_related = ("application__round",)
    search_fields = ("holder", "held")
    raw_id_fields = ("application",)


@admin.register(models.RegistryOfficer)
class RegistryOfficerAdmin(AuditedAdmin):
    list_display = ("application", "person", "company", "role")
    list_select_related = ("application__round",)
    search_fields = ("person", "company")
    raw_id_fields = ("application",)


@admin.register(models.StoredEvaluation)
class StoredEvaluationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "application",
        "outcome",
        "computed",
        "cap",
        "requested",
        "approved_max",
        "round_code",
        "engine_version",
        "correction_in_progress",
    )
    list_filter = ("outcome", "correction_in_progress", "round_code", "engine_version")
    list_select_related = ("application__round",)
    search_fields = ("application__applicant_name", "application__enterprise__uscc")
    date_hierarchy = "created_at"
    fields = (
        "application",
        ("round_code", "engine_version"),
        ("outcome", "correction_in_progress"),
        ("computed", "cap", "requested", "approved_max"),
        "findings_table",
        "contracts_table",
        "missing_materials",
        "document_sha256",
        "created_at",
    )
    readonly_fields = tuple(
        name for item in fields for name in (item if isinstance(item, tuple) else (item,))
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.StoredEvaluation]:
        return super().get_queryset(request).select_related("application__round")

    @admin.display(description="审查意见")
    def findings_table(self, obj: models.StoredEvaluation) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}<br><small>{}</small></td></tr>",
            (
                (
                    STATUS_LABELS.get(f["status"], f["status"]),
                    f["rule"],
                    f.get("contract") or "",
                    f["clause"],
                    f["message"],
                    _clause_text(f["clause"]),
                )
                for f in obj.findings
            ),
        )
        return format_html(
            "<table><thead><tr><th>状态</th><th>规则</th><th>合同</th><th>条款</th>"
            "<th>说明 / 条款原文</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="合同测算")
    def contracts_table(self, obj: models.StoredEvaluation) -> SafeString:
        keys = ("id", "delivered", "evidenced", "verified_cost", "rate_limit", "stacking_limit")
        rows = format_html_join(
            "",
            "<tr>" + "<td>{}</td>" * (len(keys) + 1) + "</tr>",
            (tuple(c.get(k, "") for k in (*keys, "subsidy")) for c in obj.contracts),
        )
        return format_html(
            "<table><thead><tr><th>合同</th><th>交付</th><th>票据/付款</th><th>核定算力成本</th>"
            "<th>比例上限</th><th>叠加上限</th><th>补贴</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


def _clause_text(reference: str) -> str:
    try:
        return clause_text(reference)
    except KeyError:
        return ""


# --- the supplier's side (issue 22): read-only; the supplier's pages and the actions write ------


@admin.register(models.SupplierMember)
class SupplierMemberAdmin(ReadOnlyAdmin):
    list_display = ("uscc", "user", "created_at")
    search_fields = ("uscc", "user__username")


@admin.register(models.SupplierInvitation)
class SupplierInvitationAdmin(ReadOnlyAdmin):
    list_display = ("uscc", "email", "created_at", "expires_at", "accepted_at")
    exclude = ("token_hash",)


@admin.register(models.LineConfirmation)
class LineConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("contract", "line", "state", "reason", "by", "at")
    list_filter = ("state",)


@admin.register(models.SupplierAttestation)
class SupplierAttestationAdmin(ReadOnlyAdmin):
    list_display = ("contract", "compliant", "no_sharing", "no_hierarchy", "by", "at")
