"""What the user typed into a review form the action refused, kept for the page the refusal
redirects to: the form comes back filled, with the error above it, instead of empty.

`keep(request)` stores the POST (per form: its URL name) in the session; the context processor
`typed_form` hands it to the next page rendered, once; the `{% typed %}` tag fills a field with
it, or with the field's default when the form is another one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

SESSION_KEY = "review_typed_form"
FORM = "_form"


def keep(request: HttpRequest) -> None:
    match = getattr(request, "resolver_match", None)
    if match is None or not hasattr(request, "session"):
        return
    values: dict[str, Any] = {
        name: request.POST.getlist(name) for name in request.POST if name != "csrfmiddlewaretoken"
    }
    values[FORM] = match.url_name
    request.session[SESSION_KEY] = values


def typed_form(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the kept form, popped (it fills one page, the next one)."""
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return {}
    return {"typed_form": session.pop(SESSION_KEY)}


def value(kept: dict[str, Any] | None, form: str, field: str, default: Any = "") -> Any:
    if not kept or kept.get(FORM) != form or field not in kept:
        return default
    values = kept[field]
    return values[-1] if values else ""


def checked(kept: dict[str, Any] | None, form: str, field: str, option: Any, default: bool) -> bool:
    """A checkbox or radio button: as typed when the kept form is this one."""
    if not kept or kept.get(FORM) != form:
        return default
    return str(option) in kept.get(field, [])
