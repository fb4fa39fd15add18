"""The review screen: what it shows of an application, who it can be assigned to, and the
difference between its last two submitted versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications import ports, supplier
from voucher.applications import selectors as app_selectors
from voucher.applications.absent_rows import has_none, note_absent_rows
from voucher.applications.models import (
    PROPOSED,
    Application,
    Clawback,
    Decision,
    FindingResolution,
    MaterialFile,
    PaymentRecord,
    ReviewCase,
    Snapshot,
    SupplementRequest,
)
from voucher.applications.people import label_of
from voucher.applications.states import SUPPLEMENT_STATES, WITH_BUREAU_STATES
from voucher.applications.wording import field_label
from voucher.applications.workflow import transitions_from
from voucher.core import precompiled
from voucher.review.crosscheck import CrossItem, cross_count_store, cross_items
from voucher.review.history import history_entries, history_label
from voucher.review.selectors.common import STATE_LABELS

# The transitions the review screen offers as buttons and its transition URL performs: the
# others have their own forms (supplement, decision, publicity, payment, clawback) or are not the
# bureau's (submit, resubmit, withdraw).
SITE_TRANSITIONS = ("accept", "pass_formal_check", "resume_review", "mark_overdue")


@dataclass(frozen=True)
class DiffLine:
    path: str
    before: Any
    after: Any

    @property
    def label(self) -> str:
        """The field as the applicant's form names it (第 1 份合同第 1 条交付记录的金额（元）)."""
        return field_label(self.path)

    @property
    def kind(self) -> str:
        if self.before is MISSING:
            return "added"
        if self.after is MISSING:
            return "removed"
        return "changed"


class _Missing:
    def __repr__(self) -> str:
        return "—"

    def __str__(self) -> str:
        return "—"


MISSING: Any = _Missing()


def json_diff(before: Any, after: Any, path: str = "") -> list[DiffLine]:
    """Field-level differences between two interchange documents (JSON paths, a.b[0].c)."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            lines += json_diff(before.get(key, MISSING), after.get(key, MISSING), sub)
        return lines
    if isinstance(before, list) and isinstance(after, list):
        lines = []
        for i in range(max(len(before), len(after))):
            lines += json_diff(
                before[i] if i < len(before) else MISSING,
                after[i] if i < len(after) else MISSING,
                f"{path}[{i}]",
            )
        return lines
    if before == after or _same_number(path, before, after):
        return []
    if isinstance(before, dict | list) and after is MISSING:
        return [DiffLine(path, before, MISSING)]
    return [DiffLine(path, before, after)]


NUMBER_FIELDS = ("amount", "total_amount", "requested_amount", "quantity", "unit_price", "ratio")


def _same_number(path: str, before: Any, after: Any) -> bool:
    """ "12.00" and "12" of an amount or quantity are one number, written differently."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return False
    if path.rsplit(".", 1)[-1] not in NUMBER_FIELDS:
        return False
    try:
        return Decimal(before) == Decimal(after)
    except ArithmeticError:
        return False


@dataclass
class VersionDiff:
    before: Snapshot
    after: Snapshot
    lines: list[DiffLine]
    outcome_before: str
    outcome_after: str
    max_before: Decimal | None
    max_after: Decimal | None
    # materials uploaded between the two versions (re-uploaded with the 补正)
    files: list[MaterialFile] = field(default_factory=list)


# What latest_diff leaves unread of the versions it looks through (VersionDiff shows the
# evaluations' outcomes and maxima, and the two documents compared).
SNAPSHOT_HEAVY = (
    "document",
    "evaluation__findings",
    "evaluation__contracts",
    "evaluation__missing_materials",
)


def latest_diff(application: Application) -> VersionDiff | None:
    """What changed between the version the reviewer saw and the one resubmitted after 补正."""
    # the versions without their documents, and their evaluations without the findings: most
    # applications were never resubmitted, and those are the largest values the screen would
    # decode (issue 23); the two documents compared are read when there is a diff
    if has_none(application, "resubmissions"):
        return None  # no version was resubmitted (note_absent_rows asked)
    snaps = list(
        Snapshot.objects.filter(application=application)
        .select_related("evaluation")
        .defer(*SNAPSHOT_HEAVY)
    )
    resubmits = [i for i, s in enumerate(snaps) if s.transition == "resubmit"]
    if not resubmits:
        return None
    after_i = resubmits[-1]
    before = next(
        (s for s in reversed(snaps[:after_i]) if s.transition == "request_supplement"), None
    )
    if before is None:
        return None
    after = snaps[after_i]
    documents = dict(
        Snapshot.objects.filter(pk__in=(before.pk, after.pk)).values_list("pk", "document")
    )
    before.document, after.document = documents[before.pk], documents[after.pk]
    return VersionDiff(
        before,
        after,
        json_diff(before.document, after.document),
        app_selectors.outcome_label(before.evaluation.outcome if before.evaluation else None),
        app_selectors.outcome_label(after.evaluation.outcome if after.evaluation else None),
        before.evaluation.approved_max if before.evaluation else None,
        after.evaluation.approved_max if after.evaluation else None,
        list(
            MaterialFile.objects.filter(
                application=application,
                uploaded_at__gt=before.created_at,
                uploaded_at__lte=after.created_at,
            ).order_by("uploaded_at", "pk")
        ),
    )


@dataclass
class ReviewScreen:
    detail: app_selectors.ApplicationDetail
    resolutions: dict[tuple[str, str], FindingResolution]
    open_reviews: int
    transitions: list[tuple[str, str, p.Check]]  # name, label, check for this user
    supplements: list[SupplementRequest]
    decisions: list[Decision]
    open_proposal: Decision | None
    diff: VersionDiff | None
    cross: list[CrossItem]  # the cross-application findings, review items like the engine's
    payments: list[PaymentRecord]
    clawbacks: list[Clawback]
    assignee: str
    can_resolve: p.Check
    can_propose: p.Check
    can_supplement: p.Check
    can_confirm: p.Check
    can_pay: p.Check
    can_clawback: p.Check
    approved_max: Decimal | None
    state_label: str
    history: list[Any] = field(default_factory=list)
    groups: list[tuple[Any, list[tuple[Any, FindingResolution | None]]]] = field(
        default_factory=list
    )
    contract_lines: list[Any] = field(default_factory=list)
    supplier_asked: bool = False  # directions 1, 2 and 4: the supplier confirms each line
    assignable: list[str] = field(default_factory=list)  # reviewers and screeners, by username
    # Returned for 补正 and not yet resubmitted: the findings and figures are of the version last
    # submitted (the applicant's self-checks of the version being corrected are left out).
    being_corrected: bool = False
    # direction 3: the platform's data changed after the build (the figures here are the build's)
    platform_data_changed: bool = False
    open_cross: int = 0  # the cross findings not yet resolved: no decision is proposed meanwhile


def assignable_staff(application: Application) -> list[str]:
    """Reviewers and screeners who may handle this application (screeners: direction 3 only)."""
    users = p.r.staff_holding(p.r.REVIEWER, p.r.SCREENER)  # with their roles, in one query
    return [u.get_username() for u in users if p.can_view_application(u, application)]


def _review_case(application: Application) -> ReviewCase | None:
    """The application's assignment: read with it when its caller selected
    `review_case__assignee` (the screen's view does), else read now."""
    try:
        return application.review_case
    except ReviewCase.DoesNotExist:
        return None


def review_screen(application: Application, user: Any) -> ReviewScreen:
    # which of the lists below (and the materials' and the platforms' the page reads next) it
    # has nothing in, asked at once: those are not read one by one (most are empty)
    note_absent_rows(application)
    # the application as the view loaded it, its document's relations fetched once onto it: the
    # detail, the contracts' lines and the cross checks read them from there; the detail
    # without its stale check, which the screen does not show (decision 0050)
    detail = app_selectors.application_detail(
        application.pk, application=application, stale_check=False
    )
    evaluation = detail.evaluation
    resolutions = (
        {
            (x.rule, x.contract): x
            for x in precompiled.rows(  # its SQL written once per process (decision 0050)
                "review.screen.resolutions",
                FindingResolution,
                lambda evaluation_id: FindingResolution.objects.filter(
                    evaluation_id=evaluation_id
                ).select_related("resolved_by"),
                evaluation_id=evaluation.pk,
            )
        }
        if evaluation and not has_none(application, "resolutions")
        else {}
    )
    open_reviews = 0
    if evaluation:
        open_reviews = sum(
            1
            for f in evaluation.findings
            if f["status"] == "review" and (f["rule"], f.get("contract") or "") not in resolutions
        )
    decisions = (
        []
        if has_none(application, "decisions")
        else precompiled.rows(  # its SQL written once per process (decision 0057)
            "review.screen.decisions",
            Decision,
            lambda application_id: Decision.objects.filter(
                application_id=application_id
            ).select_related("proposed_by", "confirmed_by"),
            application_id=application.pk,
        )
    )
    open_proposal = next((d for d in decisions if d.status == PROPOSED), None)
    case = _review_case(application)
    transitions = [
        (name, p.transition_label(name), p.can_transition(user, application, name))
        for name in transitions_from(application.state)
        if name in SITE_TRANSITIONS
    ]
    history = history_entries(application)
    for entry in history:
        entry.label = history_label(entry)  # type: ignore[attr-defined]
        entry.who = label_of(entry.actor, entry.actor_label)  # type: ignore[attr-defined]
    groups = [
        (g, [(f, resolutions.get((f.rule, f.contract or ""))) for f in g.findings])
        for g in detail.groups
    ]
    contract_lines = list(application.contracts.all())  # prefetched with their lines
    supplier_asked = application.direction in supplier.CONFIRMED_DIRECTIONS
    if supplier_asked:
        words, declared = supplier.words_and_attestations(
            contract_lines,
            words=not has_none(application, "supplier_words"),
            attestations=not has_none(application, "supplier_attestations"),
        )
        with_members = supplier.usccs_with_members(c.supplier_uscc for c in contract_lines)
    else:  # no supplier is asked (direction 3): the screen shows no word, declaration or account
        words, declared, with_members = {c.pk: {} for c in contract_lines}, {}, set()
    delivered_words = {}
    for contract in contract_lines:  # the supplier's word on each line (issue 22)
        lines = supplier.lines_of(contract, words=words[contract.pk])
        contract.supplier_lines = lines  # type: ignore[attr-defined]
        contract.delivery_lines = [x for x in lines if x.kind == "delivery"]  # type: ignore[attr-defined]
        contract.invoice_lines = [x for x in lines if x.kind == "invoice"]  # type: ignore[attr-defined]
        contract.payment_lines = [x for x in lines if x.kind == "payment"]  # type: ignore[attr-defined]
        attestation = declared.get(contract.pk)
        contract.attestation = (  # type: ignore[attr-defined]
            attestation if supplier.attestation_counts(attestation, contract) else None
        )
        contract.supplier_has_account = contract.supplier_uscc in with_members  # type: ignore[attr-defined]
        delivered_words[contract.contract_id] = supplier.contract_state(
            contract.delivery_lines  # type: ignore[attr-defined]
        )
    if supplier_asked:  # the delivered amount of each contract: confirmed by its supplier?
        for amounts in detail.contracts:
            amounts["supplier_delivered"] = delivered_words.get(amounts["id"], "")
    cross = cross_items(application)
    cross_count_store(application, cross)  # the lists' count, as it is now
    # asked once: the screen shows it, and the proposal's and confirmation's checks ask it
    platform_changed = ports.platform_data_changed(application)
    return ReviewScreen(
        groups=groups,
        contract_lines=contract_lines,
        supplier_asked=supplier_asked,
        detail=detail,
        resolutions=resolutions,
        open_reviews=open_reviews,
        transitions=transitions,
        supplements=[]
        if has_none(application, "supplement_requests")
        else list(
            SupplementRequest.objects.filter(application=application).prefetch_related("items")
        ),
        decisions=decisions,
        open_proposal=open_proposal,
        diff=latest_diff(application),
        cross=cross,
        open_cross=sum(1 for item in cross if item.unresolved),
        payments=[]
        if has_none(application, "payment_records")
        else list(PaymentRecord.objects.filter(application=application)),
        clawbacks=[]
        if has_none(application, "clawbacks")
        else list(Clawback.objects.filter(application=application)),
        assignee=case.assignee.get_username() if case and case.assignee else "",
        assignable=assignable_staff(application)
        if application.state in WITH_BUREAU_STATES and p.can_hand_out(user)
        else [],
        can_resolve=p.can_resolve_finding(user, application),
        can_propose=p.can_propose(user, application, platform_changed=platform_changed),
        can_supplement=p.can_request_supplement(user, application),
        can_confirm=p.can_confirm(
            user, application, open_proposal.kind, platform_changed=platform_changed
        )
        if open_proposal
        else p.Check(False, _("没有待复核的意见")),
        can_pay=p.can_record_payment(user, application),
        can_clawback=p.can_request_clawback(user, application),
        approved_max=evaluation.approved_max if evaluation else None,
        state_label=_(STATE_LABELS.get(application.state, application.state)),
        history=history,
        being_corrected=application.state in SUPPLEMENT_STATES,
        platform_data_changed=platform_changed,
    )
