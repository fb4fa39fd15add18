"""The bureau's API `/api/v1/bureau/` (django-ninja). Thin: every endpoint calls one review action
or selector, as the review pages do, with the token's user as the acting user.

Authentication: `Authorization: Bearer cvb_<prefix>_<secret>`, a token a staff member issued for
themselves on /bureau-api/tokens/ (after logging in with TOTP); scopes `read` and `decide`; at most
90 days; revocable; every use audited. The permissions are the token's user's roles, checked by
voucher.applications.permissions exactly as for the pages. Errors are RFC 7807 problem documents
(`application/problem+json`); requests are throttled per token (`VOUCHER_BUREAU_API_RATE`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt
from ninja import Path, Query, Router, Schema, Status
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema

from voucher.api.problems import PROBLEM, Problem, ProblemNinjaAPI, refusal_status
from voucher.api.schema_constraints import NOT_BLANK
from voucher.api.throttle import TokenThrottle
from voucher.applications import permissions as p
from voucher.applications.access import may
from voucher.applications.models import OUTCOME_CHOICES, Application, Decision
from voucher.applications.states import STATE_CHOICES
from voucher.core import bearer
from voucher.core.refusals import NOT_FOUND, Conflict, Refused
from voucher.policy.money import INTEGER_DIGITS, MAX_YUAN, format_yuan_grouped, parse_yuan
from voucher.review import actions as review
from voucher.review import selectors as review_selectors
from voucher.staffapi import actions, selectors
from voucher.staffapi.models import DECIDE, READ, StaffApiToken

logger = logging.getLogger(__name__)


class ApiProblem(Exception):
    """An error the API answers with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str = "", errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []


class ExactJsonParser(Parser):
    """JSON numbers with a fraction are read as Decimal from their text, never as float."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        def no_constants(name: str) -> NoReturn:
            raise ValueError(f"{name} is not a number")

        data = json.loads(request.body, parse_float=Decimal, parse_constant=no_constants)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> StaffApiToken | None:
        return actions.token_authenticate(
            raw=token,
            method=request.method or "",
            path=request.path,
            client=bearer.client_address(request),
        )


THROTTLE = TokenThrottle(getattr(settings, "VOUCHER_BUREAU_API_RATE", "300/m"), namespace="bureau-")

api = ProblemNinjaAPI(
    title="算力券 · 市经信局审核接口 (compute-voucher bureau API)",
    version="1",
    description=(
        "The bureau's tools act through this API with exactly the guards of the review pages: "
        "the token's user's roles, four eyes, and an approved amount that can be lowered, never "
        "raised above the stored evaluation's approved_max. See docs/bureau-api.md."
    ),
    auth=TokenAuth(),
    throttle=[THROTTLE],
    parser=ExactJsonParser(),
    urls_namespace="api-v1-bureau",
    realm="voucher-bureau",
    unauthenticated_detail=(
        "missing, unknown, expired or revoked token, or its user is no longer staff"
    ),
)


# --- problems (RFC 7807): the shared ones are in voucher/api/problems.py -------------------------

problem = api.problem


@api.exception_handler(ApiProblem)
def _problem(request: HttpRequest, error: ApiProblem) -> HttpResponse:
    return problem(request, error.status, error.title, error.detail, error.errors)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, error: Conflict) -> HttpResponse:
    return problem(request, refusal_status(error), "冲突：已被他人处理 (conflict)", str(error))


@api.exception_handler(Refused)
def _refused(request: HttpRequest, error: Refused) -> HttpResponse:
    return problem(request, refusal_status(error), "不能办理 (refused)", str(error))


ERRORS: dict[int, Any] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    413: Problem,
    422: Problem,
    429: Problem,
}
FORBIDDEN = "无权办理 (forbidden)"


# --- helpers ------------------------------------------------------------------------------------


def _user(request: HttpRequest, scope: str) -> Any:
    """The token's user, once the token has `scope`."""
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, StaffApiToken)
    allowed = may(token, f"bureau:{scope}")
    if not allowed:
        raise ApiProblem(403, allowed.reason)
    return token.user


def _forbid(check: p.Check) -> None:
    if not check.allowed:
        raise ApiProblem(403, FORBIDDEN, check.reason)


def _application(user: Any, application_id: int) -> Application:
    application = selectors.application_or_none(application_id)
    if application is None:
        raise ApiProblem(404, "没有该申报 (no such application)")
    _forbid(p.can_view_application(user, application))
    return application


def _decision(user: Any, decision_id: int) -> Decision:
    decision = selectors.decision_or_none(decision_id)
    if decision is None:
        raise ApiProblem(404, "没有该审核意见 (no such decision)")
    _forbid(p.can_view_application(user, decision.application))
    return decision


# --- schemas ------------------------------------------------------------------------------------


def _amount(value: Any) -> Any:
    """Yuan, exactly: a JSON string ("1234.56") or number (1234.56, read as Decimal), at most
    two decimal places, more than zero, as voucher.policy.money.parse_yuan reads an API's."""
    if value is None:
        return None
    amount = parse_yuan(value, strict=True)
    if amount <= 0:
        raise ValueError("金额须大于零 (must be more than zero)")
    return amount


POSITIVE_YUAN = (
    rf"^(0*[1-9][0-9]{{0,{INTEGER_DIGITS - 1}}}(\.[0-9]{{1,2}})?|0+\.(0[1-9]|[1-9][0-9]?))$"
)

Yuan = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [
                # more than zero, at most INTEGER_DIGITS digits before the point (leading zeros
                # aside), at most two after: what _amount accepts, no more
                {"type": "string", "pattern": POSITIVE_YUAN},
                {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": float(MAX_YUAN),
                    "multipleOf": 0.01,
                },
            ],
            "description": (
                f"元 (yuan), at most 2 decimal places, at most {MAX_YUAN}; read as a decimal, "
                "never float"
            ),
            "examples": ["1234.56"],
        }
    ),
]

if TYPE_CHECKING:
    States = str
    Outcomes = str
else:  # the codes, listed in the OpenAPI document and checked by the schema
    States = Literal[tuple(code for code, _ in STATE_CHOICES if code != "draft")]
    Outcomes = Literal[tuple(code for code, _ in OUTCOME_CHOICES)]


class QueueFilters(Schema):
    state: States | None = None
    direction: int | None = Field(None, ge=1, le=4)
    outcome: Outcomes | None = None
    assignee: str | None = Field(None, max_length=150)
    q: str | None = Field(None, max_length=200, description="单位名称或信用代码 (name or USCC)")


class QueueRowOut(Schema):
    id: int
    reference: str
    applicant_name: str
    direction: int
    state: str
    state_label: str
    submitted_on: Any = Field(None, json_schema_extra={"type": "string", "format": "date"})
    outcome: str | None
    outcome_label: str
    approved_max: Decimal | None
    requested: Decimal | None
    proposed: Decimal | None
    decided: Decimal | None
    review_open: int
    assignee: str


class EvaluationOut(Schema):
    id: int
    engine_version: str
    outcome: str
    outcome_label: str
    computed: Decimal
    cap: Decimal
    requested: Decimal | None
    approved_max: Decimal
    findings: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    missing_materials: list[Any]
    created_at: datetime


class ResolutionOut(Schema):
    rule: str
    contract: str
    resolution: str
    reason: str
    resolved_by: str


class CrossResolutionOut(Schema):
    resolution: Literal["accept", "reject"]
    reason: str
    resolved_by: str
    resolved_at: datetime


class CrossFindingOut(Schema):
    key: str = Field(description="the finding's identity as a review item (SHA-256, hex)")
    rule: str = Field(
        description="ONE_DIRECTION, DUPLICATE_INVOICE, DUPLICATE_CONTRACT, "
        "SUPPLIER_IS_SHAREHOLDER or UNIT_PRICE_OUTLIER"
    )
    clause: str
    message: str
    applications: list[int]
    references: list[str]
    identity: str = Field(description="check | subject | the other applications' ids")
    resolution: CrossResolutionOut | None = Field(
        description="null: unresolved, and no decision can be proposed"
    )


class DecisionOut(Schema):
    id: int
    application_id: int
    evaluation_id: int
    kind: Literal["approval", "rejection"]
    status: str
    amount: Decimal
    approved_max_at_decision: Decimal
    lowered_reason: str
    reasons: list[dict[str, Any]]
    proposed_by: str
    proposed_at: datetime
    confirmed_by: str
    confirmed_at: datetime | None


class ApplicationOut(Schema):
    id: int
    reference: str
    applicant_name: str
    uscc: str
    direction: int
    state: str
    state_label: str
    version: int
    requested_amount: Decimal | None
    assignee: str
    evaluation: EvaluationOut | None
    resolutions: list[ResolutionOut]
    cross_findings: list[CrossFindingOut]
    decisions: list[DecisionOut]
    open_proposal_id: int | None


class ContactOut(Schema):
    application_id: int
    contact_name: str
    contact_mobile: str
    contact_email: str
    contact_address: str


class ProposalIn(Schema):
    # what decision_propose refuses (422, body.payload.amount), the document says: a rejection
    # carries no amount
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "rejection"}}, "required": ["kind"]},
            "then": {"properties": {"amount": {"type": "null"}}},
        }
    )

    kind: Literal["approval", "rejection"]
    amount: Yuan | None = Field(
        None, description="approval only; omitted or null: the evaluation's approved_max"
    )
    lowered_reason: str = Field("", max_length=2000, description="required below approved_max")
    reason: str = Field("", max_length=2000, description="rejection: added to the failed rules")


class CrossResolutionIn(Schema):
    resolution: Literal["accept", "reject"] = Field(
        description="accept: treated as passed; reject: treated as failed (a reason to reject)"
    )
    reason: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


class ReturnIn(Schema):
    reason: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


class ConfirmIn(Schema):
    amount_confirmed: Yuan | None = Field(
        None,
        description=(
            "approval: required, the amount the approver checked, which must be the proposal's "
            "`amount` (the review screen's 我已核对金额); rejection: omit"
        ),
    )


# --- endpoints ----------------------------------------------------------------------------------

router = Router()


@router.get("/applications", response={200: list[QueueRowOut], **ERRORS}, tags=["queue"])
def queue(request: HttpRequest, filters: Query[QueueFilters]) -> Any:
    """The review queue the token's user may see, with the review page's filters."""
    user = _user(request, READ)
    _forbid(p.can_use_review_site(user))
    chosen = {k: str(v) for k, v in filters.model_dump().items() if v not in (None, "")}
    return [row.__dict__ for row in review_selectors.review_rows(user, chosen)]


@router.get(
    "/applications/{application_id}",
    response={200: ApplicationOut, **ERRORS},
    tags=["applications"],
)
def application_read(request: HttpRequest, application_id: int) -> Any:
    """One application's stored evaluation (findings, approved_max), resolutions and decisions."""
    user = _user(request, READ)
    return selectors.application_out(_application(user, application_id))


@router.get(
    "/applications/{application_id}/contact",
    response={200: ContactOut, **ERRORS},
    tags=["applications"],
)
def contact_read(request: HttpRequest, application_id: int) -> Any:
    """The applicant's personal contact data; every read is written to the audit log."""
    user = _user(request, READ)
    application = _application(user, application_id)
    try:
        review.contact_view(application=application, acting_user=user)
    except review.ReviewError as refused:
        raise ApiProblem(403, FORBIDDEN, str(refused)) from None
    return selectors.contact_out(application)


@router.post(
    "/applications/{application_id}/decisions",
    response={201: DecisionOut, **ERRORS},
    tags=["decisions"],
)
def decision_propose(request: HttpRequest, application_id: int, payload: ProposalIn) -> Any:
    """Propose a decision (reviewers): approval at approved_max, or lower with
    `lowered_reason`; never above it. Rejection: the failed rules, plus `reason`."""
    user = _user(request, DECIDE)
    application = _application(user, application_id)
    if payload.kind == "rejection" and payload.amount is not None:
        message = "不予支持没有金额 (a rejection has no amount)"
        location = {"location": "body.payload.amount", "message": message}
        raise ApiProblem(422, "不能办理 (refused)", message, [location])
    try:
        decision = review.decision_propose(
            application=application,
            kind=payload.kind,
            amount=None if payload.amount is None else str(payload.amount),
            lowered_reason=payload.lowered_reason,
            reason=payload.reason,
            acting_user=user,
        )
    except review.ConflictError:
        raise
    except review.ReviewError as refused:
        application.refresh_from_db()
        _forbid(p.can_propose(user, application))
        # the action names the input it refused, so the checks are made once, there
        where = [{"location": f"body.payload.{refused.field}", "message": str(refused)}]
        raise ApiProblem(
            422, "不能办理 (refused)", str(refused), where if refused.field else refused.errors
        ) from None
    return Status(201, selectors.decision_out(decision))


@router.post(
    "/applications/{application_id}/cross-findings/{key}/resolution",
    response={200: CrossFindingOut, **ERRORS},
    tags=["applications"],
)
def cross_finding_resolve(
    request: HttpRequest,
    application_id: int,
    key: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    payload: CrossResolutionIn,
) -> Any:
    """Resolve one cross-application finding (reviewers), `key` as the application's
    `cross_findings` give it, with the reason. A finding that changed since (another
    application claims the same invoice) has another key: 404, read the application again."""
    user = _user(request, DECIDE)
    application = _application(user, application_id)
    try:
        review.cross_finding_resolve(
            application=application,
            key=key,
            resolution=payload.resolution,
            reason=payload.reason,
            acting_user=user,
        )
    except review.ConflictError:
        raise
    except review.ReviewError as refused:
        application.refresh_from_db()
        _forbid(p.can_resolve_finding(user, application))
        if refused.code == NOT_FOUND:
            raise ApiProblem(
                404, "没有该跨申报核查项 (no such cross finding)", str(refused)
            ) from None
        raise ApiProblem(422, "不能办理 (refused)", str(refused)) from None
    return selectors.cross_finding_or_none(application, key)


@router.post(
    "/decisions/{decision_id}/confirm",
    response={200: DecisionOut, **ERRORS},
    tags=["decisions"],
)
def decision_confirm(request: HttpRequest, decision_id: int, payload: ConfirmIn) -> Any:
    """Confirm a proposed decision (approvers; never the person who proposed it). An
    approval's confirmation carries `amount_confirmed`, the amount checked: as on the review
    screen, it must be the proposal's amount."""
    user = _user(request, DECIDE)
    decision = _decision(user, decision_id)
    seen = payload.amount_confirmed
    if decision.kind == "approval" and seen != decision.amount:
        _forbid(p.can_confirm(user, decision.application, decision.kind))
        figures = format_yuan_grouped(decision.amount)
        message = (
            f"复核确认须写明所核对的金额 amount_confirmed，即拟定的核定金额 {figures} 元 "
            f"(an approval's confirmation carries amount_confirmed, the proposed amount {decision.amount})"
            if seen is None
            else f"所核对的金额 {format_yuan_grouped(seen)} 元与拟定的核定金额 {figures} 元不一致"
            f" (amount_confirmed {seen} is not the proposed amount {decision.amount})"
        )
        where = [{"location": "body.payload.amount_confirmed", "message": message}]
        raise ApiProblem(422, "不能办理 (refused)", message, where)
    try:
        confirmed = review.decision_confirm(
            decision=decision,
            acting_user=user,
            amount_seen=seen if decision.kind == "approval" else None,
        )
    except review.ConflictError:
        raise
    except review.ReviewError as refused:
        application = decision.application
        application.refresh_from_db()
        _forbid(p.can_confirm(user, application, decision.kind))
        raise ApiProblem(422, "不能办理 (refused)", str(refused)) from None
    return selectors.decision_out(confirmed)


@router.post(
    "/decisions/{decision_id}/return",
    response={200: DecisionOut, **ERRORS},
    tags=["decisions"],
)
def decision_return(request: HttpRequest, decision_id: int, payload: ReturnIn) -> Any:
    """Send a proposed decision back to the reviewers, with the reason (approvers)."""
    user = _user(request, DECIDE)
    decision = _decision(user, decision_id)
    try:
        returned = review.decision_return(
            decision=decision, reason=payload.reason, acting_user=user
        )
    except review.ConflictError:
        raise
    except review.ReviewError as refused:
        _forbid(p.can_return(user))
        raise ApiProblem(422, "不能办理 (refused)", str(refused)) from None
    return selectors.decision_out(returned)


api.add_router("/", router)


# --- problems outside the operations: unknown paths, methods not allowed ------------------------


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v1/bureau/: a 404 problem, not Django's page."""
    return problem(request, 404, "没有该接口 (no such endpoint)", request.path[:300])


def _with_problems(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """django-ninja answers a method it does not serve with a bare 405; make it a problem."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "") != PROBLEM:
            return problem(
                request,
                405,
                "不支持该请求方法 (method not allowed)",
                request.method or "",
                headers={"Allow": response.get("Allow", "")},
            )
        return response

    return wrapped


def url_patterns() -> tuple[list[Any], str, str]:
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(p.pattern, _with_problems(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]
    return wrapped, app_name, namespace
