"""The admin: every model's list renders for the superuser; a reviewer can look but not change."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.conftest import verified_session
from voucher.applications.models import Application, Contract, StoredEvaluation
from voucher.core.models import AuditEntry

pytestmark = pytest.mark.django_db

MODELS = [m for m in admin.site._registry if m._meta.app_label in ("applications", "core")]


def test_every_model_of_ours_is_in_the_admin():
    names = {m.__name__ for m in MODELS}
    assert {
        "PolicyRoundRecord",
        "Enterprise",
        "Application",
        "Contract",
        "Delivery",
        "Invoice",
        "Payment",
        "OtherSubsidy",
        "RegistryShareholding",
        "RegistryOfficer",
        "StoredEvaluation",
        "AuditEntry",
    } <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_changelist_renders_for_the_superuser(admin_client, demo_data, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    assert str(model._meta.verbose_name_plural) in response.content.decode()


@pytest.mark.parametrize("model", [Application, Contract, StoredEvaluation, AuditEntry])
def test_the_change_page_renders_for_the_superuser(admin_client, demo_data, model):
    obj = model.objects.order_by("pk").first()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    assert admin_client.get(url).status_code == 200


def test_a_stored_evaluation_shows_its_findings_with_the_clause_text(admin_client, demo_data):
    evaluation = StoredEvaluation.objects.get(
        application__source_name="examples/d2-common-shareholder-review/application.json"
    )
    url = reverse("admin:applications_storedevaluation_change", args=[evaluation.pk])
    page = admin_client.get(url).content.decode()
    assert "SUPPLIER_EQUITY" in page
    assert "待审核" in page
    assert "一（五）注1" in page


def test_stored_evaluations_and_the_audit_log_cannot_be_changed(admin_client, demo_data):
    assert admin_client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert admin_client.get(reverse("admin:applications_storedevaluation_add")).status_code == 403


def test_the_admin_is_the_administrators_only(client, reviewer, demo_data):
    """A reviewer reads applications on the review site; the admin (every table) is the
    administrator's, even in a TOTP-verified session."""
    verified_session(client, reviewer)
    for name in ("admin:index", "admin:applications_application_changelist"):
        assert client.get(reverse(name)).status_code in (302, 403), name


def test_a_superuser_with_a_password_only_is_sent_to_the_totp_login(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:applications_application_changelist"))
    assert response.status_code == 302
    assert (
        response["Location"].startswith("/review/login/") or "/admin/login/" in response["Location"]
    )


def test_an_edit_in_the_admin_is_in_the_audit_log_and_marks_the_evaluation_stale(
    admin_client, admin_user, demo_data, public_demo
):
    from .conftest import application_from

    application = application_from("d4-small")
    detail = reverse("applications:detail", args=[application.pk])
    assert "可能已过时" not in admin_client.get(detail).content.decode()

    contract = application.contracts.get()
    url = reverse("admin:applications_contract_change", args=[contract.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    data["supplier_name"] = "改过名字的供应商"
    for prefix in ("deliveries", "invoices", "payments", "other_subsidies"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["errors"]

    entry = AuditEntry.objects.get(action="admin_change_contract")
    assert entry.actor == admin_user
    assert entry.object_id == str(contract.pk)
    assert "可能已过时" in admin_client.get(detail).content.decode()


def test_the_admin_re_evaluates_selected_applications(admin_client, admin_user, demo_data):
    application = Application.objects.order_by("pk").first()
    before = application.evaluations.count()
    response = admin_client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "evaluate_selected", "_selected_action": [application.pk]},
    )
    assert response.status_code == 302
    assert application.evaluations.count() == before + 1
    assert AuditEntry.objects.get(action="application_evaluate").actor == admin_user


def test_a_reviewer_cannot_re_evaluate(client, reviewer, demo_data):
    verified_session(client, reviewer)
    response = client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "evaluate_selected", "_selected_action": ["1"]},
    )
    assert response.status_code in (302, 403)
    assert (
        not StoredEvaluation.objects.filter(pk__gt=0)
        .exclude(pk__in=[e.pk for e in demo_data.evaluated])
        .exists()
    )
