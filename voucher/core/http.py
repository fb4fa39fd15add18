"""Small helpers every app's views share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from voucher.core.refusals import BAD_REQUEST, TOO_LARGE, Refused

View = TypeVar("View", bound=Callable[..., Any])


def row_id(value: str | None) -> int:
    """A row id from a form; anything else is a missing row, not a server error."""
    if not value or not (value.isascii() and value.isdigit()):
        raise Http404("no such row")
    return int(value)


def int_param(params: Any, name: str, default: int | None = None) -> int:
    """An integer from a query string or a form (`request.GET`, `request.POST`, or a dict of
    them): `default` when it is missing or empty; anything else that is not a whole number is a
    bad request (400) naming the parameter, never a server error."""
    value = params.get(name, "") if hasattr(params, "get") else params
    return int_value(value, name, default)


def int_value(value: Any, name: str, default: int | None = None) -> int:
    text = str(value if value is not None else "").strip()
    if not text and default is not None:
        return default
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits and digits.isascii() and digits.isdigit() and len(digits) <= 18):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise Refused(
            _("参数 %(name)s 须为整数，收到“%(value)s”") % {"name": name, "value": shown},
            code=BAD_REQUEST,
            field=name,
        )
    return int(text)


# --- upload limits (docs/uploads.md) -----------------------------------------------------------

# What each kind of upload is, for the refusal (the limits are settings.VOUCHER_MAX_UPLOAD_MB).
UPLOAD_KINDS = {
    "materials": _lazy("申报材料（每个文件）"),
    "licence": _lazy("营业执照"),
    "application_import": _lazy("合同等数据的 Excel/CSV 导入"),
    "supplier_confirmations": _lazy("算力供给方的逐行确认文件"),
    "registry_import": _lazy("企业名录导入"),
    "list": _lazy("名单导入"),
    "invoice": _lazy("发票文件"),
    "objection": _lazy("公示异议附件"),
    "consumption": _lazy("消费明细文件"),
    "settlement": _lazy("结算数据文件"),
}
UPLOAD_FORM_MARGIN = 2**20  # the form's other fields and the multipart headers of a request
UPLOAD_LIMIT_ATTRIBUTE = "voucher_upload_limit"
# Views the decorator cannot reach (the API's operations), by their URL name: the app that owns
# them names them here from its own module (api/v1.py).
UPLOAD_LIMITED_VIEW_NAMES: dict[str, str] = {}


def upload_limit_bytes(kind: str) -> int:
    """The largest file of this kind, in bytes (settings.VOUCHER_MAX_UPLOAD_MB, per kind)."""
    return int(float(settings.VOUCHER_MAX_UPLOAD_MB[kind]) * 2**20)


def megabytes(size: float) -> str:
    return f"{size / 2**20:.1f}".removesuffix(".0")


def too_large(kind: str, size: int, limit: int | None = None, what: Any = None) -> Refused:
    """The refusal of an upload (or a request) of `size` bytes over the limit of its kind."""
    limit = upload_limit_bytes(kind) if limit is None else limit
    return Refused(
        _("上传内容过大（%(size)s MB）：%(what)s最多 %(limit)s MB。")
        % {
            "size": megabytes(size),
            "what": what or UPLOAD_KINDS[kind],
            "limit": megabytes(limit),
        },
        code=TOO_LARGE,
        errors=[
            {
                "location": "body",
                "message": f"{kind}: at most {megabytes(limit)} MB, got {megabytes(size)} MB",
            }
        ],
    )


def upload_limit(
    kind: str, *, request_bytes: Callable[[], int] | None = None, request_what: Any = None
) -> Callable[[View], View]:
    """Mark a view that takes uploads of `kind`: UploadLimitMiddleware answers 413 to a request
    whose Content-Length is over the limit (the file's, or `request_bytes()`, described as
    `request_what`, when one request may carry several files) plus the form's margin, before
    CSRF or the view reads the body."""

    def decorate(view: View) -> View:
        setattr(view, UPLOAD_LIMIT_ATTRIBUTE, (kind, request_bytes, request_what))
        return view

    return decorate


def request_over_limit(request: HttpRequest, view_func: Any) -> Refused | None:
    """The refusal of a request whose declared body is larger than its view takes; None if the
    view takes no uploads or the body fits."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    marked = getattr(view_func, UPLOAD_LIMIT_ATTRIBUTE, None)
    if marked is None:
        match = getattr(request, "resolver_match", None)
        kind = UPLOAD_LIMITED_VIEW_NAMES.get(match.view_name) if match else None
        if kind is None:
            return None
        marked = (kind, None, None)
    kind, request_bytes, what = marked
    limit = (request_bytes or (lambda: upload_limit_bytes(kind)))()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django reads no body it cannot size
    if declared > limit + UPLOAD_FORM_MARGIN:
        return too_large(kind, declared, limit, what)
    return None
