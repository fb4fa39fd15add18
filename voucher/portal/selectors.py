"""Reads of the portal: the self-check, what still blocks submission, the status timeline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from django.db.models.query import MAX_GET_RESULTS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voucher.applications import models as m
from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import (
    EXPORTED_CONTRACT_ROWS,
    ContractRows,
    application_export,
    contract_rows,
    document_sha256,
)
from voucher.applications.models import MaterialFile
from voucher.applications.parameters import effective_round
from voucher.applications.people import label_of
from voucher.applications.selectors import (
    MISSING,
    OUTCOME_LABELS,
    STATUS_LABELS,
    SupplementView,
    latest_evaluation,
    selected,
    supplement_requests_for,
)
from voucher.applications.states import SUPPLEMENT_STATES
from voucher.applications.wording import finding_text, plain_message, rule_title
from voucher.core import precompiled
from voucher.core.models import AuditEntry
from voucher.documents.models import ImplementationReport
from voucher.documents.package import PackagedFile
from voucher.documents.report_sections import SECTIONS
from voucher.policy import ENGINE_VERSION
from voucher.policy import format as fmt
from voucher.policy.clauses import CLAUSES, clause_ids
from voucher.policy.engine import MATERIAL_NAMES
from voucher.policy.format import FormatError
from voucher.policy.money import format_yuan_grouped, line_amount_difference
from voucher.policy.relations import ROLE_NAMES
from voucher.policy.round import get_round
from voucher.policy.rules.contract import FLAGGED, NOT_COMPUTE, OUTSIDE_PERIOD, delivery_part
from voucher.portal.advice import advice_for
from voucher.portal.models import DraftProgress, Submission
from voucher.portal.steps import REQUIRED_STEPS, STEPS, step_for_path
from voucher.registry.models import Company, Officer, Shareholding
from voucher.registry.templatetags.registry_paths import _percent, chain

# the registry's role names (voucher.policy.relations.ROLE_NAMES), for the catalogue
ROLE_LABELS = (
    gettext_noop("董事"),
    gettext_noop("监事"),
    gettext_noop("高级管理人员"),
    gettext_noop("法定代表人"),
)
CAP_RULES = ("RATE_CAP", "STACKING_CAP", "AMOUNT_CAP", "REQUESTED")


@dataclass(frozen=True)
class Problem:
    step: str
    label: str
    message: str


@dataclass(frozen=True)
class FindingItem:
    rule: str
    title: str  # what the rule is about, in words: the id is for the bureau
    status: str
    status_label: str
    contract: str | None
    message: str
    clauses: list[tuple[str, str]]
    advice: str
    message_lang: str = "zh-Hans"  # "en" when an English page renders the finding in English
    # related-party paths (SUPPLIER_EQUITY / SUPPLIER_PERSONNEL): (caption, steps) for the
    # registry's path_diagram tag, and the effective indirect ratio when there is one
    diagrams: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    effective_ratio: str = ""


@dataclass
class SelfCheck:
    evaluated: bool
    problems: list[Problem] = field(default_factory=list)  # fields the engine cannot read yet
    outcome: str = ""
    outcome_label: str = ""
    approved_max: Decimal | None = None
    computed: Decimal | None = None
    cap: Decimal | None = None
    requested: Decimal | None = None
    contracts: list[dict[str, Any]] = field(default_factory=list)
    caps: list[FindingItem] = field(default_factory=list)
    findings: list[FindingItem] = field(default_factory=list)
    missing_materials: list[str] = field(default_factory=list)
    evaluation_id: int | None = None


def format_problems(error: FormatError) -> list[Problem]:
    out = []
    for path, message in error.problems:
        step, label = step_for_path(path)
        out.append(Problem(step, _(label), plain_message(path, message)))
    return out


def contracts_with_rows(application: m.Application, *, exported: bool) -> ContractRows:
    """The application's contracts in their order, each kind of their rows read in one query:
    their lines (the supplier's word is on them), and with `exported` the rest that
    application_export reads (the status page reads them once for both)."""
    rows = EXPORTED_CONTRACT_ROWS if exported else ("deliveries", "invoices", "payments")
    return contract_rows(application, rows)


def document_problems(
    application: m.Application, contracts: Sequence[m.Contract] | ContractRows | None = None
) -> list[Problem]:
    """What the application must have before its documents (14-2, 14-3, 14-4, the package) can
    be made: the fields the format still misses, by step; [] when they can be made.
    `contracts`: as application_export takes them, when the caller read them already."""
    try:
        application_export(application, contracts)
    except FormatError as exc:
        return format_problems(exc)
    return []


def _labelled(steps: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Show a company's registered name beside its code (persons keep the provider's id)."""
    for step in steps:
        name = names.get(step["node"])
        if name and not step["person"]:
            step["node"] = f"{name}（{step['node']}）"
    return steps


def related_party_diagrams(
    f: dict[str, Any], application: m.Application
) -> tuple[list[tuple[str, list[dict[str, Any]]]], str]:
    """The paths a supplier finding names, as the review screen draws them (registry tags).

    Holdings carry their ratio from the stored registry; a key person shared by both is drawn
    as two arrows (person → applicant, person → supplier) labelled with the roles.
    """

    values = f.get("values") or {}
    chains: list[tuple[str, list[str]]] = []
    diagrams: list[tuple[str, list[dict[str, Any]]]] = []
    if f["rule"] == "SUPPLIER_EQUITY":
        for key, label in (
            ("path", _("持股路径")),
            ("path_to_applicant", _("共同股东 → 申报单位")),
            ("path_to_supplier", _("共同股东 → 供给方")),
        ):
            nodes = values.get(key)
            if isinstance(nodes, list) and len(nodes) > 1:
                chains.append((label, [str(n) for n in nodes]))
        pairs = {(a, b) for _label, nodes in chains for a, b in pairwise(nodes)}
        ratios: dict[tuple[str, str], Any] = {}
        if pairs:
            holders = {a for a, _b in pairs}
            for holding in Shareholding.objects.filter(holder__in=holders):
                ratios[(holding.holder, holding.held)] = holding.ratio
        codes = {n for _label, nodes in chains for n in nodes}
        names = dict(Company.objects.filter(uscc__in=codes).values_list("uscc", "name"))
        for label, nodes in chains:
            steps = chain(nodes, [ratios.get((a, b)) for a, b in pairwise(nodes)])
            diagrams.append((label, _labelled(steps, names)))
    elif f["rule"] == "SUPPLIER_PERSONNEL":
        persons = [str(p) for p in values.get("persons") or []]
        contract = application.contracts.filter(contract_id=f.get("contract") or "").first()
        if persons and contract is not None:
            ends = (
                (_("申报单位"), application.enterprise.uscc),
                (_("供给方"), contract.supplier_uscc),
            )
            officers = Officer.objects.filter(
                person__in=persons, company__in=[code for _label, code in ends]
            ).exclude(role="other")
            roles: dict[tuple[str, str], list[str]] = {}
            for o in officers:
                roles.setdefault((o.person, o.company), []).append(
                    _(ROLE_NAMES.get(o.role, o.role))
                )
            names = dict(
                Company.objects.filter(uscc__in=[c for _l, c in ends]).values_list("uscc", "name")
            )
            for person in persons:
                for label, code in ends:
                    steps = chain([person, code])
                    steps[0]["person"] = True
                    steps[1]["ratio_in"] = "、".join(roles.get((person, code), []))
                    diagrams.append((f"{person} → {label}", _labelled(steps, names)))
    return diagrams, _percent(values.get("effective_ratio"))


def _item(f: dict[str, Any], application: m.Application | None = None) -> FindingItem:
    diagrams: list[tuple[str, list[dict[str, Any]]]] = []
    effective = ""
    if application is not None and f["rule"] in ("SUPPLIER_EQUITY", "SUPPLIER_PERSONNEL"):
        diagrams, effective = related_party_diagrams(f, application)
    message, lang = finding_text(f["rule"], f["status"], f["message"], f.get("values") or {})
    return FindingItem(
        message_lang=lang,
        diagrams=diagrams,
        effective_ratio=effective,
        rule=f["rule"],
        title=rule_title(f["rule"]),
        status=f["status"],
        status_label=_(STATUS_LABELS.get(f["status"], f["status"])),
        contract=f.get("contract"),
        message=message,
        clauses=[
            (CLAUSES[c].where, CLAUSES[c].text) for c in clause_ids(f["clause"]) if c in CLAUSES
        ],
        advice=advice_for(f["rule"], f["status"]),
    )


def self_check(application: m.Application, *, acting_user: Any) -> SelfCheck:
    """The engine's view of the draft, from the stored evaluation the bureau will see.

    When the latest stored evaluation is of this very document (same canonical hash, same
    engine) it is shown; otherwise the draft is evaluated now through application_evaluate and
    stored. A draft the format cannot read yet lists the fields still to fill in instead.
    """
    try:
        document = application_export(application)
    except FormatError as exc:
        return SelfCheck(evaluated=False, problems=format_problems(exc))
    latest = latest_evaluation(application, with_correction_in_progress=True)
    if (
        latest is None
        or latest.document_sha256 != document_sha256(document)
        or latest.engine_version != ENGINE_VERSION
    ):
        latest = application_evaluate(application=application, acting_user=acting_user)
    check = SelfCheck(
        evaluated=True,
        outcome=latest.outcome,
        outcome_label=_(OUTCOME_LABELS[latest.outcome]),
        approved_max=latest.approved_max,
        computed=latest.computed,
        cap=latest.cap,
        requested=latest.requested,
        contracts=latest.contracts,
        evaluation_id=latest.pk,
    )
    for f in latest.findings:
        if f["status"] in ("fail", "review"):
            check.findings.append(_item(f, application))
        elif f["status"] == "info" and f["rule"] in CAP_RULES:
            check.caps.append(_item(f))
    check.findings.sort(key=lambda i: (i.status != "fail", i.contract or ""))
    check.missing_materials = [_(MATERIAL_NAMES.get(x, x)) for x in latest.missing_materials]
    return check


REASON_LABELS = {
    OUTSIDE_PERIOD: gettext_noop("补贴期外交付，不计入（跨越补贴期边界的记录按天折算）"),
    NOT_COMPUTE: gettext_noop("非智能算力服务（存储、网络、安全），不计入补贴基数"),
    FLAGGED: gettext_noop("国家有关部门声明存在安全隐患或不建议使用的设备，不予支持"),
}


@dataclass(frozen=True)
class DeliveryLineView:
    row: m.Delivery
    counted: Decimal
    excluded: Decimal
    reason: str  # REASON_LABELS' text, translated; "" when all of it counts
    expected: Decimal  # quantity × unit price, to the fen
    difference: Decimal  # amount − expected beyond the tolerance; 0 when they agree

    @property
    def difference_abs(self) -> Decimal:
        return abs(self.difference)


@dataclass(frozen=True)
class ClaimTerms:
    """What counts of a contract's deliveries, shown where they are entered (二（一）, 一（六））:
    the round's subsidy period, the contract's part of it, the chosen direction's rate and cap,
    and, line by line, what is left out and why, with the amount."""

    window_start: Any
    window_end: Any
    period: tuple[Any, Any] | None  # the subsidy period ∩ the contract's validity
    direction: str
    rate: Decimal
    cap: Decimal
    stacking_share: Decimal
    lines: list[DeliveryLineView]
    delivered: Decimal
    counted: Decimal
    excluded: list[tuple[str, Decimal]]  # (why, amount), one per reason


def claim_terms(application: m.Application, contract: m.Contract) -> ClaimTerms:
    """The engine's step 2 (policy.rules.contract.delivery_part) on the stored rows, under the
    round's effective parameters (the administrator's flagged devices included)."""
    rnd = effective_round(application.round).policy_round
    terms = rnd.directions[application.direction]
    start = max(rnd.window_start, contract.valid_from)
    end = min(rnd.window_end, contract.valid_to)
    period = (start, end) if start <= end else None
    lines = []
    by_reason: dict[str, Decimal] = {}
    for row in contract.deliveries.all():
        part = delivery_part(row, period, rnd)
        if part.excluded:
            by_reason[part.reason] = by_reason.get(part.reason, Decimal("0.00")) + part.excluded
        expected = (row.quantity * row.unit_price).quantize(Decimal("0.01"), ROUND_HALF_UP)
        lines.append(
            DeliveryLineView(
                row=row,
                counted=part.counted,
                excluded=part.excluded,
                reason=_(REASON_LABELS[part.reason]) if part.excluded else "",
                expected=expected,
                difference=line_amount_difference(row.quantity, row.unit_price, row.amount),
            )
        )
    return ClaimTerms(
        window_start=rnd.window_start,
        window_end=rnd.window_end,
        period=period,
        direction=_(application.get_direction_display()),
        rate=terms.rate,
        cap=terms.amount_cap,
        stacking_share=rnd.stacking_share,
        lines=lines,
        delivered=sum((x.row.amount for x in lines), Decimal("0.00")),
        counted=sum((x.counted for x in lines), Decimal("0.00")),
        excluded=[(_(REASON_LABELS[k]), v) for k, v in by_reason.items()],
    )


def progress_of(application: m.Application) -> DraftProgress:
    """The application's steps done, made on the first visit (get_or_create): the read that
    finds it, every wizard page's, its SQL written once per process (decisions 0050 and 0055)."""
    found = precompiled.rows(
        "portal.progress_of",
        DraftProgress,
        lambda application_id: (  # as get() asks it
            DraftProgress.objects.filter(application_id=application_id).order_by()[:MAX_GET_RESULTS]
        ),
        application_id=application.pk,
    )
    if len(found) == 1:
        return found[0]
    progress, _created = DraftProgress.objects.get_or_create(application=application)
    return progress


def material_slots(application: m.Application) -> list[dict[str, Any]]:
    files = list(MaterialFile.objects.filter(application=application))
    required = set(get_round(application.round.code).required_materials)
    return [
        {
            "id": mid,
            "name": _(name),
            "required": mid in required,
            "files": [f for f in files if f.material == mid],
        }
        for mid, name in MATERIAL_NAMES.items()
    ]


def submission_blockers(application: m.Application) -> list[Problem]:
    """What must still be done before the application may be submitted (empty: ready)."""
    return blockers_and_document(application)[0]


def blockers_and_document(
    application: m.Application, progress: DraftProgress | None = None
) -> tuple[list[Problem], fmt.Application | None]:
    """submission_blockers, and the interchange document they read (None if it cannot be
    read): the submission freezes that very document rather than exporting it again.
    `progress`: progress_of(application), when the caller read it already (the submission
    marks its step done)."""
    out: list[Problem] = []
    document = None
    if progress is None:
        progress = progress_of(application)
    # the contracts and their rows read once: whether there is one, and the export
    contracts = contract_rows(application)
    titles = {
        "applicant": _("申报单位"),
        "project": _("项目情况"),
        "contracts": _("算力合同"),
        "report": _("实施情况报告"),
        "declarations": _("声明事项"),
    }
    for step in REQUIRED_STEPS:
        if step not in progress.steps_done:
            out.append(Problem(step, titles[step], _("“%(s)s”一步尚未保存") % {"s": titles[step]}))
    if not contracts.contracts:
        out.append(Problem("contracts", _("算力合同"), _("至少填写一份算力合同")))
    report = selected(application, "implementation_report", missing=MISSING)
    if report is MISSING:
        report = ImplementationReport.objects.filter(application=application).first()
    for section in SECTIONS:
        if report is None or not getattr(report, section.field).strip():
            out.append(
                Problem("report", section.heading, _("“%(h)s”尚未填写") % {"h": section.heading})
            )
    if progress.commitment_acknowledged_at is None:
        out.append(Problem("commitment", _("承诺书"), _("尚未阅读并确认承诺书")))
    for slot in material_slots(application):
        if slot["required"] and not slot["files"]:
            out.append(
                Problem("materials", slot["name"], _("尚未上传“%(m)s”") % {"m": slot["name"]})
            )
    try:
        document = application_export(application, contracts)
    except FormatError as exc:
        out += format_problems(exc)
    return out, document


@dataclass(frozen=True)
class TimelineEntry:
    when: Any
    who: str
    what: str
    detail: str


TIMELINE_LABELS = {
    "application_create": gettext_noop("创建申报草稿"),
    "application_update": gettext_noop("保存"),
    "contract_save": gettext_noop("保存算力合同"),
    "contract_delete": gettext_noop("删除算力合同"),
    "contract_row_add": gettext_noop("添加合同明细"),
    "contract_row_delete": gettext_noop("删除合同明细"),
    "contract_rows_import": gettext_noop("从表格导入"),
    "implementation_report_save": gettext_noop("保存实施情况报告"),
    "declarations_save": gettext_noop("保存声明事项"),
    "commitment_acknowledge": gettext_noop("确认承诺书"),
    "material_file_add": gettext_noop("上传材料"),
    "material_file_delete": gettext_noop("删除材料"),
    "application_submit": gettext_noop("提交申报"),
    "supplement_answer": gettext_noop("答复补正"),
    "supplement_resubmit": gettext_noop("补正后重新提交"),
}


# What the bureau did that concerns the applicant; its internal steps (assignment, resolved
# findings, proposals, views of contact data, exports) stay off the applicant's timeline.
BUREAU_TIMELINE_LABELS = {
    "application_accept": gettext_noop("受理并进行形式审查"),
    "application_pass_formal_check": gettext_noop("形式审查通过，进入审核"),
    "supplement_request": gettext_noop("审核人员要求补正"),
    "application_resume_review": gettext_noop("补正后继续审核"),
    "decision_confirm": gettext_noop("作出审核决定"),
    "application_publicize": gettext_noop("列入公示名单"),
    "payment_record": gettext_noop("拨付资金"),
    "clawback_request": gettext_noop("通知退还资金"),
    "clawback_refund": gettext_noop("资金已退还"),
    "application_mark_overdue": gettext_noop("逾期未退还"),
}
APPLICANT_REVIEW_LABELS = {
    "application_withdraw": gettext_noop("申报单位撤回申报"),
}


# the actions the timeline shows (any other entry is left out)
TIMELINE_ACTIONS = (*TIMELINE_LABELS, *APPLICANT_REVIEW_LABELS, *BUREAU_TIMELINE_LABELS)


def _grouped_yuan(value: Any) -> str:
    """An amount the audit log kept (a string of yuan) as people read money: 2,300,000.00."""
    try:
        return format_yuan_grouped(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return str(value)


def _timeline_entries(application_id: int) -> Any:
    """The audit entries `timeline` shows of the application, as values."""
    return (
        AuditEntry.objects.filter(
            object_type="applications.application",
            object_id=str(application_id),
            # the entries the timeline shows, no others: a draft's self-check evaluations are
            # a third of its entries, each with its findings in `data`
            action__in=TIMELINE_ACTIONS,
        )
        # what an entry shows, as values: not its chain's hashes and keys, nor the actor's
        # password; and not a user object per entry (a draft saved step by step has hundreds
        # of entries by the same person), only one per person (below)
        .values_list(
            "created_at",
            "action",
            "data",
            "actor_label",
            "actor_id",
            "actor__first_name",
            "actor__last_name",
            "actor__username",
        )
        .order_by("created_at", "id")
    )


def timeline(application: m.Application) -> list[TimelineEntry]:
    """What happened to the application, oldest first; self-check evaluations and the bureau's
    internal steps are left out, and the bureau's people are shown as the bureau."""
    # its SQL written once per process (decisions 0050 and 0055): the id as the text of the
    # entry's object_id, the actions a fixed list
    rows = precompiled.rows(
        "portal.timeline",
        AuditEntry,
        lambda application_id: _timeline_entries(application_id),
        application_id=application.pk,
    )
    user_model: Any = AuditEntry._meta.get_field("actor").related_model
    out = []
    # what repeats row after row (a draft is saved step by step: hundreds of entries by the same
    # person) is translated and named once per page
    titles = {st.slug: st.title for st in STEPS}
    said: dict[str, str] = {}
    saved: dict[str, str] = {}
    names: dict[tuple[Any, str], str] = {}
    for created_at, action, data, actor_label, actor_id, first, last, username in rows:
        person = (actor_id, actor_label)
        if person not in names:
            # the user as select_related("actor") read it: what label_of reads of it
            actor = (
                None
                if actor_id is None
                else user_model(id=actor_id, first_name=first, last_name=last, username=username)
            )
            names[person] = label_of(actor, actor_label)  # a name, never oidc:<sub>
        who = names[person]
        if action in TIMELINE_LABELS:
            label = TIMELINE_LABELS[action]
        elif action in APPLICANT_REVIEW_LABELS:
            label = APPLICANT_REVIEW_LABELS[action]
        elif action in BUREAU_TIMELINE_LABELS:
            label = BUREAU_TIMELINE_LABELS[action]
            who = _("管理部门")
        else:
            continue
        detail = ""
        data = data or {}
        if action == "application_update":
            step = str(data.get("step", ""))
            if step not in saved:
                saved[step] = _("保存“%(s)s”") % {"s": _(titles.get(step, step))}
            label = saved[step]
        elif action == "material_file_add":
            detail = f"{MATERIAL_NAMES.get(data.get('material', ''), '')}：{data.get('name', '')}"
        elif action in ("contract_save", "contract_delete", "contract_row_add"):
            detail = str(data.get("contract", ""))
        elif action in ("application_submit", "supplement_resubmit"):
            detail = _("回执编号 %(r)s") % {"r": data.get("receipt", "")}
        elif action == "decision_confirm":
            detail = (
                _("予以支持，核定补贴金额 %(amount)s 元")
                % {"amount": _grouped_yuan(data.get("amount"))}
                if data.get("kind") == "approval"
                else _("不予支持（理由见审核结果通知书）")
            )
        elif action == "payment_record":
            detail = _("拨付 %(amount)s 元") % {"amount": _grouped_yuan(data.get("amount"))}
        if label not in said:
            said[label] = _(label)
        out.append(TimelineEntry(created_at, who, said[label], detail))
    return out


def open_supplement_view(application: m.Application) -> SupplementView | None:
    """The bureau's open supplement request as the applicant sees it (every wizard page)."""
    if application.state not in SUPPLEMENT_STATES:
        return None
    return next((s for s in supplement_requests_for(application) if s.open), None)


def latest_submission(application: m.Application) -> Submission | None:
    return (
        application.submissions.select_related("evaluation")
        .order_by("-submitted_at", "-id")
        .first()
    )


def material_files(application: m.Application) -> list[MaterialFile]:
    """`MaterialFile.objects.filter(application=application)`, in their order (material, upload),
    its SQL written once per process (decisions 0050 and 0055): the status page's files."""
    return precompiled.rows(
        "portal.material_files",
        MaterialFile,
        lambda application_id: MaterialFile.objects.filter(application_id=application_id),
        application_id=application.pk,
    )


def latest_submission_shown(application: m.Application) -> Submission | None:
    """latest_submission with what the status page shows of it: not the frozen document, nor
    the evaluation's findings and contracts (JSON decoded for nothing on every visit)."""
    # its SQL written once per process (decisions 0050 and 0055)
    found = precompiled.rows(
        "portal.latest_submission_shown",
        Submission,
        lambda application_id: (
            Submission.objects.filter(application_id=application_id)
            .select_related("evaluation")
            .only(
                "application_id",
                "receipt_number",
                "submitted_at",
                "document_sha256",
                "round_code",
                "engine_version",
                "evaluation",
                "evaluation__outcome",
                "evaluation__approved_max",
            )
            .order_by("-submitted_at", "-id")[:1]  # as .first() asks it
        ),
        application_id=application.pk,
    )
    if not found:
        return None
    found[0].application = application  # as application.submissions leaves it
    return found[0]


def submitted_applicant(submission: Submission) -> dict[str, str]:
    """The applicant's name and USCC as submitted (the frozen document), for the receipt."""
    try:
        applicant = json.loads(submission.document_json).get("applicant") or {}
    except (ValueError, AttributeError):
        return {}
    return {k: str(applicant[k]) for k in ("name", "uscc") if applicant.get(k)}


def packaged_material_files(application: m.Application) -> list[PackagedFile]:
    """The uploads of an application as the package's materials checklist lists them."""
    return [
        {"name": f.original_name, "size": f.size, "sha256": f.sha256, "material": f.material}
        for f in MaterialFile.objects.filter(application=application)
    ]
