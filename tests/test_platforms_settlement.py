"""Settlement data (14-1 五) for directions 1, 2 and 4: the supplier's platform attaches a
consumption-format file to an applicant's contract; it is compared with the declared delivery
lines and shown to the bureau's reviewer. Refusals are problem documents naming the field."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from voucher.platforms import actions, generate, selectors
from voucher.platforms.models import ConsumptionAggregate, ConsumptionBatch, Platform

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, put_in_state, verified_client

USCC = "91110108MA01C3QX7B"  # the examples' enterprise
SUPPLIER_C1 = "91110105MA02D4RY0J"  # supplier of contract C1 of examples/d2-threshold-exact
SUPPLIER_C2 = "91110115MA03E5TUX0"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def setup(demo_data, settings, tmp_path):
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }
    actions.platforms_sync()
    application = put_in_state(application_from("d2-threshold-exact"), "submitted")
    supplier = Platform.objects.create(code="supplier-c1", name="供应商C1")
    actions.platform_organisation_set(platform=supplier, uscc=SUPPLIER_C1)
    other = Platform.objects.create(code="supplier-c2", name="供应商C2")
    actions.platform_organisation_set(platform=other, uscc=SUPPLIER_C2)
    return application, supplier, other


def _client(platform, **kwargs) -> Client:
    _, text = actions.token_issue(platform=platform, label="test", **kwargs)
    return Client(headers={"Authorization": f"Bearer {text}"})


def _file(rows: list[tuple[str, str, str, str]]) -> bytes:
    """(order, start, end, amount) of compute rows for C1, 1 lot each."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(generate.core.COLUMNS))
    writer.writeheader()
    for order, start, end, amount in rows:
        writer.writerow(
            {
                "enterprise_uscc": USCC,
                "contract_id": "C1",
                "order_id": order,
                "resource_type": "compute",
                "device_model": "H800",
                "start": start,
                "end": end,
                "quantity": "0.5",
                "unit": "lot",
                "unit_price": amount,
                "amount": amount,
            }
        )
    return out.getvalue().encode()


# C1 declares 2025-09-01–2025-09-30, H800, 1 lot, 3,000,000.00. The settlement has the month
# right but 1,000.00 short, and a row in October nobody declared.
SETTLED = _file(
    [
        ("S-1", "2025-09-01 00:00:00", "2025-09-16 00:00:00", "1500000.00"),
        ("S-2", "2025-09-16 00:00:00", "2025-10-01 00:00:00", "1499000.00"),
        ("S-3", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "100.00"),
    ]
)


def _submit(client, contract="C1", content=SETTLED, key="s-1", uscc=USCC):
    upload = io.BytesIO(content)
    upload.name = "settlement.csv"
    return client.post(
        f"/api/v1/enterprises/{uscc}/contracts/{contract}/settlement-batches",
        {"file": upload},
        headers={"Idempotency-Key": key},
    )


def _problem(response, status, location):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    assert location in [e["location"] for e in body["errors"]], body
    return body


def test_the_supplier_s_platform_attaches_settlement_data_and_differences_are_flagged(setup):
    application, supplier, _ = setup
    client = _client(supplier)
    response = _submit(client)
    assert response.status_code == 202, response.content
    batch = response.json()
    assert batch["kind"] == "settlement" and batch["contract_id"] == "C1"
    assert _submit(client).json()["id"] == batch["id"]  # same key, same file: once
    _problem(_submit(client, content=SETTLED + b"\n"), 409, "header.Idempotency-Key")

    processed = actions.batch_process(batch_id=batch["id"])
    assert processed is not None and processed.status == "done"
    assert client.get(f"/api/v1/settlement-batches/{batch['id']}").json()["status"] == "done"
    assert client.get(f"/api/v1/settlement-batches/{batch['id']}/errors").status_code == 200
    # a settlement batch is not a direction-3 consumption batch
    assert client.get(f"/api/v1/consumption-batches/{batch['id']}").status_code == 404

    (view,) = selectors.settlement_of(application)
    assert view.contract_id == "C1" and view.differences == 2
    flagged = {c["kind"]: c for c in view.comparisons if c["flagged"]}
    assert set(flagged) == {"settled_amount", "undeclared_settlement"}
    assert "2025-10" in flagged["undeclared_settlement"]["subject"]
    assert flagged["settled_amount"]["expected"] == "3000000.00"
    assert flagged["settled_amount"]["actual"] == "2999000.00"
    assert flagged["settled_amount"]["difference"] == "-1000.00"
    assert flagged["settled_amount"]["sources"] == ["deliveries[0]"]
    quantity = next(c for c in view.comparisons if c["kind"] == "settled_quantity")
    assert not quantity["flagged"]  # 0.5 + 0.5 lot, as declared
    (rows,) = flagged["settled_amount"]["rows"]
    assert (rows["first_row"], rows["last_row"], rows["row_count"]) == (1, 2, 2)


def test_settlement_rows_are_not_cut_to_the_subsidy_window(setup):
    # the window starts 2025-09-08: the declaration is compared uncut, the engine cuts it
    application, supplier, _ = setup
    client = _client(supplier)
    content = _file([("S-1", "2025-09-01 00:00:00", "2025-10-01 00:00:00", "3000000.00")])
    batch_id = _submit(client, content=content, key="whole").json()["id"]
    actions.batch_process(batch_id=batch_id)
    (view,) = selectors.settlement_of(application)
    amount = next(c for c in view.comparisons if c["kind"] == "settled_amount")
    assert amount["actual"] == "3000000.00" and not amount["flagged"]


def test_a_settled_compute_row_without_a_device_is_a_bad_row_naming_device_model(setup):
    # RULES.md v2, Fail closed: the settlement rows are the consumption format, devices too
    _, supplier, _ = setup
    client = _client(supplier)
    content = SETTLED.decode().replace(",H800,", ",,", 1).encode()  # the first row, S-1
    batch_id = _submit(client, content=content).json()["id"]
    actions.batch_process(batch_id=batch_id)
    status = client.get(f"/api/v1/settlement-batches/{batch_id}").json()
    assert status["status"] == "done" and status["summary"]["rows_rejected"] == 1
    report = client.get(f"/api/v1/settlement-batches/{batch_id}/errors").content.decode()
    assert report.splitlines()[1].startswith("1,2,device_model,算力（compute）行须填写设备型号")
    assert ConsumptionAggregate.objects.filter(batch_id=batch_id, device="").count() == 0


def test_settlement_batches_never_become_direction_3_deliveries(setup):
    _, supplier, _ = setup
    batch_id = _submit(_client(supplier)).json()["id"]
    actions.batch_process(batch_id=batch_id)
    assert ConsumptionAggregate.objects.filter(batch_id=batch_id).exists()
    assert selectors.delivery_lines_of(platform=supplier, uscc=USCC, contract_id="C1") == []


def test_a_token_without_the_settlement_scope_is_refused(setup):
    _, supplier, _ = setup
    client = _client(supplier, scopes=["consumption"])
    _problem(_submit(client), 403, "token.scopes")


def test_a_platform_whose_organisation_is_not_registered_is_refused(setup):
    modelscope = Platform.objects.get(code="modelscope")
    _problem(_submit(_client(modelscope)), 403, "platform.uscc")


def test_another_supplier_s_platform_is_refused(setup):
    _, _, other = setup
    _problem(_submit(_client(other)), 404, "path.contract_id")
    # but C2, whose supplier it is, it may settle
    assert _submit(_client(other), contract="C2", key="c2").status_code == 202


def test_a_contract_the_applicant_did_not_declare_is_refused(setup):
    _, supplier, _ = setup
    _problem(_submit(_client(supplier), contract="C9"), 404, "path.contract_id")


def test_an_enterprise_without_a_submitted_application_is_refused(setup):
    application, supplier, _ = setup
    put_in_state(application, "draft")
    _problem(_submit(_client(supplier)), 404, "path.contract_id")
    _problem(_submit(_client(supplier), uscc="not-a-uscc"), 404, "path.uscc")


def test_a_direction_3_application_takes_consumption_batches_not_settlement(setup):
    application, supplier, _ = setup
    put_in_state(application, "draft")
    put_in_state(application_from("d3-modelscope"), "submitted")
    _problem(_submit(_client(supplier)), 404, "path.contract_id")


def test_a_settlement_batch_sent_by_mistake_is_withdrawn_and_no_longer_compared(
    setup, client, django_user_model
):
    application, supplier, other = setup
    platform = _client(supplier)
    batch_id = _submit(platform).json()["id"]
    actions.batch_process(batch_id=batch_id)
    assert selectors.settlement_of(application)[0].differences == 2
    assert _client(other).delete(f"/api/v1/settlement-batches/{batch_id}").status_code == 404
    assert platform.delete(f"/api/v1/consumption-batches/{batch_id}").status_code == 404
    response = platform.delete(f"/api/v1/settlement-batches/{batch_id}")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    (view,) = selectors.settlement_of(application)
    assert view.comparisons == [] and view.differences == 0
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    verified_client(client, reviewer)
    page = client.get(f"/review/{application.pk}/").content.decode()
    assert f"#{batch_id} 供应商C1 已撤回（不计入）" in page
    assert "没有计入的结算批次" in page and "尚未处理完成" not in page


def test_a_settlement_batch_of_a_decided_application_stays(setup):
    application, supplier, _ = setup
    platform = _client(supplier)
    batch_id = _submit(platform).json()["id"]
    actions.batch_process(batch_id=batch_id)
    put_in_state(application, "approved")
    response = platform.delete(f"/api/v1/settlement-batches/{batch_id}")
    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert application.reference in response.json()["detail"]
    assert selectors.settlement_of(application)[0].differences == 2


def test_a_withdrawn_application_takes_no_settlement(setup):
    application, supplier, _ = setup
    put_in_state(application, "withdrawn")
    _problem(_submit(_client(supplier)), 404, "path.contract_id")
    assert ConsumptionBatch.objects.count() == 0


def test_a_platform_learns_nothing_about_other_enterprises_applications(setup):
    """Not supplier, undeclared contract, no application, direction 3, withdrawn: one answer."""
    application, supplier, other = setup
    answers = [_submit(_client(other)).json(), _submit(_client(supplier), contract="C9").json()]
    put_in_state(application, "withdrawn")
    answers.append(_submit(_client(supplier), key="k2").json())
    put_in_state(application, "draft")
    answers.append(_submit(_client(supplier), key="k3").json())
    assert all(a == answers[0] for a in answers), answers
    assert ConsumptionBatch.objects.count() == 0


def test_the_review_screen_shows_the_settlement_differences(setup, client, django_user_model):
    application, supplier, _ = setup
    actions.batch_process(batch_id=_submit(_client(supplier)).json()["id"])
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    verified_client(client, reviewer)
    page = client.get(f"/review/{application.pk}/").content.decode()
    assert 'id="settlement"' in page
    assert "算力结算数据" in page
    assert "-¥1,000.00" in page and "¥2,999,000.00" in page
    assert "2 处差异" in page
    assert 'data-kind="settled_amount"' in page


def test_the_applicant_sees_its_supplier_s_settlement_on_the_status_page(
    setup, client, django_user_model
):
    from .review_support import make_applicant

    application, supplier, _ = setup
    status_url = f"/portal/applications/{application.pk}/status/"
    client.force_login(make_applicant(django_user_model, application))
    assert 'id="settlement"' not in client.get(status_url).content.decode()
    actions.batch_process(batch_id=_submit(_client(supplier)).json()["id"])
    page = client.get(status_url).content.decode()
    assert 'id="settlement"' in page and "算力结算数据" in page
    assert 'data-kind="undeclared_settlement"' in page and "-¥1,000.00" in page
