"""The platform API `/api/v1/` (django-ninja). Thin: every endpoint calls one action or selector.

Authentication: `Authorization: Bearer cvp_<prefix>_<secret>`; each token has scopes, an expiry
and can be revoked; every use is audited. Errors are RFC 7807 problem documents
(`application/problem+json`). Requests are throttled per token (`VOUCHER_API_RATE`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import File, Header, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from voucher.api.problems import (
    Problem,
    ProblemNinjaAPI,
    field_message,
    location,
    refusal_status,
)
from voucher.api.schema_constraints import LINE_BREAK, SPACE
from voucher.api.throttle import TokenThrottle
from voucher.applications.access import may
from voucher.core import bearer, refusals
from voucher.core.http import UPLOAD_LIMITED_VIEW_NAMES
from voucher.platforms import actions, selectors
from voucher.platforms.models import ApiToken, ConsumptionBatch, Project, ShortlistEntry
from voucher.policy import format as fmt

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return actions.token_authenticate(
            raw=token,
            method=request.method or "",
            path=request.path,
            client=bearer.client_address(request),
        )


THROTTLE = TokenThrottle(getattr(settings, "VOUCHER_API_RATE", "600/m"))

api = ProblemNinjaAPI(
    title="算力券 · 方向三 开源平台接口 (compute-voucher platform API)",
    version="1",
    description=(
        "Direction 3 (免申即享): listed platforms publish open-source projects, read the "
        "centre's shortlist, and submit contracts, invoices, payments and consumption files "
        "for listed enterprises; the supplier's platform submits settlement data for "
        "applicants' contracts (directions 1, 2, 4). See docs/platform-api.md."
    ),
    auth=TokenAuth(),
    throttle=[THROTTLE],
    urls_namespace="api-v1",
    realm="voucher",
    unauthenticated_detail="missing, unknown, expired or revoked token",
)


# --- problems (RFC 7807): the shared ones are in voucher/api/problems.py -------------------------

problem = api.problem


@api.exception_handler(PydanticValidationError)
def _invalid_document(request: HttpRequest, error: PydanticValidationError) -> HttpResponse:
    items = [
        {"location": location(e["loc"]), "message": field_message(dict(e))} for e in error.errors()
    ]
    return problem(request, 422, "内容不符合申报格式 (not the interchange format)", errors=items)


@api.exception_handler(fmt.FormatError)
def _format_error(request: HttpRequest, error: fmt.FormatError) -> HttpResponse:
    items = [{"location": path, "message": what} for path, what in error.problems]
    return problem(request, 422, "内容不符合申报格式 (not the interchange format)", errors=items)


@api.exception_handler(actions.Refused)
def _refused(request: HttpRequest, error: actions.Refused) -> HttpResponse:
    return problem(request, refusal_status(error), error.title, error.detail, errors=error.errors)


def _scope(request: HttpRequest, scope: str) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    allowed = may(token, f"platform:{scope}")
    if not allowed:
        raise actions.Refused(
            allowed.reason,
            code=refusals.FORBIDDEN,
            errors=[{"location": "token.scopes", "message": f"{scope} missing"}],
        )
    return token


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


# --- schemas ------------------------------------------------------------------------------------


class ProjectIn(Schema):
    # not blank, no space at either end, no line break: the classes written out (see SPACE)
    external_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=rf"^[^{SPACE}]([^{LINE_BREAK}]*[^{SPACE}])?$",
    )
    enterprise: fmt.Applicant
    name: str = Field(min_length=1, max_length=200)
    # the spaces written out: \s is not the same class in Python, ECMA-262 and pydantic's regex
    url: str = Field(max_length=500, pattern=rf"^https?://[^{SPACE}/$.?#][^{SPACE}]*$")
    # the 14-2 overview of a direction-3 application, bounded as the format bounds it
    scenario: str = Field(min_length=1, max_length=fmt.OVERVIEW_MAX_CHARS)
    start_date: fmt.Day  # YYYY-MM-DD, as the interchange format reads a day (not a Unix time)
    open_source_licence: str = Field(min_length=1, max_length=64)


class ScreeningOut(Schema):
    decision: str
    reasons: str


class ProjectOut(Schema):
    id: int
    external_id: str
    enterprise_uscc: str
    name: str
    url: str
    scenario: str
    start_date: date
    open_source_licence: str
    published_at: datetime
    updated_at: datetime
    screening: ScreeningOut | None


def _project_out(project: Project) -> dict[str, Any]:
    screening = getattr(project, "screening", None)
    return {
        "id": project.pk,
        "external_id": project.external_id,
        "enterprise_uscc": project.enterprise_uscc,
        "name": project.name,
        "url": project.url,
        "scenario": project.scenario,
        "start_date": project.start_date,
        "open_source_licence": project.open_source_licence,
        "published_at": project.published_at,
        "updated_at": project.updated_at,
        "screening": (
            None
            if screening is None
            else {"decision": screening.decision, "reasons": screening.reasons}
        ),
    }


class ShortlistOut(Schema):
    project_id: int
    external_id: str
    enterprise_uscc: str
    enterprise_name: str
    project_name: str
    listed_at: datetime


QUANTITY_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,6})?$"  # ASCII digits: \d is Unicode's in pydantic


class TermLine(Schema):
    device: str = Field("", max_length=64, description="device model, e.g. H800 (may be empty)")
    unit: str = Field(min_length=1, max_length=64, description="e.g. card-hour")
    quantity: str | None = Field(
        None, pattern=QUANTITY_PATTERN, description="contracted scale in `unit`"
    )
    unit_price: str | None = Field(None, pattern=QUANTITY_PATTERN, description="yuan per unit")


class TermsIn(Schema):
    lines: list[TermLine] = Field(max_length=200)


class ContractOut(Schema):
    enterprise_uscc: str
    contract_id: str
    document: dict[str, Any]
    terms: list[TermLine]
    updated_at: datetime


def _contract_out(stored: Any) -> dict[str, Any]:
    return {
        "enterprise_uscc": stored.enterprise_uscc,
        "contract_id": stored.contract_id,
        "document": stored.document,
        "terms": stored.terms or [],
        "updated_at": stored.updated_at,
    }


class RowRefOut(Schema):
    aggregate: int | None
    batch: int | None
    month: str
    resource_type: str
    device: str
    unit: str
    first_row: int
    last_row: int
    row_count: int


class ComparisonOut(Schema):
    kind: str
    label: str
    subject: str
    expected: str | None
    actual: str
    difference: str | None
    tolerance: str
    flagged: bool
    note: str
    sources: list[str]
    rows: list[RowRefOut]


class ReconciliationOut(Schema):
    contract_id: str
    differences: int
    comparisons: list[ComparisonOut]


class BatchOut(Schema):
    id: int
    kind: str  # consumption (direction 3) | settlement (an applicant's contract)
    enterprise_uscc: str
    contract_id: str  # settlement: the applicant's contract; consumption: empty
    idempotency_key: str
    status: str
    file_name: str
    file_sha256: str
    file_size: int
    attempts: int
    summary: dict[str, Any]
    refusal: str
    created_at: datetime
    finished_at: datetime | None


def _batch_out(batch: ConsumptionBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "kind": "consumption" if batch.settles_application_id is None else "settlement",
        "enterprise_uscc": batch.enterprise_uscc,
        "contract_id": batch.settles_contract_id,
        "idempotency_key": batch.idempotency_key,
        "status": batch.status,
        "file_name": batch.file_name,
        "file_sha256": batch.file_sha256,
        "file_size": batch.file_size,
        "attempts": batch.attempts,
        "summary": batch.summary,
        "refusal": batch.refusal,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
    }


# --- endpoints ----------------------------------------------------------------------------------

router = Router()
# 1 to 100 visible ASCII characters: headers are Latin-1 on the wire, so a key in other
# characters arrives garbled (the action checks the same)
IDEMPOTENCY_KEY = r"^[!-~]{1,100}$"
Uscc = str


def _batch(request: HttpRequest, batch_id: int, *, settlement: bool) -> ConsumptionBatch:
    """A batch of the token's platform, of the kind the endpoint serves (scope `settlement` or
    `consumption`); 404 for any other, whoever's it is."""
    token = _scope(request, "settlement" if settlement else "consumption")
    batch = selectors.batch_of(platform=token.platform, batch_id=batch_id, settlement=settlement)
    if batch is None:
        raise actions.Refused("没有该批次 (no such batch)", code=refusals.NOT_FOUND)
    return batch


# The error report's OpenAPI description (it is CSV, not JSON): its 200 is only here, not in
# `response=` as well, which would put two "200" keys in the document.
_ERROR_REPORT = {
    "responses": {
        "200": {
            "description": "CSV: row, line, column, message",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


_UPLOAD = {  # a file of no bytes is refused (422 naming body.file): the document says so
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "properties": {
                        "file": {
                            "minLength": 1,
                            "description": "CSV or Parquet, not empty (docs/platform-api.md)",
                        }
                    }
                }
            }
        }
    }
}


def _error_report(batch: ConsumptionBatch, name: str) -> HttpResponse:
    if batch.status in (ConsumptionBatch.QUEUED, ConsumptionBatch.RUNNING):
        # an empty report now would read as "no bad rows"
        raise actions.Refused(
            "批次尚未处理完，还没有错误报告 (the batch is not processed yet: no report)",
            code=refusals.CONFLICT,
            detail=f"status: {batch.status}",
        )
    response = HttpResponse(batch.error_report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{batch.pk}-errors.csv"'
    return response


def _uscc(value: str) -> str:
    if not re.fullmatch(USCC_PATTERN, value):
        raise actions.Refused(
            "没有该企业 (no such enterprise)",
            code=refusals.NOT_FOUND,
            errors=[{"location": "path.uscc", "message": "not a USCC"}],
        )
    return value


@router.post("/projects", response={200: ProjectOut, 201: ProjectOut, **ERRORS}, tags=["projects"])
def project_publish(request: HttpRequest, payload: ProjectIn) -> Any:
    """Publish an open-source project, or update it (same `external_id`)."""
    token = _scope(request, "projects")
    data = payload.model_dump()
    data["enterprise"] = payload.enterprise.model_dump(mode="json")
    data["start_date"] = payload.start_date  # the day, not its text
    project, created = actions.project_publish(token=token, data=data)
    project = selectors.projects_of(platform=token.platform).get(pk=project.pk)
    return Status(201 if created else 200, _project_out(project))


@router.get("/projects", response={200: list[ProjectOut], **ERRORS}, tags=["projects"])
def project_list(request: HttpRequest) -> Any:
    """The projects this platform published, with the centre's decision once screened."""
    token = _scope(request, "projects")
    return [
        _project_out(p)
        for p in selectors.projects_of(platform=token.platform).select_related("screening")
    ]


@router.get("/shortlist", response={200: list[ShortlistOut], **ERRORS}, tags=["shortlist"])
def shortlist(request: HttpRequest) -> Any:
    """The enterprises the centre listed among this platform's projects."""
    token = _scope(request, "shortlist")
    out = []
    entry: ShortlistEntry
    for entry in selectors.shortlist_of(platform=token.platform):
        out.append(
            {
                "project_id": entry.project.pk,
                "external_id": entry.project.external_id,
                "enterprise_uscc": entry.project.enterprise_uscc,
                "enterprise_name": entry.project.enterprise.get("name", ""),
                "project_name": entry.project.name,
                "listed_at": entry.screened_at,
            }
        )
    return out


@router.put(
    "/enterprises/{uscc}/contracts/{contract_id}",
    response={200: ContractOut, **ERRORS},
    tags=["contracts"],
)
def contract_put(request: HttpRequest, uscc: str, contract_id: str, payload: fmt.Contract) -> Any:
    """Create or replace a listed enterprise's contract (format `contracts[]`; deliveries come
    from the consumption batches and must be empty here). `invoices` or `payments` left out of
    the body are kept as they are; sent (even empty), they replace the stored ones."""
    token = _scope(request, "contracts")
    _uscc(uscc)
    if payload.id != contract_id:
        raise actions.Refused(
            "合同编号与地址不符 (contract id differs from the URL)",
            code=refusals.INVALID,
            errors=[{"location": "body.id", "message": f"须与地址中的 {contract_id} 相同"}],
        )
    if payload.deliveries:
        raise actions.Refused(
            "交付记录来自消费明细，不在此提交 (deliveries come from consumption batches)",
            code=refusals.INVALID,
        )
    stored = actions.contract_submit(
        token=token,
        uscc=uscc,
        document=payload.model_dump(mode="json", exclude={"deliveries"}),
        # left out of the document: kept as they are (added one by one with POST)
        keep_evidence=tuple(k for k in actions.EVIDENCE_KINDS if k not in payload.model_fields_set),
    )
    return _contract_out(stored)


@router.post(
    "/enterprises/{uscc}/contracts/{contract_id}/invoices",
    response={201: ContractOut, **ERRORS},
    tags=["contracts"],
)
def invoice_add(request: HttpRequest, uscc: str, contract_id: str, payload: fmt.Invoice) -> Any:
    token = _scope(request, "contracts")
    stored = actions.contract_add_evidence(
        token=token,
        uscc=_uscc(uscc),
        contract_id=contract_id,
        kind="invoices",
        item=payload.model_dump(mode="json"),
    )
    return Status(201, _contract_out(stored))


@router.post(
    "/enterprises/{uscc}/contracts/{contract_id}/payments",
    response={201: ContractOut, **ERRORS},
    tags=["contracts"],
)
def payment_add(request: HttpRequest, uscc: str, contract_id: str, payload: fmt.Payment) -> Any:
    token = _scope(request, "contracts")
    stored = actions.contract_add_evidence(
        token=token,
        uscc=_uscc(uscc),
        contract_id=contract_id,
        kind="payments",
        item=payload.model_dump(mode="json"),
    )
    return Status(201, _contract_out(stored))


@router.put(
    "/enterprises/{uscc}/contracts/{contract_id}/terms",
    response={200: ContractOut, **ERRORS},
    tags=["contracts"],
)
def contract_terms(request: HttpRequest, uscc: str, contract_id: str, payload: TermsIn) -> Any:
    """Replace the contract's scale and unit price per device and unit (one line each), which
    the consumption is reconciled with."""
    token = _scope(request, "contracts")
    lines = [
        {k: v for k, v in line.model_dump().items() if v is not None} for line in payload.lines
    ]
    stored = actions.contract_terms_submit(
        token=token, uscc=_uscc(uscc), contract_id=contract_id, lines=lines
    )
    return _contract_out(stored)


@router.get(
    "/enterprises/{uscc}/contracts/{contract_id}/reconciliation",
    response={200: ReconciliationOut, **ERRORS},
    tags=["contracts"],
)
def contract_reconciliation(request: HttpRequest, uscc: str, contract_id: str) -> Any:
    """The contract's processed consumption reconciled with its terms, total, invoices and
    payments, as the bureau's reviewer sees it (differences are flagged, never corrected)."""
    token = _scope(request, "contracts")
    stored = selectors.contract_of(
        platform=token.platform, uscc=_uscc(uscc), contract_id=contract_id
    )
    if stored is None:
        raise actions.Refused(
            "没有该合同 (no such contract)",
            code=refusals.NOT_FOUND,
            errors=[{"location": "path.contract_id", "message": "not submitted"}],
        )
    return selectors.d3_reconciliation(stored=stored).as_json()


@router.post(
    "/enterprises/{uscc}/consumption-batches",
    response={200: BatchOut, 202: BatchOut, **ERRORS},
    tags=["consumption"],
    openapi_extra=_UPLOAD,
)
def batch_submit(
    request: HttpRequest,
    uscc: str,
    file: File[UploadedFile],
    idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY),
) -> Any:
    """Upload a consumption file (CSV or Parquet, docs/platform-api.md). 202: queued; 200: the
    same key and file were already submitted (the existing batch); 409: the key was used for
    another file."""
    token = _scope(request, "consumption")
    batch, created = actions.batch_submit(
        token=token,
        uscc=_uscc(uscc),
        upload=file,
        file_name=file.name or "",
        idempotency_key=idempotency_key,
    )
    return Status(202 if created else 200, _batch_out(batch))


@router.get(
    "/consumption-batches/{batch_id}", response={200: BatchOut, **ERRORS}, tags=["consumption"]
)
def batch_status(request: HttpRequest, batch_id: int) -> Any:
    return _batch_out(_batch(request, batch_id, settlement=False))


@router.get(
    "/consumption-batches/{batch_id}/errors",
    response=ERRORS,
    tags=["consumption"],
    openapi_extra=_ERROR_REPORT,
)
def batch_errors(request: HttpRequest, batch_id: int) -> Any:
    """The per-row error report of a processed batch (CSV, UTF-8)."""
    return _error_report(_batch(request, batch_id, settlement=False), "batch")


@router.delete(
    "/consumption-batches/{batch_id}", response={200: BatchOut, **ERRORS}, tags=["consumption"]
)
def batch_withdraw(request: HttpRequest, batch_id: int) -> Any:
    """Withdraw a batch sent by mistake: its rows stop counting; send the corrected file under a
    new `Idempotency-Key`. 409 while it is processed, or once the direction-3 application built
    from the enterprise's consumption has a decision."""
    token = _scope(request, "consumption")
    batch = _batch(request, batch_id, settlement=False)
    return _batch_out(actions.batch_withdraw(token=token, batch=batch))


@router.post(
    "/enterprises/{uscc}/contracts/{contract_id}/settlement-batches",
    response={200: BatchOut, 202: BatchOut, **ERRORS},
    tags=["settlement"],
    openapi_extra=_UPLOAD,
)
def settlement_submit(
    request: HttpRequest,
    uscc: str,
    contract_id: str,
    file: File[UploadedFile],
    idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY),
) -> Any:
    """Settlement data (14-1 五) for a contract an applicant declared in a direction 1, 2 or 4
    application: the consumption file format. Only the platform whose organisation is the
    contract's supplier may submit it. 202: queued; 200: the same key and file again."""
    token = _scope(request, "settlement")
    batch, created = actions.settlement_submit(
        token=token,
        uscc=_uscc(uscc),
        contract_id=contract_id,
        upload=file,
        file_name=file.name or "",
        idempotency_key=idempotency_key,
    )
    return Status(202 if created else 200, _batch_out(batch))


# the upload operations: UploadLimitMiddleware answers 413 before the body is read
UPLOAD_LIMITED_VIEW_NAMES[f"{api.urls_namespace}:{batch_submit.__name__}"] = "consumption"
UPLOAD_LIMITED_VIEW_NAMES[f"{api.urls_namespace}:{settlement_submit.__name__}"] = "settlement"


@router.get(
    "/settlement-batches/{batch_id}", response={200: BatchOut, **ERRORS}, tags=["settlement"]
)
def settlement_status(request: HttpRequest, batch_id: int) -> Any:
    return _batch_out(_batch(request, batch_id, settlement=True))


@router.get(
    "/settlement-batches/{batch_id}/errors",
    response=ERRORS,
    tags=["settlement"],
    openapi_extra=_ERROR_REPORT,
)
def settlement_errors(request: HttpRequest, batch_id: int) -> Any:
    """The per-row error report of a processed settlement batch (CSV, UTF-8)."""
    return _error_report(_batch(request, batch_id, settlement=True), "settlement")


api.add_router("/", router)


@router.delete(
    "/settlement-batches/{batch_id}", response={200: BatchOut, **ERRORS}, tags=["settlement"]
)
def settlement_withdraw(request: HttpRequest, batch_id: int) -> Any:
    """Withdraw a settlement batch sent by mistake: it no longer counts in the comparison with
    the applicant's declaration. 409 while it is processed, or once that application has a
    decision."""
    token = _scope(request, "settlement")
    batch = _batch(request, batch_id, settlement=True)
    return _batch_out(actions.batch_withdraw(token=token, batch=batch))
