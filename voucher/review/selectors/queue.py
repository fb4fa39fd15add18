"""The queue and the lists: the review queue with its filters, and a staff member's own work.

Filtered, sorted, counted and cut into pages by the database: each row's outcome, amount and
open review count come from the evaluation kept as the bureau's latest (StoredEvaluation.
bureau_latest, .review_open) and the kept count of its open cross-application findings
(CrossFindingCount), so a page costs the same few queries whatever the size of the round.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications import ports
from voucher.applications import selectors as app_selectors
from voucher.applications.models import (
    CONFIRMED,
    DECISION_KIND_CHOICES,
    PROPOSED,
    Application,
    Decision,
    ReviewCase,
)
from voucher.applications.models.application import reference_of
from voucher.applications.states import DRAFT, TRANSITIONS, WITH_BUREAU_STATES
from voucher.core.precompiled import CompiledQuery
from voucher.review.selectors.common import STATE_LABELS

PAGE_SIZE = 50

# what a row (QueueRow) is made of, read as tuples: not the application's texts and JSON (its
# materials, its inline lists, the project's overview), which cost the database and Python a
# row's worth each, and not model instances (an Application and its round made for each row,
# django-fsm's state field read, were a third of a list's CPU)
ROW_VALUES = (
    "id",
    "round__code",
    "applicant_name",
    "direction",
    "state",
    "submitted_on",
    "requested_amount",
    "evaluation_pending",
    "q_outcome",
    "q_approved_max",
    "q_open",
    "q_assignee",
)


@dataclass(frozen=True)
class QueueRow:
    id: int
    reference: str
    applicant_name: str
    direction: int
    state: str
    state_label: str
    submitted_on: date | None
    outcome: str | None
    outcome_label: str
    approved_max: Decimal | None
    requested: Decimal | None
    # the amounts of its open proposal and its confirmed decision: read for the export and the
    # staff API (review_rows), not for the pages, which do not show them (None there)
    proposed: Decimal | None
    decided: Decimal | None
    review_open: int  # open review findings of the evaluation and open cross findings
    assignee: str


# the filters of the list pages: state, direction, outcome, assignee (a username), open
# ("yes": with open review items, "no": none), amount_min / amount_max (最高可核定, yuan), q
FILTERS = ("state", "direction", "outcome", "assignee", "open", "amount_min", "amount_max", "q")

# ?sort=<key> ascending, ?sort=-<key> descending; every order ends on the id
SORTS = {
    "id": "id",
    "applicant": "applicant_name",
    "direction": "direction",
    "state": "state",
    "submitted": "submitted_on",
    "outcome": "q_outcome",
    "amount": "q_approved_max",
    "open": "q_open",
    "assignee": "q_assignee",
}


# the filters that need a row's figures (its latest evaluation, its open findings, its
# assignee): without them a list is counted on the applications alone
ANNOTATED_FILTERS = ("outcome", "assignee", "open", "amount_min", "amount_max")


def _given(filters: Mapping[str, Any], name: str) -> bool:
    value = filters.get(name)
    return value is not None and value != ""


def _visible(
    user: Any,
    filters: Mapping[str, Any],
    states: tuple[str, ...] | None = None,
    drafts: bool = False,
) -> QuerySet[Application]:
    """The applications `user` may see in the lists (not drafts; those in `states` when given;
    `drafts`: drafts too, to count those less), with the filters that are the application's
    own columns."""
    # in `states` alone: "not a draft" beside it would say again what they say
    qs: QuerySet[Application] = (
        Application.objects.all()
        if drafts
        else Application.objects.exclude(state=DRAFT)
        if states is None
        else Application.objects.filter(state__in=states)
    )
    if not p.staff_roles(user):
        return qs.none()
    directions = p.viewable_directions(user)
    if directions is not None:
        qs = qs.filter(direction__in=sorted(directions))
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    if filters.get("direction"):
        qs = qs.filter(direction=int(filters["direction"]))
    if filters.get("q"):
        q = str(filters["q"]).strip()
        qs = qs.filter(Q(applicant_name__icontains=q) | Q(enterprise__uscc__icontains=q))
    return qs


def queue_queryset(
    user: Any,
    filters: Mapping[str, Any] | None = None,
    sort: str = "",
    states: tuple[str, ...] | None = None,
    nobodys: bool = False,
) -> QuerySet[Application]:
    """The applications `user` may see in the lists (not drafts; those in `states` when given),
    with `filters` (already read: direction an int, the amounts Decimals), in the order `sort`
    asks (by id otherwise); `nobodys`: only those without an assignee."""
    filters = filters or {}
    qs = _visible(user, filters, states).annotate(
        latest=FilteredRelation("evaluations", condition=Q(evaluations__bureau_latest=True))
    )
    if nobodys:
        # no review case, or one without an assignee (NOT EXISTS: the planner then walks the
        # ids in order and stops at a page, where a left join's IS NULL sorted all of them)
        qs = qs.filter(
            ~Exists(ReviewCase.objects.filter(application=OuterRef("pk"), assignee__isnull=False))
        )
    assignee: Any = F("review_case__assignee__username")
    if nobodys and not filters.get("assignee") and sort.removeprefix("-") != "assignee":
        # nobody's rows have no assignee to show: not two joins more to read that it is empty
        assignee = Value(None, output_field=CharField())
    qs = qs.annotate(
        q_outcome=F("latest__outcome"),
        q_approved_max=F("latest__approved_max"),
        q_open=Coalesce(F("latest__review_open"), Value(0))
        + Coalesce(F("cross_count__open"), Value(0)),
        q_assignee=assignee,
    )
    if filters.get("outcome"):
        qs = qs.filter(q_outcome=filters["outcome"])
    if filters.get("assignee"):
        qs = qs.filter(q_assignee=filters["assignee"])
    if filters.get("open") == "yes":
        qs = qs.filter(q_open__gt=0)
    elif filters.get("open") == "no":
        qs = qs.filter(q_open=0)
    if _given(filters, "amount_min"):
        qs = qs.filter(q_approved_max__gte=filters["amount_min"])
    if _given(filters, "amount_max"):
        qs = qs.filter(q_approved_max__lte=filters["amount_max"])
    return qs.order_by(*order_of(sort))


def counted_queryset(
    user: Any, filters: Mapping[str, Any] | None = None, states: tuple[str, ...] | None = None
) -> QuerySet[Application]:
    """The applications of queue_queryset, to count: without the joins of the rows' figures
    unless a filter asks for them (a count over the round costs a join per row less each)."""
    filters = filters or {}
    if any(_given(filters, name) for name in ANNOTATED_FILTERS):
        return queue_queryset(user, filters, states=states).order_by()
    return _visible(user, filters, states).order_by()


def list_count(user: Any, filters: Mapping[str, Any] | None = None) -> int:
    """The number of applications queue_queryset lists for `user` with `filters`. Without a
    filter on the state or on a row's figures: those visible less their drafts, in one
    statement (one snapshot). "Not a draft" has PostgreSQL read each row's state, past its
    texts and JSON (the state index cannot serve an inequality): 0.8 ms over a season of
    5,000, where all of them are counted without reading a column past the first few and the
    drafts on the state index, 0.3 ms together."""
    filters = filters or {}
    if filters.get("state") or any(_given(filters, name) for name in ANNOTATED_FILTERS):
        return counted_queryset(user, filters).count()
    everything = _visible(user, filters, drafts=True).order_by()
    shape = None if filters else _shape(user)
    every_params: Sequence[Any]
    drafts_params: Sequence[Any]
    try:
        if shape is not None:  # as opened, without a filter: the SQL written once
            alias = router.db_for_read(Application)
            every_sql, every_params = _compiled(
                ("queue: every", shape), lambda: everything.values("pk")
            ).sql(alias)
            drafts_sql, drafts_params = _compiled(
                ("queue: drafts", shape), lambda: everything.filter(state=DRAFT).values("pk")
            ).sql(alias)
        else:
            every_sql, every_params = everything.values("pk").query.sql_with_params()
            drafts_sql, drafts_params = (
                everything.filter(state=DRAFT).values("pk").query.sql_with_params()
            )
    except EmptyResultSet:  # none visible (not staff)
        return 0
    with connections[everything.db].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM ({every_sql}) e) - (SELECT COUNT(*) FROM ({drafts_sql}) d)",
            (*every_params, *drafts_params),
        )
        return int(cursor.fetchone()[0])


def order_of(sort: str) -> list[Any]:
    """The ORDER BY of `sort` (an unknown key: by id); empty values last either way."""
    key = sort.removeprefix("-")
    column = SORTS.get(key)
    if column is None or column == "id":
        return ["-id" if sort == "-id" else "id"]
    expression = F(column)
    ordered = (
        expression.desc(nulls_last=True)
        if sort.startswith("-")
        else expression.asc(nulls_last=True)
    )
    return [ordered, "id"]


def queue_rows(values: list[tuple[Any, ...]], decisions: bool = True) -> list[QueueRow]:
    """The rows of queue_queryset's ROW_VALUES; `decisions`: with the amounts of their
    decisions, a query more however many rows."""
    proposed: dict[int, Decimal] = {}
    decided: dict[int, Decimal] = {}
    if decisions:
        for app_id, status, amount in Decision.objects.filter(
            application_id__in=[v[0] for v in values], status__in=(PROPOSED, CONFIRMED)
        ).values_list("application_id", "status", "amount"):
            (proposed if status == PROPOSED else decided)[app_id] = amount
    labels: dict[str, str] = {}
    outcomes: dict[str | None, str] = {}
    pending = _("评估中")  # submitted, evaluated after the request (the jobs' worker)
    rows = []
    for (
        pk,
        round_code,
        applicant_name,
        direction,
        state,
        submitted_on,
        requested,
        evaluation_pending,
        outcome,
        approved_max,
        review_open,
        assignee,
    ) in values:
        if state not in labels:
            labels[state] = _(STATE_LABELS.get(state, state))
        if outcome not in outcomes:
            outcomes[outcome] = app_selectors.outcome_label(outcome)
        rows.append(
            QueueRow(
                id=pk,
                reference=reference_of(round_code, pk),
                applicant_name=applicant_name,
                direction=direction,
                state=state,
                state_label=labels[state],
                submitted_on=submitted_on,
                outcome=outcome,
                outcome_label=pending if evaluation_pending else outcomes[outcome],
                approved_max=approved_max,
                requested=requested,
                proposed=proposed.get(pk),
                decided=decided.get(pk),
                review_open=review_open or 0,
                assignee=assignee or "",
            )
        )
    return rows


def review_rows(user: Any, filters: Mapping[str, Any] | None = None) -> list[QueueRow]:
    """Every application the user may see (not drafts), with the filters of the list page, by id
    (the export and the staff API: all of them, in a fixed number of queries)."""
    return queue_rows(list(queue_queryset(user, filters).values_list(*ROW_VALUES)))


@dataclass(eq=False)
class QueuePage:
    """One page of a list: its rows (iterating the page gives them) and the paginator's page."""

    rows: list[QueueRow]
    page: Page[Any]

    def __iter__(self) -> Iterator[QueueRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueuePage):
            return self.rows == other.rows and self.page.number == other.page.number
        return isinstance(other, list) and self.rows == other

    __hash__ = None  # type: ignore[assignment]


def queue_page(
    queryset: QuerySet[Application], number: Any, size: int = PAGE_SIZE, count: int | None = None
) -> QueuePage:
    """One page of `queryset` (a bad or too large page number: the first or the last page);
    `count`, when known, the number of its rows (counted more cheaply by the caller; 0: the
    queryset is not read). Its rows without their decisions' amounts, which the pages do not
    show."""
    rows: Any = [] if count == 0 else queryset.values_list(*ROW_VALUES)
    return _page_of(rows, number, size, count)


def _page_of(rows: Any, number: Any, size: int, count: int | None) -> QueuePage:
    """The page `number` of `rows` (a queryset's values or a _CompiledRows), `count` of them
    when known."""
    paginator = Paginator(rows, size)
    if count is not None:
        paginator.count = count  # the cached_property, known already
    page = paginator.get_page(number)
    return QueuePage(queue_rows(list(page.object_list), decisions=False), page)


def review_page(
    user: Any, filters: Mapping[str, Any] | None = None, sort: str = "", number: Any = 1
) -> QueuePage:
    count = list_count(user, filters)
    shape = None if filters else _shape(user)
    if shape is not None and count:  # as opened, without a filter: the SQL written once
        rows = _compiled(
            ("queue: rows", shape, sort),
            lambda: queue_queryset(user, {}, sort).values_list(*ROW_VALUES),
        )
        return _page_of(_CompiledRows(rows), number, PAGE_SIZE, count)
    return queue_page(queue_queryset(user, filters, sort), number, count=count)


# --- the lists as opened, their SQL written once ------------------------------------------------
#
# Building a list's queryset and compiling it (its FilteredRelation, its annotations, its joins)
# was most of the lists' selectors: 0.5–0.7 ms a query, three or four a page, every request,
# though without a filter a list's SQL depends only on which directions the user sees, the
# order asked and the user's id (我的待办's "mine" and "not mine"). Those lists' SQL is written
# by the ORM once per process and shape (decision 0050's CompiledQuery: the same SQL, the same
# converters), and asked with the id. A filtered list is built and compiled as before: a
# filter's values are many (texts, amounts) and the ORM rewrites some of them (LIKE patterns).

# a user's id in the compiled SQL, replaced by the user's own at each call
_USER = -7_230_061
# the shapes compiled, per process: a few dozen (the directions seen by the roles, the sort
# keys, the lists); cleared if ever that many, so that nothing grows without bound
_SHAPES: dict[tuple[Any, ...], CompiledQuery] = {}
_SHAPES_KEPT = 512


def _shape(user: Any) -> tuple[Any, ...] | None:
    """What of `user` a list's SQL depends on, without a filter (the directions it may see), or
    None when the list is not compiled once (not staff, or no direction at all: the ORM's
    answer of no rows; no id: "mine" is nothing)."""
    if not user.pk or not p.staff_roles(user):
        return None
    directions = p.viewable_directions(user)
    if directions is None:
        return ("every direction",)
    return ("directions", *sorted(directions)) if directions else None


def _compiled(key: tuple[Any, ...], build: Any, *sentinels: int) -> CompiledQuery:
    """The CompiledQuery of `build` kept under `key`: `build` must make the same SQL for every
    user of that key."""
    query = _SHAPES.get(key)
    if query is None:
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()
        query = _SHAPES[key] = CompiledQuery(build, *sentinels)
    return query


class _CompiledRows:
    """A compiled list's rows for the Paginator, which slices them (its count is set): a slice
    asked with the LIMIT and OFFSET of the queryset sliced."""

    def __init__(self, query: CompiledQuery, *values: Any) -> None:
        self.query = query
        self.values = values

    def __getitem__(self, part: slice) -> list[tuple[Any, ...]]:
        return self.query.rows(
            router.db_for_read(Application), *self.values, low=part.start or 0, high=part.stop
        )

    def __len__(self) -> int:  # the Paginator's count is always set
        raise TypeError("the list is counted by its caller")


@dataclass(frozen=True)
class PendingDecision:
    id: int
    application_id: int
    reference: str
    applicant_name: str
    kind: str
    kind_label: str
    amount: Decimal
    proposed_by: str
    proposed_at: Any


@dataclass(frozen=True)
class MyWork:
    """The "my queue" page: what is mine now, what waits for my confirmation, what nobody has
    (each a page of its own)."""

    assigned: QueuePage
    to_confirm: list[PendingDecision]
    unassigned: QueuePage
    may_take: bool
    to_confirm_page: Page[Any] | None = None


# what a proposal's row is made of, read as tuples (not a decision, its application, round and
# proposer made as instances for each row)
_PENDING_VALUES = (
    "id",
    "application_id",
    "kind",
    "amount",
    "proposed_at",
    "proposed_by__username",
    "application__round__code",
    "application__applicant_name",
    "application__direction",
    "application__created_at",
)
_KIND_LABELS = dict(DECISION_KIND_CHOICES)


def _proposals(user_id: int) -> QuerySet[Decision]:
    """The open proposals of others than `user_id` that are confirmed in their application's
    state (the guards of approve and reject), in the order they were made."""
    sources = set(TRANSITIONS["approve"].source) | set(TRANSITIONS["reject"].source)
    return (
        Decision.objects.filter(status=PROPOSED, application__state__in=sorted(sources))
        .exclude(proposed_by=user_id)
        .order_by("proposed_at", "id")
    )


def _pending(user: Any, number: Any) -> tuple[list[PendingDecision], Page[Any]]:
    """The open proposals of others that `user` confirms, a page of them: the guards of
    approve and reject (an open proposal, not the user's own, the application in the state
    they are confirmed from) asked in the query; a direction-3 approval also asks whether the
    platform's data are still those it was built from (permissions.platform_data_current)."""
    if not p.can_confirm_some(user) or not user.pk:
        # none to confirm: an empty page, without the queries built for it
        return [], Paginator([], PAGE_SIZE).get_page(number)
    # the SQL written once per process (the user's id their only value), as the lists' below
    alias = router.db_for_read(Decision)
    count_sql, count_params = _compiled(
        ("pending: counted",), lambda uid: _proposals(uid).order_by().values("pk"), _USER
    ).sql(alias, user.pk)
    with connections[alias].cursor() as cursor:
        # counted without the joins of the rows' values
        cursor.execute(f"SELECT COUNT(*) FROM ({count_sql}) c", count_params)
        (count,) = cursor.fetchone()
    compiled = _compiled(
        ("pending: rows",),
        lambda uid: _proposals(uid).values_list(*_PENDING_VALUES),
        _USER,
    )
    listed: Any = _CompiledRows(compiled, user.pk) if count else []
    paginator: Paginator[Any] = Paginator(listed, PAGE_SIZE)
    paginator.count = count
    page = paginator.get_page(number)
    shown = list(page.object_list)
    # a direction-3 approval: the platform's data of all of them asked at once, of their
    # applications as far as the check reads them (id, direction, when built; an instance made
    # for a direction-3 approval only, the check's answer for any other being no)
    changed = ports.platform_data_changed_of(
        [
            Application(id=application_id, direction=direction, created_at=created_at)
            for (_pk, application_id, kind, *_rest, direction, created_at) in shown
            if kind == "approval" and direction == 3
        ]
    )
    kinds: dict[str, str] = {}
    rows: list[PendingDecision] = []
    for (
        pk,
        application_id,
        kind,
        amount,
        proposed_at,
        proposed_by,
        round_code,
        applicant_name,
        _direction,
        _created_at,
    ) in shown:
        if application_id in changed:
            continue
        if kind not in kinds:
            kinds[kind] = _(_KIND_LABELS.get(kind, kind))
        rows.append(
            PendingDecision(
                id=pk,
                application_id=application_id,
                reference=reference_of(round_code, application_id),
                applicant_name=applicant_name,
                kind=kind,
                kind_label=kinds[kind],
                amount=amount,
                proposed_by=proposed_by,
                proposed_at=proposed_at,
            )
        )
    return rows, page


def my_work(
    user: Any,
    filters: Mapping[str, Any] | None = None,
    sort: str = "",
    assigned_page: Any = 1,
    unassigned_page: Any = 1,
    confirm_page: Any = 1,
) -> MyWork:
    states = WITH_BUREAU_STATES
    shape = None if filters else _shape(user)
    if shape is not None:  # as opened, without a filter: each query's SQL written once
        return _my_work_compiled(user, shape, sort, assigned_page, unassigned_page, confirm_page)
    mine = Q(review_case__assignee=user) if user.pk else Q(pk__in=[])
    # both lists counted in one pass over the applications (their review cases left-joined:
    # nobody's, an assignee null)
    counts = counted_queryset(user, filters, states).aggregate(
        assigned=Count("pk", filter=mine),
        unassigned=Count("pk", filter=Q(review_case__assignee__isnull=True)),
    )
    pending, page = _pending(user, confirm_page)
    # a list counted empty is not read, nor is its query built
    none = Application.objects.none()
    return MyWork(
        assigned=queue_page(
            queue_queryset(user, filters, sort, states).filter(mine)
            if counts["assigned"]
            else none,
            assigned_page,
            count=counts["assigned"],
        ),
        to_confirm=pending,
        unassigned=queue_page(
            queue_queryset(user, filters, sort, states, nobodys=True)
            if counts["unassigned"]
            else none,
            unassigned_page,
            count=counts["unassigned"],
        ),
        may_take=bool(p.can_take(user)),
        to_confirm_page=page,
    )


def _my_work_compiled(
    user: Any,
    shape: tuple[Any, ...],
    sort: str,
    assigned_page: Any,
    unassigned_page: Any,
    confirm_page: Any,
) -> MyWork:
    """my_work without a filter: the same queries, their SQL written once per shape."""
    states = WITH_BUREAU_STATES
    alias = router.db_for_read(Application)
    # both lists counted in one pass over the applications (their review cases left-joined:
    # nobody's, an assignee null), as my_work's aggregate counts them
    counted_sql, counted_params = _compiled(
        ("mine: counted", shape),
        lambda: counted_queryset(user, {}, states).values(assignee=F("review_case__assignee")),
    ).sql(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            'SELECT COUNT(CASE WHEN c.assignee = %s THEN 1 END) AS "assigned", '
            'COUNT(CASE WHEN c.assignee IS NULL THEN 1 END) AS "unassigned" '
            f"FROM ({counted_sql}) c",
            (user.pk, *counted_params),
        )
        assigned, unassigned = cursor.fetchone()
    pending, page = _pending(user, confirm_page)
    return MyWork(
        assigned=_page_of(
            _CompiledRows(
                _compiled(
                    ("mine: assigned", shape, sort),
                    lambda uid: (
                        queue_queryset(user, {}, sort, states)
                        .filter(review_case__assignee=uid)
                        .values_list(*ROW_VALUES)
                    ),
                    _USER,
                ),
                user.pk,
            )
            if assigned
            else [],
            assigned_page,
            PAGE_SIZE,
            assigned,
        ),
        to_confirm=pending,
        unassigned=_page_of(
            _CompiledRows(
                _compiled(
                    ("mine: nobody's", shape, sort),
                    lambda: queue_queryset(user, {}, sort, states, nobodys=True).values_list(
                        *ROW_VALUES
                    ),
                )
            )
            if unassigned
            else [],
            unassigned_page,
            PAGE_SIZE,
            unassigned,
        ),
        may_take=bool(p.can_take(user)),
        to_confirm_page=page,
    )
