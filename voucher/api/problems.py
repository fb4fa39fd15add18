"""RFC 7807 problem documents, shared by both APIs (platforms `/api/v1/`, bureau `/api/v1/bureau/`).

`ProblemNinjaAPI` answers every error as `application/problem+json` — validation errors naming the
field, a missing or bad token, throttling, HTTP errors and anything unexpected (logged, never a
bare 500 page) — and declares it so in the OpenAPI document: django-ninja would declare every
response `application/json`, and a client (or schemathesis) reading the document must be told.
Each API adds the handlers of its own refusals (`api.exception_handler`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from voucher.api.schema_constraints import constrain
from voucher.core import refusals

PROBLEM = "application/problem+json"

REFUSAL_STATUS = refusals.HTTP_STATUS


def refusal_status(refused: refusals.Refused) -> int:
    return REFUSAL_STATUS[refused.code]


logger = logging.getLogger(__name__)


class ProblemItem(Schema):
    location: str
    message: str


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[ProblemItem] = Field(default_factory=list)


def location(loc: Any) -> str:
    return ".".join(str(part) for part in loc)


# pydantic's error types, in Chinese first; its English follows in brackets
FIELD_MESSAGES = {
    "missing": "缺少此项",
    "string_type": "须为文本",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "dict_type": "须为对象",
    "list_type": "须为列表",
    "string_pattern_mismatch": "格式不符",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "extra_forbidden": "不接受此项",
    "literal_error": "不是可选的值",
    "json_invalid": "不是有效的 JSON",
}


def field_message(error: dict[str, Any]) -> str:
    """One field's refusal: the format's own messages (already Chinese and English) as they
    are, without pydantic's "Value error, "; pydantic's own in Chinese, its English after."""
    message = str(error.get("msg", ""))
    if error.get("type") == "value_error":
        return message.removeprefix("Value error, ")
    chinese = FIELD_MESSAGES.get(str(error.get("type", "")))
    return f"{chinese} ({message})" if chinese else message


class ProblemNinjaAPI(NinjaAPI):
    def __init__(self, *args: Any, realm: str, unauthenticated_detail: str, **kwargs: Any):
        # Without deep links, Swagger UI draws each operation's path as text, not as a link
        # inside the operation's button (a control nested in a control, WCAG 4.1.2)
        kwargs.setdefault("docs", Swagger(settings={"deepLinking": False}))
        super().__init__(*args, **kwargs)
        self.realm = realm
        self.unauthenticated_detail = unauthenticated_detail
        self.add_exception_handler(NinjaValidationError, self._invalid)
        self.add_exception_handler(AuthenticationError, self._unauthenticated)
        self.add_exception_handler(Throttled, self._throttled)
        self.add_exception_handler(HttpError, self._http_error)
        # Django refuses these while it reads the body, inside the operation: they are the
        # client's errors, not ours (a multipart header without its boundary, too many parts or
        # fields, a body over DATA_UPLOAD_MAX_MEMORY_SIZE)
        self.add_exception_handler(MultiPartParserError, self._unreadable_body)
        self.add_exception_handler(SuspiciousOperation, self._unreadable_body)
        self.add_exception_handler(RequestDataTooBig, self._body_too_big)
        self.add_exception_handler(Exception, self._unexpected)

    def problem(
        self,
        request: HttpRequest,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "errors": errors or [],
        }
        response = self.create_response(request, body, status=status)
        response["Content-Type"] = PROBLEM
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    def _invalid(self, request: HttpRequest, error: Any) -> HttpResponse:
        items = [
            {"location": location(e.get("loc", ())), "message": field_message(e)}
            for e in error.errors
        ]
        return self.problem(
            request, 422, "请求内容不符合接口定义 (request does not match the schema)", errors=items
        )

    def _unauthenticated(self, request: HttpRequest, error: Any) -> HttpResponse:
        return self.problem(
            request,
            401,
            "需要有效的令牌 (a valid bearer token is required)",
            self.unauthenticated_detail,
            headers={"WWW-Authenticate": f'Bearer realm="{self.realm}"'},
        )

    def _throttled(self, request: HttpRequest, error: Any) -> HttpResponse:
        wait = getattr(error, "wait", None)
        headers = {"Retry-After": str(int(wait) + 1)} if wait else {}
        return self.problem(request, 429, "请求过于频繁 (too many requests)", headers=headers)

    def _http_error(self, request: HttpRequest, error: Any) -> HttpResponse:
        if error.status_code == 400 and str(error).startswith("Cannot parse request body"):
            # django-ninja's words for a body that is not JSON (or not the declared form)
            return self.problem(
                request,
                400,
                "请求体无法解析：须为 JSON (the request body cannot be parsed: JSON expected)",
                str(error),
                errors=[{"location": "body", "message": "须为 JSON (JSON expected)"}],
            )
        return self.problem(request, error.status_code, str(error) or "error")

    def _unreadable_body(self, request: HttpRequest, error: Any) -> HttpResponse:
        return self.problem(
            request,
            400,
            "无法读取请求体 (the request body cannot be read)",
            str(error),
            errors=[{"location": "body", "message": str(error)}],
        )

    def _body_too_big(self, request: HttpRequest, error: Any) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return self.problem(
            request,
            413,
            "请求体过大 (the request body is too large)",
            f"请求体（文件以外）最多 {limit:,} 字节；文件请以 multipart/form-data 上传"
            f" (at most {limit:,} bytes outside files; upload files as multipart/form-data)",
            errors=[{"location": "body", "message": str(error)}],
        )

    def _unexpected(self, request: HttpRequest, error: Any) -> HttpResponse:
        logger.exception("%s: unexpected error on %s %s", self.realm, request.method, request.path)
        return self.problem(
            request, 500, "服务器内部错误 (internal error)", "the error has been logged"
        )

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM] = content.pop("application/json")
        # the interchange format's checks written out (voucher/api/schema_constraints.py)
        return constrain(schema)
