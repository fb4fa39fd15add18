"""Every write of the platforms app: keyword-only, one transaction, one audit entry each.

The API (voucher/api) and the staff pages call these and the selectors, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from voucher.applications import permissions
from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import application_import
from voucher.applications.lifecycle import application_transition, lock
from voucher.applications.models import Application, Contract, StoredEvaluation
from voucher.applications.parameters import current_effective_round
from voucher.applications.states import UNDECIDED_STATES, WITHDRAWABLE_STATES
from voucher.applications.states import WITHDRAWN as WITHDRAWN_APPLICATION
from voucher.core import bearer
from voucher.core.audit import audit
from voucher.platforms import consumption, scratch, selectors
from voucher.platforms.models import (
    ApiToken,
    ConsumptionAggregate,
    ConsumptionBatch,
    ContractReconciliation,
    Platform,
    PlatformContract,
    Project,
    ShortlistEntry,
)
from voucher.platforms.selectors import delivery_lines_of
from voucher.policy import format as fmt
from voucher.policy import uscc as uscc_codes

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "cvp"
STALE_AFTER = timedelta(minutes=15)  # a running batch untouched this long lost its worker
MAX_ATTEMPTS = 5


class Refused(Exception):
    """A request the rules refuse; `status` is the HTTP status the API gives it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors = errors or []  # [{location, message}]: the field(s) the refusal is about


def batch_dir() -> Path:
    configured = getattr(settings, "VOUCHER_PLATFORM_BATCH_DIR", None)
    path = Path(configured) if configured else Path(settings.DATA_DIR) / "platform-batches"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _actor(token: ApiToken | None) -> dict[str, Any]:
    if token is None:
        return {}
    return {"platform": token.platform.code, "token": token.prefix}


# --- platforms and tokens -------------------------------------------------------------------


def platforms_sync(*, acting_user: Any = None) -> list[Platform]:
    """One Platform per platform of the round file (二（二）)."""
    out = []
    with transaction.atomic():
        for code, name in sorted(current_effective_round().policy_round.d3_platforms.items()):
            platform, _ = Platform.objects.update_or_create(code=code, defaults={"name": name})
            out.append(platform)
        audit(actor=acting_user, action="platforms_sync", data={"platforms": [p.code for p in out]})
    return out


def token_issue(
    *,
    platform: Platform,
    label: str,
    scopes: list[str] | None = None,
    days: int = 365,
    acting_user: Any = None,
    fixed: tuple[str, str] | None = None,
) -> tuple[ApiToken, str]:
    """A new token; the returned text is the only time the secret exists outside the client.

    `fixed` (prefix, secret) is for `voucher demo` only: a published demo token, like the demo
    password, so that the walkthrough in docs/platform-api.md can be pasted as it is.
    """
    if days < 1:
        raise ValueError(f"a token lives at least one day (days={days})")
    scopes = list(scopes if scopes is not None else ApiToken.SCOPES)
    unknown = sorted(set(scopes) - set(ApiToken.SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {list(ApiToken.SCOPES)}")
    parts = bearer.Parts(*fixed) if fixed is not None else bearer.new_parts()
    with transaction.atomic():
        token = ApiToken.objects.create(
            platform=platform,
            label=label,
            prefix=parts.prefix,
            secret_sha256=bearer.secret_sha256(parts.secret),
            scopes=scopes,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit(
            actor=acting_user,
            action="platform_token_issue",
            obj=token,
            data={
                "platform": platform.code,
                "scopes": scopes,
                "days": days,
                "fixed": fixed is not None,
            },
        )
    return token, bearer.text(TOKEN_PREFIX, parts)


def platform_organisation_set(*, platform: Platform, uscc: str, acting_user: Any = None) -> None:
    """Record the USCC of the organisation running a platform (settlement data is accepted for
    contracts whose supplier it is). Empty clears it."""
    uscc = uscc.strip().upper()
    if uscc and (len(uscc) != 18 or not uscc_codes.is_well_formed(uscc)):
        raise ValueError(f"not a USCC: {uscc!r}")
    with transaction.atomic():
        previous = platform.uscc
        platform.uscc = uscc
        platform.save(update_fields=["uscc"])
        audit(
            actor=acting_user,
            action="platform_organisation_set",
            obj=platform,
            data={"platform": platform.code, "uscc": uscc, "previous": previous},
        )


def token_revoke(*, token: ApiToken, acting_user: Any = None) -> None:
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(actor=acting_user, action="platform_token_revoke", obj=token, data={})


def token_authenticate(*, raw: str, method: str, path: str) -> ApiToken | None:
    """The live token `raw` names, its use audited; None for anything else (also audited)."""
    parts = bearer.parse(raw, TOKEN_PREFIX)
    if parts is None:
        return None
    token = ApiToken.objects.select_related("platform").filter(prefix=parts.prefix).first()
    if token is None or not bearer.matches(token.secret_sha256, parts.secret):
        return None
    now = timezone.now()
    live = token.revoked_at is None and token.expires_at > now
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit(
            actor=None,
            action="platform_token_use" if live else "platform_token_refused",
            obj=token,
            data={
                **_actor(token),
                "method": method,
                "path": path[:300],
                "revoked": token.revoked_at is not None,
                "expired": token.expires_at <= now,
            },
        )
    return token if live else None


# --- projects and the shortlist -----------------------------------------------------------------


def project_publish(*, token: ApiToken, data: dict[str, Any]) -> tuple[Project, bool]:
    """Publish or update (by the platform's own project id) an open-source project."""
    applicant = fmt.Applicant.model_validate(data["enterprise"])  # the format's own checks
    values = {
        "enterprise_uscc": applicant.uscc,
        "enterprise": applicant.model_dump(mode="json"),
        "name": data["name"],
        "url": data["url"],
        "scenario": data["scenario"],
        "start_date": data["start_date"],
        "open_source_licence": data["open_source_licence"],
    }
    with transaction.atomic():
        existing = (
            Project.objects.select_for_update()
            .filter(platform=token.platform, external_id=data["external_id"])
            .first()
        )
        if existing is not None and existing.enterprise_uscc != applicant.uscc:
            raise Refused(
                409,
                "项目已属于另一家企业 (project belongs to another enterprise)",
                "a published project keeps its enterprise; publish a new project id instead",
            )
        reset = _screening_reset_by(existing, values) if existing is not None else None
        project, created = Project.objects.update_or_create(
            platform=token.platform, external_id=data["external_id"], defaults=values
        )
        audit(
            actor=None,
            action="platform_project_publish" if created else "platform_project_update",
            obj=project,
            data={
                **_actor(token),
                "external_id": project.external_id,
                "uscc": applicant.uscc,
                **({"screening_reset": reset} if reset else {}),
            },
        )
    return project, created


# What the centre screened (D3_QUALIFICATION: open source, the scenario): a change to any of
# them is a project the centre has not seen.
SCREENED_FIELDS = ("name", "url", "scenario", "start_date", "open_source_licence")


def _screened(project: Project) -> tuple[str, ...]:
    return tuple(str(getattr(project, f)) for f in SCREENED_FIELDS)


def _screening_reset_by(project: Project, values: dict[str, Any]) -> dict[str, Any] | None:
    """A screened project whose screened fields change goes back to the centre's queue: its
    screening is deleted (what it was goes into the audit entry) and it is off the list until
    screened again. Once its direction-3 application exists the project is the application's
    evidence, and a change is refused."""
    entry = ShortlistEntry.objects.select_for_update().filter(project=project).first()
    if entry is None:
        return None
    changed = [f for f in SCREENED_FIELDS if str(getattr(project, f)) != str(values[f])]
    if not changed:
        return None
    built = entry.application
    if built is not None and built.state != WITHDRAWN_APPLICATION:
        raise Refused(
            409,
            "项目已筛选并已生成申报，不能再修改 (the project is screened and its application "
            "exists: it can no longer change)",
            f"changed: {', '.join(changed)}; ask the digital-economy centre",
            errors=[{"location": f"body.{f}", "message": "已筛选，不能修改"} for f in changed],
        )
    reset = {
        "changed": changed,
        "decision": entry.decision,
        "reasons": entry.reasons,
        "screened_by": entry.screened_by_id,
        "screened_at": entry.screened_at.isoformat(),
    }
    entry.delete()
    return reset


@dataclass(frozen=True)
class Screening:
    decision: str
    failing: list[str]


def screening_outcome(
    *, platform_code: str, open_source: bool, scenario_aligned: bool, action_plan_aligned: bool
) -> Screening:
    """D3_QUALIFICATION (一（四）方向三) and D3_PLATFORM (二（二）), as RULES.md reads them."""
    failing = []
    if not open_source or not (scenario_aligned or action_plan_aligned):
        failing.append("D3_QUALIFICATION")
    if platform_code not in current_effective_round().policy_round.d3_platforms:
        failing.append("D3_PLATFORM")
    return Screening(ShortlistEntry.REFUSED if failing else ShortlistEntry.LISTED, failing)


def _require_screener(user: Any) -> None:

    check = permissions.can_screen(user)
    if not check:
        raise Refused(403, check.reason)


def project_screen(
    *,
    project: Project,
    acting_user: Any,
    open_source: bool,
    scenario_aligned: bool,
    action_plan_aligned: bool,
    reasons: str,
) -> ShortlistEntry:
    """The centre's screener lists or refuses a project; the reasons are kept and audited."""
    _require_screener(acting_user)
    if not reasons.strip():
        raise Refused(400, "须写明理由 (reasons are required)")
    outcome = screening_outcome(
        platform_code=project.platform.code,
        open_source=open_source,
        scenario_aligned=scenario_aligned,
        action_plan_aligned=action_plan_aligned,
    )
    with transaction.atomic():
        current = (
            # of=self: PostgreSQL locks no row of the nullable side of an outer join
            ShortlistEntry.objects.select_for_update(of=("self",))
            .filter(project=project)
            .select_related("application")
            .first()
        )
        built = current.application if current is not None else None
        unchanged = current is not None and current.conclusion == (
            open_source,
            scenario_aligned,
            action_plan_aligned,
            reasons.strip(),
        )
        if current is not None and built is not None and built.state != WITHDRAWN_APPLICATION:
            if unchanged:
                return current  # saved again as it is: nothing to refuse, nothing to record
            # the application stands on this screening: changing it would leave the bureau
            # reviewing (or having paid) an application whose listing no longer holds
            raise Refused(
                409,
                f"已据此结论生成申报 {built.reference}，结论不能再改；如须改变，请告知市经信局"
                "审核人员在审查中处理 (an application was built on this screening)",
            )
        entry, _ = ShortlistEntry.objects.update_or_create(
            project=project,
            defaults={
                "decision": outcome.decision,
                "open_source": open_source,
                "scenario_aligned": scenario_aligned,
                "action_plan_aligned": action_plan_aligned,
                "platform_listed": "D3_PLATFORM" not in outcome.failing,
                "reasons": reasons.strip(),
                "screened_by": acting_user,
            },
        )
        audit(
            actor=acting_user,
            action="platform_project_screen",
            obj=entry,
            data={"decision": outcome.decision, "failing": outcome.failing, "reasons": reasons},
        )
    return entry


def _listed_project(platform: Platform, uscc: str) -> Project:
    project = (
        Project.objects.filter(
            platform=platform,
            enterprise_uscc=uscc,
            screening__decision=ShortlistEntry.LISTED,
        )
        .order_by("-screening__screened_at")
        .first()
    )
    if project is None:
        raise Refused(
            404,
            "该企业不在本平台的名单上 (enterprise not on this platform's shortlist)",
            "the centre has not listed a project of this enterprise published on this platform",
        )
    return project


# --- contracts, invoices, payments --------------------------------------------------------------


# PlatformContract.contract_id, and the consumption file's contract_id column
CONTRACT_ID_MAX = 64
EVIDENCE_KINDS = ("invoices", "payments")


def contract_submit(
    *,
    token: ApiToken,
    uscc: str,
    document: dict[str, Any],
    keep_evidence: tuple[str, ...] = (),
) -> PlatformContract:
    """Create or replace a listed enterprise's contract (deliveries come from consumption).

    `keep_evidence`: the kinds ("invoices", "payments") the new document leaves out, which the
    stored contract keeps; a platform correcting the total must not lose the evidence it added
    one by one (`contract_add_evidence`)."""
    _listed_project(token.platform, uscc)
    contract_id = str(document.get("id", ""))
    if len(contract_id) > CONTRACT_ID_MAX:
        raise Refused(
            422,
            f"合同编号最多 {CONTRACT_ID_MAX} 个字符 (a contract id has at most {CONTRACT_ID_MAX} "
            "characters)",
            errors=[{"location": "path.contract_id", "message": f"最多 {CONTRACT_ID_MAX} 个字符"}],
        )
    with transaction.atomic():
        existing = (
            PlatformContract.objects.select_for_update()
            .filter(platform=token.platform, enterprise_uscc=uscc, contract_id=contract_id)
            .first()
        )
        if existing is not None:
            document = {
                **document,
                **{k: existing.document.get(k, []) for k in keep_evidence if k in EVIDENCE_KINDS},
            }
        _refuse_repeated_invoices(document.get("invoices") or [])
        contract = fmt.Contract.model_validate({**document, "deliveries": []})
        stored, created = PlatformContract.objects.update_or_create(
            platform=token.platform,
            enterprise_uscc=uscc,
            contract_id=contract.id,
            defaults={"document": contract.model_dump(mode="json", exclude={"deliveries"})},
        )
        audit(
            actor=None,
            action="platform_contract_submit",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract.id, "created": created},
        )
    return stored


def _contract(token: ApiToken, uscc: str, contract_id: str) -> PlatformContract:
    _listed_project(token.platform, uscc)
    found = PlatformContract.objects.filter(
        platform=token.platform, enterprise_uscc=uscc, contract_id=contract_id
    ).first()
    if found is None:
        raise Refused(404, "没有该合同 (no such contract)")
    return found


def contract_add_evidence(
    *, token: ApiToken, uscc: str, contract_id: str, kind: str, item: dict[str, Any]
) -> PlatformContract:
    """Add an invoice (`kind="invoices"`) or a payment record (`"payments"`) to a contract."""
    with transaction.atomic():
        stored = _contract(token, uscc, contract_id)
        stored = PlatformContract.objects.select_for_update().get(pk=stored.pk)
        document = dict(stored.document)
        if kind == "invoices":
            _refuse_a_known_invoice(document, item)
        document[kind] = [*document.get(kind, []), item]
        contract = fmt.Contract.model_validate({**document, "deliveries": []})
        stored.document = contract.model_dump(mode="json", exclude={"deliveries"})
        stored.save(update_fields=["document", "updated_at"])
        audit(
            actor=None,
            action=f"platform_contract_{kind}",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract_id, "item": item},
        )
    return stored


def _refuse_repeated_invoices(invoices: list[dict[str, Any]]) -> None:
    """One invoice number twice in a contract counts its amount twice: refused."""
    seen: set[str] = set()
    for index, invoice in enumerate(invoices):
        key = fmt.invoice_key(invoice.get("number"))
        if key in seen:
            raise Refused(
                422,
                "同一发票号码出现两次 (the same invoice number twice)",
                errors=[{"location": f"body.invoices.{index}.number", "message": "发票号码重复"}],
            )
        seen.add(key)


def _refuse_a_known_invoice(document: dict[str, Any], item: dict[str, Any]) -> None:
    """An invoice number is the invoice: the same one sent again (a retry after a lost answer)
    would count its amount twice in the reconciliation."""

    known = {fmt.invoice_key(i.get("number")) for i in document.get("invoices", [])}
    if fmt.invoice_key(item.get("number")) in known:
        raise Refused(
            409,
            "该合同已有此号码的发票 (the contract already has an invoice with this number)",
            "an invoice is added once; a retry that repeats it is refused, not counted twice",
            errors=[{"location": "body.number", "message": "发票号码重复"}],
        )


def contract_terms_submit(
    *, token: ApiToken, uscc: str, contract_id: str, lines: list[dict[str, Any]]
) -> PlatformContract:
    """Replace the contracted scale and unit price per device and unit of a contract."""
    keys = [(line.get("device", ""), line["unit"]) for line in lines]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        index = keys.index(duplicated[0], keys.index(duplicated[0]) + 1)
        raise Refused(
            422,
            "同一设备和单位只能约定一次 (one line per device and unit)",
            errors=[{"location": f"body.lines.{index}", "message": f"duplicate {duplicated[0]}"}],
        )
    with transaction.atomic():
        stored = _contract(token, uscc, contract_id)
        stored = PlatformContract.objects.select_for_update().get(pk=stored.pk)
        stored.terms = lines
        stored.save(update_fields=["terms", "updated_at"])
        audit(
            actor=None,
            action="platform_contract_terms",
            obj=stored,
            data={**_actor(token), "uscc": uscc, "contract": contract_id, "lines": lines},
        )
    return stored


# --- consumption batches -----------------------------------------------------------------------


def _visible_ascii(text: str) -> bool:
    return all("!" <= c <= "~" for c in text)


def _store_upload(upload: IO[bytes]) -> tuple[str, int]:
    """Copy the upload into the content-addressed batch directory: (SHA-256, size)."""
    directory = batch_dir()
    digest = hashlib.sha256()
    size = 0
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in iter(lambda: upload.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        final = directory / sha
        if final.exists():
            os.unlink(temporary)
        else:
            os.replace(temporary, final)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return sha, size


def _batch_create(
    *,
    token: ApiToken,
    uscc: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
    settles: tuple[Application, str] | None = None,
) -> tuple[ConsumptionBatch, bool]:
    if not idempotency_key or len(idempotency_key) > 100 or not _visible_ascii(idempotency_key):
        # HTTP headers are Latin-1 on the wire: a key in other characters arrives garbled
        raise Refused(
            400,
            "须提供 Idempotency-Key：1 至 100 个可见的 ASCII 字符 (Idempotency-Key: 1 to 100 "
            "visible ASCII characters)",
            errors=[
                {
                    "location": "header.Idempotency-Key",
                    "message": "1 to 100 visible ASCII characters",
                }
            ],
        )
    sha, size = _store_upload(upload)
    application, contract_id = settles if settles is not None else (None, "")
    existing = ConsumptionBatch.objects.filter(
        platform=token.platform, idempotency_key=idempotency_key
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                batch = ConsumptionBatch.objects.create(
                    platform=token.platform,
                    enterprise_uscc=uscc,
                    settles_application=application,
                    settles_contract_id=contract_id,
                    idempotency_key=idempotency_key,
                    file_sha256=sha,
                    file_name=file_name[:200],
                    file_size=size,
                )
                audit(
                    actor=None,
                    action="platform_settlement_submit" if settles else "platform_batch_submit",
                    obj=batch,
                    data={
                        **_actor(token),
                        "uscc": uscc,
                        "sha256": sha,
                        "bytes": size,
                        **(
                            {"application": application.pk, "contract": contract_id}
                            if application is not None
                            else {}
                        ),
                    },
                )
            return batch, True
        except IntegrityError:  # the same key posted twice at once: the other one won
            existing = ConsumptionBatch.objects.get(
                platform=token.platform, idempotency_key=idempotency_key
            )
    same_target = (existing.settles_application_id, existing.settles_contract_id) == (
        None if application is None else application.pk,
        contract_id,
    )
    if existing.file_sha256 != sha:
        what = "另一个文件 (another file)"
    elif existing.enterprise_uscc != uscc or not same_target:
        what = "同一文件的另一个目标企业或合同 (the same file for another enterprise or contract)"
    else:
        return existing, False
    raise Refused(
        409,
        f"该 Idempotency-Key 已用于{what}",
        f"batch {existing.pk} was submitted with this key; send this one under a new key",
        errors=[{"location": "header.Idempotency-Key", "message": "already used"}],
    )


def batch_withdraw(*, token: ApiToken, batch: ConsumptionBatch) -> ConsumptionBatch:
    """The platform withdraws a batch it sent by mistake (a wrong file, one sent twice under
    two keys): its rows stop counting (their aggregates stay, for the record) and a corrected
    file can be sent under a new key. Withdrawing twice is the same as once.

    Refused while the batch is being processed, and once the application its rows are evidence
    for has a decision: the direction-3 application built from the enterprise's consumption, or
    the applicant's application a settlement batch is attached to.
    """
    with transaction.atomic():
        batch = ConsumptionBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == ConsumptionBatch.WITHDRAWN:
            return batch
        if batch.status == ConsumptionBatch.RUNNING:
            raise Refused(
                409,
                "批次正在处理，处理完成后才能撤回 (the batch is being processed: withdraw it "
                "once it is done)",
            )
        if batch.settles_application_id is not None:
            evidence_for = [batch.settles_application]
        else:
            evidence_for = [
                entry.application
                for entry in ShortlistEntry.objects.filter(
                    project__platform=batch.platform,
                    project__enterprise_uscc=batch.enterprise_uscc,
                    application__isnull=False,
                ).select_related("application")
            ]
        decided = [a for a in evidence_for if a is not None and a.state not in UNDECIDED_STATES]
        if decided:
            raise Refused(
                409,
                "批次所支撑的申报已作出审核决定，不能撤回 (the application this batch is "
                "evidence for has a decision)",
                f"application {decided[0].reference} is {decided[0].state}",
            )
        before = batch.status
        batch.status = ConsumptionBatch.WITHDRAWN
        batch.withdrawn_at = timezone.now()
        batch.save(update_fields=["status", "withdrawn_at"])
        audit(
            actor=None,
            action="platform_batch_withdraw",
            obj=batch,
            data={**_actor(token), "status_before": before},
        )
    return batch


def batch_submit(
    *,
    token: ApiToken,
    uscc: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
) -> tuple[ConsumptionBatch, bool]:
    """Store the file (content-addressed) and queue it once per Idempotency-Key.

    Same key and same file: the batch already queued or processed, `created` False. Same key,
    another file: refused with 409. The file is hashed while it is copied, never held whole.
    """
    _listed_project(token.platform, uscc)  # the key is checked with the rest of the upload
    return _batch_create(
        token=token,
        uscc=uscc,
        upload=upload,
        file_name=file_name,
        idempotency_key=idempotency_key,
    )


# --- settlement data for directions 1, 2 and 4 (14-1 五) ---------------------------------------

SETTLEMENT_CLOSED_STATES = ("draft", "withdrawn")
# Settlement rows are compared uncut with the declared lines (the engine cuts the declaration to
# the claim period itself): a window wide enough for any contract.
SETTLEMENT_WINDOW = (date(2000, 1, 1), date(2099, 12, 31))


def settlement_target(*, token: ApiToken, uscc: str, contract_id: str) -> tuple[Application, Any]:
    """The applicant's contract a settlement batch attaches to, or the refusal naming the field.

    The latest submitted (not draft, not withdrawn) application of the round, direction 1, 2 or
    4, of the enterprise `uscc`, with a contract `contract_id`; only the platform whose
    organisation (Platform.uscc) is that contract's supplier may attach settlement data.
    """

    if not token.platform.uscc:
        raise Refused(
            403,
            "平台未登记运营单位 (the platform's organisation is not registered)",
            "an administrator records the USCC of the organisation running the platform",
            errors=[{"location": "platform.uscc", "message": "not registered"}],
        )
    # Only contracts this platform's organisation supplies are looked at, and every miss gets
    # the same answer: a platform must not learn who applied, in which direction, or which
    # contracts someone else declared (confidential until the publicity list).
    contract = (
        Contract.objects.filter(
            application__round__code=current_effective_round().policy_round.id,
            application__enterprise__uscc=uscc,
            contract_id=contract_id,
            supplier_uscc=token.platform.uscc,
        )
        .exclude(application__state__in=SETTLEMENT_CLOSED_STATES)
        .exclude(application__direction=3)  # direction 3 sends consumption-batches instead
        .select_related("application")
        .order_by("-application__pk")
        .first()
    )
    if contract is None:
        raise Refused(
            404,
            "没有由本平台供应的该合同 (no such contract supplied by this platform)",
            "no submitted direction-1, 2 or 4 application of this enterprise declares this "
            "contract with the platform's organisation as its supplier",
            errors=[{"location": "path.contract_id", "message": "no such contract of yours"}],
        )
    return contract.application, contract


def settlement_submit(
    *,
    token: ApiToken,
    uscc: str,
    contract_id: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
) -> tuple[ConsumptionBatch, bool]:
    """Queue a settlement file (the consumption format) as evidence for an applicant's contract."""
    application, contract = settlement_target(token=token, uscc=uscc, contract_id=contract_id)
    return _batch_create(
        token=token,
        uscc=uscc,
        upload=upload,
        file_name=file_name,
        idempotency_key=idempotency_key,
        settles=(application, contract.contract_id),
    )


def batch_contract_terms(batch: ConsumptionBatch) -> dict[tuple[str, str], tuple[date, date]]:
    if batch.settles_application_id is not None:
        return {(batch.enterprise_uscc, batch.settles_contract_id): SETTLEMENT_WINDOW}
    terms = {}
    for stored in PlatformContract.objects.filter(
        platform=batch.platform, enterprise_uscc=batch.enterprise_uscc
    ):
        document = stored.document
        terms[(stored.enterprise_uscc, stored.contract_id)] = (
            date.fromisoformat(document["valid_from"]),
            date.fromisoformat(document["valid_to"]),
        )
    return terms


def _claim(batch_id: int | None) -> ConsumptionBatch | None:
    """Take one batch to process: the given one, or the oldest queued or abandoned one."""
    now = timezone.now()
    with transaction.atomic():
        candidates = ConsumptionBatch.objects.select_for_update(skip_locked=True)
        if batch_id is not None:
            candidates = candidates.filter(pk=batch_id)
        batch = (
            candidates.filter(status=ConsumptionBatch.QUEUED).order_by("pk").first()
            or candidates.filter(status=ConsumptionBatch.RUNNING, locked_at__lt=now - STALE_AFTER)
            .order_by("pk")
            .first()
        )
        if batch is None:
            return None
        batch.status = ConsumptionBatch.RUNNING
        batch.attempts += 1
        batch.locked_at = now
        batch.save(update_fields=["status", "attempts", "locked_at"])
    return batch


_AGGREGATE_COLUMNS = (
    "batch_id",
    "enterprise_uscc",
    "contract_id",
    "month",
    "resource_type",
    "device",
    "unit",
    "amount",
    "quantity",
    "outside_amount",
    "row_count",
    "prorated_rows",
    "first_row",
    "last_row",
    "row_sum",
    "first_second",
    "last_second",
)


# Aggregates per INSERT statement: one statement of 50 rows costs SQLite a third less than 50
# of one row (its per-statement work: measured 0.49 s against 0.77 s for 270,000 rows). 50 × 17
# parameters stays far below SQLite's 32,766 and PostgreSQL's 65,535.
ROWS_PER_INSERT = 50


def aggregates_store(*, batch: ConsumptionBatch, result: consumption.IngestResult) -> int:
    """Insert the aggregates with parameterised statements of ROWS_PER_INSERT rows each (the
    ORM's per-object work costs more than the ingest itself at a few hundred thousand rows).
    Call inside the batch's transaction."""
    table = connection.ops.quote_name(ConsumptionAggregate._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _AGGREGATE_COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_AGGREGATE_COLUMNS)) + ")"
    sql = f"INSERT INTO {table} ({columns}) VALUES "
    many = sql + ", ".join([row] * ROWS_PER_INSERT)
    width = ROWS_PER_INSERT * len(_AGGREGATE_COLUMNS)
    rows = result.stored_rows(batch.pk)
    count = 0
    with connection.cursor() as cursor, _sqlite_page_cache(cursor):
        while chunk := list(itertools.islice(rows, 100 * ROWS_PER_INSERT)):
            whole = len(chunk) - len(chunk) % ROWS_PER_INSERT
            if whole:  # ROWS_PER_INSERT rows' values, flat, per statement
                values = itertools.chain.from_iterable(chunk[:whole])
                cursor.executemany(many, list(zip(*[values] * width, strict=False)))
            if whole < len(chunk):  # the last few, one statement each
                cursor.executemany(sql + row, chunk[whole:])
            count += len(chunk)
    return count


@contextlib.contextmanager
def _sqlite_page_cache(cursor: Any) -> Iterator[None]:
    """SQLite (the demo's database) with a page cache of up to 128 MiB while the aggregates
    go in: with its default 2 MiB it writes pages out in the middle of the transaction, and
    inserting 270,000 aggregates took a fifth longer (measured: 1.63 s against 1.33 s)."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (previous,) = cursor.fetchone()
    cursor.execute("PRAGMA cache_size = -131072")  # KiB; pages are allocated as needed
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def batch_process(
    *, batch_id: int | None = None, before_store: Callable[[], None] | None = None
) -> ConsumptionBatch | None:
    """The job: ingest one batch and store its aggregates, all or nothing.

    Reading and aggregating happen outside any transaction; the result is stored in one
    transaction, so a worker that dies (or an error) leaves nothing half stored, and the batch
    is taken again (queued after an error, or when its lock goes stale after a kill).
    `before_store` lets the tests fail in the middle of storing.
    """
    batch = _claim(batch_id)
    if batch is None:
        return None
    # what a worker killed in the middle of an ingest left in the temporary directory (a batch
    # it held is taken again here, once its lock is stale); the sweep never raises
    for leftover in scratch.sweep():
        logger.warning("removed the scratch item of a worker that is gone: %s", leftover)
    path = batch_dir() / batch.file_sha256
    policy_round = current_effective_round().policy_round
    window = (
        SETTLEMENT_WINDOW
        if batch.settles_application_id is not None
        else (policy_round.window_start, policy_round.window_end)
    )
    try:
        try:
            result = consumption.ingest_file(
                path,
                window=window,
                contracts=batch_contract_terms(batch),
            )
            refusal = ""
        except consumption.BatchRefused as refused:
            result, refusal = consumption.IngestResult(), str(refused)
            result.errors = refused.errors  # the bad rows found before it, if that is why
            result.rows_rejected = len({error.row for error in refused.errors})
        with transaction.atomic():
            locked = ConsumptionBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.status != ConsumptionBatch.RUNNING or locked.attempts != batch.attempts:
                return locked  # another worker took it over: its result counts, not ours
            locked.aggregates.all().delete()
            aggregates_store(batch=locked, result=result)
            if before_store is not None:
                before_store()
            locked.status = ConsumptionBatch.REFUSED if refusal else ConsumptionBatch.DONE
            locked.refusal = refusal
            locked.summary = result.summary()
            locked.error_report = consumption.errors_csv(result.errors)
            locked.finished_at = timezone.now()
            locked.locked_at = None
            locked.save()
            audit(
                actor=None,
                action="platform_batch_process",
                obj=locked,
                data={"status": locked.status, "refusal": refusal, **locked.summary},
            )
        return locked
    except Exception as error:
        batch.refresh_from_db()
        batch.status = (
            ConsumptionBatch.FAILED if batch.attempts >= MAX_ATTEMPTS else ConsumptionBatch.QUEUED
        )
        batch.refusal = f"{type(error).__name__}: {error}"[:2000]
        batch.locked_at = None
        batch.save(update_fields=["status", "refusal", "locked_at"])
        raise


# --- the direction-3 application ----------------------------------------------------------------


def d3_application_build(*, entry: ShortlistEntry, acting_user: Any) -> StoredEvaluation:
    """The application the enterprise never files: project, screening, contracts, consumption.

    Imported through `application_import`, evaluated by the same engine and submitted: the
    platform files it for the enterprise (免申即享), so it goes straight to the bureau's queue.
    Re-building stores a new application; the previous one stays, with its evaluation, for the
    record, withdrawn if no decision was taken on it yet (after a decision re-building is
    refused). The reconciliation of each contract is stored with it, differences flagged.
    """

    _require_screener(acting_user)
    project = entry.project
    if entry.decision != ShortlistEntry.LISTED:
        raise Refused(409, "项目未列入名单 (project not listed)")
    previous = entry.application
    if previous is not None and previous.state not in UNDECIDED_STATES:
        raise Refused(
            409,
            "已作出审核决定的申报不能重新生成 (the built application has a decision)",
            f"application {previous.reference} is {previous.state}",
        )
    contracts = []
    reconciliations = []
    for stored in PlatformContract.objects.filter(
        platform=project.platform, enterprise_uscc=project.enterprise_uscc
    ).order_by("contract_id"):
        deliveries = delivery_lines_of(
            platform=project.platform, uscc=project.enterprise_uscc, contract_id=stored.contract_id
        )
        contracts.append({**stored.document, "deliveries": deliveries})
        # flagged for the reviewer, never corrected: the deliveries stay the platform's figures
        reconciliations.append(
            selectors.d3_reconciliation(stored=stored)
        )  # module lookup: tests patch it
    document = fmt.parse_application(
        {
            "format": fmt.FORMAT_ID,
            "round": current_effective_round().policy_round.id,
            "submitted_on": timezone.localdate().isoformat(),
            "direction": 3,
            "applicant": project.enterprise,
            "project": {
                "name": project.name,
                "start_date": project.start_date.isoformat(),
                "overview": project.scenario,
                "ai_field": True,
                "action_plan_aligned": entry.action_plan_aligned,
                "open_source": (
                    {
                        "platform": project.platform.code,
                        "url": project.url,
                        "scenario_aligned": entry.scenario_aligned,
                    }
                    if entry.open_source
                    else None
                ),
            },
            "declarations": {"other_municipal_compute_support": False},
            "contracts": contracts,
        }
    )
    with transaction.atomic():
        # Two screeners building at once, or a reviewer deciding meanwhile: the shortlist entry
        # and the previous build are locked and the previous one's state is checked again.
        locked_entry = ShortlistEntry.objects.select_for_update().filter(pk=entry.pk).first()
        # the document was built from what was read before the lock: the screening (saved again,
        # or deleted by the platform changing its project) and the project must still be those
        if (
            locked_entry is None
            or locked_entry.conclusion != entry.conclusion
            or _screened(Project.objects.get(pk=project.pk)) != _screened(project)
        ):
            raise Refused(
                409,
                "筛选结论或项目在生成期间有变化，请刷新后重新生成 (the screening or the project "
                "changed meanwhile: reload and build again)",
            )
        entry = locked_entry
        replaced = None
        if entry.application_id is not None:
            previous = Application.objects.select_for_update().get(pk=entry.application_id)
            if previous.state not in UNDECIDED_STATES:
                raise Refused(
                    409,
                    "已作出审核决定的申报不能重新生成 (the built application has a decision)",
                    f"application {previous.reference} is {previous.state}",
                )
            if previous.state in WITHDRAWABLE_STATES:
                # withdrawn before the new one is evaluated: it no longer counts for ONE_DIRECTION
                application_transition(
                    application=previous,
                    transition="withdraw",
                    acting_user=acting_user,
                    data={"reason": "rebuilt from the platform's data (重新生成)"},
                )
                replaced = previous.pk
        application: Application = application_import(
            document=document,
            acting_user=acting_user,
            source_name=f"platform:{project.platform.code}:{project.external_id}",
        )
        application = lock(application)  # evaluated, then submitted, as this one locked row
        entry.application = application
        entry.save(update_fields=["application"])
        for result in reconciliations:
            ContractReconciliation.objects.create(
                application=application,
                contract_id=result.contract_id,
                result=result.as_json(),
                differences=len(result.differences),
            )
        audit(
            actor=acting_user,
            action="platform_d3_reconcile",
            obj=application,
            data={
                "project": project.pk,
                "differences": {
                    r.contract_id: [c.kind for c in r.differences] for r in reconciliations
                },
            },
        )
        stored_evaluation = application_evaluate(application=application, acting_user=acting_user)
        application_transition(
            application=application,
            transition="submit",
            acting_user=acting_user,
            action="platform_d3_submit",
            data={"project": project.pk, "replaces": replaced},
            snapshot=False,
        )
    return stored_evaluation
