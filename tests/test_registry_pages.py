"""The staff pages: a pair's path drawn, files uploaded, sweeps; the path on the detail page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import application_from, verified_session
from tests.review_support import FAST_HASHERS, make_staff, verified_client
from voucher.applications import roles
from voucher.registry.actions import registry_sweep_round
from voucher.registry.importer import import_directory
from voucher.registry.models import Shareholding, SweepResult

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
SUPPLIER, CHAIN_TARGET = "91110000MA00H0LD3D", "91110000MA00H0LD4G"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def staff_reviewer(django_user_model):
    return make_staff(django_user_model, "registry-reviewer", roles.REVIEWER)


@pytest.fixture
def administrator(django_user_model):
    return make_staff(django_user_model, "registry-admin", roles.ADMINISTRATOR)


@pytest.fixture
def registry(db):
    return import_directory(ROOT / "examples" / "registry")


def test_the_relation_page_draws_the_chain_with_ratios_for_staff(client, staff_reviewer, registry):
    verified_client(client, staff_reviewer)
    page = client.get(reverse("registry:relation"), {"a": SUPPLIER, "b": CHAIN_TARGET})
    html = page.content.decode()
    assert page.status_code == 200
    assert "不通过" in html
    assert html.count('class="path-node') == 5  # five companies on the chain
    assert "80%" in html and "30%" in html
    assert "7.2000%" in html  # effective ratio as text


def test_the_registry_pages_are_for_staff_only(
    client, outsider, is_staff_only, registry, public_demo
):
    url = reverse("registry:relation") + f"?a={SUPPLIER}&b={CHAIN_TARGET}"
    assert client.get(url)["Location"].startswith(reverse("review:login"))  # even in the demo
    for user in (outsider, is_staff_only):  # Django's is_staff, but no staff role
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(reverse("registry:import")).status_code == 403
        assert client.get(reverse("registry:sweeps")).status_code == 403


def test_an_administrator_uploads_files_and_sees_the_bad_rows(client, administrator):
    verified_client(client, administrator)
    companies = SimpleUploadedFile(
        "companies.csv", "uscc,name\n91110108MA01C3QX7B,甲\n91110105MA02D4RY0J,乙\n".encode()
    )
    holdings = SimpleUploadedFile(
        "shareholdings.csv",
        b"holder,held,ratio\n91110108MA01C3QX7B,91110105MA02D4RY0J,0.3\nP-1,91110105MA02D4RY0J,2\n",
    )
    page = client.post(reverse("registry:import"), {"files": [companies, holdings]})
    html = page.content.decode()
    assert page.status_code == 200
    assert "shareholdings.csv" in html and "(0, 1]" in html
    assert Shareholding.objects.count() == 1


def test_a_reviewer_may_look_but_not_upload(client, staff_reviewer):
    verified_client(client, staff_reviewer)
    assert client.get(reverse("registry:relation")).status_code == 200
    upload = SimpleUploadedFile("companies.csv", b"uscc,name\n91110108MA01C3QX7B,x\n")
    assert client.post(reverse("registry:import"), {"files": [upload]}).status_code == 403
    assert not Shareholding.objects.exists()


def test_the_detail_page_draws_the_common_shareholder_paths(client, reviewer, demo_data):
    verified_session(client, reviewer)
    application = application_from("d2-common-shareholder-review")
    html = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "finding-paths" in html
    assert "共同股东 → 申报单位" in html
    assert html.count("path-node path-person") == 2  # P-7788 heads both chains


def test_a_sweep_reports_only_what_changed_since_the_last_one(client, staff_reviewer, demo_data):
    first, _ = registry_sweep_round(round_code="bj-2026")
    assert first.pairs > 0
    assert SweepResult.objects.filter(run=first, equity="review").exists()  # the d2 example
    second, gone = registry_sweep_round(round_code="bj-2026")
    assert (second.changed, gone) == (0, 0)
    application = application_from("d1-cap-binds")
    supplier = application.contracts.first().supplier_uscc
    import_directory_rows = (
        f"holder,held,ratio\nP-42,{supplier},0.5\nP-42,{application.enterprise.uscc},0.5\n"
    )
    from voucher.registry.importer import import_tables

    import_tables(
        {
            "companies": (
                "c.csv",
                lambda: [["uscc", "name"], [supplier, "s"], [application.enterprise.uscc, "a"]],
            ),
            "shareholdings": (
                "s.csv",
                lambda: [r.split(",") for r in import_directory_rows.split()],
            ),
        }
    )
    third, _ = registry_sweep_round(round_code="bj-2026")
    changed = list(SweepResult.objects.filter(run=third).exclude(change=""))
    assert [(r.applicant, r.supplier, r.equity, r.change) for r in changed] == [
        (application.enterprise.uscc, supplier, "review", "changed")
    ]
    verified_client(client, staff_reviewer)
    assert "P-42" in client.get(reverse("registry:sweep", args=[third.pk])).content.decode()


@pytest.mark.parametrize("model", ["company", "shareholding", "officer", "importrun", "sweeprun"])
def test_the_admin_lists_the_registry_read_only(client, admin_user, registry, model):
    verified_session(client, admin_user)
    page = client.get(reverse(f"admin:registry_{model}_changelist"))
    assert page.status_code == 200
    assert client.get(reverse(f"admin:registry_{model}_add")).status_code == 403
