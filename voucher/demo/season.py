"""`voucher demo --season N`: a round at a season's scale, for the load benchmark and for trying
the bureau's pages with thousands of applications (issue 23).

N applications (default 5,000) over the four directions and every state of the lifecycle, about
ten contracts each, 30 staff with the real roles (password + TOTP), one enterprise per
application (一（四）: one application per enterprise and round), a tenth of them with members
who log in to the portal.

How it is made, and why it looks like data made through the actions:

- every application's columns come from an interchange document through the import's own row
  builders (`interchange._application_row`, `_contract_rows`, `_registry_rows`), then
  `bulk_create`: the rows `application_import` would have written;
- every application is evaluated by `applications_evaluate_batch` (the engine, the round's
  lists, the registry), in batches of one direction; the decided states are given to
  applications whose evaluation allows it (approved ones to those with an amount);
- the lifecycle's records are written as its steps write them: the frozen submission with its
  receipt (portal), the review case, a snapshot per transition, the supplement request and its
  items, the resolutions of the review findings, the four-eyes decisions, the publicity list,
  the payments and clawbacks, and one audit entry per step through `core.audit.audit` (the
  chain is real). An application is created in its final state (`bulk_create`, one state per
  row, never changed afterwards): going through `application_transition` 20,000 times would take
  most of an hour; the records above are what those transitions would have left.

The drafts of enterprises with members are complete (every required step saved, the report
written, the commitment acknowledged, every material uploaded): an applicant can submit one,
which is what the benchmark's deadline rush does. Everybody's password is `voucher-demo`; the
staff's TOTP secrets are `demo_secret(username)` (printed by the command; `voucher totp USER`
prints the current code).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.applications import models as m
from voucher.applications import ports, rounds, states
from voucher.applications import roles as r
from voucher.applications.actions import applications_evaluate_batch
from voucher.applications.interchange import (
    _application_row,
    _contract_rows,
    _Fit,
    _registry_rows,
    document_sha256,
)
from voucher.applications.models.membership import ADMIN, MEMBER
from voucher.applications.roles import SYSTEM_ACTOR
from voucher.applications.uploads import upload_store
from voucher.core import clock
from voucher.core.audit import Record, audit, audit_many
from voucher.core.statistics import refresh_planner_statistics
from voucher.demo.examples import DEMO_PASSWORD
from voucher.demo.staff import demo_key, demo_secret
from voucher.documents.models import ImplementationReport
from voucher.documents.report_sections import SECTIONS
from voucher.policy.format import dump_application, dumps_application, parse_application
from voucher.policy.round import get_round
from voucher.policy.uscc import expected_check_character
from voucher.portal.models import DraftProgress, Submission
from voucher.portal.steps import REQUIRED_STEPS

SEASON_ROUND = "bj-2026"
# (prefix, role, how many): 30 staff
SEASON_STAFF = (
    ("chushen", r.SCREENER, 4),
    ("shenhe", r.REVIEWER, 16),
    ("fuhe", r.APPROVER, 6),
    ("shenji", r.AUDITOR, 2),
    ("guanli", r.ADMINISTRATOR, 2),
)
# the share of the applications in each state (of those that are not drafts of members)
STATE_SHARES = (
    (states.SUBMITTED, 12),
    (states.FORMAL_CHECK, 8),
    (states.IN_REVIEW, 28),
    (states.SUPPLEMENT_REQUESTED, 6),
    (states.RESUBMITTED, 4),
    (states.APPROVED, 6),
    (states.REJECTED, 8),
    (states.PUBLICIZED, 8),
    (states.PAID, 12),
    (states.CLAWBACK_REQUESTED, 1),
    (states.REFUNDED, 1),
    (states.OVERDUE, 1),
    (states.WITHDRAWN, 3),
    (states.DRAFT, 2),  # imported, not yet submitted
)
DECIDED = frozenset(
    {
        states.APPROVED,
        states.PUBLICIZED,
        states.PAID,
        states.CLAWBACK_REQUESTED,
        states.REFUNDED,
        states.OVERDUE,
    }
)
# the transitions that led to each state (the snapshots and audit entries it leaves)
PATHS: dict[str, tuple[str, ...]] = {
    states.DRAFT: (),
    states.SUBMITTED: ("submit",),
    states.WITHDRAWN: ("submit", "withdraw"),
    states.FORMAL_CHECK: ("submit", "accept"),
    states.IN_REVIEW: ("submit", "accept", "pass_formal_check"),
    states.SUPPLEMENT_REQUESTED: ("submit", "accept", "pass_formal_check", "request_supplement"),
    states.RESUBMITTED: (
        "submit",
        "accept",
        "pass_formal_check",
        "request_supplement",
        "resubmit",
    ),
    states.REJECTED: ("submit", "accept", "pass_formal_check", "reject"),
    states.APPROVED: ("submit", "accept", "pass_formal_check", "approve"),
    states.PUBLICIZED: ("submit", "accept", "pass_formal_check", "approve", "publicize"),
    states.PAID: ("submit", "accept", "pass_formal_check", "approve", "publicize", "pay"),
}
for _s in (states.CLAWBACK_REQUESTED, states.REFUNDED, states.OVERDUE):
    PATHS[_s] = (*PATHS[states.PAID], "request_clawback") + (
        ("record_refund",)
        if _s == states.REFUNDED
        else ("mark_overdue",)
        if _s == states.OVERDUE
        else ()
    )
# the action each transition's audit entry is written under (what the real step writes)
ACTIONS = {
    "request_supplement": "supplement_request",
    "resubmit": "supplement_answer",
    "approve": "decision_confirm",
    "reject": "decision_confirm",
    "pay": "payment_record",
    "request_clawback": "clawback_request",
    "record_refund": "clawback_refund",
    "mark_overdue": "clawbacks_mark_overdue",
}
DEVICES = ("H800", "A800", "Ascend910B", "L20", "H20", "H100")
DISTRICTS = ("海淀区", "朝阳区", "亦庄经开区", "昌平区", "丰台区", "石景山区")


@dataclass
class SeasonResult:
    applications: int = 0
    contracts: int = 0
    enterprises: int = 0
    members: list[str] = field(default_factory=list)  # portal logins (e-mail)
    staff: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, secret
    states: Counter[str] = field(default_factory=Counter)
    directions: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    audit_entries: int = 0


# --- documents --------------------------------------------------------------------------------


def _uscc(rng: random.Random, index: int) -> str:
    body = f"91110108MA{index:07X}".replace("I", "J").replace("O", "P")
    body = body.replace("S", "T").replace("V", "W").replace("Z", "Y")
    return body + expected_check_character(body + "0")


def _supplier_uscc(rng: random.Random) -> str:
    body = f"91110000MA{rng.randrange(16**7):07X}".replace("I", "J").replace("O", "P")
    body = body.replace("S", "T").replace("V", "W").replace("Z", "Y")
    return body + expected_check_character(body + "0")


def _day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(rng.randrange((hi - lo).days + 1))


def season_document(
    rng: random.Random, index: int, direction: int, submitted_on: date | None
) -> dict[str, Any]:
    """One application of the season as the interchange format writes it: about ten contracts
    with their deliveries, invoices and payments, mostly within the rules, some not."""
    applicant = _uscc(rng, index)
    contracts = []
    suppliers = [(f"北京算力服务{rng.randrange(200)}有限公司", _supplier_uscc(rng)) for _ in "abc"]
    for c in range(rng.randint(5, 15)):
        start = _day(rng, date(2025, 7, 1), date(2026, 1, 31))
        deliveries = []
        total = Decimal(0)
        for j in range(rng.randint(1, 3)):
            d0 = max(start, _day(rng, date(2025, 8, 1), date(2026, 2, 28)))
            d1 = d0 + timedelta(rng.randint(0, 45))
            compute = j == 0 or rng.random() < 0.7
            # direction 2 asks for contracts of 20 million yuan in all (D2_CONTRACT_TOTAL)
            quantity = rng.randint(100, 20_000) * (12 if direction == 2 else 1)
            price = Decimal(rng.randint(8, 28)) if compute else Decimal(rng.randint(1, 4))
            amount = quantity * price
            total += amount
            line: dict[str, Any] = {
                "start": d0.isoformat(),
                "end": d1.isoformat(),
                "service": "compute" if compute else rng.choice(["storage", "network"]),
                "quantity": str(quantity),
                "unit": "卡时" if compute else "TB·月",
                "unit_price": f"{price}.00",
                "amount": f"{amount}.00",
            }
            if compute:
                line["device"] = rng.choice(DEVICES)
            deliveries.append(line)
        name, uscc = rng.choice(suppliers)
        contracts.append(
            {
                "id": f"HT-2025-{index:05d}-{c + 1:02d}",
                "supplier": {"name": name, "uscc": uscc},
                "signed_on": (start - timedelta(rng.randint(0, 20))).isoformat(),
                "valid_from": start.isoformat(),
                "valid_to": (start + timedelta(rng.randint(120, 500))).isoformat(),
                "total_amount": f"{total * rng.choice([1, 1, 2, 3])}.00",
                "relationship": {
                    "revenue_or_risk_sharing": rng.random() < 0.01,
                    "hierarchy": rng.random() < 0.01,
                },
                "deliveries": deliveries,
                "invoices": [
                    {
                        "number": f"2511{index:06d}{c:02d}{k:02d}{rng.randrange(10**6):06d}",
                        "date": "2026-03-20",
                        "amount": f"{total}.00",
                    }
                    for k in range(rng.choice([1, 1, 2]))
                ],
                "payments": [{"date": "2026-03-25", "amount": f"{total}.00"}],
                "other_subsidies": (
                    [
                        {
                            "level": "district",
                            "policy": "区级算力补贴",
                            "amount": f"{total // 10}.00",
                            "status": "granted",
                        }
                    ]
                    if rng.random() < 0.08
                    else []
                ),
            }
        )
    district = rng.choice(DISTRICTS)
    address = f"北京市{district}科创路{rng.randint(1, 300)}号"
    doc: dict[str, Any] = {
        "format": "compute-voucher/application@1",
        "round": SEASON_ROUND,
        "direction": direction,
        "applicant": {
            "name": f"北京季{index:05d}智能科技有限公司",
            "uscc": applicant,
            "registered_address": address if rng.random() < 0.97 else "天津市滨海新区1号",
            "business_address": address,
            "entity_type": "new_rd_institution" if direction == 1 else "enterprise",
            "independent_legal_person": True,
            "industry": rng.choice("IIIIIICM"),
            "ai_new_rd_institution": direction == 1,
            "contact": {
                "name": rng.choice(["李明", "王芳", "张伟", "刘洋", "陈静"]),
                "mobile": f"139{rng.randrange(10**8):08d}",
                "address": address,
                "email": f"contact{index}@season.example.cn",
            },
        },
        "project": {
            "name": f"{rng.choice(['多模态大模型', '具身智能', '科学计算', '智能体'])}训练项目{index}",
            "start_date": "2025-07-01",
            "overview": "面向行业应用的模型训练与推理，租用智能算力开展预训练和微调。",
            "ai_field": rng.random() < 0.98,
            "topic": rng.choice(["world_model", "embodied_ai", "ai_for_science", "agent"])
            if direction == 1
            else None,
            "miit_2025_list": direction == 2 and rng.random() < 0.5,
            "action_plan_aligned": rng.random() < 0.6,
            "open_source": {
                "platform": rng.choice(
                    [
                        "modelscope",
                        "oschina",
                        "alibaba_cloud",
                        "volcano_cloud",
                        "modelscope",
                        "github",
                    ]
                ),
                "url": f"https://example.org/p{index}",
                "scenario_aligned": True,
            }
            if direction == 3
            else None,
            "model_filing": {
                "number": f"Beijing-{index}",
                "date": _day(rng, date(2025, 12, 20), date(2026, 3, 1)).isoformat(),
                "kind": rng.choice(["model", "agent"]),
            }
            if direction == 4
            else None,
        },
        "declarations": {
            "other_municipal_compute_support": rng.random() < 0.01,
            "dishonest_entity": False,
        },
        "contracts": contracts,
        "registry": {"shareholdings": [], "officers": []},
        "materials": list(get_round(SEASON_ROUND).required_materials),
    }
    if submitted_on is not None:
        doc["submitted_on"] = submitted_on.isoformat()
    if rng.random() < 0.4:
        doc["requested_amount"] = f"{rng.randint(50, 3000) * 1000}.00"
    return doc


# --- people -----------------------------------------------------------------------------------


def season_staff_ensure(password_hash: str) -> list[tuple[str, str, str]]:
    """The 30 staff logins (username, role, base32 TOTP secret), created once."""
    user_model = get_user_model()
    made = []
    for role in r.STAFF_ROLES:
        Group.objects.get_or_create(name=role)
    for prefix, role, count in SEASON_STAFF:
        group = Group.objects.get(name=role)
        for i in range(1, count + 1):
            username = f"{prefix}{i:02d}"
            user, _created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@jxj.example.cn",
                    "is_staff": True,
                    "password": password_hash,
                },
            )
            user.groups.add(group)
            TOTPDevice.objects.get_or_create(
                user=user,
                name="演示验证器",
                defaults={"key": demo_key(username).hex(), "confirmed": True},
            )
            made.append((username, role, demo_secret(username)))
    return made


def _staff_by_role() -> dict[str, list[Any]]:
    user_model = get_user_model()
    out: dict[str, list[Any]] = {}
    for prefix, role, _count in SEASON_STAFF:
        out[role] = list(
            user_model.objects.filter(username__regex=rf"^{prefix}[0-9]{{2}}$").order_by("username")
        )
    return out


def _round_open() -> m.PolicyRoundRecord:
    rounds.rounds_sync()
    record = m.PolicyRoundRecord.objects.get(code=SEASON_ROUND)
    today = clock.today()
    if not (record.opens_on and record.closes_on and record.opens_on <= today <= record.closes_on):
        record.opens_on = today - timedelta(days=14)
        record.closes_on = today + timedelta(days=30)
        record.save(update_fields=["opens_on", "closes_on"])
        audit(
            actor=None,
            action="demo_round_dates",
            obj=record,
            data={"opens_on": record.opens_on, "closes_on": record.closes_on},
        )
    return record


# --- the season ------------------------------------------------------------------------------


def _sample_material() -> tuple[bytes, str]:
    content = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    sha = hashlib.sha256(content).hexdigest()
    upload_store(content, sha)
    return content, sha


def _pick_states(rng: random.Random, count: int) -> list[str]:
    population = [s for s, _w in STATE_SHARES]
    weights = [w for _s, w in STATE_SHARES]
    picked = rng.choices(population, weights=weights, k=count)
    # every state at least once when there is room
    for i, s in enumerate(population[: min(count, len(population))]):
        picked[i] = s
    rng.shuffle(picked)
    return picked


def season_build(
    count: int = 5000, *, seed: int = 2026, say: Callable[[str], None] = lambda _s: None
) -> SeasonResult:
    """Build the season (see the module's docstring); refuses to run twice on one database."""
    if m.Enterprise.objects.filter(uscc=_uscc(random.Random(0), 0)).exists():
        raise ValueError("the season is already in this database (voucher demo --season)")
    rng = random.Random(seed)
    result = SeasonResult()
    password_hash = make_password(DEMO_PASSWORD)  # once: Argon2 per user would take minutes
    record = _round_open()
    today = clock.today()
    with transaction.atomic():
        result.staff = season_staff_ensure(password_hash)
    staff = _staff_by_role()
    reviewers, approvers = staff[r.REVIEWER], staff[r.APPROVER]
    screeners, administrators = staff[r.SCREENER], staff[r.ADMINISTRATOR]

    # enterprises: one per application; a tenth (500 of 5,000) have members, whose own
    # applications were made in the portal; six in ten of those are still complete drafts
    members_count = max(4, count // 10)
    directions = [rng.choice((1, 2, 2, 3, 4, 4)) for _ in range(count)]
    planned = _pick_states(rng, count - members_count)
    member_states = [
        states.DRAFT if i % 10 < 6 else rng.choice(list(PATHS)) for i in range(members_count)
    ]
    all_states = member_states + planned
    for i in range(members_count):  # the portal takes no direction-3 application (免申即享)
        if directions[i] == 3:
            directions[i] = 2

    say(f"documents: {count} …")
    documents = []
    for i in range(count):
        submitted_on = (
            None if all_states[i] == states.DRAFT else today - timedelta(rng.randint(1, 12))
        )
        raw = season_document(rng, i, directions[i], submitted_on)
        documents.append(parse_application(raw))

    user_model = get_user_model()
    with transaction.atomic():
        enterprises = m.Enterprise.objects.bulk_create(
            [m.Enterprise(uscc=d.applicant.uscc, name=d.applicant.name) for d in documents]
        )
        result.enterprises = len(enterprises)
        users = []
        roles = []
        for i in range(members_count):
            for k in range(1 + (i % 3 == 0)):
                email = f"user{i:04d}-{k}@season.example.cn"
                users.append(user_model(username=email, email=email, password=password_hash))
                roles.append((i, ADMIN if k == 0 else MEMBER))
        users = user_model.objects.bulk_create(users)
        m.Membership.objects.bulk_create(
            [
                m.Membership(user=u, enterprise=enterprises[i], role=role)
                for u, (i, role) in zip(users, roles, strict=True)
            ]
        )
        result.members = [
            u.username for u, (_i, role) in zip(users, roles, strict=True) if role == ADMIN
        ]
        member_user = {i: u for u, (i, role) in zip(users, roles, strict=True) if role == ADMIN}

        say("applications and contracts …")
        rows = []
        children = []
        for i, document in enumerate(documents):
            fit = _Fit()
            application = _application_row(document, fit)
            assert not fit.problems, fit.problems
            application.__dict__["state"] = all_states[i]  # created in its state (docstring)
            application.round = record
            application.enterprise = enterprises[i]
            application.source_name = "portal" if i < members_count else f"season/{i:05d}.json"
            application.source_sha256 = "" if i < members_count else document_sha256(document)
            application.version = 5 if i < members_count else 0
            rows.append(application)
            children.append((_contract_rows(document, fit), _registry_rows(document, fit)))
        applications = m.Application.objects.bulk_create(rows, batch_size=500)
        contracts = []
        for application, (contract_rows, _registry) in zip(applications, children, strict=True):
            for contract, _deliveries, _others in contract_rows:
                contract.application = application
                contracts.append(contract)
        m.Contract.objects.bulk_create(contracts, batch_size=1000)
        result.contracts = len(contracts)
        deliveries: list[m.Delivery] = []
        others: dict[type, list[Any]] = {m.Invoice: [], m.Payment: [], m.OtherSubsidy: []}
        shareholdings: list[m.RegistryShareholding] = []
        officers: list[m.RegistryOfficer] = []
        for application, (contract_rows, (held, serving)) in zip(
            applications, children, strict=True
        ):
            for contract, delivery_rows, other_rows in contract_rows:
                for delivery in delivery_rows:
                    delivery.contract = contract
                    deliveries.append(delivery)
                for row in other_rows:
                    row.contract = contract
                    others[type(row)].append(row)
            for holding in held:
                holding.application = application
                shareholdings.append(holding)
            for officer in serving:
                officer.application = application
                officers.append(officer)
        m.Delivery.objects.bulk_create(deliveries, batch_size=1000)
        m.Invoice.objects.bulk_create(others[m.Invoice], batch_size=1000)
        m.Payment.objects.bulk_create(others[m.Payment], batch_size=1000)
        m.RegistryShareholding.objects.bulk_create(shareholdings, batch_size=1000)
        m.RegistryOfficer.objects.bulk_create(officers, batch_size=1000)
        m.OtherSubsidy.objects.bulk_create(others[m.OtherSubsidy], batch_size=1000)

        # the portal's records of the members' applications; materials of everyone who files
        DraftProgress.objects.bulk_create(
            [
                DraftProgress(
                    application=applications[i],
                    steps_done=["direction", *REQUIRED_STEPS, "commitment", "materials"],
                    commitment_acknowledged_at=timezone.now(),
                    commitment_acknowledged_by=member_user[i],
                )
                for i in range(members_count)
            ]
        )
        ImplementationReport.objects.bulk_create(
            [
                ImplementationReport(
                    application=applications[i],
                    **{
                        s.field: f"{documents[i].project.name}：{s.heading}。" * 3 for s in SECTIONS
                    },
                )
                for i in range(members_count)
            ]
        )
        content, sha = _sample_material()
        materials = list(get_round(SEASON_ROUND).required_materials)
        m.MaterialFile.objects.bulk_create(
            [
                m.MaterialFile(
                    application=a,
                    material=material,
                    original_name=f"{material}.pdf",
                    size=len(content),
                    sha256=sha,
                    content_type="application/pdf",
                    classified_scan="clean",
                    uploaded_by=member_user.get(i),
                )
                for i, a in enumerate(applications)
                if a.direction != 3
                for material in materials
            ],
            batch_size=1000,
        )
        budget = Decimal(count) * 400_000
        for direction in (1, 2, 3, 4):
            m.Budget.objects.get_or_create(
                round=record, direction=direction, defaults={"amount": budget / 4}
            )

    say("evaluations (the engine) …")
    evaluation_of: dict[int, m.StoredEvaluation] = {}
    by_direction: dict[int, list[tuple[m.Application, Any]]] = {}
    for a, document in zip(applications, documents, strict=True):
        a.round = record
        by_direction.setdefault(a.direction, []).append((a, document))
    # one transaction, and the round's cross findings counted once when all are evaluated
    with transaction.atomic(), ports.evaluations_stored_together():
        for group in by_direction.values():
            for start in range(0, len(group), 250):
                batch = group[start : start + 250]
                for stored in applications_evaluate_batch(
                    applications=[a for a, _d in batch],
                    documents=[d for _a, d in batch],
                    judge_against_rest_of_round=False,
                    acting_user=SYSTEM_ACTOR,
                ):
                    evaluation_of[stored.application_id] = stored
    # an evaluation made at submission is the bureau's, whatever state the row is in now
    m.StoredEvaluation.objects.filter(pk__in=[e.pk for e in evaluation_of.values()]).update(
        correction_in_progress=False
    )

    say("the lifecycle's records …")
    _lifecycle_records(
        rng,
        applications,
        documents,
        evaluation_of,
        members_count=members_count,
        member_user=member_user,
        reviewers=reviewers,
        approvers=approvers,
        screeners=screeners,
        administrators=administrators,
        record=record,
        result=result,
    )
    refresh_planner_statistics()  # a season loaded at once: the planner must not guess
    result.applications = len(applications)
    result.states = Counter(a.state for a in applications)
    result.directions = Counter(a.direction for a in applications)
    result.outcomes = Counter(e.outcome for e in evaluation_of.values())
    return result


def _lifecycle_records(
    rng: random.Random,
    applications: list[m.Application],
    documents: list[Any],
    evaluation_of: dict[int, m.StoredEvaluation],
    *,
    members_count: int,
    member_user: dict[int, Any],
    reviewers: list[Any],
    approvers: list[Any],
    screeners: list[Any],
    administrators: list[Any],
    record: m.PolicyRoundRecord,
    result: SeasonResult,
) -> None:
    today = clock.today()
    # the steps' audit entries, in the order the steps wrote them; recorded together at the
    # end (`audit_many`: the entries `audit` would write, in a few queries, not three each)
    records: list[Record] = []

    def write(actor: Any, action: str, obj: Any, data: dict[str, Any]) -> None:
        records.append(Record(actor, action, obj, data))

    # A decided application must have been decidable: an approval needs an amount. A planned
    # decided state goes to an undecided submitted application whose evaluation allows one.
    spare = [
        a
        for a in applications
        if a.state not in DECIDED
        and a.state != states.DRAFT
        and evaluation_of[a.pk].approved_max > 0
    ]
    rng.shuffle(spare)
    changed = []
    for a in applications:
        if a.state in DECIDED and evaluation_of[a.pk].approved_max <= 0:
            other = spare.pop() if spare else None
            planned = a.state
            a.__dict__["state"] = other.state if other is not None else states.REJECTED
            changed.append(a)
            if other is not None:
                other.__dict__["state"] = planned
                changed.append(other)
    for state in {a.state for a in changed}:
        m.Application.objects.filter(pk__in=[a.pk for a in changed if a.state == state]).update(
            state=state
        )

    submissions, snapshots, cases, resolutions = [], [], [], []
    requests: list[tuple[m.SupplementRequest, bool]] = []
    decisions, payments, clawbacks = [], [], []
    publicized = []
    with transaction.atomic():
        for i, a in enumerate(applications):
            document = documents[i]
            stored = evaluation_of[a.pk]
            path = PATHS[a.state]
            reviewer = reviewers[i % len(reviewers)]
            approver = approvers[i % len(approvers)]
            applicant = member_user.get(i)
            if i < members_count:
                write(
                    applicant,
                    "application_create",
                    a,
                    {"round": record.code, "direction": a.direction},
                )
            if not path:
                continue
            frozen = dumps_application(document)
            sha = hashlib.sha256(frozen.encode("utf-8")).hexdigest()
            receipt = f"{record.code.upper()}-{a.submitted_on:%Y%m%d}-{a.pk:06d}"
            submissions.append(
                Submission(
                    application=a,
                    receipt_number=receipt,
                    document_json=frozen,
                    document_sha256=sha,
                    evaluation=stored,
                    round_code=stored.round_code,
                    engine_version=stored.engine_version,
                    submitted_by=applicant,
                )
            )
            write(
                applicant,
                "application_submit",
                a,
                {
                    "receipt": receipt,
                    "sha256": sha,
                    "evaluation": stored.pk,
                    "outcome": stored.outcome,
                    "round": stored.round_code,
                    "engine_version": stored.engine_version,
                },
            )
            document_json = dump_application(document)
            before = states.SUBMITTED
            for name in path[1:]:
                transition = states.TRANSITIONS[name]
                actor = {
                    "accept": screeners[i % len(screeners)],
                    "withdraw": applicant,
                    "approve": approver,
                    "reject": approver,
                    "resubmit": applicant,
                    "publicize": administrators[0],
                }.get(name, reviewer)
                if name != "publicize" and name not in (
                    "request_clawback",
                    "record_refund",
                    "mark_overdue",
                ):
                    snapshots.append(
                        m.Snapshot(
                            application=a,
                            transition=name,
                            document=document_json,
                            sha256=stored.document_sha256,
                            evaluation=stored,
                        )
                    )
                if name != "publicize":  # one entry for the whole list, below
                    write(
                        actor,
                        ACTIONS.get(name, f"application_{name}"),
                        a,
                        {"transition": name, "from": before, "to": transition.target, "note": ""},
                    )
                before = transition.target
            if "accept" in path:
                cases.append(
                    m.ReviewCase(application=a, assignee=reviewer, assigned_at=timezone.now())
                )
            open_reviews = [f for f in stored.findings if f.get("status") == "review"]
            decided = "approve" in path or "reject" in path
            # resolved findings: all of a decided application's, some of one in review
            share = 1.0 if decided else (0.5 if a.state == states.IN_REVIEW else 0.0)
            for f in open_reviews[: int(len(open_reviews) * share + 0.5)]:
                resolutions.append(
                    m.FindingResolution(
                        application=a,
                        evaluation=stored,
                        rule=f["rule"],
                        contract=f.get("contract") or "",
                        resolution="accept" if rng.random() < 0.85 else "reject",
                        reason="经核对合同与发票原件，情况属实。",
                        resolved_by=reviewer,
                    )
                )
            if "request_supplement" in path:
                request = m.SupplementRequest(
                    application=a,
                    requested_by=reviewer,
                    due_on=today + timedelta(days=10),
                    note="请补充以下材料。",
                    answered_at=timezone.now() if "resubmit" in path else None,
                )
                requests.append((request, "resubmit" in path))
            if decided or (a.state == states.IN_REVIEW and i % 7 == 0):
                approval = "approve" in path or (not decided and stored.approved_max > 0)
                amount = stored.approved_max if approval else Decimal(0)
                decisions.append(
                    m.Decision(
                        application=a,
                        evaluation=stored,
                        kind="approval" if approval else "rejection",
                        status=m.CONFIRMED if decided else m.PROPOSED,
                        amount=amount,
                        approved_max_at_decision=stored.approved_max,
                        reasons=[]
                        if approval
                        else [f["rule"] for f in stored.findings if f.get("status") == "fail"],
                        proposed_by=reviewer,
                        confirmed_by=approver if decided else None,
                        confirmed_at=timezone.now() if decided else None,
                    )
                )
                write(
                    reviewer,
                    "decision_propose",
                    a,
                    {
                        "kind": "approval" if approval else "rejection",
                        "amount": amount,
                        "approved_max": stored.approved_max,
                    },
                )
            if "publicize" in path:
                publicized.append(a)
            if "pay" in path:
                payments.append(
                    m.PaymentRecord(
                        application=a,
                        paid_on=today - timedelta(days=2),
                        amount=stored.approved_max,
                        reference=f"BJZF-{a.pk:06d}",
                        recorded_by=administrators[-1],
                    )
                )
            if "request_clawback" in path:
                refunded = "record_refund" in path
                clawbacks.append(
                    m.Clawback(
                        application=a,
                        notice_date=today - timedelta(days=200 if "mark_overdue" in path else 20),
                        due_date=today
                        - timedelta(days=200 if "mark_overdue" in path else 20)
                        + timedelta(days=183),
                        amount=stored.approved_max,
                        reason="项目未按承诺实施。",
                        requested_by=reviewer,
                        refunded_on=today if refunded else None,
                        refunded_amount=stored.approved_max if refunded else None,
                    )
                )
        Submission.objects.bulk_create(submissions, batch_size=500)
        m.Snapshot.objects.bulk_create(snapshots, batch_size=500)
        m.ReviewCase.objects.bulk_create(cases, batch_size=1000)
        m.FindingResolution.objects.bulk_create(resolutions, batch_size=1000)
        m.Decision.objects.bulk_create(decisions, batch_size=1000)
        m.PaymentRecord.objects.bulk_create(payments, batch_size=1000)
        m.Clawback.objects.bulk_create(clawbacks, batch_size=1000)
        m.SupplementRequest.objects.bulk_create([q for q, _a in requests], batch_size=1000)
        m.SupplementItem.objects.bulk_create(
            [
                m.SupplementItem(
                    request=q,
                    position=k + 1,
                    text=text,
                    answer="已补充，见附件。" if answered else "",
                )
                for q, answered in requests
                for k, text in enumerate(("补充算力结算单原件。", "说明合同总额与发票金额的差异。"))
            ],
            batch_size=1000,
        )
        if publicized:
            publicity = m.PublicityList.objects.create(
                round=record,
                starts_on=today - timedelta(days=10),
                ends_on=today - timedelta(days=3),
                published_by=administrators[0],
            )
            publicity.applications.set(publicized)
            write(
                administrators[0],
                "publicity_publish",
                publicity,
                {
                    "transition": "publicize",
                    "from": "approved",
                    "to": "publicized",
                    "applications": [a.pk for a in publicized],
                },
            )
        # the imported ones: one entry for the batch (as `voucher demo` writes for its examples)
        write(
            None,
            "demo_season_import",
            record,
            {
                "applications": [a.pk for a in applications[members_count:]],
                "source": "season/*.json",
            },
        )
        result.audit_entries = len(audit_many(records))
