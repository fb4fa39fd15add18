"""The round is resolved, never written: with a second round current, the platforms, the screening,
the consumption window, the built direction-3 application, settlement and the registry's
state-asset holders are the second round's (they were bj-2026's, a literal)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from voucher.applications import rounds as application_rounds
from voucher.applications.models import Application, PolicyRoundRecord
from voucher.applications.rounds import rounds_sync
from voucher.platforms import actions, generate
from voucher.platforms.models import ConsumptionAggregate, Platform, Project
from voucher.policy import round as rounds
from voucher.policy.uscc import expected_check_character
from voucher.registry.models import Company, Shareholding

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, put_in_state, verified_client

BJ = (rounds.ROUNDS_DIR / "bj-2026.toml").read_text(encoding="utf-8")
STATE_HOLDER = "P-SASAC"
SECOND_TEXT = (
    BJ.replace('id = "bj-2026"', 'id = "bj-2027"')
    .replace("start = 2025-09-08", "start = 2026-04-01")
    .replace("end = 2026-03-31", "end = 2027-03-31")
    .replace('baidu_cloud = "百度云"\n', "")
    .replace(
        'modelscope = "魔搭社区"\n', 'modelscope = "魔搭社区"\nopen_atom = "开放原子开源社区"\n'
    )
    .replace("holders = []", f'holders = ["{STATE_HOLDER}"]')
)
SECOND = rounds.parse_round(SECOND_TEXT, name="bj-2027.toml")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def second_round(db, monkeypatch, settings, tmp_path):
    """bj-2027, a second round file, the latest: the current round."""
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }
    directory = tmp_path / "rounds"
    directory.mkdir()
    (directory / "bj-2026.toml").write_text(BJ, encoding="utf-8")
    (directory / "bj-2027.toml").write_text(SECOND_TEXT, encoding="utf-8")
    monkeypatch.setattr(rounds, "_cache", rounds.load_rounds(directory))
    monkeypatch.setattr(application_rounds, "ROUNDS_DIR", directory)
    rounds_sync()
    return PolicyRoundRecord.objects.get(code=SECOND.id)


def test_the_platforms_are_the_current_rounds(second_round):
    actions.platforms_sync()
    codes = set(Platform.objects.values_list("code", flat=True))
    assert codes == set(SECOND.d3_platforms) and "open_atom" in codes
    assert "baidu_cloud" not in codes


def test_the_screening_asks_the_current_rounds_platforms(second_round):
    def outcome(code: str) -> list[str]:
        return actions.screening_outcome(
            platform_code=code, open_source=True, scenario_aligned=True, action_plan_aligned=False
        ).failing

    assert outcome("open_atom") == []
    assert outcome("baidu_cloud") == ["D3_PLATFORM"]


# --- a direction-3 project through the platform API, in the second round ----------------------

ENTERPRISE = {
    "name": "北京开源智能科技有限公司",
    "uscc": "91110108MA01C3QX7B",
    "registered_address": "北京市海淀区中关村大街1号",
    "business_address": "北京市海淀区中关村大街1号",
    "entity_type": "enterprise",
    "independent_legal_person": True,
    "industry": "I",
    "ai_new_rd_institution": False,
    "contact": {
        "name": "李四",
        "mobile": "13912345678",
        "address": "北京市海淀区中关村大街1号",
        "email": "li@example.cn",
    },
}
CONTRACT = {
    "id": "C1",
    "supplier": {"name": "供应商C1", "uscc": "91330106MA27K8LW36"},
    "signed_on": "2026-03-28",
    "valid_from": "2026-04-01",
    "valid_to": "2027-03-31",
    "total_amount": "3000000.00",
    "relationship": {"revenue_or_risk_sharing": False, "hierarchy": False},
}


def _rows() -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(generate.core.COLUMNS))
    writer.writeheader()
    for order, start, end in (
        ("O-1", "2026-05-01 00:00:00", "2026-05-02 00:00:00"),  # inside bj-2027 only
        ("O-2", "2026-03-01 00:00:00", "2026-03-02 00:00:00"),  # inside bj-2026 only
    ):
        writer.writerow(
            {
                "enterprise_uscc": ENTERPRISE["uscc"],
                "contract_id": "C1",
                "order_id": order,
                "resource_type": "compute",
                "device_model": "H800",
                "start": start,
                "end": end,
                "quantity": "24",
                "unit": "card-hour",
                "unit_price": "10.00",
                "amount": "240.00",
            }
        )
    return out.getvalue().encode()


@pytest.fixture
def d3_listed(second_round, django_user_model):
    actions.platforms_sync()
    platform = Platform.objects.get(code="modelscope")  # a platform of both rounds
    _, text = actions.token_issue(platform=platform, label="test")
    client = Client(headers={"Authorization": f"Bearer {text}"})
    project = {
        "external_id": "oa-1",
        "enterprise": ENTERPRISE,
        "name": "开源具身模型",
        "url": "https://atomgit.com/example/m1",
        "scenario": "具身智能",
        "start_date": "2026-04-10",
        "open_source_licence": "Apache-2.0",
    }
    response = client.post("/api/v1/projects", json.dumps(project), content_type="application/json")
    assert response.status_code == 201, response.content
    screener = make_staff(django_user_model, "screener", "centre_screener")
    entry = actions.project_screen(
        project=Project.objects.get(),
        acting_user=screener,
        open_source=True,
        scenario_aligned=True,
        action_plan_aligned=False,
        reasons="开源",
    )
    url = f"/api/v1/enterprises/{ENTERPRISE['uscc']}/contracts/C1"
    response = client.put(url, json.dumps(CONTRACT), content_type="application/json")
    assert response.status_code == 200, response.content
    upload = io.BytesIO(_rows())
    upload.name = "batch.csv"
    response = client.post(
        f"/api/v1/enterprises/{ENTERPRISE['uscc']}/consumption-batches",
        {"file": upload},
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.status_code == 202, response.content
    actions.batch_process(batch_id=response.json()["id"])
    return entry, screener


def test_consumption_is_counted_in_the_current_rounds_window(d3_listed):
    inside = ConsumptionAggregate.objects.get(month="2026-05")
    outside = ConsumptionAggregate.objects.get(month="2026-03")
    assert (inside.amount, inside.outside_amount) == (Decimal("240.00"), Decimal("0.00"))
    assert (outside.amount, outside.outside_amount) == (Decimal("0.00"), Decimal("240.00"))


def test_the_built_application_is_of_the_current_round(d3_listed):
    entry, screener = d3_listed
    entry.refresh_from_db()
    stored = actions.d3_application_build(entry=entry, acting_user=screener)
    assert stored.application.round.code == "bj-2027"
    assert stored.contracts[0]["delivered"] == "240.00"


# --- settlement for an application of the current round ---------------------------------------


def test_settlement_attaches_to_an_application_of_the_current_round(second_round, demo_data):
    application = put_in_state(application_from("d2-threshold-exact"), "submitted")
    Application.objects.filter(pk=application.pk).update(round=second_round)
    supplier = Platform.objects.create(code="supplier-c1", name="供应商C1")
    actions.platform_organisation_set(platform=supplier, uscc="91110105MA02D4RY0J")
    token, _text = actions.token_issue(platform=supplier, label="t", scopes=["settlement"])
    found, contract = actions.settlement_target(
        token=token, uscc="91110108MA01C3QX7B", contract_id="C1"
    )
    assert (found.pk, contract.contract_id) == (application.pk, "C1")


# --- the registry: a common holder the current round lists as a state-asset body --------------


def _code(n: int) -> str:
    body = f"91110000MA{n:07d}"
    return body + expected_check_character(body)


def test_the_relation_page_leaves_out_the_current_rounds_state_asset_holders(
    client, second_round, django_user_model
):
    a, b = _code(1), _code(2)
    Company.objects.bulk_create(Company(uscc=u, name=f"企业{u[-4:]}") for u in (a, b))
    Shareholding.objects.create(holder=STATE_HOLDER, held=a, ratio=Decimal("0.6"))
    Shareholding.objects.create(holder=STATE_HOLDER, held=b, ratio=Decimal("0.6"))
    verified_client(client, make_staff(django_user_model, "registry-reviewer", "bureau_reviewer"))
    page = client.get("/registry/relation/", {"a": a, "b": b})
    assert page.status_code == 200
    assert page.context["rel"].equity == "pass"  # bj-2026 lists no holder: "review" before


def test_the_registry_command_leaves_out_the_current_rounds_state_asset_holders(second_round):
    a, b = _code(1), _code(2)
    Company.objects.bulk_create(Company(uscc=u, name=f"企业{u[-4:]}") for u in (a, b))
    Shareholding.objects.create(holder=STATE_HOLDER, held=a, ratio=Decimal("0.6"))
    Shareholding.objects.create(holder=STATE_HOLDER, held=b, ratio=Decimal("0.6"))
    out = io.StringIO()
    call_command("registry", "relation", a, b, "--json", stdout=out)
    assert json.loads(out.getvalue())["equity"] == "pass"
    out = io.StringIO()
    call_command("registry", "relation", a, b, "--json", "--round", "bj-2026", stdout=out)
    assert json.loads(out.getvalue())["equity"] == "review"


def test_the_second_round_is_the_current_one(second_round):
    from voucher.applications.rounds import current_round

    assert current_round() == second_round
    assert second_round.window_start == date(2026, 4, 1)
