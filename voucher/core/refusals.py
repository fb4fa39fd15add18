"""The one refusal: an action that will not do what was asked says why, with a stable code.

Every app's actions raise `Refused` (or `Conflict`, someone changed it first): the message is for
the person who tried, in their words; `code` is for a program, and never changes with the words;
`field` names the input it is about, when it is about one; `errors` lists several fields. What a
refusal becomes on the wire (an HTTP status, an RFC 7807 problem document, a form error, a
message on the page) is decided only where the request came in: `voucher/api/problems.py` for
both APIs, the views for the pages.
"""

from __future__ import annotations

from typing import Any, ClassVar

# The stable codes. A program (the platforms, the bureau's tools) branches on these.
REFUSED = "refused"  # the rules refuse it (a state, a guard, a deadline)
FORBIDDEN = "forbidden"  # the actor may not do it
NOT_FOUND = "not_found"  # nothing of that name the actor may see
CONFLICT = "conflict"  # it changed meanwhile, or exists already
INVALID = "invalid"  # the input is not what the field takes
BAD_REQUEST = "bad_request"  # the request itself cannot be read
TOO_LARGE = "too_large"  # an upload (or the request carrying it) over its limit
CODES = frozenset({REFUSED, FORBIDDEN, NOT_FOUND, CONFLICT, INVALID, BAD_REQUEST, TOO_LARGE})

# The one place a refusal's stable code becomes an HTTP status: the APIs' problem documents and
# the pages' refusal (core/middleware.py) answer with it.
HTTP_STATUS = {
    BAD_REQUEST: 400,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    CONFLICT: 409,
    INVALID: 422,
    REFUSED: 422,
    TOO_LARGE: 413,
}


class Refused(Exception):
    """Refused: the message says why, in words for the person who tried."""

    code: ClassVar[str] = REFUSED

    def __init__(
        self,
        message: Any = "",
        *,
        code: str | None = None,
        field: str | None = None,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(detail or str(message))  # the detail, when there is one, says most
        if code is not None:
            if code not in CODES:
                raise ValueError(f"unknown refusal code {code!r}")
            self.code = code  # type: ignore[misc]
        self.message = message
        self.field = field
        self.title = str(message)
        self.detail = detail
        self.errors = errors or []  # [{location, message}]: the fields the refusal is about


class Conflict(Refused):
    """Someone else changed it first (or it exists already): reload and try again."""

    code: ClassVar[str] = CONFLICT
