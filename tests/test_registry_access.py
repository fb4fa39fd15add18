"""Who may use the company-registry pages (persons and officers are personal data).

The review site's login (password and TOTP) and voucher/applications/permissions.py: every staff role
may look (relation lookup, sweeps), reviewers, approvers and the administrator may run a sweep,
only the administrator may import. A refusal is a 403 page saying why, and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import verified_session
from voucher.applications import permissions as p
from voucher.applications import roles
from voucher.registry.importer import import_directory
from voucher.registry.models import Company, ImportRun, SweepRun

from .review_support import FAST_HASHERS, PASSWORD, make_staff, verified_client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SUPPLIER, CHAIN_TARGET = "91110000MA00H0LD3D", "91110000MA00H0LD4G"
ALL_ROLES = (roles.REVIEWER, roles.APPROVER, roles.SCREENER, roles.AUDITOR, roles.ADMINISTRATOR)
SWEEPERS = {roles.REVIEWER, roles.APPROVER, roles.ADMINISTRATOR}

NOT_STAFF = "仅市经信局、市数字经济中心工作人员及审计人员可以使用审核系统"
NOT_IMPORTER = "只有系统管理员可以导入企业登记信息"
NOT_SWEEPER = "只有审核、复核人员或管理员可以发起关联排查"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def registry(db):
    return import_directory(ROOT / "examples" / "registry")


@pytest.fixture
def sweep(registry):
    return SweepRun.objects.create(round_code="bj-2026", pairs=0, changed=0, seconds=0)


def _staff(django_user_model, role):
    return make_staff(django_user_model, role.replace("_", "-"), role)


def _upload():
    return SimpleUploadedFile("companies.csv", b"uscc,name\n91110108MA01C3QX7B,x\n")


def _refused(response, reason: str) -> None:
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="refusal-reason"' in page
    assert reason in page


# --- the permission functions ----------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_permission_functions_by_role(django_user_model, role):
    user = _staff(django_user_model, role)
    assert p.can_view_registry(user)
    assert bool(p.can_import_registry(user)) == (role == roles.ADMINISTRATOR)
    assert bool(p.can_sweep_registry(user)) == (role in SWEEPERS)
    if role != roles.ADMINISTRATOR:
        assert p.can_import_registry(user).reason == NOT_IMPORTER
    if role not in SWEEPERS:
        assert p.can_sweep_registry(user).reason == NOT_SWEEPER


def test_the_permission_functions_refuse_a_user_without_a_role(django_user_model, is_staff_only):
    for user in (is_staff_only, django_user_model.objects.create_user("nobody")):
        assert p.can_view_registry(user).reason == "只有工作人员可以查看企业登记信息"
        assert not p.can_import_registry(user) and not p.can_sweep_registry(user)


# --- the pages, role by role -----------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_staff_role_may_look_up_a_relation_and_see_the_sweeps(
    client, django_user_model, sweep, role
):
    verified_client(client, _staff(django_user_model, role))
    relation = client.get(reverse("registry:relation"), {"a": SUPPLIER, "b": CHAIN_TARGET})
    assert relation.status_code == 200
    assert 'class="path-node' in relation.content.decode()
    sweeps = client.get(reverse("registry:sweeps"))
    assert sweeps.status_code == 200
    assert reverse("registry:sweep", args=[sweep.pk]) in sweeps.content.decode()
    assert client.get(reverse("registry:sweep", args=[sweep.pk])).status_code == 200
    # the review navigation links the registry pages; the import, only to who may import
    for name in ("registry:relation", "registry:sweeps"):
        assert f'href="{reverse(name)}"' in sweeps.content.decode()
    offered = f'href="{reverse("registry:import")}"' in sweeps.content.decode()
    assert offered == (role == "administrator")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_reviewers_approvers_and_the_administrator_run_a_sweep(
    client, django_user_model, registry, role
):
    verified_client(client, _staff(django_user_model, role))
    page = client.get(reverse("registry:sweeps")).content.decode()
    response = client.post(reverse("registry:sweeps"), {"round": "bj-2026"})
    if role in SWEEPERS:
        assert 'name="round"' in page
        run = SweepRun.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("registry:sweep", args=[run.pk])
    else:
        assert 'name="round"' not in page and NOT_SWEEPER in page  # no button, the reason
        _refused(response, NOT_SWEEPER)
        assert not SweepRun.objects.exists()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_the_administrator_imports(client, django_user_model, role):
    verified_client(client, _staff(django_user_model, role))
    page = client.get(reverse("registry:import"))
    response = client.post(reverse("registry:import"), {"files": [_upload()]})
    if role == roles.ADMINISTRATOR:
        assert page.status_code == 200 and response.status_code == 200
        assert Company.objects.filter(uscc="91110108MA01C3QX7B").exists()
        assert ImportRun.objects.count() == 1
    else:
        _refused(page, NOT_IMPORTER)
        _refused(response, NOT_IMPORTER)
        assert not Company.objects.exists() and not ImportRun.objects.exists()


def test_a_superuser_counts_as_the_administrator(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@x.cn", PASSWORD)
    verified_client(client, admin)
    client.post(reverse("registry:import"), {"files": [_upload()]})
    assert Company.objects.count() == 1


# --- not staff, not verified -----------------------------------------------------------------


def _all_pages(sweep):
    return [
        ("get", reverse("registry:relation") + f"?a={SUPPLIER}&b={CHAIN_TARGET}", {}),
        ("get", reverse("registry:sweeps"), {}),
        ("get", reverse("registry:sweep", args=[sweep.pk]), {}),
        ("get", reverse("registry:import"), {}),
        ("post", reverse("registry:sweeps"), {"round": "bj-2026"}),
        ("post", reverse("registry:import"), {"files": [_upload()]}),
    ]


def test_anonymous_is_sent_to_the_review_login(client, sweep):
    imports = ImportRun.objects.count()
    for method, url, data in _all_pages(sweep):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("review:login")), url
    assert SweepRun.objects.count() == 1 and ImportRun.objects.count() == imports


def test_django_is_staff_without_a_role_is_refused_with_the_reason(client, is_staff_only, sweep):
    """The old check (Django is_staff) no longer opens the registry."""
    verified_session(client, is_staff_only)
    imports = ImportRun.objects.count()
    for method, url, data in _all_pages(sweep):
        _refused(getattr(client, method)(url, data), NOT_STAFF)
    assert SweepRun.objects.count() == 1 and ImportRun.objects.count() == imports


def test_a_staff_member_without_the_totp_code_is_not_let_in(client, django_user_model, sweep):
    """Password only (force_login, no verified device): back to the login or the TOTP setup."""
    user = _staff(django_user_model, roles.ADMINISTRATOR)
    client.force_login(user)
    imports = ImportRun.objects.count()
    for method, url, data in _all_pages(sweep):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("review:otp_setup")
    assert SweepRun.objects.count() == 1 and ImportRun.objects.count() == imports
