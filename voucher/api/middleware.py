"""Under /api/, a path that names no operation (404) or a method the path does not take (405)
is answered as a problem document too: Django's own pages are HTML, and a client reading
`application/problem+json` for every error must not meet one. So is an upload over its limit
that UploadLimitMiddleware (voucher/core/middleware.py) answered 413 before reading it."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from voucher.api.problems import PROBLEM

TITLES = {
    404: "没有这个接口地址 (no such API path)",
    405: "此地址不接受该请求方法 (method not allowed on this path)",
}


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        refusal = getattr(response, "refusal", None)  # core.middleware.UploadLimitMiddleware
        if status == 413 and refusal is not None and request.path.startswith("/api/"):
            body413 = {
                "type": "about:blank",
                "title": "请求体过大 (the request body is too large)",
                "status": 413,
                "detail": str(refusal),
                "errors": refusal.errors,
            }
            return HttpResponse(
                json.dumps(body413, ensure_ascii=False), status=413, content_type=PROBLEM
            )
        if (
            status in TITLES
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith(PROBLEM)
        ):
            allowed = response.get("Allow", "")
            body = {
                "type": "about:blank",
                "title": TITLES[status],
                "status": status,
                "detail": f"{request.method} {request.path}"
                + (f"; allowed: {allowed}" if allowed else ""),
                "errors": [],
            }
            problem = HttpResponse(
                json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM
            )
            if allowed:
                problem["Allow"] = allowed
            return problem
        return response
