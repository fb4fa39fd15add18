"""The platforms' part of `voucher demo`: direction 3 end to end and settlement data for a
direction-2 applicant, seeded through the same actions the API and the pages call, with
published demo tokens so that the walkthrough of docs/platform-api.md can be pasted as it is.

Idempotent: run twice, nothing is added the second time.

- ModelScope (`modelscope`) with the token `DEMO_TOKENS["modelscope"]` publishes an open-source
  project of 北京开源演示科技有限公司; the centre's screener `chushen` has listed it; the platform
  has submitted the contract (with its scale and unit price), an invoice, a payment and one
  consumption file, which the worker has processed; the direction-3 application built from it
  is in the bureau's queue with its evaluation and its reconciliation (one flagged difference:
  the invoice is 100.00 short of what the platform billed).
- 北京演示算力有限公司 (`demo-supplier`, token `DEMO_TOKENS["demo-supplier"]`) is the supplier of
  contract `JS-2025-01` of 北京结算演示科技有限公司's direction-2 application and has attached
  its settlement data: November is settled 120.00 above the declared line (one flagged
  difference), October matches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import application_import
from voucher.applications.lifecycle import application_transition
from voucher.applications.models import ADMIN, Application, Membership
from voucher.applications.parameters import current_effective_round
from voucher.applications.roles import SYSTEM_ACTOR
from voucher.core import bearer
from voucher.core.audit import audit
from voucher.demo.staff import demo_staff_ensure
from voucher.platforms import actions, consumption, generate, selectors
from voucher.platforms.models import (
    ApiToken,
    ConsumptionBatch,
    Platform,
    Project,
    ShortlistEntry,
)
from voucher.policy import format as fmt

DEMO_PASSWORD = "voucher-demo"  # the same published demo password as voucher.demo.examples
D3_ADMIN = (
    "d3@example.cn"  # the demo's direction-3 enterprise's administrator: 意愿确认 in the portal
)
CENTRE_USER = "chushen"  # the demo's centre screener (voucher.demo.staff), TOTP like all staff
# (platform code, name if the demo creates it, organisation USCC, token prefix, token secret)
SUPPLIER = ("demo-supplier", "北京演示算力有限公司", generate.make_uscc(9_000_003))
DEMO_TOKENS = {
    "modelscope": ("demomodelscope", "voucher-demo-modelscope"),
    "demo-supplier": ("demosupplier", "voucher-demo-supplier"),
}
D3_ENTERPRISE = (generate.make_uscc(9_000_001), "北京开源演示科技有限公司")
D2_ENTERPRISE = (generate.make_uscc(9_000_002), "北京结算演示科技有限公司")
D3_PROJECT_ID = "demo-d3-001"
D3_CONTRACT = "MS-2025-001"
D2_CONTRACT = "JS-2025-01"
D2_SOURCE = "platform-demo:d2-settlement"
CONSUMPTION_KEY = "demo-consumption-1"
SETTLEMENT_KEY = "demo-settlement-1"


def token_text(code: str) -> str:
    return bearer.text(actions.TOKEN_PREFIX, bearer.Parts(*DEMO_TOKENS[code]))


def _applicant(uscc: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "uscc": uscc,
        "registered_address": "北京市海淀区中关村大街1号",
        "business_address": "北京市海淀区中关村大街1号",
        "entity_type": "enterprise",
        "independent_legal_person": True,
        "industry": "I",
        "ai_new_rd_institution": False,
        "contact": {
            "name": "王五",
            "mobile": "13800138000",
            "address": "北京市海淀区中关村大街1号",
            "email": "demo@example.cn",
        },
    }


def _csv(rows: list[tuple[str, str, str, str, str, str, str, str]], uscc: str) -> bytes:
    """(contract, order, start, end, quantity, unit price, amount, resource) rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(consumption.COLUMNS), lineterminator="\n")
    writer.writeheader()
    for contract, order, start, end, quantity, price, amount, resource in rows:
        writer.writerow(
            {
                "enterprise_uscc": uscc,
                "contract_id": contract,
                "order_id": order,
                "resource_type": resource,
                "device_model": "H800" if resource == "compute" else "",
                "start": start,
                "end": end,
                "quantity": quantity,
                "unit": "card-hour" if resource == "compute" else "TB-month",
                "unit_price": price,
                "amount": amount,
            }
        )
    return out.getvalue().encode()


# One consumption file: a row straddling the window's first day (pro-rated to the second),
# three whole months of H800 card-hours and storage, which counts nothing (COMPUTE_ONLY).
CONSUMPTION = _csv(
    [
        (D3_CONTRACT, "ORD-0907", "2025-09-07 12:00:00", "2025-09-08 12:00:00", "96", "12.00",
         "1152.00", "compute"),
        (D3_CONTRACT, "ORD-1001", "2025-10-01 00:00:00", "2025-11-01 00:00:00", "5000", "12.00",
         "60000.00", "compute"),
        (D3_CONTRACT, "ORD-1101", "2025-11-01 00:00:00", "2025-12-01 00:00:00", "5000", "12.00",
         "60000.00", "compute"),
        (D3_CONTRACT, "ORD-1201", "2025-12-01 00:00:00", "2026-01-01 00:00:00", "4000", "12.00",
         "48000.00", "compute"),
        (D3_CONTRACT, "ORD-S-10", "2025-10-01 00:00:00", "2025-11-01 00:00:00", "10", "300.00",
         "3000.00", "storage"),
    ],
    D3_ENTERPRISE[0],
)  # fmt: skip
# Billed in all: 172,152.00; the invoice says 172,052.00 (100.00 short), the payment is whole.
D3_INVOICE = {"number": "25112000009000000001", "date": "2026-01-10", "amount": "172052.00"}
D3_PAYMENT = {"date": "2026-01-15", "amount": "172152.00"}
D3_TERMS = [{"device": "H800", "unit": "card-hour", "quantity": "20000", "unit_price": "12.00"}]

SETTLEMENT = _csv(
    [
        (D2_CONTRACT, "JS-1001", "2025-10-01 00:00:00", "2025-10-16 00:00:00", "10000", "12.00",
         "120000.00", "compute"),
        (D2_CONTRACT, "JS-1016", "2025-10-16 00:00:00", "2025-11-01 00:00:00", "10000", "12.00",
         "120000.00", "compute"),
        (D2_CONTRACT, "JS-1101", "2025-11-01 00:00:00", "2025-12-01 00:00:00", "20000", "12.006",
         "240120.00", "compute"),
    ],
    D2_ENTERPRISE[0],
)  # fmt: skip


def _d2_document() -> dict[str, Any]:
    line = {"service": "compute", "device": "H800", "quantity": "20000", "unit": "card-hour"}
    return {
        "format": fmt.FORMAT_ID,
        "round": current_effective_round().policy_round.id,
        "submitted_on": "2026-04-08",
        "direction": 2,
        "applicant": _applicant(*D2_ENTERPRISE),
        "project": {
            "name": "工业视觉大模型训练（结算演示）",
            "start_date": "2025-09-20",
            "overview": "演示：算力供应方平台为方向二申报提供结算数据。",
            "ai_field": True,
            "miit_2025_list": True,
        },
        "declarations": {"other_municipal_compute_support": False},
        "contracts": [
            {
                "id": D2_CONTRACT,
                "supplier": {"name": SUPPLIER[1], "uscc": SUPPLIER[2]},
                "signed_on": "2025-09-15",
                "valid_from": "2025-09-15",
                "valid_to": "2026-09-14",
                "total_amount": "20000000.00",
                "relationship": {"revenue_or_risk_sharing": False, "hierarchy": False},
                "deliveries": [
                    {
                        **line,
                        "start": "2025-10-01",
                        "end": "2025-10-31",
                        "unit_price": "12.00",
                        "amount": "240000.00",
                    },
                    {
                        **line,
                        "start": "2025-11-01",
                        "end": "2025-11-30",
                        "unit_price": "12.00",
                        "amount": "240000.00",
                    },
                ],
                "invoices": [
                    {"number": "25112000009000000002", "date": "2025-12-05", "amount": "480000.00"}
                ],
                "payments": [{"date": "2025-12-10", "amount": "480000.00"}],
            }
        ],
    }


@dataclass
class DemoPlatforms:
    tokens: dict[str, str] = field(default_factory=dict)
    project: Project | None = None
    batch: ConsumptionBatch | None = None
    d3_application: Application | None = None
    settlement_application: Application | None = None
    settlement_batch: ConsumptionBatch | None = None


def _centre_user() -> Any:

    user = get_user_model().objects.filter(username=CENTRE_USER).first()
    if user is None:
        demo_staff_ensure(password=DEMO_PASSWORD)
        user = get_user_model().objects.get(username=CENTRE_USER)
    return user


def _token(platform: Platform) -> str:
    prefix, secret = DEMO_TOKENS[platform.code]
    if not ApiToken.objects.filter(prefix=prefix).exists():
        actions.token_issue(platform=platform, label="demo", fixed=(prefix, secret), days=3650)
    return token_text(platform.code)


def _process(batch: ConsumptionBatch) -> ConsumptionBatch:
    if batch.status == ConsumptionBatch.QUEUED:
        return actions.batch_process(batch_id=batch.pk) or batch
    return batch


def demo_platforms_ensure() -> DemoPlatforms:
    """Everything the walkthrough starts from (see the module's docstring)."""
    out = DemoPlatforms()
    actions.platforms_sync()
    modelscope = Platform.objects.get(code="modelscope")
    supplier, _ = Platform.objects.get_or_create(code=SUPPLIER[0], defaults={"name": SUPPLIER[1]})
    if supplier.uscc != SUPPLIER[2]:
        actions.platform_organisation_set(platform=supplier, uscc=SUPPLIER[2])
    out.tokens = {p.code: _token(p) for p in (modelscope, supplier)}
    ms_token = ApiToken.objects.get(prefix=DEMO_TOKENS["modelscope"][0])
    sp_token = ApiToken.objects.get(prefix=DEMO_TOKENS["demo-supplier"][0])
    centre = _centre_user()

    # direction 3: publish, screen, contract, consumption, build
    project, _ = actions.project_publish(
        token=ms_token,
        data={
            "external_id": D3_PROJECT_ID,
            "enterprise": _applicant(*D3_ENTERPRISE),
            "name": "开源工业质检多模态模型（演示）",
            "url": "https://modelscope.cn/models/demo/industrial-vision",
            "scenario": "工业质检：开源模型与数据集，供中小制造企业复用。",
            "start_date": "2025-09-10",
            "open_source_licence": "Apache-2.0",
        },
    )
    out.project = project
    if not ShortlistEntry.objects.filter(project=project).exists():
        actions.project_screen(
            project=project,
            acting_user=centre,
            open_source=True,
            scenario_aligned=True,
            action_plan_aligned=True,
            reasons="演示：Apache-2.0 开源，属开源计划的工业质检场景，符合行动计划。",
        )
    uscc = D3_ENTERPRISE[0]
    stored = selectors.contract_of(platform=modelscope, uscc=uscc, contract_id=D3_CONTRACT)
    if stored is None:
        actions.contract_submit(
            token=ms_token,
            uscc=uscc,
            document={
                "id": D3_CONTRACT,
                "supplier": {
                    "name": "魔搭演示算力服务有限公司",
                    "uscc": generate.make_uscc(9_000_004),
                },
                "signed_on": "2025-09-01",
                "valid_from": "2025-09-01",
                "valid_to": "2026-08-31",
                "total_amount": "500000.00",
                "relationship": {"revenue_or_risk_sharing": False, "hierarchy": False},
            },
        )
        actions.contract_terms_submit(
            token=ms_token, uscc=uscc, contract_id=D3_CONTRACT, lines=D3_TERMS
        )
        for kind, item in (("invoices", D3_INVOICE), ("payments", D3_PAYMENT)):
            actions.contract_add_evidence(
                token=ms_token, uscc=uscc, contract_id=D3_CONTRACT, kind=kind, item=item
            )
    batch, _ = actions.batch_submit(
        token=ms_token,
        uscc=uscc,
        upload=io.BytesIO(CONSUMPTION),
        file_name="demo-consumption.csv",
        idempotency_key=CONSUMPTION_KEY,
    )
    out.batch = _process(batch)
    entry = ShortlistEntry.objects.get(project=project)
    if entry.application is None:
        actions.d3_application_build(entry=entry, acting_user=centre)
        entry.refresh_from_db()
    out.d3_application = entry.application
    if entry.application is not None:
        _d3_admin_ensure(entry.application)

    # settlement data for a direction-2 applicant's contract
    application = Application.objects.filter(source_name=D2_SOURCE).first()
    if application is None:
        with transaction.atomic():
            application = application_import(
                document=fmt.parse_application(_d2_document()), source_name=D2_SOURCE
            )
            application_evaluate(application=application)
            application = application_transition(
                application=application,
                transition="submit",
                acting_user=SYSTEM_ACTOR,
                record=False,  # the demo's own entry below; nobody to e-mail
            )
            audit(actor=None, action="demo_settlement_applicant", obj=application, data={})
    out.settlement_application = application
    batch, _ = actions.settlement_submit(
        token=sp_token,
        uscc=D2_ENTERPRISE[0],
        contract_id=D2_CONTRACT,
        upload=io.BytesIO(SETTLEMENT),
        file_name="demo-settlement.csv",
        idempotency_key=SETTLEMENT_KEY,
    )
    out.settlement_batch = _process(batch)
    return out


def _d3_admin_ensure(application: Application) -> None:
    """A login for the direction-3 enterprise's administrator, so that the walkthrough can give
    its consent (意愿确认) and payee account in the portal: the demo does not give them itself."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=D3_ADMIN).first()
    if user is None:
        user = user_model.objects.create_user(D3_ADMIN, email=D3_ADMIN, password=DEMO_PASSWORD)
    Membership.objects.get_or_create(
        user=user, defaults={"enterprise": application.enterprise, "role": ADMIN}
    )


def demo_platforms(write: Callable[[str], Any], address: str) -> DemoPlatforms:
    """Seed, then print what the walkthrough needs (the hook of `voucher demo`)."""
    done = demo_platforms_ensure()
    write("方向三与平台接口 (direction 3, platform API): docs/platform-api.md#demo-walkthrough")
    for code, text in done.tokens.items():
        write(f"  平台令牌 {code}: {text}")
    write(f"  开源项目筛选 (centre): {address}platforms/screening/  登录 {CENTRE_USER} / "
          f"{DEMO_PASSWORD} + 动态验证码（{address}review/login/）")  # fmt: skip
    if done.d3_application is not None:
        write(
            f"  方向三申报 {done.d3_application.reference}: {address}review/"
            f"{done.d3_application.pk}/（消费批次 #{done.batch.pk if done.batch else '—'}）"
        )
        write(
            f"  意愿确认 (the enterprise's consent): {address}portal/applications/"
            f"{done.d3_application.pk}/consent/  登录 {D3_ADMIN} / {DEMO_PASSWORD}"
        )
    if done.settlement_application is not None:
        write(
            f"  结算数据（方向二）{done.settlement_application.reference}: {address}review/"
            f"{done.settlement_application.pk}/#settlement"
        )
    return done
