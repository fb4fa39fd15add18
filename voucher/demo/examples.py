"""What `voucher demo` puts in the database: rounds, two logins, the examples, their evaluations.

Idempotent: an example already imported (same canonical document) is not imported again, and a
batch whose applications already carry an evaluation of the current engine is not re-evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Count

import voucher
from voucher.accounts.actions import enterprise_register
from voucher.applications import actions, rounds, supplier
from voucher.applications.interchange import document_sha256
from voucher.applications.models import (
    Application,
    Contract,
    Membership,
    OfficialList,
    PolicyRoundRecord,
    StoredEvaluation,
    SupplierMember,
)
from voucher.applications.roles import SYSTEM_ACTOR
from voucher.applications.rounds import current_round
from voucher.core import clock
from voucher.core.audit import audit
from voucher.policy import ENGINE_VERSION
from voucher.policy.format import load_application_file
from voucher.portal.actions import application_create
from voucher.review.actions import official_list_import

EXAMPLES_DIR = Path(voucher.__file__).resolve().parent.parent / "examples"
DEMO_PASSWORD = "voucher-demo"  # a published demo login, bound to 127.0.0.1
# (username, superuser): a superuser holds the administrator's role, and opens the admin after
# the TOTP login like every staff member (its device is bound through a one-time link: `guanli`
# issues one on 系统管理, or `voucher totp_link admin` prints one)
DEMO_USERS = (("admin", True),)
VIEW_APPS = ("applications", "core")


@dataclass
class DemoResult:
    imported: list[Application] = field(default_factory=list)
    existing: list[Application] = field(default_factory=list)
    evaluated: list[StoredEvaluation] = field(default_factory=list)


def demo_users_ensure(*, acting_user: Any = None) -> None:
    """A superuser `admin` and a staff `reviewer` who may view everything, both `voucher-demo`."""
    user_model = get_user_model()
    view = Permission.objects.filter(
        content_type__app_label__in=VIEW_APPS, codename__startswith="view_"
    )
    with transaction.atomic():
        for username, superuser in DEMO_USERS:
            user, created = user_model.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = superuser
            user.is_active = True
            if created:  # a password changed since is kept (and its sessions stay valid)
                user.set_password(DEMO_PASSWORD)
            user.save()
            if not superuser:
                user.user_permissions.set(view)
        audit(
            actor=acting_user,
            action="demo_users_ensure",
            data={"users": [u for u, _ in DEMO_USERS]},
        )


DEMO_APPLICANT = "applicant@example.cn"
DEMO_ENTERPRISE = ("91110108MA04DEM0XF", "北京演示智能科技有限公司")  # well formed, check right


def demo_applicant_ensure(*, acting_user: Any = None) -> None:
    """An applicant login whose enterprise owns one draft; the round open around today."""
    from datetime import timedelta

    record = current_round()
    today = clock.today()
    if not (record.opens_on and record.closes_on and record.opens_on <= today <= record.closes_on):
        record.opens_on = today - timedelta(days=14)
        record.closes_on = today + timedelta(days=30)
        record.save(update_fields=["opens_on", "closes_on"])
        audit(
            actor=acting_user,
            action="demo_round_dates",
            obj=record,
            data={"opens_on": record.opens_on, "closes_on": record.closes_on},
        )
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_APPLICANT, defaults={"email": DEMO_APPLICANT}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    membership = Membership.objects.filter(user=user).first()
    if membership is None:
        uscc, name = DEMO_ENTERPRISE
        membership = enterprise_register(uscc=uscc, name=name, acting_user=user)
    if not Application.objects.filter(round=record, enterprise=membership.enterprise).exists():
        application_create(enterprise=membership.enterprise, direction=2, acting_user=user)


DEMO_SUPPLIER = "supplier@example.cn"


def demo_supplier_ensure() -> str | None:
    """A compute supplier's login (issue 22): a member of the supplier the most example contracts
    name, so /portal/supplier/ lists contracts of several applicants. Its USCC, or None."""
    top = (
        Contract.objects.values("supplier_uscc")
        .annotate(n=Count("id"))
        .order_by("-n", "supplier_uscc")
        .first()
    )
    if top is None:
        return None
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_SUPPLIER, defaults={"email": DEMO_SUPPLIER}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    member, _created = SupplierMember.objects.get_or_create(
        user=user, defaults={"uscc": top["supplier_uscc"]}
    )
    return member.uscc


# Two examples whose supplier has not spoken yet (issue 22): the demo supplier's login finds them
# to confirm, and the review screen shows SUPPLIER_AGREEMENTS, SUPPLIER_HIERARCHY and
# SUPPLIER_CONFIRMATION as review. The suppliers of every other example of directions 1, 2 and
# 4 have confirmed each line and declared, so their evaluations are those of expected.json.
SILENT_SUPPLIER_EXAMPLES = ("d2-no-official-list", "d2-supplier-outside-registry")


def _demo_supplier_member(uscc: str) -> SupplierMember:
    """A member of the supplier `uscc` who speaks for it in the demo (no password: nobody logs in
    as it; the demo's supplier login is DEMO_SUPPLIER)."""
    member = SupplierMember.objects.filter(uscc=uscc, user__username=f"supplier-{uscc}").first()
    if member is not None:
        return member
    user, _created = get_user_model().objects.get_or_create(username=f"supplier-{uscc}")
    if _created:
        user.set_unusable_password()
        user.save()
    return SupplierMember.objects.create(user=user, uscc=uscc)


def demo_supplier_words(applications: list[Application]) -> None:
    """The suppliers of newly imported examples confirm every line and declare, through the
    actions (audited), except those of SILENT_SUPPLIER_EXAMPLES; the caller evaluates after."""
    for application in applications:
        folder = Path(application.source_name).parent.name
        if application.direction not in supplier.CONFIRMED_DIRECTIONS:
            continue
        if folder in SILENT_SUPPLIER_EXAMPLES:
            continue
        for contract in application.contracts.all():
            member = _demo_supplier_member(contract.supplier_uscc)
            for line in supplier.lines_of(contract):
                supplier.line_word(
                    contract=contract,
                    line=line.key,
                    state=supplier.LINE_CONFIRMED,
                    reason="",
                    acting_user=member.user,
                    evaluate=False,
                )
            supplier.attestation_make(
                contract=contract,
                compliant=True,
                no_sharing=not contract.revenue_or_risk_sharing,
                no_hierarchy=not contract.hierarchy,
                acting_user=member.user,
                evaluate=False,
            )


DEMO_LIST_ROUND = "bj-2026"


def demo_official_lists_ensure(folder: Path) -> None:
    """The demo's made-up official lists (examples/lists/<kind>.csv), each loaded once."""
    record = PolicyRoundRecord.objects.filter(code=DEMO_LIST_ROUND).first()
    if record is None or not folder.is_dir():
        return
    for path in sorted(folder.glob("*.csv")):
        if OfficialList.objects.filter(round=record, kind=path.stem).exists():
            continue
        official_list_import(
            round=record,
            kind=path.stem,
            content=path.read_bytes(),
            filename=path.name,
            source="演示数据，非官方名单 (demo data, not an official list)",
            as_of="2026-03-31",
            acting_user=SYSTEM_ACTOR,
        )


def _needs_evaluation(applications: list[Application]) -> bool:
    for application in applications:
        latest = application.evaluations.order_by("-created_at", "-id").first()
        if latest is None or latest.engine_version != ENGINE_VERSION:
            return True
    return False


def demo_load(*, examples_dir: Path = EXAMPLES_DIR, round_batch: bool = False) -> DemoResult:
    """Import every examples/*/application*.json once and evaluate it.

    Each example folder is one batch, as examples/README.md prescribes: the examples share a
    made-up enterprise, and judged across folders ONE_DIRECTION would fail nearly all of them.
    `round_batch=True` evaluates the whole round as one batch instead.
    """
    rounds.rounds_sync()
    demo_users_ensure()
    demo_official_lists_ensure(examples_dir / "lists")
    result = DemoResult()
    folders: list[list[Application]] = []
    for folder in sorted(p for p in examples_dir.iterdir() if p.is_dir()):
        batch = []
        for path in sorted(folder.glob("application*.json")):
            document = load_application_file(path)
            existing = Application.objects.filter(source_sha256=document_sha256(document)).first()
            if existing is not None:
                result.existing.append(existing)
                batch.append(existing)
                continue
            application = actions.application_import(
                document=document, source_name=str(path.relative_to(examples_dir.parent))
            )
            result.imported.append(application)
            batch.append(application)
        if batch:
            folders.append(batch)
    demo_supplier_words(result.imported)
    if round_batch:
        codes = sorted({a.round.code for batch in folders for a in batch})
        for code in codes:
            result.evaluated += actions.round_evaluate_all(round_code=code)
        return result
    for batch in folders:
        if _needs_evaluation(batch):
            result.evaluated += actions.applications_evaluate_batch(
                applications=batch, judge_against_rest_of_round=False
            )
    return result
