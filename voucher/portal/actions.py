"""Every write of the applicant portal: keyword-only, one transaction, one audit entry each.

Every change to a draft names the version it was made on (optimistic locking): when another
user of the enterprise saved in between, `StaleVersion` is raised, nothing is written, and the
view shows the form again with what the user typed. A submitted application is frozen: every
change is refused, except while the bureau has returned it for 补正 (supplement): then the same
actions correct it until the request's due date, and `supplement_resubmit` answers the request
and freezes the corrected version (a new snapshot, evaluated by the same engine).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models as dj_models
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voucher.accounts.models import EnterpriseClaim
from voucher.applications import lifecycle, supplier
from voucher.applications import models as m
from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import application_export
from voucher.applications.models import MaterialFile, SupplementRequest
from voucher.applications.people import label_of
from voucher.applications.rounds import current_round
from voucher.applications.selectors import selected
from voucher.applications.states import DRAFT, EDITABLE_STATES, SUPPLEMENT_STATES
from voucher.applications.uploads import upload_delete, upload_store
from voucher.core import clock, jobs
from voucher.core.audit import audit
from voucher.core.models import AuditEntry
from voucher.core.refusals import INVALID, Conflict, Refused
from voucher.documents.models import ImplementationReport
from voucher.policy import ENGINE_VERSION
from voucher.policy.dates import chinese_date
from voucher.policy.format import FormatError, dumps_application, parse_application_json
from voucher.policy.round import MATERIAL_IDS
from voucher.portal.models import DraftProgress, Submission
from voucher.portal.selectors import blockers_and_document
from voucher.portal.steps import CLEARED_PROJECT_VALUES, DIRECTION_PROJECT_FIELDS, PORTAL_DIRECTIONS

# The portal's steps refuse with the one refusal (core/refusals.py); a version someone else
# saved after the form was opened is its Conflict.
PortalError = Refused
StaleVersion = Conflict


def upload_in_use(sha: str) -> bool:
    """Whether any record still names the bytes: a material file, or a claim's licence."""

    return (
        MaterialFile.objects.filter(sha256=sha).exists()
        or EnterpriseClaim.objects.filter(licence_sha256=sha).exists()
    )


def round_open_problem(record: m.PolicyRoundRecord, today: date) -> str | None:
    """Why the round does not accept submissions today, or None."""
    if record.opens_on is None or record.closes_on is None:
        return _("本轮申报时间尚未公布，暂不能提交。")
    if today < record.opens_on:
        return _("本轮申报自 %(day)s 起受理，暂不能提交。") % {
            "day": _chinese_date(record.opens_on)
        }
    if today > record.closes_on:
        return _("本轮申报已于 %(day)s 截止，不再受理提交。") % {
            "day": _chinese_date(record.closes_on)
        }
    return None


def _chinese_date(day: date) -> str:
    return chinese_date(day)


def _last_change(application: m.Application) -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(
            object_type="applications.application", object_id=str(application.pk)
        )
        .exclude(action="application_evaluate")
        .first()
    )


def open_supplement(application: m.Application) -> SupplementRequest | None:
    """The bureau's unanswered supplement request (补正通知) of the application, if any."""
    return (
        SupplementRequest.objects.filter(application=application, answered_at__isnull=True)
        .order_by("-requested_at", "-id")
        .first()
    )


def edit_problem(application: m.Application, today: date) -> str | None:
    """Why the applicant may not change the application now, or None.

    A draft may be changed; an application returned for 补正 while its request is open and not
    past the request's due date (the deadline the reviewer set); nothing else.
    """
    if application.state in EDITABLE_STATES:
        return None
    if application.state in SUPPLEMENT_STATES:
        request = open_supplement(application)
        if request is None:
            return _("没有待答复的补正通知，申报内容不能修改。")
        if today > request.due_on:
            return _("补正截止日期 %(day)s 已过，申报内容不能再修改。请联系审核人员。") % {
                "day": _chinese_date(request.due_on)
            }
        return None
    return _("这份申报已提交，不能再修改。")


def _locked(
    application: m.Application, expected_version: int, also: tuple[str, ...] = ()
) -> m.Application:
    """The application row, locked for this transaction, if it may be changed at this version
    (`also`: rows pointing at it read with it, lifecycle.lock)."""
    # NO KEY UPDATE: rows that merely point at the application (a self-check's stored
    # evaluation, written meanwhile) are not blocked, so the two cannot deadlock on PostgreSQL.
    # the round and the enterprise as access_application read them with the application
    locked = lifecycle.lock(application, also=also, reuse=True)
    problem = edit_problem(locked, clock.today())
    if problem:
        raise PortalError(problem)
    if locked.version != expected_version:
        last = _last_change(locked)
        who = label_of(last.actor, last.actor_label) if last else _("另一位用户")
        when = timezone.localtime(last.created_at).strftime("%H:%M") if last else ""
        raise StaleVersion(
            _(
                "在您打开此页之后，%(who)s 于 %(when)s 保存了这份申报（现为第 %(version)d 版）。"
                "您本次填写的内容尚未保存，仍保留在下方；请核对后再次保存。"
            )
            % {"who": who, "when": when, "version": locked.version}
        )
    return locked


def _saved(locked: m.Application, *, step: str | None, fields: Sequence[str] = ()) -> None:
    locked.version += 1
    locked.save(update_fields=[*fields, "version", "updated_at"])
    if step:
        # the steps done as read with the locked row (_locked(…, also=STEP_READS)), else here;
        # read with it, they are those of its version: every change of them bumps the version
        # under this lock, so a change committed while this one waited for the lock has this
        # save refused as stale (the submission reads them so too, SUBMISSION_READS)
        progress = selected(locked, "portal_progress")
        if progress is None:
            progress, _created = DraftProgress.objects.get_or_create(application=locked)
        _step_done(progress, step)


# the one-to-one row a wizard's save marks its step done on, read with its locked row
STEP_READS = ("portal_progress",)


def _step_done(progress: DraftProgress, step: str) -> None:
    if step not in progress.steps_done:
        progress.steps_done = [*progress.steps_done, step]
        progress.save(update_fields=["steps_done"])


def _needs_declarations_again(locked: m.Application) -> None:
    """A new supplier: its relationship has not been declared, so the step is open again."""
    progress, _created = DraftProgress.objects.get_or_create(application=locked)
    if "declarations" in progress.steps_done:
        progress.steps_done = [s for s in progress.steps_done if s != "declarations"]
        progress.save(update_fields=["steps_done"])


def _sync_materials(locked: m.Application) -> None:
    present = set(
        MaterialFile.objects.filter(application=locked).values_list("material", flat=True)
    )
    locked.materials = [mid for mid in MATERIAL_IDS if mid in present]


# --- the draft --------------------------------------------------------------------------------


def application_create(
    *, enterprise: m.Enterprise, direction: int, acting_user: Any
) -> m.Application:
    """A new draft in the current round; one per enterprise per round (一（四）); never of
    direction 3 (免申即享: the centre files it from a platform's data)."""
    if direction not in PORTAL_DIRECTIONS:
        raise PortalError(
            _(
                "方向三试行“免申即享”，由发布平台提供数据、市数字经济中心代为申报，"
                "企业无需在门户中新建申报。"
            ),
            field="direction",
            code=INVALID,
        )
    record = current_round()
    with transaction.atomic():
        m.Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        existing = m.Application.objects.filter(round=record, enterprise=enterprise).first()
        if existing is not None:
            raise PortalError(
                _(
                    "贵单位在本轮次已有申报 %(reference)s（%(direction)s）。"
                    "依据附件14 一（四）“同一企业不可同时申报多个方向”，不能再新建申报；"
                    "如需改变方向，请在该申报中修改。"
                )
                % {
                    "reference": existing.reference,
                    "direction": existing.get_direction_display(),
                }
            )
        application = m.Application.objects.create(
            round=record,
            enterprise=enterprise,
            direction=direction,
            applicant_name=enterprise.name,
            registered_address="",
            business_address="",
            entity_type="",
            independent_legal_person=False,
            industry="",
            ai_new_rd_institution=False,
            contact_name="",
            contact_mobile="",
            contact_address="",
            contact_email=getattr(acting_user, "email", "") or "",
            project_name="",
            project_start_date=None,
            ai_field=False,
            other_municipal_compute_support=False,
            materials=[],
            source_name="portal",
        )
        DraftProgress.objects.create(application=application, steps_done=["direction"])
        ImplementationReport.objects.create(application=application)
        audit(
            actor=acting_user,
            action="application_create",
            obj=application,
            data={"round": record.code, "direction": direction},
        )
    return application


def _only_draft(locked: m.Application, what: str) -> None:
    """Changing the direction and deleting are for drafts only: once submitted the
    application belongs to the review (withdrawing it is the review's step)."""
    if locked.state != DRAFT:
        raise PortalError(
            _("这份申报已提交（%(state)s），不能%(what)s。如确需变更，请联系审核人员。")
            % {"state": locked.get_state_display(), "what": what}
        )


def application_direction_change(
    *, application: m.Application, expected_version: int, direction: int, acting_user: Any
) -> m.Application:
    """Change the direction of a draft (the self-check said it does not qualify).

    The project step's fields of the direction left are cleared and the step is open again
    (the new direction asks its own questions); the draft is evaluated again at once when it is
    complete enough, so the self-check shows the new direction's result. Refused once submitted,
    and for direction 3 either way (免申即享: the centre files it from a platform's data).
    """
    if direction not in PORTAL_DIRECTIONS:
        raise PortalError(
            _(
                "方向三试行“免申即享”，由发布平台提供数据、市数字经济中心代为申报，"
                "不能在门户中改选为方向三。"
            ),
            field="direction",
            code=INVALID,
        )
    with transaction.atomic():
        locked = _locked(application, expected_version)
        _only_draft(locked, _("改变申报方向"))
        if locked.direction not in PORTAL_DIRECTIONS:
            raise PortalError(
                _("方向三（免申即享）的申报由市数字经济中心代为办理，不能在门户中改变方向。")
            )
        before = locked.direction
        if before == direction:
            return locked
        keep = set(DIRECTION_PROJECT_FIELDS[direction])
        cleared = [k for k in CLEARED_PROJECT_VALUES if k not in keep]
        for key in cleared:
            setattr(locked, key, CLEARED_PROJECT_VALUES[key])
        locked.direction = direction
        _saved(locked, step=None, fields=["direction", *cleared])
        progress, _created = DraftProgress.objects.get_or_create(application=locked)
        if "project" in progress.steps_done:
            progress.steps_done = [s for s in progress.steps_done if s != "project"]
            progress.save(update_fields=["steps_done"])
        audit(
            actor=acting_user,
            action="application_direction_change",
            obj=locked,
            data={"from": before, "to": direction, "version": locked.version},
        )
        try:
            application_export(locked)
        except FormatError:
            pass  # not complete yet: the self-check lists what is missing
        else:
            application_evaluate(application=locked, acting_user=acting_user)
    return locked


def application_delete_draft(
    *, application: m.Application, expected_version: int, acting_user: Any
) -> str:
    """Delete a draft for good: its contracts, rows, report, progress, self-check evaluations
    and uploads (the bytes when no other record names them). Returns its reference.

    A real delete, not a flag: a draft was never filed, nobody else has seen it, and the
    enterprise may open a new one in the round (one per round, 一（四）); the audit entry keeps
    what was deleted (reference, direction, version, file names and hashes). Refused once
    submitted, and for direction 3 (免申即享, the centre's)."""
    with transaction.atomic():
        locked = _locked(application, expected_version)
        _only_draft(locked, _("删除"))
        if locked.direction not in PORTAL_DIRECTIONS:
            raise PortalError(
                _("方向三（免申即享）的申报由市数字经济中心代为办理，不能在门户中删除。")
            )
        files = list(
            MaterialFile.objects.filter(application=locked).values_list("original_name", "sha256")
        )
        reference = locked.reference
        audit(
            actor=acting_user,
            action="application_delete_draft",
            obj=locked,
            data={
                "reference": reference,
                "round": locked.round.code,
                "direction": locked.direction,
                "version": locked.version,
                "contracts": list(
                    m.Contract.objects.filter(application=locked).values_list(
                        "contract_id", flat=True
                    )
                ),
                "files": [{"name": n, "sha256": sha} for n, sha in files],
            },
        )
        locked.delete()
        shas = {sha for _n, sha in files}

        def forget() -> None:
            for sha in shas:
                if not upload_in_use(sha):
                    upload_delete(sha)

        transaction.on_commit(forget)
    return reference


def _refuse_too_long(model: type[dj_models.Model], key: str, value: Any) -> None:
    """A text longer than its column allows (the overview, a 14-3 section: the model's
    max_length, which the database checks too) is refused naming the field and the limit."""
    field = model._meta.get_field(key)
    limit = getattr(field, "max_length", None)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise PortalError(
            _("“%(field)s”最多 %(limit)d 个字符，现为 %(length)d 个。")
            % {
                "field": _(str(getattr(field, "verbose_name", key))),
                "limit": limit,
                "length": len(value),
            },
            field=key,
            code=INVALID,
        )


def application_update(
    *,
    application: m.Application,
    expected_version: int,
    changes: Mapping[str, Any],
    step: str,
    acting_user: Any,
    refused: Sequence[str] = (),
) -> m.Application:
    """Save the fields of one wizard step (names are Application columns).

    `refused` names the step's fields that were not valid (a field-level save: the valid ones
    are saved, the others keep their stored value): the step is then not marked as done."""
    allowed = {f.name for f in m.Application._meta.concrete_fields} - {
        "id", "round", "enterprise", "state", "version", "submitted_on", "materials",
        "source_name", "source_sha256", "created_at", "updated_at", "has_registry",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable in the portal: {sorted(unknown)}")
    for key, value in changes.items():
        _refuse_too_long(m.Application, key, value)
    with transaction.atomic():
        locked = _locked(application, expected_version, also=STEP_READS)
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        for key, value in changes.items():
            setattr(locked, key, value)
        _saved(locked, step=None if refused else step, fields=list(changes))
        data: dict[str, Any] = {"step": step, "version": locked.version, "changed": sorted(changed)}
        if refused:
            data["not_saved"] = sorted(refused)
        audit(actor=acting_user, action="application_update", obj=locked, data=data)
    return locked


# --- contracts and their rows ----------------------------------------------------------------

CONTRACT_FIELDS = (
    "contract_id", "supplier_name", "supplier_uscc", "signed_on", "valid_from", "valid_to",
    "total_amount", "revenue_or_risk_sharing", "hierarchy",
)  # fmt: skip
ROW_MODELS: dict[str, type[dj_models.Model]] = {
    "deliveries": m.Delivery,
    "invoices": m.Invoice,
    "payments": m.Payment,
    "other_subsidies": m.OtherSubsidy,
}


def contract_save(
    *,
    application: m.Application,
    expected_version: int,
    contract_pk: int | None,
    values: Mapping[str, Any],
    acting_user: Any,
    refused: Sequence[str] = (),
) -> m.Contract:
    """Add a contract (contract_pk None) or change one of this application's contracts.

    `refused` names the form's fields that were not valid (a field-level save of a contract:
    `values` holds the valid ones, the others keep their stored value)."""
    if refused and contract_pk is None:
        raise ValueError("a new contract is saved whole")
    with transaction.atomic():
        locked = _locked(application, expected_version)
        others = m.Contract.objects.filter(application=locked)
        if contract_pk is None:
            # the relationship is declared on the declarations step, which opens again
            contract = m.Contract(
                application=locked,
                position=others.count(),
                revenue_or_risk_sharing=False,
                hierarchy=False,
            )
        else:
            contract = others.get(pk=contract_pk)
            others = others.exclude(pk=contract_pk)
        if "contract_id" in values and others.filter(contract_id=values["contract_id"]).exists():
            raise PortalError(_("合同编号已被另一份合同使用。"), field="contract_id")
        confirmed = contract_pk is not None and supplier.CONTRACT_LINE in supplier.confirmed_keys(
            contract
        )
        disputed = contract_pk is not None and supplier.CONTRACT_LINE in supplier.disputed_keys(
            contract
        )
        before = supplier.content_hash(contract)
        for key in CONTRACT_FIELDS:
            if key in values:
                setattr(contract, key, values[key])
        changed = supplier.content_hash(contract) != before
        if confirmed and changed:
            # issue 22: a line the supplier confirmed is locked for the applicant
            supplier.refuse_confirmed(
                supplier.CONTRACT_LINE, _("合同的编号、签订日期、有效期和总额")
            )
        contract.save()
        supplier.supplier_state_refresh(contract.pk)
        _saved(locked, step=None if refused else "contracts")
        if disputed and changed:  # the line the supplier disputed, changed: it is asked again
            supplier.notify_correction(
                contract=contract, line=supplier.CONTRACT_LINE, acting_user=acting_user
            )
        if contract_pk is None:
            _needs_declarations_again(locked)
        data: dict[str, Any] = {
            "contract": contract.contract_id,
            "created": contract_pk is None,
            "total_amount": str(contract.total_amount),
            "version": locked.version,
        }
        if refused:
            data["changed"] = sorted(values)
            data["not_saved"] = sorted(refused)
        audit(actor=acting_user, action="contract_save", obj=locked, data=data)
    return contract


def contract_delete(
    *, application: m.Application, expected_version: int, contract_pk: int, acting_user: Any
) -> None:
    with transaction.atomic():
        locked = _locked(application, expected_version)
        contract = m.Contract.objects.get(application=locked, pk=contract_pk)
        confirmed = supplier.confirmed_keys(contract)
        if confirmed:
            supplier.refuse_confirmed(min(confirmed), _("该合同的部分内容"))
        # what went, for the audit log: the contract is gone with its rows (CASCADE)
        gone = {
            "contract": contract.contract_id,
            "supplier_uscc": contract.supplier_uscc,
            "total_amount": str(contract.total_amount),
            "rows": {
                kind: model._default_manager.filter(contract=contract).count()
                for kind, model in ROW_MODELS.items()
            },
        }
        contract.delete()
        _saved(locked, step=None)
        audit(
            actor=acting_user,
            action="contract_delete",
            obj=locked,
            data={**gone, "version": locked.version},
        )


def contract_row_add(
    *,
    application: m.Application,
    expected_version: int,
    contract_pk: int,
    kind: str,
    values: Mapping[str, Any],
    acting_user: Any,
) -> dj_models.Model:
    """A delivery line, invoice, payment or other subsidy typed by hand."""
    model = ROW_MODELS[kind]
    with transaction.atomic():
        locked = _locked(application, expected_version)
        contract = m.Contract.objects.get(application=locked, pk=contract_pk)
        position = model._default_manager.filter(contract=contract).count()
        row = model(contract=contract, position=position, **values)
        row.save()
        supplier.supplier_state_refresh(contract.pk)
        _saved(locked, step="contracts")
        audit(
            actor=acting_user,
            action="contract_row_add",
            obj=locked,
            data={"contract": contract.contract_id, "kind": kind, "version": locked.version},
        )
    return row


# the rows of a contract the supplier confirms, by the kind the portal names them with
ROW_LINE_KINDS = {"deliveries": "delivery", "invoices": "invoice", "payments": "payment"}
ROW_LINE_WHAT = {
    "delivery": gettext_noop("该交付记录"),
    "invoice": gettext_noop("该发票"),
    "payment": gettext_noop("该付款记录"),
}


def contract_row_delete(
    *,
    application: m.Application,
    expected_version: int,
    contract_pk: int,
    kind: str,
    row_pk: int,
    acting_user: Any,
) -> None:
    model = ROW_MODELS[kind]
    with transaction.atomic():
        locked = _locked(application, expected_version)
        contract = m.Contract.objects.get(application=locked, pk=contract_pk)
        # issue 22: a line the supplier confirmed is locked; one it disputed, removed to be
        # added again corrected, is news for the supplier
        kind_line = ROW_LINE_KINDS.get(kind)
        if kind_line is not None:
            line = supplier.row_line(kind_line, row_pk)
            supplier.refuse_if_confirmed(contract, line, _(ROW_LINE_WHAT[kind_line]))
            if line in supplier.disputed_keys(contract):
                supplier.notify_correction(contract=contract, line=line, acting_user=acting_user)
        model._default_manager.filter(contract=contract, pk=row_pk).delete()
        supplier.supplier_state_refresh(contract.pk)
        _saved(locked, step=None)
        audit(
            actor=acting_user,
            action="contract_row_delete",
            obj=locked,
            data={"contract": contract.contract_id, "kind": kind, "version": locked.version},
        )


@dataclass
class ImportedContract:
    values: dict[str, Any]  # CONTRACT_FIELDS


@dataclass
class ImportedRows:
    """A checked spreadsheet: new contracts, and rows for contracts by their contract id."""

    contracts: list[ImportedContract]
    rows: dict[str, list[tuple[str, dict[str, Any]]]]  # kind -> [(contract_id, values)]
    source_name: str


def contract_rows_import(
    *, application: m.Application, expected_version: int, imported: ImportedRows, acting_user: Any
) -> dict[str, int]:
    """Write a spreadsheet that imports.read_spreadsheet found free of errors: all or nothing."""
    counts: dict[str, int] = {"contracts": 0}
    new_contracts: list[int] = []
    with transaction.atomic():
        locked = _locked(application, expected_version)
        existing = {c.contract_id: c for c in m.Contract.objects.filter(application=locked)}
        for new in imported.contracts:
            if new.values["contract_id"] in existing:
                raise PortalError(
                    _("合同编号 %(id)s 已存在，未导入任何数据。")
                    % {"id": new.values["contract_id"]}
                )
            contract = m.Contract.objects.create(
                application=locked, position=len(existing), **new.values
            )
            existing[contract.contract_id] = contract
            new_contracts.append(contract.pk)
            counts["contracts"] += 1
        for kind, lines in imported.rows.items():
            model = ROW_MODELS[kind]
            positions: dict[int, int] = {}  # contract pk -> next position: one count each
            created = []
            for contract_id, values in lines:
                owner = existing.get(contract_id)
                if owner is None:
                    raise PortalError(
                        _("找不到合同编号 %(id)s，未导入任何数据。") % {"id": contract_id}
                    )
                if owner.pk not in positions:
                    positions[owner.pk] = model._default_manager.filter(contract=owner).count()
                created.append(model(contract=owner, position=positions[owner.pk], **values))
                positions[owner.pk] += 1
            model._default_manager.bulk_create(created)
            counts[kind] = len(created)  # each kind comes once, with at least one row
            for contract_pk in positions:  # a new line is unconfirmed (issue 22)
                supplier.supplier_state_refresh(contract_pk)
        _saved(locked, step="contracts")
        if counts["contracts"]:
            # the template's columns 收益分成 and 上下级 declared each new contract's
            # relationship: the declarations step shows them and is not opened again for them
            progress, _created = DraftProgress.objects.get_or_create(application=locked)
            progress.relationships_declared = [*progress.relationships_declared, *new_contracts]
            progress.save(update_fields=["relationships_declared"])
        audit(
            actor=acting_user,
            action="contract_rows_import",
            obj=locked,
            data={"source": imported.source_name, "counts": counts, "version": locked.version},
        )
    return counts


def declarations_save(
    *,
    application: m.Application,
    expected_version: int,
    other_municipal_compute_support: bool | None,
    dishonest_entity: bool | None,
    relationships: Mapping[int, tuple[bool | None, bool | None]],
    acting_user: Any,
    refused: Sequence[str] = (),
) -> m.Application:
    """The declarations of 一（三）, 14-4 第2条 and 一（五）注1 (one pair per contract).

    `refused` names the form's fields not answered or not valid (a field-level save): the
    answers given (not None) are saved and remembered, the step is not marked as done."""
    with transaction.atomic():
        locked = _locked(application, expected_version)
        contracts = {c.pk: c for c in m.Contract.objects.filter(application=locked)}
        if set(relationships) - set(contracts) or (
            not refused and set(relationships) != set(contracts)
        ):
            raise StaleVersion(_("合同列表已变化，请核对后再保存。"))
        answered: list[str] = []
        for pk, (sharing, hierarchy) in relationships.items():
            contract = contracts[pk]
            if sharing is not None:
                contract.revenue_or_risk_sharing = sharing
                answered.append(f"sharing_{pk}")
            if hierarchy is not None:
                contract.hierarchy = hierarchy
                answered.append(f"hierarchy_{pk}")
            contract.save(update_fields=["revenue_or_risk_sharing", "hierarchy"])
        fields = []
        if other_municipal_compute_support is not None:
            locked.other_municipal_compute_support = other_municipal_compute_support
            fields.append("other_municipal_compute_support")
        if dishonest_entity is not None:
            locked.dishonest_entity = dishonest_entity
            fields.append("dishonest_entity")
        answered.extend(fields)
        _saved(locked, step=None if refused else "declarations", fields=fields)
        progress, _created = DraftProgress.objects.get_or_create(application=locked)
        progress.declarations_answered = [] if not refused else answered
        progress.save(update_fields=["declarations_answered"])
        data: dict[str, Any] = {
            "other_municipal_compute_support": other_municipal_compute_support,
            "dishonest_entity": dishonest_entity,
            "relationships": {
                contracts[pk].contract_id: list(pair) for pk, pair in relationships.items()
            },
            "version": locked.version,
        }
        if refused:
            data["not_saved"] = sorted(refused)
        audit(actor=acting_user, action="declarations_save", obj=locked, data=data)
    return locked


# --- report, commitment, materials -----------------------------------------------------------


def implementation_report_save(
    *,
    application: m.Application,
    expected_version: int,
    sections: Mapping[str, str],
    acting_user: Any,
    refused: Sequence[str] = (),
) -> ImplementationReport:
    """The sections of 14-3. `refused` names the sections that were not valid (a field-level
    save: the others are saved, and the step is not marked as done)."""
    for key, text in sections.items():
        _refuse_too_long(ImplementationReport, key, text)
    with transaction.atomic():
        locked = _locked(application, expected_version)
        report, _created = ImplementationReport.objects.get_or_create(application=locked)
        for key, text in sections.items():
            setattr(report, key, text)
        report.save()
        _saved(locked, step=None if refused else "report")
        data: dict[str, Any] = {
            "lengths": {k: len(v) for k, v in sections.items()},
            "version": locked.version,
        }
        if refused:
            data["not_saved"] = sorted(refused)
        audit(actor=acting_user, action="implementation_report_save", obj=locked, data=data)
    return report


def commitment_acknowledge(
    *, application: m.Application, expected_version: int, acting_user: Any
) -> None:
    with transaction.atomic():
        locked = _locked(application, expected_version)
        progress, _created = DraftProgress.objects.get_or_create(application=locked)
        progress.commitment_acknowledged_at = timezone.now()
        progress.commitment_acknowledged_by = acting_user
        progress.save()
        _saved(locked, step="commitment")
        audit(
            actor=acting_user,
            action="commitment_acknowledge",
            obj=locked,
            data={"version": locked.version},
        )


def material_file_add(
    *,
    application: m.Application,
    expected_version: int,
    material: str,
    name: str,
    content: bytes,
    content_type: str,
    acting_user: Any,
    classified_scan: str = "",
) -> MaterialFile:
    """Store a file that uploads.check_upload accepted, under uploads/<sha256>, with what its
    scan for classification marks found (CheckedUpload.classified_scan; "" not known)."""
    if material not in MATERIAL_IDS:
        raise PortalError(_("未知的材料类别。"))
    sha = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        locked = _locked(application, expected_version)
        used = (
            MaterialFile.objects.filter(application=locked).aggregate(total=dj_models.Sum("size"))[
                "total"
            ]
            or 0
        )
        limit = settings.VOUCHER_UPLOAD_MAX_APPLICATION_BYTES
        if used + len(content) > limit:
            raise PortalError(
                _("本申报的材料合计不能超过 %(limit)d MB（已用 %(used).1f MB）。")
                % {"limit": limit // 2**20, "used": used / 2**20}
            )
        record = MaterialFile.objects.create(
            application=locked,
            material=material,
            original_name=name,
            size=len(content),
            sha256=sha,
            content_type=content_type,
            classified_scan=classified_scan,
            uploaded_by=acting_user,
        )
        upload_store(content, sha)
        _sync_materials(locked)
        _saved(locked, step="materials", fields=["materials"])
        audit(
            actor=acting_user,
            action="material_file_add",
            obj=locked,
            data={
                "material": material,
                "name": name,
                "size": len(content),
                "sha256": sha,
                "classified_scan": classified_scan,
                "version": locked.version,
            },
        )
    return record


def material_file_delete(
    *, application: m.Application, expected_version: int, file_pk: int, acting_user: Any
) -> None:
    """Forget a file of the draft; the bytes stay while another record names the same hash."""
    with transaction.atomic():
        locked = _locked(application, expected_version)
        record = MaterialFile.objects.get(application=locked, pk=file_pk)
        sha, name, material = record.sha256, record.original_name, record.material
        record.delete()
        _sync_materials(locked)
        _saved(locked, step=None, fields=["materials"])
        audit(
            actor=acting_user,
            action="material_file_delete",
            obj=locked,
            data={"material": material, "name": name, "sha256": sha, "version": locked.version},
        )
        # a submitted version (补正) may still name the bytes: only a draft's are forgotten
        if locked.state == DRAFT and not upload_in_use(sha):
            transaction.on_commit(lambda: upload_delete(sha))


# --- submission ------------------------------------------------------------------------------


def _receipt_number(application: m.Application, today: date) -> str:
    return f"{application.round.code.upper()}-{today:%Y%m%d}-{application.pk:06d}"


def _require_complete(
    locked: m.Application, refusal: str, progress: DraftProgress | None = None
) -> Any:
    """Required fields and materials: what blocks a submission is listed in the refusal.
    Returns the interchange document of the application as it is (what a submission freezes).
    `progress`: the application's DraftProgress, when the caller read it already."""

    blockers, document = blockers_and_document(locked, progress)
    if blockers:
        raise PortalError(refusal % {"what": "；".join(b.message for b in blockers)})
    return document


def _freeze(
    locked: m.Application, receipt: str, stored: Any, acting_user: Any, exported: Any = None
) -> Submission:
    """The submitted version as it is now, frozen with its evaluation (None: evaluated after the
    request, SUBMISSION_EVALUATE): later edits cannot change it (a submission and every
    resubmission after a supplement). `exported`: the application's document as it is now,
    when the caller has it."""
    document = dumps_application(exported or application_export(locked))
    return Submission.objects.create(
        application=locked,
        receipt_number=receipt,
        document_json=document,
        document_sha256=hashlib.sha256(document.encode("utf-8")).hexdigest(),
        evaluation=stored,
        round_code=stored.round_code if stored else locked.round.code,
        engine_version=stored.engine_version if stored else ENGINE_VERSION,
        submitted_by=acting_user,
    )


# The one-to-one rows a submission reads, read with its locked row (applications.selectors.selected)
SUBMISSION_READS = ("portal_progress", "implementation_report")


# The job after a submission's request (voucher/core/jobs.py): its evaluation, the counts that
# follow it (ports.evaluations_stored) and the receipt e-mail.
SUBMISSION_EVALUATE = "submission_evaluate"


def application_submit(
    *, application: m.Application, expected_version: int, acting_user: Any
) -> Submission:
    """Freeze the submitted version, give its receipt and audit it; in one transaction, once.

    What can wait is queued in the same transaction (SUBMISSION_EVALUATE, done by the jobs'
    worker, or at once with VOUCHER_JOBS_INLINE): the evaluation of the frozen document, the
    cross-application counts, the receipt e-mail and the e-mail to the suppliers its contracts
    name. Until its evaluation is stored the
    application is `evaluation_pending`: it shows 评估中 and no step that needs an evaluation is
    taken (selectors.latest_evaluation answers None). A second request (a double click, a retry)
    waits on the row lock and is then refused: the application is no longer a draft."""

    today = clock.today()
    with transaction.atomic():
        # its steps and its report read with the row: what blocks a submission reads them
        locked = _locked(application, expected_version, also=SUBMISSION_READS)
        if locked.state != DRAFT:
            raise PortalError(_("这份申报已提交；补正请在“补正提交”一步答复并重新提交。"))
        problem = round_open_problem(locked.round, today)
        if problem:
            raise PortalError(problem)
        locked.submitted_on = today  # before the export: the document carries the day
        progress = selected(locked, "portal_progress")
        if progress is None:
            progress, _created = DraftProgress.objects.get_or_create(application=locked)
        document = _require_complete(locked, _("还不能提交：%(what)s"), progress)
        locked.evaluation_pending = True
        # what _saved does, but the row is written once: the transition below saves it whole
        # (the state with the day, the pending evaluation and the next version)
        locked.version += 1
        _step_done(progress, "submit")
        # the receipt and its audit entry below are the submission's record
        lifecycle.application_transition(
            application=locked, transition="submit", acting_user=acting_user, record=False
        )
        # the draft's self-checks are not the submission's evaluation: the lists show 评估中
        m.StoredEvaluation.objects.filter(application=locked, bureau_latest=True).update(
            bureau_latest=False
        )
        submission = _freeze(locked, _receipt_number(locked, today), None, acting_user, document)
        audit(
            actor=acting_user,
            action="application_submit",
            obj=locked,
            data={
                "receipt": submission.receipt_number,
                "sha256": submission.document_sha256,
                "round": submission.round_code,
                "engine_version": submission.engine_version,
            },
        )
        # a new submission's job cannot have been queued before: one INSERT, no look-up first
        jobs.enqueue_new(
            SUBMISSION_EVALUATE,
            key=f"{SUBMISSION_EVALUATE}:{submission.pk}",
            submission=submission.pk,
        )
    return submission


def submission_evaluate(*, submission: int) -> None:
    """The job after a submission: evaluate its frozen document with the round as it is now
    (application_evaluate, audited), keep the evaluation with the submission, end the
    application's `evaluation_pending`, ask the suppliers its contracts name to confirm, and send
    the receipt e-mail after commit. Done once: a
    submission evaluated already is left as it is."""
    frozen = Submission.objects.select_related("application", "submitted_by").get(pk=submission)
    if frozen.evaluation_id is not None:
        return
    locked = lifecycle.lock(frozen.application)
    stored = application_evaluate(
        application=locked,
        acting_user=frozen.submitted_by,
        document=parse_application_json(frozen.document_json),
    )
    frozen.evaluation = stored
    frozen.round_code = stored.round_code
    frozen.engine_version = stored.engine_version
    frozen.save(update_fields=["evaluation", "round_code", "engine_version"])
    m.Application.objects.filter(pk=locked.pk).update(evaluation_pending=False)
    # issue 22: the suppliers its contracts name are asked to confirm (those with members)
    supplier.notify_submission(application=locked, acting_user=frozen.submitted_by)
    user = frozen.submitted_by
    recipients = sorted({e for e in (user.email if user else "", locked.contact_email) if e})
    subject = _("算力券申报已提交，回执编号 %(receipt)s") % {"receipt": frozen.receipt_number}
    body = _(
        "“%(applicant)s”的算力券申报（%(reference)s，%(direction)s）已于 %(day)s 提交。\n"
        "回执编号：%(receipt)s\n提交文档摘要（SHA-256）：%(sha)s\n\n"
        "提交后内容不可修改。审核进度请登录系统查看申报状态页。\n"
    ) % {
        "applicant": locked.applicant_name,
        "reference": locked.reference,
        "direction": locked.get_direction_display(),
        "day": _chinese_date(locked.submitted_on or clock.today()),
        "receipt": frozen.receipt_number,
        "sha": frozen.document_sha256,
    }
    if recipients:
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
        )


# --- supplement (补正) ----------------------------------------------------------------------------


def supplement_resubmit(
    *,
    application: m.Application,
    expected_version: int,
    answers: Mapping[int, str],
    acting_user: Any,
) -> Submission:
    """Answer the bureau's open supplement request item by item and resubmit the corrected version.

    The transition itself is the review workflow's (voucher.review.actions.supplement_answer:
    permission, due date, evaluation with the same engine, a `resubmit` snapshot for the field
    diff, e-mails); here the version the applicant saw is checked under the row lock, the
    submission must be complete again, and the resubmitted version is kept as a new frozen
    submission with its own receipt number.
    """
    today = clock.today()
    with transaction.atomic():
        locked = _locked(application, expected_version)
        if locked.state not in SUPPLEMENT_STATES:
            raise PortalError(_("这份申报不在待补正状态。"))
        _require_complete(locked, _("还不能重新提交：%(what)s"))
        try:
            request = lifecycle.supplement_answer(
                application=locked, answers=answers, acting_user=acting_user
            )
        except lifecycle.ReviewError as exc:
            raise PortalError(str(exc)) from exc
        locked.refresh_from_db()
        snapshot = (
            m.Snapshot.objects.filter(application=locked, transition="resubmit")
            .select_related("evaluation")
            .order_by("-created_at", "-id")
            .first()
        )
        assert snapshot is not None and snapshot.evaluation is not None
        stored = snapshot.evaluation
        earlier = Submission.objects.filter(application=locked).count()
        receipt = f"{_receipt_number(locked, today)}-B{earlier}"
        submission = _freeze(locked, receipt, stored, acting_user)
        audit(
            actor=acting_user,
            action="supplement_resubmit",
            obj=locked,
            data={
                "request": request.pk,
                "receipt": submission.receipt_number,
                "sha256": submission.document_sha256,
                "snapshot": snapshot.pk,
                "evaluation": stored.pk,
                "outcome": stored.outcome,
                "version": locked.version,
            },
        )
    return submission
