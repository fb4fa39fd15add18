"""Reads for the pages: plain data ready for a template, computed from the stored evaluations."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voucher.applications.absent_rows import has_none
from voucher.applications.interchange import application_export, document_sha256
from voucher.applications.models import (
    CONFIRMED,
    Application,
    Contract,
    Decision,
    Delivery,
    Invoice,
    ListedEnterprise,
    OfficialList,
    OfficialListEntry,
    OtherSubsidy,
    Payment,
    PolicyRoundRecord,
    RegistryOfficer,
    RegistryShareholding,
    StoredEvaluation,
    SupplementRequest,
)
from voucher.applications.wording import finding_text
from voucher.core import precompiled
from voucher.policy.clauses import CLAUSES, clause_ids
from voucher.policy.lists import ListedEntry, OfficialLists, filing_key
from voucher.policy.round import get_rounds

# the decision in force: the one the approver confirmed last
_CONFIRMED_LAST = ("-confirmed_at", "-id")


def confirmed_decision(application: Application) -> Decision | None:
    """The decision the approver confirmed last (none while it is only proposed): the one the
    notice states, the payment pays and the payment batch lists."""
    # its SQL written once per process (decisions 0050 and 0055: the status page asks it)
    found = precompiled.rows(
        "applications.confirmed_decision",
        Decision,
        lambda application_id: Decision.objects.filter(
            application_id=application_id, status=CONFIRMED
        ).order_by(*_CONFIRMED_LAST)[:1],  # as .first() asks it
        application_id=application.pk,
    )
    return found[0] if found else None


def confirmed_decisions(
    applications: Iterable[Application] | QuerySet[Application],
) -> dict[int, Decision]:
    """`confirmed_decision` of each of `applications` (those that have one), in one query (a
    queryset of them: one query even when it is empty)."""
    chosen = (
        applications.values("pk")
        if isinstance(applications, QuerySet)
        else [a.pk for a in applications]
    )
    found: dict[int, Decision] = {}
    for decision in Decision.objects.filter(application__in=chosen, status=CONFIRMED).order_by(
        "application_id", *_CONFIRMED_LAST
    ):
        found.setdefault(decision.application_id, decision)
    return found


# The engine's labels (voucher.policy.results) are Chinese; these literals let makemessages
# find them so the English catalogue can translate them. A test checks they match the engine.
OUTCOME_LABELS = {
    "eligible": gettext_noop("符合条件"),
    "ineligible": gettext_noop("不符合条件"),
    "needs_review": gettext_noop("需人工审核"),
    "incomplete": gettext_noop("材料不全"),
}
STATUS_LABELS = {
    "pass": gettext_noop("通过"),
    "fail": gettext_noop("不通过"),
    "review": gettext_noop("待审核"),
    "info": gettext_noop("说明"),
}
DIRECTION_LABELS = {
    1: gettext_noop("方向一"),
    2: gettext_noop("方向二"),
    3: gettext_noop("方向三"),
    4: gettext_noop("方向四"),
}
MATERIAL_LABELS = {
    "contract": gettext_noop("算力合同"),
    "demand_qualification": gettext_noop("需求方资质证明"),
    "supply_qualification": gettext_noop("供给方资质证明"),
    "invoice_or_payment": gettext_noop("发票或付款凭证"),
    "settlement": gettext_noop("结算及使用明细"),
    "usage_table": gettext_noop("算力使用情况表（附件14-2）"),
    "implementation_report": gettext_noop("项目实施情况报告（附件14-3）"),
    "commitment_letter": gettext_noop("承诺书（附件14-4）"),
}
STATUS_ORDER = ("fail", "review", "info", "pass")


def outcome_label(outcome: str | None) -> str:
    return _(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else _("尚未评估")


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    reference: str
    applicant_name: str
    uscc: str
    project_name: str
    direction: int
    direction_label: str
    submitted_on: Any
    outcome: str | None
    outcome_label: str
    approved_max: Decimal | None
    fail_count: int
    review_count: int


def latest_evaluation(
    application: Application, *, with_correction_in_progress: bool = False
) -> StoredEvaluation | None:
    """The latest evaluation the bureau judges by: not one of a correction in progress.

    `with_correction_in_progress`: the latest of any, including those of the version being
    corrected during 补正: the application as it is now, for the applicant.

    None while the submitted version's evaluation is pending (`evaluation_pending`: the jobs'
    worker evaluates it after the request): an evaluation of an earlier draft is not the
    submission's, so every step that needs an evaluation refuses until it is stored.
    """
    if application.evaluation_pending:
        return None

    def latest(application_id: int) -> Any:
        evaluations = StoredEvaluation.objects.filter(application_id=application_id)
        if not with_correction_in_progress:
            evaluations = evaluations.seen_by_bureau()
        return evaluations.order_by("-created_at", "-id")[:1]

    # application.evaluations' first(), its SQL written once per process (decision 0050)
    found = precompiled.rows(
        f"applications.latest_evaluation:{with_correction_in_progress}",
        StoredEvaluation,
        latest,
        application_id=application.pk,
    )
    if not found:
        return None
    found[0].application = application  # as the related manager leaves it
    return found[0]


def latest_seen_by_bureau() -> Any:
    """The bureau's latest evaluation of the application `OuterRef("pk")`, for a subquery."""
    return (
        StoredEvaluation.objects.seen_by_bureau()
        .filter(application=OuterRef("pk"))
        .order_by("-created_at", "-id")
    )


def latest_evaluations(application_ids: Iterable[int]) -> dict[int, StoredEvaluation]:
    """The bureau's latest evaluation of each application that has one, by application id: two
    queries, reading only those evaluations (not every one each application has)."""
    ids = list(
        Application.objects.filter(pk__in=list(application_ids), evaluation_pending=False)
        .annotate(latest=Subquery(latest_seen_by_bureau().values("id")[:1]))
        .exclude(latest=None)
        .values_list("latest", flat=True)
    )
    return {e.application_id: e for e in StoredEvaluation.objects.filter(pk__in=ids)}


def application_rows(directions: Iterable[int] | None = None) -> list[ApplicationRow]:
    """Every application, or those of `directions` (the directions the viewer may see)."""
    query = Application.objects.select_related("enterprise", "round")
    if directions is not None:
        query = query.filter(direction__in=list(directions))
    applications = list(query.order_by("round_id", "submitted_on", "id"))
    latest = latest_evaluations(a.pk for a in applications)
    rows = []
    for a in applications:
        evaluation = latest.get(a.pk)
        findings = evaluation.findings if evaluation else []
        rows.append(
            ApplicationRow(
                id=a.pk,
                reference=a.reference,
                applicant_name=a.applicant_name,
                uscc=a.enterprise.uscc,
                project_name=a.project_name,
                direction=a.direction,
                direction_label=_(DIRECTION_LABELS[a.direction]),
                submitted_on=a.submitted_on,
                outcome=evaluation.outcome if evaluation else None,
                outcome_label=outcome_label(evaluation.outcome if evaluation else None),
                approved_max=evaluation.approved_max if evaluation else None,
                fail_count=sum(1 for f in findings if f["status"] == "fail"),
                review_count=sum(1 for f in findings if f["status"] == "review"),
            )
        )
    return rows


@dataclass(frozen=True)
class FindingView:
    rule: str
    status: str
    contract: str | None
    message: str
    clause: str
    clause_texts: list[tuple[str, str]]  # (where, verbatim text)
    values: dict[str, str]
    message_lang: str = "zh-Hans"  # "en" when an English page renders the finding in English


@dataclass(frozen=True)
class FindingGroup:
    status: str
    label: str
    findings: list[FindingView]


@dataclass
class ApplicationDetail:
    application: Application
    direction_label: str
    evaluation: StoredEvaluation | None
    outcome_label: str
    binding: list[str] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    groups: list[FindingGroup] = field(default_factory=list)
    missing_materials: list[str] = field(default_factory=list)
    round_title: str = ""
    # the application changed after it was evaluated; None: not checked (the review screen,
    # which does not show it, does not ask: exporting and hashing the document was ~2 ms)
    stale: bool | None = False


def _finding_text(f: dict[str, Any]) -> tuple[str, str]:
    """The finding's message in the page's language: the engine's Chinese as it is on a
    Chinese page (the bureau reads it whole), English from the catalogue on an English one."""
    text, lang = finding_text(f["rule"], f["status"], f["message"], f.get("values") or {})
    return (text, lang) if lang == "en" else (f["message"], "zh-Hans")


def _in_english() -> bool:
    """Whether the page is English: finding_text's question, asked once for all findings."""
    return (translation.get_language() or "zh-hans").startswith("en")


def _finding_text_as(f: dict[str, Any], english: bool) -> tuple[str, str]:
    """_finding_text(f) on a page that is `english` or not: a Chinese page shows the engine's
    message as it is, which is what _finding_text answers there (a season's application has a
    hundred and more findings: their translation and gloss were worked out to be dropped)."""
    return _finding_text(f) if english else (f["message"], "zh-Hans")


@functools.lru_cache(maxsize=1024)
def _clause_texts_of(reference: str) -> tuple[tuple[str, str], ...]:
    return tuple((CLAUSES[c].where, CLAUSES[c].text) for c in clause_ids(reference) if c in CLAUSES)


def _clause_texts(reference: str) -> list[tuple[str, str]]:
    """The verbatim clauses `reference` cites (the policy's texts: fixed, so each reference is
    looked up once per process)."""
    return list(_clause_texts_of(reference))


def _binding(evaluation: StoredEvaluation) -> list[str]:
    """Which bound set the maximum amount, in words."""
    if evaluation.outcome == "ineligible":
        return [_("申报不符合条件，最高可核定金额为 0")]
    bounds = []
    if evaluation.approved_max == evaluation.computed:
        bounds.append(_("按合同逐笔测算的补贴合计"))
    if evaluation.approved_max == evaluation.cap:
        bounds.append(_("本方向补贴金额上限"))
    if evaluation.requested is not None and evaluation.approved_max == evaluation.requested:
        bounds.append(_("申请金额"))
    return bounds


# What the interchange document of an application reads (application_export): fetched with the
# application, a query per relation instead of four per contract.
DOCUMENT_PREFETCH = (
    "contracts__deliveries",
    "contracts__invoices",
    "contracts__payments",
    "contracts__other_subsidies",
    "shareholdings",
    "officers",
)


# The relations of DOCUMENT_PREFETCH as fetch_document reads them: a contract's rows, then the
# application's registry extract (the name of each relation, on its holder).
CONTRACT_ROWS = (
    ("deliveries", Delivery),
    ("invoices", Invoice),
    ("payments", Payment),
    ("other_subsidies", OtherSubsidy),
)
REGISTRY_ROWS = (("shareholdings", RegistryShareholding), ("officers", RegistryOfficer))


def fetch_document(application: Application) -> None:
    """`prefetch_known([application], DOCUMENT_PREFETCH)`: the same rows, in the same order, left
    on the application and its contracts as Django's prefetch leaves them (each relation's
    manager's queryset holding its rows, each row's own reference to its holder set), and a
    relation note_absent_rows found empty not asked; but each read by the application's id, its
    SQL written once per process (decision 0050), where the prefetch compiled six queries on
    every screen (one with an IN list of the contracts' ids)."""
    pk = application.pk
    contracts = precompiled.rows(
        "document.contracts",
        Contract,
        lambda application_id: Contract.objects.filter(application_id=application_id),
        application_id=pk,
    )
    _set_fetched(application, "contracts", contracts)
    for name, model in CONTRACT_ROWS:
        held: dict[int, list[Any]] = {c.pk: [] for c in contracts}
        if contracts and not has_none(application, f"contracts__{name}"):
            for row in precompiled.rows(
                f"document.{name}",
                model,
                lambda application_id, model=model: model.objects.filter(
                    contract__application_id=application_id
                ),
                application_id=pk,
            ):
                held[row.contract_id].append(row)
        for contract in contracts:
            _set_fetched(contract, name, held[contract.pk])
    for name, holder_model in REGISTRY_ROWS:
        found = (
            []
            if has_none(application, name)
            else precompiled.rows(
                f"document.{name}",
                holder_model,
                lambda application_id, model=holder_model: model.objects.filter(
                    application_id=application_id
                ),
                application_id=pk,
            )
        )
        _set_fetched(application, name, found)


def _set_fetched(instance: Any, relation: str, rows: list[Any]) -> None:
    """What prefetch_related_objects leaves on `instance` for its reverse relation `relation`
    (Django's prefetch_one_level and the manager's get_prefetch_querysets): the manager's own
    queryset holding `rows`, each row's reference to `instance` set."""
    manager = getattr(instance, relation)
    for row in rows:
        setattr(row, manager.field.name, instance)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[relation] = queryset


def application_detail(
    application_id: int, *, application: Application | None = None, stale_check: bool = True
) -> ApplicationDetail:
    """Raises Application.DoesNotExist for an unknown id. `application`: the application already
    loaded (with its round and enterprise); its document's relations are fetched onto it
    (DOCUMENT_PREFETCH), once, for this and for whatever its caller reads of them next.
    `stale_check`: whether to compare the document with the evaluated one (`stale`; else None)."""
    if application is None:
        application = (
            Application.objects.select_related("enterprise", "round")
            .prefetch_related(*DOCUMENT_PREFETCH)
            .get(pk=application_id)
        )
    else:  # those its caller found absent (note_absent_rows: the review screen) set empty
        fetch_document(application)
    evaluation = latest_evaluation(application)
    policy_round = get_rounds().get(application.round.code)
    detail = ApplicationDetail(
        application=application,
        direction_label=_(DIRECTION_LABELS[application.direction]),
        evaluation=evaluation,
        outcome_label=_("评估中")
        if application.evaluation_pending
        else outcome_label(evaluation.outcome if evaluation else None),
        round_title=policy_round.title if policy_round else application.round.title,
    )
    if evaluation is None:
        return detail
    detail.stale = (
        evaluation.document_sha256 != document_sha256(application_export(application))
        if stale_check
        else None
    )
    suppliers = {c.contract_id: c for c in application.contracts.all()}
    failed = {f["contract"] for f in evaluation.findings if f["status"] == "fail" and f["contract"]}
    detail.contracts = [
        {
            **amounts,
            "supplier": suppliers[amounts["id"]].supplier_name
            if amounts["id"] in suppliers
            else "",
            "excluded": amounts["id"] in failed,
        }
        for amounts in evaluation.contracts
    ]
    detail.binding = _binding(evaluation)
    english = _in_english()
    for status in STATUS_ORDER:
        findings = [
            FindingView(
                rule=f["rule"],
                status=f["status"],
                contract=f.get("contract"),
                message=text,
                clause=f["clause"],
                clause_texts=_clause_texts(f["clause"]),
                values=f.get("values") or {},
                message_lang=lang,
            )
            for f in evaluation.findings
            if f["status"] == status
            for text, lang in [_finding_text_as(f, english)]
        ]
        if findings:
            detail.groups.append(FindingGroup(status, _(STATUS_LABELS[status]), findings))
    detail.missing_materials = [_(MATERIAL_LABELS.get(m, m)) for m in evaluation.missing_materials]
    return detail


def official_lists_for(record: PolicyRoundRecord, documents: Iterable[Any]) -> OfficialLists:
    """The round's stored official lists for the EvaluationContext (RULES.md v2, fail closed):
    every kind loaded, and of their entries only those the `documents` (interchange
    applications) can match, so an evaluation never reads a whole list of filings."""
    lists = {o.pk: o for o in OfficialList.objects.filter(round=record)}
    keys = set()
    for document in documents:
        keys.add(document.applicant.uscc)
        if document.project.model_filing is not None:
            keys.add(filing_key(document.project.model_filing.number))
    wanted = sorted(keys)
    rows = [
        row
        for start in range(0, len(wanted), 500)  # bounded IN lists on every database
        for row in OfficialListEntry.objects.filter(
            official_list__in=list(lists), key__in=wanted[start : start + 500]
        ).values_list("official_list_id", "row", "key", "name", "filed_on")
    ]
    return OfficialLists.build(
        (o.kind for o in lists.values()),
        (
            (
                lists[list_id].kind,
                key,
                ListedEntry(
                    lists[list_id].kind,
                    lists[list_id].source,
                    lists[list_id].as_of,
                    row,
                    name,
                    filed_on,
                ),
            )
            for list_id, row, key, name, filed_on in rows
        ),
    )


def outside_lists() -> tuple[frozenset[str], frozenset[str]]:
    """The imported outside lists for the EvaluationContext: (municipal support, dishonest)."""
    rows = list(ListedEnterprise.objects.values_list("kind", "uscc"))
    municipal = frozenset(u for k, u in rows if k == "municipal_support")
    dishonest = frozenset(u for k, u in rows if k == "dishonest")
    return municipal, dishonest


@dataclass(frozen=True)
class SupplementView:
    id: int
    requested_at: Any
    due_on: date
    note: str
    answered_at: Any
    items: list[tuple[int, int, str, str]]  # (item id, position, text, answer)
    open: bool


def supplement_requests_for(application: Application) -> list[SupplementView]:
    """What the bureau asked the applicant to supplement, newest first, item by item.

    For the applicant portal: it shows exactly this list and answers it with
    voucher.applications.lifecycle.supplement_answer(application=…, answers={item id: text}, acting_user=…).
    """
    return [
        SupplementView(
            id=r.pk,
            requested_at=r.requested_at,
            due_on=r.due_on,
            note=r.note,
            answered_at=r.answered_at,
            items=[(i.pk, i.position, i.text, i.answer) for i in r.items.all()],
            open=r.answered_at is None,
        )
        for r in SupplementRequest.objects.filter(application=application).prefetch_related("items")
    ]


MISSING: Any = object()


def selected(application: Application, name: str, missing: Any = None) -> Any:
    """The one-to-one row `name` (a reverse relation: portal_progress, implementation_report,
    cross_count) as select_related read it with the application: the row, or None where there
    is none; else `missing`. Never a query: a row not read with the application is the caller's to read (an
    object kept across a change must not answer from what it read before)."""
    relation = Application._meta.get_field(name)
    if relation.is_cached(application):
        return relation.get_cached_value(application)
    return missing
