"""Chinese first: the pages are in Chinese unless the visitor chose another language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation

from voucher.core import refusals
from voucher.core.http import request_over_limit


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Like LocaleMiddleware, but the browser's Accept-Language is not consulted.

    The programme's documents, forms and clause texts are Chinese; an English page is a choice
    made with the language switch (a cookie), not a guess from the browser.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        code = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()


class RefusedPageMiddleware:
    """A refusal no view caught (a stored application that no longer fits the format, say) is
    a page that says why, with its status: never a traceback and never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, refusals.Refused) or request.path.startswith("/api/"):
            return None
        return render(
            request,
            "refused.html",
            {"exception": str(exception), "errors": exception.errors},
            status=refusals.HTTP_STATUS[exception.code],
        )


class UploadLimitMiddleware:
    """A request to a view that takes uploads (core/http.upload_limit) whose Content-Length is
    over the view's limit is answered 413 before anything reads its body: it stands before
    CsrfViewMiddleware, which reads the form of a POST. Under /api/ the answer carries the
    refusal, which ApiProblemMiddleware turns into a problem document."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        refusal = request_over_limit(request, view_func)
        if refusal is None:
            return None
        if request.path.startswith("/api/"):
            response = HttpResponse(str(refusal), status=413, content_type="text/plain")
        else:
            response = render(
                request,
                "refused.html",
                {"exception": str(refusal), "errors": []},
                status=refusals.HTTP_STATUS[refusal.code],
            )
        response.refusal = refusal  # type: ignore[attr-defined]
        return response
