"""The platform API: tokens, isolation between platforms, idempotent batches, crash and retry,
problem documents, and the direction-3 application built from it all."""

from __future__ import annotations

import io
import json
import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from voucher.platforms import actions, consumption, generate
from voucher.platforms.models import (
    ApiToken,
    ConsumptionAggregate,
    ConsumptionBatch,
    Platform,
    PlatformContract,
    Project,
    ShortlistEntry,
)

ROOT = Path(__file__).resolve().parent.parent
USCC = "91110108MA01C3QX7B"
ENTERPRISE = {
    "name": "北京测试智能科技有限公司",
    "uscc": USCC,
    "registered_address": "北京市海淀区知春路7号",
    "business_address": "北京市海淀区知春路7号",
    "entity_type": "enterprise",
    "independent_legal_person": True,
    "industry": "I",
    "ai_new_rd_institution": False,
    "contact": {
        "name": "李四",
        "mobile": "13912345678",
        "address": "北京市海淀区知春路7号",
        "email": "lisi@example.cn",
    },
}
PROJECT = {
    "external_id": "ms-001",
    "enterprise": ENTERPRISE,
    "name": "开源多模态模型",
    "url": "https://modelscope.cn/models/example/m1",
    "scenario": "工业质检",
    "start_date": "2025-09-10",
    "open_source_licence": "Apache-2.0",
}
CONTRACT = {
    "id": "C1",
    "supplier": {"name": "供应商C1", "uscc": "91330106MA27K8LW36"},
    "signed_on": "2025-08-28",
    "valid_from": "2025-09-01",
    "valid_to": "2026-08-31",
    "total_amount": "3000000.00",
    "relationship": {"revenue_or_risk_sharing": False, "hierarchy": False},
}


@pytest.fixture
def platforms(db, settings, tmp_path):
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }
    actions.platforms_sync()
    return Platform.objects.get(code="modelscope"), Platform.objects.get(code="oschina")


def _client(platform, **kwargs) -> tuple[Client, str]:
    _, text = actions.token_issue(platform=platform, label="test", **kwargs)
    return Client(headers={"Authorization": f"Bearer {text}"}), text


@pytest.fixture
def a(platforms):
    return _client(platforms[0])[0]


@pytest.fixture
def b(platforms):
    return _client(platforms[1])[0]


@pytest.fixture
def screener(db, django_user_model, settings):
    from .review_support import FAST_HASHERS, make_staff

    settings.PASSWORD_HASHERS = FAST_HASHERS
    return make_staff(django_user_model, "screener", "centre_screener")


def _post(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


def _put(client, url, payload):
    return client.put(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def listed(a, screener):
    response = _post(a, "/api/v1/projects", PROJECT)
    assert response.status_code == 201, response.content
    project = Project.objects.get(external_id="ms-001")
    actions.project_screen(
        project=project,
        acting_user=screener,
        open_source=True,
        scenario_aligned=True,
        action_plan_aligned=False,
        reasons="开源，属于开源计划场景",
    )
    response = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C1", CONTRACT)
    assert response.status_code == 200, response.content
    return project


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    import csv

    writer = csv.DictWriter(out, fieldnames=list(generate.core.COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(order: str, start: str, end: str, amount: str, **changes) -> dict[str, str]:
    row = {
        "enterprise_uscc": USCC,
        "contract_id": "C1",
        "order_id": order,
        "resource_type": "compute",
        "device_model": "H800",
        "start": start,
        "end": end,
        "quantity": "100",
        "unit": "card-hour",
        "unit_price": "12.00",
        "amount": amount,
    }
    row.update(changes)
    return row


FILE = _csv(
    [
        _row("O1", "2025-09-07 12:00:00", "2025-09-08 12:00:00", "1200.00"),  # half inside: 600.00
        _row("O2", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "2400.00"),
        _row("O3", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "-1"),  # bad: reported
        _row(
            "O4",
            "2025-10-05 00:00:00",
            "2025-10-06 00:00:00",
            "500.00",
            resource_type="storage",
            unit="TB",
        ),
    ]
)


def _submit(client, content=FILE, key="k-1", name="batch.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        f"/api/v1/enterprises/{USCC}/consumption-batches",
        {"file": upload},
        headers={"Idempotency-Key": key},
    )


def test_it_publishes_updates_and_lists_a_project(a, platforms):
    assert _post(a, "/api/v1/projects", PROJECT).status_code == 201
    response = _post(a, "/api/v1/projects", {**PROJECT, "name": "新名字"})
    assert response.status_code == 200 and response.json()["name"] == "新名字"
    assert [p["external_id"] for p in a.get("/api/v1/projects").json()] == ["ms-001"]


@pytest.mark.parametrize(
    "change",
    [
        {"name": "闭源推荐系统"},
        {"url": "https://example.com/closed"},
        {"scenario": "无关场景"},
        {"start_date": "2025-09-11"},
        {"open_source_licence": "Proprietary"},
    ],
)
def test_a_screened_project_that_changes_goes_back_to_the_centre_s_queue(a, listed, change):
    from voucher.core.models import AuditEntry

    assert _post(a, "/api/v1/projects", PROJECT).status_code == 200  # the same: still listed
    assert a.get("/api/v1/shortlist").json()
    response = _post(a, "/api/v1/projects", {**PROJECT, **change})
    assert response.status_code == 200 and response.json()["screening"] is None
    assert a.get("/api/v1/shortlist").json() == []
    assert _submit(a).status_code == 404  # off the list: no consumption until screened again
    entry = AuditEntry.objects.filter(action="platform_project_update").latest("pk")
    reset = entry.data["screening_reset"]
    assert reset["changed"] == list(change) and reset["decision"] == "listed"
    assert reset["reasons"] == "开源，属于开源计划场景"


def test_a_project_whose_application_exists_cannot_change(a, listed, screener):
    actions.batch_process(batch_id=_submit(a).json()["id"])
    actions.d3_application_build(entry=listed.screening, acting_user=screener)
    response = _post(a, "/api/v1/projects", {**PROJECT, "scenario": "无关场景"})
    assert response.status_code == 409, response.content
    assert [e["location"] for e in response.json()["errors"]] == ["body.scenario"]
    listed.refresh_from_db()
    assert listed.scenario == PROJECT["scenario"] and listed.screening.decision == "listed"
    assert _post(a, "/api/v1/projects", PROJECT).status_code == 200  # unchanged: fine


def test_a_contract_put_again_keeps_the_evidence_it_leaves_out(a, listed):
    url = f"/api/v1/enterprises/{USCC}/contracts/C1"
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": "3000.00"}
    payment = {"date": "2026-04-02", "amount": "3000.00"}
    assert _post(a, f"{url}/invoices", invoice).status_code == 201
    assert _post(a, f"{url}/payments", payment).status_code == 201
    corrected = _put(a, url, {**CONTRACT, "total_amount": "2500000.00"}).json()["document"]
    assert corrected["total_amount"] == "2500000.00"
    assert [i["number"] for i in corrected["invoices"]] == [invoice["number"]]
    assert [p["amount"] for p in corrected["payments"]] == ["3000.00"]
    emptied = _put(a, url, {**CONTRACT, "invoices": []}).json()["document"]  # sent: replaces
    assert emptied["invoices"] == [] and len(emptied["payments"]) == 1


@pytest.mark.parametrize(
    ("amount", "status"),
    [("9999999999999.98", 200), ("9999999999999.99", 200), ("10000000000000.00", 422)],
)
def test_a_contract_total_up_to_the_one_limit_is_kept_exactly(a, listed, amount, status):
    """voucher.policy.money.MAX_YUAN: 14 digits before the point were taken before, and SQLite
    gave 12,345,678,901,234.56 back as ….60."""
    url = f"/api/v1/enterprises/{USCC}/contracts/C1"
    before = [c.document for c in PlatformContract.objects.all()]
    response = _put(a, url, {**CONTRACT, "total_amount": amount})
    assert response.status_code == status, response.content
    if status == 422:
        [error] = response.json()["errors"]
        assert error["location"] == "body.payload.total_amount" and "过大" in error["message"]
        assert [c.document for c in PlatformContract.objects.all()] == before
    else:
        assert PlatformContract.objects.get().document["total_amount"] == amount


@pytest.mark.parametrize("kind", ["invoices", "payments"])
def test_evidence_above_the_one_limit_is_refused_naming_the_amount(a, listed, kind):
    url = f"/api/v1/enterprises/{USCC}/contracts/C1/{kind}"
    item = {"date": "2026-04-01", "amount": "10000000000000.00"}
    if kind == "invoices":
        item["number"] = "25112000004495444840"
    response = _post(a, url, item)
    assert response.status_code == 422
    assert [e["location"] for e in response.json()["errors"]] == ["body.payload.amount"]


@pytest.mark.parametrize(
    ("start_date", "status"),
    [
        ("2025-09-10", 201),
        ("２０２５-０９-１０", 201),  # full-width: the interchange format's reading of a day
        (1757462400, 422),  # a Unix time: pydantic's date read it as 2025-09-10
        ("1757462400", 422),
        ("2025-09-10T00:00:00", 422),
        ("2025/09/10", 422),
        ("2025-02-29", 422),
    ],
)
def test_a_project_start_date_is_a_day_as_the_format_writes_it(a, start_date, status):
    response = _post(a, "/api/v1/projects", {**PROJECT, "start_date": start_date})
    assert response.status_code == status, response.content
    if status == 422:
        assert [e["location"] for e in response.json()["errors"]] == ["body.payload.start_date"]
    else:
        assert Project.objects.get().start_date == date(2025, 9, 10)


def test_the_same_invoice_sent_twice_counts_once(a, listed):
    url = f"/api/v1/enterprises/{USCC}/contracts/C1/invoices"
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": "3000.00"}
    assert _post(a, url, invoice).status_code == 201
    again = _post(a, url, {**invoice, "number": " 25112000004495444840"})
    assert again.status_code == 409 and again.json()["errors"][0]["location"] == "body.number"
    stored = a.get(f"/api/v1/enterprises/{USCC}/contracts/C1/reconciliation")
    assert stored.status_code == 200
    assert [i["number"] for i in PlatformContract.objects.get().document["invoices"]] == [
        invoice["number"]
    ]


def test_a_contract_put_with_one_invoice_twice_is_refused(a, listed):
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": "3000.00"}
    twice = [invoice, {**invoice, "number": invoice["number"].lower() + " "}]
    response = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C1", {**CONTRACT, "invoices": twice})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "body.invoices.1.number"


def test_a_contract_id_longer_than_consumption_allows_is_refused(a, listed):
    long_id = "C" * 65
    response = _put(
        a, f"/api/v1/enterprises/{USCC}/contracts/{long_id}", {**CONTRACT, "id": long_id}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "path.contract_id"
    ok_id = "C" * 64
    assert (
        _put(
            a, f"/api/v1/enterprises/{USCC}/contracts/{ok_id}", {**CONTRACT, "id": ok_id}
        ).status_code
        == 200
    )
    other = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C2", CONTRACT)
    assert other.json()["errors"][0]["location"] == "body.id"


def test_the_shortlist_shows_listed_projects_of_the_platform_only(a, b, listed):
    assert [e["enterprise_uscc"] for e in a.get("/api/v1/shortlist").json()] == [USCC]
    assert b.get("/api/v1/shortlist").json() == []
    assert b.get("/api/v1/projects").json() == []


def test_a_token_of_platform_b_reads_and_writes_nothing_of_platform_a(a, b, listed):
    batch = _submit(a).json()
    assert b.get(f"/api/v1/consumption-batches/{batch['id']}").status_code == 404
    assert b.get(f"/api/v1/consumption-batches/{batch['id']}/errors").status_code == 404
    assert _submit(b, key="other").status_code == 404
    assert _put(b, f"/api/v1/enterprises/{USCC}/contracts/C1", CONTRACT).status_code == 404
    invoice = {"number": "1", "date": "2026-04-01", "amount": "1.00"}
    assert _post(b, f"/api/v1/enterprises/{USCC}/contracts/C1/invoices", invoice).status_code == 404
    # B publishing the same external id makes B's own project, not a change to A's
    assert _post(b, "/api/v1/projects", PROJECT).status_code == 201
    assert Project.objects.get(platform__code="modelscope").name == PROJECT["name"]


def test_the_same_key_and_file_are_processed_once_and_another_file_is_refused(a, listed):
    first = _submit(a)
    assert first.status_code == 202
    again = _submit(a)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = _submit(a, content=FILE + b"\n")
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert ConsumptionBatch.objects.count() == 1


def test_a_batch_sent_twice_under_two_keys_is_withdrawn_and_counts_once(a, b, listed, screener):
    from voucher.core.models import AuditEntry
    from voucher.platforms import selectors

    def delivered() -> str:
        lines = selectors.delivery_lines_of(platform=listed.platform, uscc=USCC, contract_id="C1")
        return str(sum(Decimal(line["amount"]) for line in lines))

    first = _submit(a, key="k-1").json()["id"]
    second = _submit(a, content=b"\xef\xbb\xbf" + FILE, key="k-2").json()["id"]  # with a BOM
    for batch_id in (first, second):
        actions.batch_process(batch_id=batch_id)
    assert delivered() == "6000.00"  # 600.00 + 2,400.00, twice
    assert b.delete(f"/api/v1/consumption-batches/{second}").status_code == 404  # not B's
    response = a.delete(f"/api/v1/consumption-batches/{second}")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert delivered() == "3000.00"
    assert ConsumptionAggregate.objects.filter(batch_id=second).exists()  # kept, for the record
    assert a.delete(f"/api/v1/consumption-batches/{second}").json()["status"] == "withdrawn"
    (entry,) = AuditEntry.objects.filter(action="platform_batch_withdraw")
    assert entry.data["status_before"] == "done" and entry.data["platform"] == "modelscope"
    assert a.get(f"/api/v1/settlement-batches/{first}").status_code == 404  # the other kind

    # once the application built from it has a decision, the evidence stays as it was
    from voucher.applications.states import APPROVED

    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert stored.contracts[0]["delivered"] == "3000.00"
    type(stored.application).objects.filter(pk=stored.application_id).update(state=APPROVED)
    response = a.delete(f"/api/v1/consumption-batches/{first}")
    assert response.status_code == 409 and response["Content-Type"] == "application/problem+json"
    assert ConsumptionBatch.objects.get(pk=first).status == "done"


def test_a_batch_being_processed_is_not_withdrawn(a, listed):
    batch_id = _submit(a).json()["id"]
    ConsumptionBatch.objects.filter(pk=batch_id).update(status=ConsumptionBatch.RUNNING)
    assert a.delete(f"/api/v1/consumption-batches/{batch_id}").status_code == 409
    ConsumptionBatch.objects.filter(pk=batch_id).update(status=ConsumptionBatch.QUEUED)
    assert a.delete(f"/api/v1/consumption-batches/{batch_id}").status_code == 200
    assert actions.batch_process(batch_id=batch_id) is None  # a withdrawn batch is not taken


def test_a_batch_reports_bad_rows_and_counts_the_rest(a, listed):
    batch_id = _submit(a).json()["id"]
    actions.batch_process(batch_id=batch_id)
    status = a.get(f"/api/v1/consumption-batches/{batch_id}").json()
    assert status["status"] == "done"
    assert status["summary"]["rows_rejected"] == 1
    assert status["summary"]["amount"] == "3000.00"  # 600.00 + 2400.00
    report = a.get(f"/api/v1/consumption-batches/{batch_id}/errors")
    assert report["Content-Type"].startswith("text/csv")
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,line,column,message" and lines[1].startswith("3,4,amount,")


def test_a_compute_row_without_a_device_is_reported_at_its_row_and_column(a, listed):
    # RULES.md v2, Fail closed: a compute row must name its device model; storage need not
    content = _csv(
        [
            _row("O1", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "2400.00"),
            _row("O2", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "100.00", device_model=""),
            _row(
                "O3",
                "2025-10-01 00:00:00",
                "2025-10-02 00:00:00",
                "500.00",
                resource_type="storage",
                device_model="",
                unit="TB",
            ),
        ]
    )
    batch_id = _submit(a, content=content, key="no-device").json()["id"]
    actions.batch_process(batch_id=batch_id)
    status = a.get(f"/api/v1/consumption-batches/{batch_id}").json()
    assert status["summary"]["rows_rejected"] == 1
    assert status["summary"]["amount"] == "2400.00"
    lines = a.get(f"/api/v1/consumption-batches/{batch_id}/errors").content.decode().splitlines()
    assert lines[1:] == [
        "2,3,device_model,算力（compute）行须填写设备型号 (device_model is required for a "
        "compute row)"
    ]


def test_a_file_that_is_not_consumption_is_refused_whole(a, listed):
    batch_id = _submit(a, content=b"hello,world\n1,2\n", key="junk").json()["id"]
    batch = actions.batch_process(batch_id=batch_id)
    assert batch.status == "refused" and "missing columns" in batch.refusal
    assert ConsumptionAggregate.objects.count() == 0


def test_a_crash_mid_batch_stores_nothing_and_the_retry_stores_one_result(a, listed):
    batch_id = _submit(a).json()["id"]

    def crash():
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        actions.batch_process(batch_id=batch_id, before_store=crash)
    batch = ConsumptionBatch.objects.get(pk=batch_id)
    assert batch.status == "queued" and batch.attempts == 1
    assert ConsumptionAggregate.objects.count() == 0
    actions.batch_process(batch_id=batch_id)
    actions.batch_process(batch_id=batch_id)  # nothing left to take
    batch.refresh_from_db()
    assert batch.status == "done" and batch.attempts == 2
    assert ConsumptionAggregate.objects.filter(batch=batch, resource_type="compute").count() == 2


def test_a_killed_worker_s_batch_is_taken_again_once_its_lease_ran_out(
    a, listed, tmp_path, monkeypatch
):
    from .scratch_support import killed_worker_s_scratch

    batch_id = _submit(a).json()["id"]
    ConsumptionBatch.objects.filter(pk=batch_id).update(
        status="running",
        attempts=1,
        locked_at=timezone.now() - timedelta(minutes=2),
        leased_until=timezone.now() - timedelta(seconds=1),
    )
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch_dir))
    leftovers = killed_worker_s_scratch(scratch_dir)  # what the killed worker held
    batch = actions.batch_process()
    assert batch is not None and batch.status == "done" and batch.attempts == 2
    assert not any(os.path.exists(p) for p in leftovers)


def test_tokens_are_stored_hashed_expire_and_can_be_revoked(platforms, listed):
    client, text = _client(platforms[0])
    token = ApiToken.objects.get(prefix=text.split("_")[1])
    assert text.split("_", 2)[2] not in token.secret_sha256
    assert client.get("/api/v1/projects").status_code == 200
    actions.token_revoke(token=token)
    response = client.get("/api/v1/projects")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    expired, _ = _client(platforms[0])
    ApiToken.objects.filter(pk=ApiToken.objects.latest("pk").pk).update(expires_at=timezone.now())
    assert expired.get("/api/v1/projects").status_code == 401
    with pytest.raises(ValueError, match="at least one day"):
        actions.token_issue(platform=platforms[0], label="dead on arrival", days=0)
    assert Client().get("/api/v1/projects").status_code == 401


def test_every_use_of_a_token_is_audited(a, platforms):
    from voucher.core.models import AuditEntry

    before = AuditEntry.objects.filter(action="platform_token_use").count()
    a.get("/api/v1/projects")
    a.get("/api/v1/shortlist")
    assert AuditEntry.objects.filter(action="platform_token_use").count() == before + 2


def test_a_token_without_the_scope_is_forbidden(platforms):
    client, _ = _client(platforms[0], scopes=["shortlist"])
    response = _post(client, "/api/v1/projects", PROJECT)
    assert response.status_code == 403 and response.json()["status"] == 403


def test_requests_are_throttled_per_token(platforms, settings):
    from voucher.api import v1

    throttle = v1.THROTTLE
    rate = throttle.rate
    throttle.rate = "2/m"
    throttle.num_requests, throttle.duration = throttle.parse_rate("2/m")
    try:
        client, _ = _client(platforms[0])
        other, _ = _client(platforms[0])
        codes = [client.get("/api/v1/projects").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert other.get("/api/v1/projects").status_code == 200
    finally:
        throttle.rate = rate
        throttle.num_requests, throttle.duration = throttle.parse_rate(rate)


def test_invalid_input_is_a_problem_document_not_a_500(a, listed):
    response = _post(a, "/api/v1/projects", {**PROJECT, "enterprise": {**ENTERPRISE, "uscc": "x"}})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]
    response = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C2", CONTRACT)
    assert response.status_code == 422


def _too_many(kind: str, count: int) -> dict:
    def upload(n):
        f = io.BytesIO(FILE)
        f.name = f"batch{n}.csv"
        return f

    if kind == "files":
        return {f"file{n}": upload(n) for n in range(count)}
    return {"file": upload(0), **{f"field{n}": "x" for n in range(count)}}


@pytest.mark.parametrize(
    "case",
    ["multipart without its boundary", "too many fields", "too many files", "body too large"],
)
def test_a_body_django_cannot_read_is_the_client_s_problem_not_a_500(a, listed, settings, case):
    url = f"/api/v1/enterprises/{USCC}/consumption-batches"
    key = {"Idempotency-Key": "k-body"}
    if case == "multipart without its boundary":
        response = a.post(url, FILE, content_type="multipart/form-data", headers=key)
    elif case == "too many fields":
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
        response = a.post(url, _too_many("fields", 10), headers=key)
    elif case == "too many files":
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
        response = a.post(url, _too_many("files", 3), headers=key)
    else:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        response = _post(a, "/api/v1/projects", {**PROJECT, "scenario": "x" * 2000})
    expected = 413 if case == "body too large" else 400
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == expected and problem["errors"][0]["location"] == "body"
    assert ("请求体过大" if expected == 413 else "无法读取请求体") in problem["title"]
    assert not ConsumptionBatch.objects.exists()
    assert Project.objects.get(external_id="ms-001").scenario == PROJECT["scenario"]


def test_the_platform_s_data_become_a_direction_3_application_the_engine_evaluates(
    a, listed, screener
):
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": "3000.00"}
    assert _post(a, f"/api/v1/enterprises/{USCC}/contracts/C1/invoices", invoice).status_code == 201
    payment = {"date": "2026-04-02", "amount": "3000.00"}
    assert _post(a, f"/api/v1/enterprises/{USCC}/contracts/C1/payments", payment).status_code == 201
    actions.batch_process(batch_id=_submit(a).json()["id"])
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    application = stored.application
    assert application.direction == 3
    (contract,) = stored.contracts
    assert contract["delivered"] == "3000.00"
    assert contract["subsidy"] == "600.00"  # 20 % of 3,000.00
    # the reviewer's 办理记录 shows the centre's screening the application stands on
    from voucher.review.selectors import review_screen

    labels = [e.label for e in review_screen(application, screener).history]
    assert "开源项目筛选（市数字经济中心）" in labels and "平台数据核对" in labels, labels
    # the notice does not say the enterprise applied: under 免申即享 it did not
    from voucher.documents.pdf import decision_notice_html

    notice = decision_notice_html(application, "approval", Decimal(contract["subsidy"]), [])
    assert "免申即享" in notice and "你单位申报的" not in notice
    assert not [f for f in stored.findings if f["rule"].startswith("D3_") and f["status"] == "fail"]


def test_a_compute_line_stored_without_a_device_refuses_the_build_naming_it(
    client, a, listed, screener
):
    # a batch processed before devices were required (RULES.md v2, Fail closed) left a compute
    # aggregate without one: the build is refused, naming the contract and the field, not a 500
    from .review_support import verified_client

    actions.batch_process(batch_id=_submit(a).json()["id"])
    ConsumptionAggregate.objects.filter(resource_type="compute").update(device="")
    with pytest.raises(actions.Refused) as refused:
        actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert refused.value.code == "conflict"
    assert "合同 C1 contracts[0].deliveries[0].device" in refused.value.title
    assert refused.value.errors[0]["location"] == "contracts[0].deliveries[0].device"
    listed.screening.refresh_from_db()
    assert listed.screening.application_id is None

    verified_client(client, screener)
    built = {
        "project": listed.pk,
        "open_source": "on",
        "scenario_aligned": "on",
        "reasons": "开源，属于开源计划场景",
        "build": "1",
    }
    page = client.post("/platforms/screening/", built, follow=True)
    assert page.status_code == 200
    assert "平台数据不能生成申报" in page.content.decode()


# An hour-long job on the window's last day, half of it after: by the second it counts half
# (RULES.md v2, Money); by days it would count 1 of 2 days, and an hour-long job inside the last
# day must count whole, not as a day.
LAST_DAY = _csv(
    [
        _row("L1", "2026-03-31 23:30:00", "2026-04-01 00:30:00", "1000.00"),  # half: 500.00
        _row("L2", "2026-03-31 10:00:00", "2026-03-31 11:00:00", "100.00"),  # whole
        _row("L3", "2025-09-07 00:00:00", "2025-09-08 01:00:00", "2500.00"),  # 1 h of 25: 100.00
    ]
)


def _paid(a, amount: str) -> None:
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": amount}
    assert _post(a, f"/api/v1/enterprises/{USCC}/contracts/C1/invoices", invoice).status_code == 201


def test_platform_rows_count_by_the_second_in_the_built_application(a, listed, screener):
    _paid(a, "100000.00")
    actions.batch_process(batch_id=_submit(a, content=LAST_DAY, key="last-day").json()["id"])
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    (contract,) = stored.contracts
    assert contract["delivered"] == "700.00"  # 500.00 + 100.00 + 100.00, not a day's share
    lines = stored.application.contracts.get().deliveries.order_by("start")
    assert [(str(d.start), str(d.end), str(d.amount)) for d in lines] == [
        ("2025-09-08", "2025-09-08", "100.00"),
        ("2026-03-31", "2026-03-31", "600.00"),
    ]


MARCH = _csv(
    [
        _row("M1", "2026-03-01 10:00:00", "2026-03-01 11:00:00", "100.00"),
        _row("M2", "2026-03-31 10:00:00", "2026-03-31 11:00:00", "100.00"),
    ]
)


def test_a_contract_whose_validity_changed_after_its_consumption_is_not_pro_rated_by_days(
    a, listed, screener
):
    # Cut to 2025-09-01–2026-08-31 when processed, the rows make one March line, 2026-03-01 to
    # 2026-03-31, 200.00. The contract then ends 2026-03-30: pro-rated by days the line would
    # count 30 of 31 days, 193.55; by the second only M1 counts, 100.00. The rows are cut again
    # by the second when sent again: until then the build is refused, naming the line.
    _paid(a, "100000.00")
    first = _submit(a, content=MARCH, key="march").json()["id"]
    actions.batch_process(batch_id=first)
    narrowed = {**CONTRACT, "valid_to": "2026-03-30"}
    assert _put(a, f"/api/v1/enterprises/{USCC}/contracts/C1", narrowed).status_code == 200
    with pytest.raises(actions.Refused) as refused:
        actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert refused.value.code == "conflict"
    assert "合同 C1" in refused.value.title and "2026-03-01–2026-03-31" in refused.value.title
    listed.screening.refresh_from_db()
    assert listed.screening.application_id is None

    assert a.delete(f"/api/v1/consumption-batches/{first}").status_code == 200
    actions.batch_process(batch_id=_submit(a, content=MARCH, key="march-again").json()["id"])
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert stored.contracts[0]["delivered"] == "100.00"


def test_the_screening_page_records_the_decision_and_reasons(client, screener, a):
    _post(a, "/api/v1/projects", PROJECT)
    project = Project.objects.get()
    from .review_support import verified_client

    assert client.get("/platforms/screening/").status_code == 302  # to the review login
    verified_client(client, screener)
    assert client.get("/platforms/screening/").status_code == 200
    client.post("/platforms/screening/", {"project": project.pk, "reasons": "未开源"})
    project.refresh_from_db()
    assert project.screening.decision == "refused" and project.screening.reasons == "未开源"


def test_building_refuses_a_form_changed_but_not_saved(client, screener, a, listed):
    from .review_support import verified_client

    verified_client(client, screener)
    saved = {"project": listed.pk, "open_source": "on", "scenario_aligned": "on"}
    changed = {**saved, "reasons": "经核实并非开源", "build": "1"}
    del changed["open_source"]
    page = client.post("/platforms/screening/", changed, follow=True).content.decode()
    assert "请先“保存结论”，再生成申报" in page
    listed.screening.refresh_from_db()
    assert listed.screening.application_id is None and listed.screening.open_source
    built = {**saved, "reasons": "开源，属于开源计划场景", "build": "1"}
    page = client.post("/platforms/screening/", built, follow=True).content.decode()
    listed.screening.refresh_from_db()
    assert listed.screening.application_id is not None
    assert "审查结论 " in page and "审查结论 eligible" not in page  # the label, not the code


def test_a_screening_an_application_stands_on_cannot_change(a, listed, screener):
    from voucher.applications.states import APPROVED, WITHDRAWN

    actions.batch_process(batch_id=_submit(a).json()["id"])
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    refuse = {
        "project": listed,
        "acting_user": screener,
        "open_source": False,
        "scenario_aligned": False,
        "action_plan_aligned": False,
        "reasons": "复核后发现并非开源",
    }
    with pytest.raises(actions.Refused, match=stored.application.reference):
        actions.project_screen(**refuse)
    again = {**refuse, "open_source": True, "scenario_aligned": True}
    again["reasons"] = listed.screening.reasons
    assert actions.project_screen(**again).decision == "listed"  # saved as it is: fine
    type(stored.application).objects.filter(pk=stored.application_id).update(state=APPROVED)
    with pytest.raises(actions.Refused):
        actions.project_screen(**refuse)
    listed.screening.refresh_from_db()
    assert listed.screening.decision == "listed"
    # withdrawn, it no longer stands on the screening: the centre and the platform may change
    type(stored.application).objects.filter(pk=stored.application_id).update(state=WITHDRAWN)
    assert actions.project_screen(**refuse).decision == "refused"
    response = _post(a, "/api/v1/projects", {**PROJECT, "scenario": "新的场景"})
    assert response.status_code == 200 and response.json()["screening"] is None


def test_the_build_button_is_gone_once_the_application_has_a_decision(client, screener, a, listed):
    from voucher.applications.states import APPROVED

    from .review_support import verified_client

    actions.batch_process(batch_id=_submit(a).json()["id"])
    stored = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    verified_client(client, screener)
    assert 'name="build"' in client.get("/platforms/screening/").content.decode()
    type(stored.application).objects.filter(pk=stored.application_id).update(state=APPROVED)
    page = client.get("/platforms/screening/").content.decode()
    assert 'name="build"' not in page and "不能重新生成" in page


@pytest.mark.parametrize("role", ["bureau_reviewer", "bureau_approver", "auditor", None])
def test_only_the_centre_screens(client, django_user_model, settings, a, role):
    from .review_support import FAST_HASHERS, make_staff, verified_client

    settings.PASSWORD_HASHERS = FAST_HASHERS
    _post(a, "/api/v1/projects", PROJECT)
    project = Project.objects.get()
    user = make_staff(django_user_model, f"u-{role}", role)
    with pytest.raises(actions.Refused) as refused:
        actions.project_screen(
            project=project,
            acting_user=user,
            open_source=True,
            scenario_aligned=True,
            action_plan_aligned=False,
            reasons="开源",
        )
    assert refused.value.code == "forbidden" and "初审人员" in refused.value.title
    if role is not None:
        verified_client(client, user)
        response = client.post("/platforms/screening/", {"project": project.pk, "reasons": "x"})
        assert response.status_code == 403
    assert not ShortlistEntry.objects.exists()


def test_the_committed_openapi_document_is_current():
    from voucher.api.v1 import api

    current = api.get_openapi_schema(path_prefix="/api/v1/")
    committed = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(current)), (
        "regenerate: .venv/bin/python -m voucher.api.openapi > docs/openapi.json"
    )


@pytest.mark.parametrize("key", ["", "k" * 101, "键一", "k 1", "k\t1"])
def test_a_batch_without_a_usable_idempotency_key_is_refused_naming_the_header(
    platforms, listed, key
):
    token = ApiToken.objects.filter(platform=platforms[0]).first()
    with pytest.raises(actions.Refused) as refused:
        actions.batch_submit(
            token=token, uscc=USCC, upload=io.BytesIO(FILE), file_name="b.csv", idempotency_key=key
        )
    assert refused.value.code == "bad_request"
    assert refused.value.errors[0]["location"] == "header.Idempotency-Key"
    assert not ConsumptionBatch.objects.exists()


def test_under_api_an_unknown_path_or_method_is_a_problem_document(a):
    unknown = a.get("/api/v1/nonexistent")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert unknown.json()["title"].startswith("没有这个接口地址")
    wrong = a.patch("/api/v1/projects")
    assert wrong.status_code == 405 and wrong["Content-Type"] == "application/problem+json"
    assert "GET" in wrong["Allow"] and "GET" in wrong.json()["detail"]
    assert "text/html" in Client().get("/no-such-page/")["Content-Type"]  # the site: HTML


def test_field_errors_speak_chinese_first(a, listed):
    missing = _post(a, "/api/v1/projects", {k: v for k, v in PROJECT.items() if k != "name"})
    assert missing.status_code == 422
    (item,) = missing.json()["errors"]
    assert item["location"].endswith("name") and item["message"].startswith("缺少此项 (")
    bad = _put(a, f"/api/v1/enterprises/{USCC}/contracts/C1", {**CONTRACT, "total_amount": 5})
    messages = [e["message"] for e in bad.json()["errors"]]
    assert messages and not any(m.startswith("Value error") for m in messages), messages
    garbled = a.post("/api/v1/projects", "{not json", content_type="application/json")
    assert garbled.status_code == 400 and garbled.json()["title"].startswith("请求体无法解析")


def test_the_error_report_of_a_batch_not_yet_processed_is_refused(a, listed):
    batch_id = _submit(a).json()["id"]
    waiting = a.get(f"/api/v1/consumption-batches/{batch_id}/errors")
    assert waiting.status_code == 409 and "尚未处理完" in waiting.json()["title"]
    actions.batch_process(batch_id=batch_id)
    report = a.get(f"/api/v1/consumption-batches/{batch_id}/errors")
    assert report.status_code == 200 and report.content.decode().startswith("row,line,")


def test_a_batch_refused_for_too_many_bad_rows_reports_them(a, listed, monkeypatch):
    real = consumption.ingest_file
    monkeypatch.setattr(
        consumption, "ingest_file", lambda path, **kw: real(path, **kw, max_errors=1)
    )
    bad = _csv(
        [_row(f"B{n}", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "-1") for n in range(3)]
    )
    batch_id = _submit(a, content=bad, key="k-bad").json()["id"]
    batch = actions.batch_process(batch_id=batch_id)
    assert batch.status == "refused" and "整批拒收" in batch.refusal
    assert batch.summary["rows_rejected"] == 1  # the rows listed, not 0
    lines = a.get(f"/api/v1/consumption-batches/{batch_id}/errors").content.decode().splitlines()
    # the first max_errors bad rows, in file order (the second bad row refused the file)
    assert lines[0] == "row,line,column,message" and [line[:4] for line in lines[1:]] == ["1,2,"]


def test_a_row_of_another_enterprise_is_blamed_on_its_enterprise_column(a, listed):
    other = "91110108MA01C3QX8E"  # a well-formed USCC that is not the batch's enterprise
    content = _csv(
        [_row("O1", "2025-10-01 00:00:00", "2025-10-02 00:00:00", "10.00", enterprise_uscc=other)]
    )
    batch_id = _submit(a, content=content, key="k-other").json()["id"]
    actions.batch_process(batch_id=batch_id)
    report = a.get(f"/api/v1/consumption-batches/{batch_id}/errors").content.decode()
    (line,) = report.splitlines()[1:]
    assert line.startswith("1,2,enterprise_uscc,") and other in line and USCC in line, report


def test_the_same_key_for_the_same_file_and_another_enterprise_says_so(a, listed, screener):
    other = {**ENTERPRISE, "uscc": "91110108MA01C3QX8E", "name": "北京另一智能科技有限公司"}
    assert _post(a, "/api/v1/projects", {**PROJECT, "external_id": "ms-002", "enterprise": other})
    actions.project_screen(
        project=Project.objects.get(external_id="ms-002"),
        acting_user=screener,
        open_source=True,
        scenario_aligned=True,
        action_plan_aligned=False,
        reasons="开源",
    )
    assert _submit(a, key="k-same").status_code == 202
    upload = io.BytesIO(FILE)
    upload.name = "batch.csv"
    again = a.post(
        f"/api/v1/enterprises/{other['uscc']}/consumption-batches",
        {"file": upload},
        headers={"Idempotency-Key": "k-same"},
    )
    assert again.status_code == 409
    assert "同一文件的另一个目标企业或合同" in again.json()["title"]
    assert "另一个文件" in _submit(a, content=FILE + b"\n", key="k-same").json()["title"]


def test_a_batch_withdrawn_after_the_build_holds_the_decision_until_the_centre_rebuilds(
    a, listed, screener, client, django_user_model, settings
):
    from voucher.applications import permissions
    from voucher.applications.states import IN_REVIEW
    from voucher.platforms import selectors
    from voucher.review import actions as review
    from voucher.review.selectors import my_work

    from .review_support import FAST_HASHERS, consent_given, make_staff, verified_client

    first = _submit(a, key="k-1").json()["id"]
    second = _submit(a, content=b"\xef\xbb\xbf" + FILE, key="k-2").json()["id"]
    for batch_id in (first, second):
        actions.batch_process(batch_id=batch_id)
    evidence = f"/api/v1/enterprises/{USCC}/contracts/C1"
    invoice = {"number": "25112000004495444840", "date": "2026-04-01", "amount": "6000.00"}
    assert _post(a, f"{evidence}/invoices", invoice).status_code == 201
    payment = {"date": "2026-04-02", "amount": "6000.00"}
    assert _post(a, f"{evidence}/payments", payment).status_code == 201
    built = actions.d3_application_build(entry=listed.screening, acting_user=screener).application
    assert built.contracts.get().deliveries.count() and not selectors.platform_data_changed(built)
    type(built).objects.filter(pk=built.pk).update(state=IN_REVIEW)
    built.refresh_from_db()
    settings.PASSWORD_HASHERS = FAST_HASHERS
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    consent_given(django_user_model, built)
    proposed = review.decision_propose(application=built, kind="approval", acting_user=reviewer)
    # 我的待办 asks the same of a page of proposals at once
    assert selectors.platform_data_changed_of([built]) == set()
    assert [d.id for d in my_work(approver).to_confirm] == [proposed.pk]
    assert a.delete(f"/api/v1/consumption-batches/{second}").status_code == 200
    assert selectors.platform_data_changed(built)
    assert selectors.platform_data_changed_of([built]) == {built.pk}
    assert my_work(approver).to_confirm == []  # not confirmable: not listed to confirm
    with pytest.raises(review.ReviewError, match="重新生成"):  # proposed on the data as they were
        review.decision_confirm(decision=proposed, acting_user=approver)
    review.decision_return(decision=proposed, reason="平台数据已变", acting_user=approver)
    check = permissions.can_propose(reviewer, built)
    assert not check and "重新生成" in check.reason
    with pytest.raises(review.ReviewError, match="重新生成"):
        review.decision_propose(application=built, kind="approval", acting_user=reviewer)
    verified_client(client, reviewer)
    assert 'id="platform-data-changed"' in client.get(f"/review/{built.pk}/").content.decode()
    # the centre sees it and builds again, from the data as they are now (a contract saved
    # after the build is such a change too)
    verified_client(client, screener)
    assert "须重新生成" in client.get("/platforms/screening/").content.decode()
    rebuilt = actions.d3_application_build(entry=listed.screening, acting_user=screener)
    assert rebuilt.contracts[0]["delivered"] == "3000.00"  # once, not twice
    assert not selectors.platform_data_changed(rebuilt.application)
    both = [built, rebuilt.application]
    assert selectors.platform_data_changed_of(both) == {
        x.pk for x in both if selectors.platform_data_changed(x)
    }


def test_a_build_refuses_a_screening_changed_while_it_read_the_data(
    a, listed, screener, monkeypatch
):
    from voucher.platforms import selectors

    real = selectors.d3_reconciliation

    def meanwhile(**kwargs):  # another screener saves 不予列入 while this build reads the data
        type(listed.screening).objects.filter(pk=listed.screening.pk).update(
            decision="refused", open_source=False
        )
        return real(**kwargs)

    monkeypatch.setattr(selectors, "d3_reconciliation", meanwhile)
    with pytest.raises(actions.Refused, match="生成期间有变化"):
        actions.d3_application_build(entry=listed.screening, acting_user=screener)
    listed.screening.refresh_from_db()
    assert listed.screening.application_id is None
