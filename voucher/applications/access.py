"""The one access-control layer: who may do what, for every kind of actor.

Every door asks here: the portal (an enterprise's member or administrator), the bureau's pages
(each staff role, always behind a TOTP-verified session), the evaluation pages, the documents,
the downloads of uploaded materials, the Django admin, the platform API (a platform's token) and
the bureau API (a staff member's token). `may(actor, action, obj)` answers with a `Check`: allowed,
and the sentence that says why not. The rules themselves are `permissions.can_*`; `is_staff` is
never the answer.

An outsider (a user of another enterprise, or of none) gets 404 for another enterprise's
application, whatever the URL: the answer does not even say that the application exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from voucher.applications import otp
from voucher.applications import permissions as p
from voucher.applications.models import Application, Contract, Membership
from voucher.applications.roles import is_applicant_of, membership_of, supplier_uscc_of
from voucher.core import precompiled

View = Callable[..., Any]


# --- may(actor, action, obj): the one question ----------------------------------------------------

# What a user may do, by name: each answer is a permission of permissions.py. `obj` is the
# application where the action is about one.
USER_ACTIONS: dict[str, Callable[[Any, Any], p.Check]] = {
    "use_review_site": lambda user, obj: p.can_use_review_site(user),
    "view_application": p.can_view_application,
    "view_contact": p.can_view_contact,
    "prefill_invoices": p.can_prefill_invoices,
    "resolve_finding": p.can_resolve_finding,
    "request_supplement": p.can_request_supplement,
    "check_materials": p.can_check_materials,
    "propose": p.can_propose,
    "record_payment": p.can_record_payment,
    "request_clawback": p.can_request_clawback,
    "publish_publicity": lambda user, obj: p.can_publish_publicity(user),
    "record_objection": lambda user, obj: p.can_record_objection(user),
    "return_proposal": lambda user, obj: p.can_return(user),
    "screen": lambda user, obj: p.can_screen(user),
    "hand_out": lambda user, obj: p.can_hand_out(user),
    "take": lambda user, obj: p.can_take(user),
    "manage_users": lambda user, obj: p.can_manage_users(user),
    "manage_round": lambda user, obj: p.can_manage_round(user),
    "decide_enterprise_claim": lambda user, obj: p.can_decide_enterprise_claim(user),
    "view_enterprises": lambda user, obj: p.can_view_enterprises(user),
    "propose_enterprise_correction": lambda user, obj: p.can_propose_enterprise_correction(user),
    "decide_enterprise_correction": p.can_decide_enterprise_correction,
    "view_registry": lambda user, obj: p.can_view_registry(user),
    "import_registry": lambda user, obj: p.can_import_registry(user),
    "sweep_registry": lambda user, obj: p.can_sweep_registry(user),
    "export": lambda user, obj: p.can_export(user),
    "see_notifications": lambda user, obj: p.can_see_notifications(user),
    "use_admin": lambda user, obj: p.can_use_admin(user),
    "check_payee": lambda user, obj: p.can_check_payee(user),
    "confirm_payee": lambda user, obj: p.can_confirm_payee(user, obj),
    "manage_payment_batches": lambda user, obj: p.can_manage_payment_batches(user),
    "enter_payee": lambda user, obj: p.can_enter_payee(user, obj),
    "invite_supplier": lambda user, obj: p.can_invite_supplier(user),
    "act_for_supplier": p.can_act_for_supplier,
    "act_for_enterprise": lambda user, obj: (
        p.OK if is_applicant_of(user, obj) else p.Check(False, "not a member of its enterprise")
    ),
}


def may(actor: Any, action: str, obj: Any = None) -> p.Check:
    """Whether `actor` may do `action` (on `obj`), and why not: the one question every door asks.

    - a user (anonymous, an enterprise's member, a staff member): `action` is a name of
      USER_ACTIONS, or `transition:<name>` for a step of the application's lifecycle;
    - a platform's token: `platform:<scope>` (its own platform's data; the actions check that
      the rows are the token's platform's);
    - a staff member's token (bureau API): `bureau:<scope>`, and then its user must be staff, as
      on the pages; the API's actions ask may(token.user, …) for the rest.
    An action nobody named is refused: closed by default.
    """
    kind, _, name = action.partition(":")
    if kind in ("platform", "bureau"):
        scopes = getattr(actor, "scopes", None)
        if scopes is None or (kind == "platform") != hasattr(actor, "platform_id"):
            return p.Check(False, f"not a {kind} token")
        if name not in scopes:
            return p.Check(False, f"令牌没有 {name} 权限 (token lacks the {name} scope)")
        return p.can_use_review_site(actor.user) if kind == "bureau" else p.OK
    if kind == "transition":
        return p.can_transition(actor, obj, name)
    rule = USER_ACTIONS.get(action)
    if rule is None:
        return p.Check(False, f"unknown action {action!r}")
    return rule(actor, obj)


def is_public_demo() -> bool:
    """Only `voucher demo` opens the pages without a login (VOUCHER_PUBLIC_DEMO); DEBUG, which
    someone may turn on to read a traceback, opens nothing."""
    return bool(getattr(settings, "VOUCHER_PUBLIC_DEMO", False))


def staff_verified_by(check: Callable[[Any], p.Check]) -> Callable[[View], View]:
    """Logged in, allowed by `check` (whose reason the 403 page shows), and the session
    verified by a TOTP code: every staff page, the review site's, the registry's, the
    platforms' screening, the enterprise claims', the evaluations' and the admin's."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user: Any = request.user
            if not user.is_authenticated:
                return redirect(f"{reverse('review:login')}?next={request.get_full_path()}")
            allowed = check(user)
            if not allowed:
                raise PermissionDenied(allowed.reason)
            if not staff_session_verified(request):
                if otp.confirmed_device(user) is None:
                    return redirect("review:otp_setup")
                logout(request)
                return redirect(f"{reverse('review:login')}?next={request.get_full_path()}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def staff_session_verified(request: HttpRequest) -> bool:
    """A staff session counts only once a TOTP code verified it (django-otp's middleware)."""
    user: Any = request.user
    return bool(user.is_authenticated and getattr(user, "is_verified", lambda: False)())


staff_verified = staff_verified_by(p.can_use_review_site)


def evaluations_door(view: View) -> View:
    """The evaluation pages: staff behind the TOTP login (the view then asks which
    applications), or anyone in a public demo."""
    verified = staff_verified(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if is_public_demo():
            return view(request, *args, **kwargs)
        return verified(request, *args, **kwargs)

    return wrapped


NOT_VERIFIED = "staff session not verified by a TOTP code"


def may_open_application_files(request: HttpRequest, application: Application) -> p.Check:
    """The application's documents (14-2/14-3/14-4, the package) and the materials uploaded for
    it: its enterprise's members; staff who may view it, in a TOTP-verified session; anyone in
    a public demo. A refusal whose reason is NOT_VERIFIED sends staff to the TOTP login."""
    user: Any = request.user
    if is_public_demo() or is_applicant_of(user, application):
        return p.OK
    if not p.staff_roles(user):
        return p.Check(False, "")
    if not staff_session_verified(request):
        return p.Check(False, NOT_VERIFIED)
    return p.can_view_application(user, application)


def may_prefill_invoices(request: HttpRequest, application: Application) -> p.Check:
    """Recording an invoice read from an e-invoice file: a reviewer (or the centre's screener on
    direction 3) in a TOTP-verified session."""
    if not staff_session_verified(request):
        return p.Check(False, NOT_VERIFIED)
    return p.can_prefill_invoices(request.user, application)


def access_enterprise_admin(user: Any) -> Membership:
    """The membership of an enterprise administrator; PermissionDenied for a plain member."""
    membership = membership_of(user)
    if membership is None:
        raise Http404("no enterprise")
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def access_application(user: Any, application_id: int) -> Application:
    """The application, if the user is a member of the enterprise that owns it; else 404.

    Reads, writes, uploads, downloads and submission all come through here; whether the
    application may still be changed is the actions' business (they refuse a frozen one).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        raise Http404("no enterprise")
    # one query: the application, if its enterprise is the one the user is a member of (a user
    # has one membership at most: Membership.user is one-to-one), as membership_of then a
    # filter on its enterprise would find it in two
    # its SQL written once per process (decision 0050): every portal page asks it, and its
    # 44 columns and two joins were ~0.7 ms of compiling a request (decision 0055)
    found = precompiled.rows(
        "access.access_application",
        Application,
        lambda pk, user_id: (
            Application.objects.select_related("round", "enterprise")
            .filter(pk=pk, enterprise__memberships__user_id=user_id)
            .order_by("pk")[:1]  # as .first() asks it
        ),
        pk=application_id,
        user_id=user.pk,
    )
    if not found:
        raise Http404("no such application")
    return found[0]


def accessible_applications(user: Any, membership: Membership | None = None) -> list[Application]:
    """The applications of the user's enterprise; `membership`: membership_of(user), when the
    caller read it already (the portal's home: one query less), and it must be the user's."""
    if membership is None or membership.user_id != getattr(user, "pk", None):
        membership = membership_of(user)
    if membership is None:
        return []
    return list(
        Application.objects.filter(enterprise_id=membership.enterprise_id)
        .select_related("round", "enterprise")
        .order_by("-created_at", "-id")
    )


def access_supplier_contracts(user: Any) -> str:
    """The supplier's own pages: the USCC its member acts for; 404 for anyone else."""
    uscc = supplier_uscc_of(user)
    if uscc is None:
        raise Http404("not a supplier's member")
    return uscc


def access_supplier_contract(user: Any, contract_pk: int) -> Any:
    """A contract that names the user's supplier; 404 for any other (it does not say it exists)."""
    access_supplier_contracts(user)
    contract = (
        Contract.objects.select_related("application", "application__enterprise")
        .filter(pk=contract_pk)
        .first()
    )
    if contract is None or not may(user, "act_for_supplier", contract):
        raise Http404("no such contract")
    return contract
