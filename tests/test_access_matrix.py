"""Every URL of the project × every kind of actor, against what the access layer says.

The table RULES names, for each URL pattern, who the door lets through; each rule asks the access
layer (voucher.applications.permissions and access) for the actor at hand, so the expectation is
derived, not written out 375 × 12 times. A URL pattern with no rule fails the test: a new page is
closed until someone says who may open it.

An actor let through may still meet a 404 (an id that does not exist here), a 405 (a GET on a form
that only takes a POST) or a 400/409/422 (no body): the door was open. An actor kept out must meet a
login page, a 401/403, or a 404 that does not say the object exists; never a 2xx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import application_from
from tests.review_support import PASSWORD, make_applicant, make_staff, put_in_state, verified_client
from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.applications.access import may
from voucher.applications.models import (
    ADMIN,
    Enterprise,
    EnterpriseCorrection,
    MaterialFile,
    Membership,
    SupplierMember,
)

pytestmark = pytest.mark.django_db(transaction=False)


# --- the actors -------------------------------------------------------------------------------


@dataclass
class Actor:
    kind: str
    client: Client
    user: Any = None
    verified: bool = False  # a staff session verified by a TOTP code
    platform_token: bool = False
    bureau_token: bool = False
    token: Any = None  # the API token the client sends, if any

    @property
    def staff(self) -> frozenset[str]:
        return r.staff_roles_of(self.user) if self.user is not None else frozenset()

    def verified_staff(self, check: Callable[[Any], p.Check] = p.can_use_review_site) -> bool:
        return self.verified and bool(self.staff) and check(self.user).allowed

    def member(self, application: Any) -> bool:
        return self.user is not None and r.is_applicant_of(self.user, application)


STAFF_KINDS = {
    "reviewer": r.REVIEWER,
    "approver": r.APPROVER,
    "screener": r.SCREENER,
    "auditor": r.AUDITOR,
    "administrator": r.ADMINISTRATOR,
}


@pytest.fixture
def world(demo_data, django_user_model, settings, tmp_path):
    """Two enterprises' applications (direction 4 and 3), a material file, and every actor."""
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    from voucher.platforms import actions as platform_actions
    from voucher.platforms.models import Platform
    from voucher.staffapi import actions as staff_actions

    d4 = put_in_state(application_from("d4-small"), "in_review")
    d3 = put_in_state(application_from("d3-modelscope"), "in_review")
    material = MaterialFile.objects.create(
        application=d4,
        material="contract",
        original_name="合同.pdf",
        size=4,
        sha256="0" * 64,
        content_type="application/pdf",
    )
    actors: list[Actor] = [Actor("anonymous", Client(raise_request_exception=False))]
    member = make_applicant(django_user_model, d4, "member")
    actors.append(Actor("member", _logged_in(member), member))
    boss = make_applicant(django_user_model, d4, "boss")
    Membership.objects.filter(user=boss).update(role=ADMIN)
    actors.append(Actor("enterprise_admin", _logged_in(boss), boss))
    outsider = django_user_model.objects.create_user("t-outsider", password=PASSWORD)
    other = Enterprise.objects.create(uscc="91110108MA01AAAA1X", name="另一家企业")
    Membership.objects.create(user=outsider, enterprise=other)
    actors.append(Actor("outsider", _logged_in(outsider), outsider))
    # a compute supplier's member (issue 22): the supplier of enterprise A's first contract
    supplier = django_user_model.objects.create_user("t-supplier", password=PASSWORD)
    SupplierMember.objects.create(
        user=supplier, uscc=d4.contracts.order_by("pk").first().supplier_uscc
    )
    actors.append(Actor("supplier", _logged_in(supplier), supplier))
    for kind, role in STAFF_KINDS.items():
        user = make_staff(django_user_model, kind, role)
        actors.append(
            Actor(
                kind,
                verified_client(Client(raise_request_exception=False), user),
                user,
                verified=True,
            )
        )
    # the first defect: a screener's password alone, through the admin's login form
    password_only = make_staff(django_user_model, "screener-pw", r.SCREENER)
    actors.append(Actor("screener_password_only", _logged_in(password_only), password_only))
    platform_actions.platforms_sync()
    token, secret = platform_actions.token_issue(
        platform=Platform.objects.get(code="modelscope"), label="matrix"
    )
    actors.append(
        Actor(
            "platform_token",
            Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}"),
            platform_token=True,
            token=token,
        )
    )
    api_user = make_staff(django_user_model, "api-reviewer", r.REVIEWER)
    token, secret = staff_actions.token_issue(
        user=api_user, label="matrix", scopes=["read", "decide"], days=30, acting_user=api_user
    )
    actors.append(
        Actor(
            "bureau_token",
            Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {secret}"),
            api_user,
            bureau_token=True,
            token=token,
        )
    )
    # a pending correction of enterprise A's name (issue 21 item 3), proposed by a reviewer
    correction = EnterpriseCorrection.objects.create(
        enterprise=d4.enterprise,
        old_uscc=d4.enterprise.uscc,
        old_name=d4.enterprise.name,
        new_uscc=d4.enterprise.uscc,
        new_name=d4.enterprise.name + "（更正）",
        reason="营业执照",
        proposed_by=api_user,
    )
    return {
        "d4": d4,
        "d3": d3,
        "material": material,
        "actors": actors,
        "correction": correction,
    }


def _logged_in(user: Any) -> Client:
    """A session opened with the password alone (no TOTP code)."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# --- the rules --------------------------------------------------------------------------------

OPEN, CLOSED = "open", "closed"
Rule = Callable[[Actor, dict[str, Any]], bool | str]  # whether the door lets the actor in


def anyone(a: Actor, w: dict[str, Any]) -> bool:
    return True


def logged_in(a: Actor, w: dict[str, Any]) -> bool:
    return a.user is not None and not a.platform_token and not a.bureau_token


def applicant(a: Actor, w: dict[str, Any]) -> bool:
    """A logged-in user of the portal: the pages that list one's own (or nothing)."""
    return logged_in(a, w)


def member_of_d4(a: Actor, w: dict[str, Any]) -> bool:
    return logged_in(a, w) and a.member(w["d4"])


def supplier_member(a: Actor, w: dict[str, Any]) -> bool:
    return logged_in(a, w) and r.supplier_uscc_of(a.user) is not None


def supplier_of_d4_contract(a: Actor, w: dict[str, Any]) -> bool:
    contract = w["d4"].contracts.order_by("pk").first()
    return logged_in(a, w) and may(a.user, "act_for_supplier", contract).allowed


def staff_site(a: Actor, w: dict[str, Any]) -> bool:
    return not a.bureau_token and a.verified_staff()


def staff_with(check: Callable[[Any], p.Check]) -> Rule:
    return lambda a, w: not a.bureau_token and a.verified_staff(check)


def staff_on_d4(a: Actor, w: dict[str, Any]) -> bool:
    return staff_site(a, w) and may(a.user, "view_application", w["d4"]).allowed


def files_of_d4(a: Actor, w: dict[str, Any]) -> bool:
    """access.may_open_application_files: the enterprise's members, staff who may view it."""
    return member_of_d4(a, w) or staff_on_d4(a, w)


def platform(a: Actor, w: dict[str, Any]) -> bool:
    """A platform's token: the matrix's token holds every scope its endpoints ask."""
    return a.platform_token and may(a.token, "platform:projects").allowed


def bureau_api(a: Actor, w: dict[str, Any]) -> bool:
    return a.bureau_token and may(a.token, "bureau:read").allowed


ADMIN_TABLE = "admin table"  # through the door; a read-only table may still refuse an add
ANY = "any"  # a login or logout page: whatever the actor, it answers (often with the login)


def login_or_logout(a: Actor, w: dict[str, Any]) -> str:
    return ANY


def administrator_in_admin(a: Actor, w: dict[str, Any]) -> bool | str:
    return ADMIN_TABLE if not a.bureau_token and a.verified_staff(p.can_use_admin) else False


RULES: dict[str, Rule] = {
    # public: the site's furniture, the logins, sign-up, password reset, API documents
    "favicon.ico": anyone,
    "healthz": anyone,  # the load balancer's probe: JSON, no login, no session
    "set_language": anyone,
    "accounts:sign_up": anyone,
    "accounts:login": login_or_logout,
    "accounts:logout": login_or_logout,
    # OpenID Connect (accounts/oidc.py): public; state, nonce and PKCE are the keys; 404 when off
    "accounts:oidc_login": anyone,
    "accounts:oidc_callback": anyone,
    "accounts:password_reset": anyone,
    "accounts:password_reset_done": anyone,
    "accounts:password_reset_confirm": anyone,
    "accounts:password_reset_complete": anyone,
    "accounts:invitation": anyone,  # the token in the URL is the key
    "review:login": login_or_logout,
    "review:logout": login_or_logout,
    "review:supplement_answer": anyone,
    "public:publicity": anyone,  # 公示 is public: the list in its period, and its outcome
    "public:objection": anyone,  # anyone may object during the period (rate-limited)  # an old e-mail's link: redirects to the portal
    "portal:import_template": logged_in,  # the blank Excel/CSV templates
    "api-v1:openapi-json": anyone,
    "api-v1:openapi-view": anyone,
    "api-v1:api-root": anyone,
    "api-v1-bureau:openapi-json": anyone,
    "api-v1-bureau:openapi-view": anyone,
    "api-v1-bureau:api-root": anyone,
    "^api/v1/bureau/(?P<rest>.*)$": anyone,  # problem documents for unknown paths
    # logged-in users: the portal's own pages, the enterprise's
    "portal:home": applicant,
    "portal:new": applicant,
    "accounts:enterprise_new": applicant,
    "accounts:enterprise": applicant,
    "accounts:payee": applicant,  # one's own enterprise's account (none: the sign-up's next step)
    "accounts:enterprise_claim": applicant,
    # a compute supplier's member: its own contracts only (issue 22)
    "portal:supplier_contracts": supplier_member,
    "portal:supplier_contract": supplier_of_d4_contract,
    "portal:supplier_export": supplier_member,  # its own contracts only, as a file
    "portal:supplier_upload": supplier_member,  # its words by file (POST; a GET is 405 to it)
    "portal:supplier_attestation_pdf": supplier_of_d4_contract,  # 404 until it has declared
    "accounts:supplier_invitation": anyone,  # the token in the URL is the key
    "review:supplier_invite": staff_with(p.can_invite_supplier),
    "review:otp_setup": logged_in,  # a staff member without a device: use the link
    "review:otp_enrol": anyone,  # the token in the URL is the key (and the password)
    # the application of enterprise A: its members only (404 to anyone else)
    **{
        f"portal:{name}": member_of_d4
        for name in [
            "open",
            "direction",
            "delete_draft",
            "applicant",
            "project",
            "contracts",
            "contracts_import",
            "contract",
            "contract_delete",
            "contract_row_delete",
            "report",
            "declarations",
            "commitment",
            "materials",
            "file",
            "file_delete",
            "selfcheck",
            "submit",
            "supplement",
            "status",
            "notice",
            "receipt",
            "consent",
            "follow_up",
        ]
    },
    # the application's documents and materials: members and the staff who may view it
    "documents:download": files_of_d4,
    "documents:job_status": files_of_d4,  # the progress of a document being rendered
    "documents:invoice_prefill": lambda a, w: (
        staff_site(a, w) and p.can_prefill_invoices(a.user, w["d4"]).allowed
    ),
    "review:material_file": staff_on_d4,
    "review:material_view": staff_on_d4,
    # the evaluation pages: staff; an application only for who may view it
    "applications:list": staff_site,
    "applications:detail": staff_on_d4,
    # the bureau's site (TOTP); pages of one application ask can_view_application
    **{
        f"review:{name}": staff_on_d4
        for name in ["screen", "contact", "notice", "supplier_attestation_pdf"]
    },
    **{
        f"review:{name}": staff_site
        for name in [
            "queue",
            "mine",
            "assign",
            "queue_export",
            "transition",
            "resolve",
            "resolve_cross",
            "supplement",
            "material_check",
            "propose",
            "payment",
            "clawback",
            "objection",
            "confirm",
            "return",
            "objection_resolve",
            "refund",
            "clawbacks",
            "publicity",
            "publicity_export",
            "dashboard",
            "checks",
            "lists",
            "official_lists",
            "official_list",
            "parameters",
        ]
    },
    "review:staff": staff_with(p.can_manage_users),
    "review:staff_member": staff_with(p.can_manage_users),
    "review:notifications": staff_with(p.can_see_notifications),
    "review:payees": staff_with(p.can_check_payee),
    "review:statistics": staff_site,
    "review:supervision": staff_site,
    "review:spot_check": staff_site,  # the action asks the roles (reviewer, approver)
    "review:statistics_export": staff_with(p.can_export),
    "review:payee_act": staff_with(p.can_check_payee),
    "review:payment_batches": staff_site,
    "review:payment_batch": staff_site,
    "review:payment_batch_csv": staff_with(p.can_manage_payment_batches),
    "review:payment_batch_xlsx": staff_with(p.can_manage_payment_batches),
    "registry:relation": staff_with(p.can_view_registry),
    "registry:import": staff_with(p.can_import_registry),
    "registry:sweeps": staff_with(p.can_view_registry),
    "registry:sweep": staff_with(p.can_view_registry),
    "platforms:screening": staff_with(p.can_screen),
    # 企业 (issue 21 item 3): every staff role reads; proposing and approving a correction are
    # the actions' (may(…, "propose_enterprise_correction"/"decide_enterprise_correction"))
    "review:enterprises": staff_with(p.can_view_enterprises),
    "review:enterprise": staff_with(p.can_view_enterprises),
    "review:enterprise_correction": staff_with(p.can_view_enterprises),
    "accounts:claims": staff_with(p.can_decide_enterprise_claim),
    "accounts:claim": staff_with(p.can_decide_enterprise_claim),
    "accounts:claim_licence": staff_with(p.can_decide_enterprise_claim),
    "staffapi:tokens": staff_site,
    "staffapi:revoke": staff_site,
    # the platform API: a platform's token
    **{
        f"api-v1:{name}": platform
        for name in [
            "project_publish",
            "project_list",
            "shortlist",
            "contract_put",
            "invoice_add",
            "payment_add",
            "contract_terms",
            "contract_reconciliation",
            "batch_submit",
            "batch_status",
            "batch_withdraw",
            "batch_errors",
            "settlement_submit",
            "settlement_status",
            "settlement_withdraw",
            "settlement_errors",
        ]
    },
    # the bureau API: a staff member's token
    **{
        f"api-v1-bureau:{name}": bureau_api
        for name in [
            "queue",
            "application_read",
            "contact_read",
            "decision_propose",
            "decision_confirm",
            "decision_return",
            "cross_finding_resolve",
        ]
    },
}


def _urls() -> list[tuple[str, str]]:
    """(name, route) of every URL pattern; admin patterns by their admin name."""

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if pattern.name is None:
                    name = "favicon.ico" if route == "favicon.ico" else route
                else:
                    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, route

    return list(walk(get_resolver().url_patterns, "", None))


def _rule(name: str) -> Rule | None:
    if name in ("admin:logout", "admin:login"):
        return login_or_logout  # the admin's login sends to the review site's TOTP login
    if name.startswith(("admin:", "admin/")):
        return administrator_in_admin
    return RULES.get(name)


def test_every_url_has_a_rule():
    """Closed by default: a new URL pattern needs a rule here before it passes."""
    missing = sorted({name for name, _ in _urls() if _rule(name) is None})
    assert not missing, f"URL patterns with no access rule: {missing}"


def _path(route: str, w: dict[str, Any]) -> str:
    """A concrete path: enterprise A's direction-4 application, its material, its first contract;
    any other id is one that does not exist."""
    d4 = w["d4"]
    contract = d4.contracts.order_by("pk").first()
    values = {
        "application_id": str(d4.pk),
        "enterprise_id": str(d4.enterprise_id),
        "correction_id": str(w["correction"].pk),
        "file_pk": str(w["material"].pk),
        "contract_pk": str(contract.pk if contract else 999999),
        "document": "usage-table",
        "extension": "pdf",
        "kind": "contracts",
        "name": "accept",
        "uscc": d4.enterprise.uscc,
        "contract_id": "C-1",
        "token": "no-such-token",
        "uidb64": "MQ",
        "rest": "nowhere",
    }
    path = route
    if path.startswith("^"):  # the bureau API's catch-all, a regular expression
        return "/api/v1/bureau/nowhere"
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        return values.get(name, "999999")

    path = re.sub(r"<([^>]+)>", value, path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path).replace("^", "").replace("$", "")
    return "/" + path


LOGIN_PAGES = ("/review/login/", "/accounts/login/", "/review/otp/setup/", "/admin/login/")


def _outcome(response: Any) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        if any(page in location for page in LOGIN_PAGES):
            return "login"
        return OPEN
    if status in (401, 403):
        return "refused"
    if status == 404:
        return "missing"
    return OPEN


def _request(client: Client, path: str) -> Any:
    """A GET; on the APIs, a route that takes another method is asked with that method and no
    body (the door answers before the body is read: 401/403 when closed, 4xx when open). The
    site's forms are not posted: an empty form to an open door would act."""
    response = client.get(path)
    if response.status_code == 405 and path.startswith("/api/"):
        method = response.headers.get("Allow", "").split(",")[0].strip().lower()
        if method:
            response = getattr(client, method)(path, content_type="application/json")
    return response


def test_the_door_of_every_url_for_every_actor(world):
    mismatches = []
    # the logouts last: they end the actor's session for the URLs after them
    for name, route in sorted(_urls(), key=lambda url: "logout" in url[0]):
        rule = _rule(name)
        assert rule is not None
        path = _path(route, world)
        for actor in world["actors"]:
            expected_open = rule(actor, world)
            outcome = _outcome(_request(actor.client, path))
            if expected_open == ANY:
                continue
            if expected_open == ADMIN_TABLE:
                if outcome == "login":
                    mismatches.append(f"{name} {path} {actor.kind}: expected the admin, got login")
                continue
            if expected_open and outcome in ("login", "refused"):
                mismatches.append(f"{name} {path} {actor.kind}: expected open, got {outcome}")
            if not expected_open and outcome == OPEN:
                mismatches.append(f"{name} {path} {actor.kind}: expected closed, got open")
    assert not mismatches, "\n".join(mismatches)


# --- the two defects of the issue, each on its own ------------------------------------------------


def test_a_screener_with_a_password_only_opens_no_staff_data(world):
    """Defect 1: a centre screener logged in at /admin/login/ with a password (no TOTP) opened the
    evaluation list, a direction-4 application and its 14-2 PDF."""
    screener = get_user_model().objects.get(username="t-screener-pw")
    client = Client(raise_request_exception=False)
    login = client.post("/admin/login/", {"username": screener.username, "password": PASSWORD})
    assert _outcome(login) == "login"  # the admin's password form sends to the TOTP login
    client.force_login(screener)  # and a session opened with the password alone
    d4 = world["d4"]
    for path in (
        "/",
        f"/applications/{d4.pk}/",
        f"/applications/{d4.pk}/documents/usage-table.pdf",
        "/admin/",
        "/admin/applications/application/",
    ):
        assert _outcome(client.get(path)) != OPEN, path


def test_a_verified_screener_sees_direction_3_only(world):
    screener = next(a for a in world["actors"] if a.kind == "screener")
    d3, d4 = world["d3"], world["d4"]
    assert screener.client.get(f"/applications/{d3.pk}/").status_code == 200
    assert screener.client.get(f"/applications/{d4.pk}/").status_code == 403
    assert (
        screener.client.get(f"/applications/{d4.pk}/documents/usage-table.pdf").status_code == 403
    )
    listing = screener.client.get("/").content.decode()
    assert d3.reference in listing and d4.reference not in listing


def test_a_reviewer_opens_the_applicants_uploaded_material(world, settings, tmp_path):
    """Defect 2: the download knew only the applicant's membership, so staff got 404."""
    from voucher.applications.uploads import upload_delete, upload_store

    material = world["material"]
    upload_delete(material.sha256)  # a made-up hash: another test's bytes may be stored under it
    upload_store(b"%PDF", material.sha256)
    reviewer = next(a for a in world["actors"] if a.kind == "reviewer")
    d4 = world["d4"]
    screen = reviewer.client.get(f"/review/{d4.pk}/").content.decode()
    link = f"/review/{d4.pk}/files/{material.pk}/"
    assert link in screen
    response = reviewer.client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # the applicant's own download still works, and the outsider's is still a 404
    member = next(a for a in world["actors"] if a.kind == "member")
    assert (
        member.client.get(f"/portal/applications/{d4.pk}/files/{material.pk}/").status_code == 200
    )
    outsider = next(a for a in world["actors"] if a.kind == "outsider")
    assert outsider.client.get(link).status_code in (302, 403)
    screener = next(a for a in world["actors"] if a.kind == "screener")
    assert screener.client.get(link).status_code == 403  # direction 4: not the centre's


def test_may_answers_for_every_kind_of_actor(world):
    """may(actor, action, obj): users by their roles, tokens by their kind and scopes; an
    action nobody named is refused."""
    actors = {a.kind: a for a in world["actors"]}
    d3, d4 = world["d3"], world["d4"]
    assert may(actors["reviewer"].user, "view_application", d4)
    screener = may(actors["screener"].user, "view_application", d4)
    assert not screener and "方向三" in screener.reason
    assert may(actors["screener"].user, "view_application", d3)
    assert may(actors["member"].user, "act_for_enterprise", d4)
    assert not may(actors["outsider"].user, "act_for_enterprise", d4)
    assert may(actors["administrator"].user, "use_admin")
    assert not may(actors["screener_password_only"].user, "use_admin")
    assert may(actors["platform_token"].token, "platform:consumption")
    assert not may(actors["platform_token"].token, "bureau:read")
    assert not may(actors["bureau_token"].token, "platform:consumption")
    assert may(actors["bureau_token"].token, "bureau:decide")
    assert not may(actors["reviewer"].user, "launch_rockets")
    # the correction of an enterprise: four eyes (issue 21 item 3)
    correction = world["correction"]  # proposed by the bureau token's reviewer
    assert may(actors["reviewer"].user, "propose_enterprise_correction")
    assert not may(actors["auditor"].user, "propose_enterprise_correction")
    assert not may(actors["reviewer"].user, "decide_enterprise_correction", correction)
    assert may(actors["approver"].user, "decide_enterprise_correction", correction)
    assert may(actors["administrator"].user, "decide_enterprise_correction", correction)
    own = may(actors["bureau_token"].user, "decide_enterprise_correction", correction)
    assert not own  # a reviewer, and the proposer
    assert may(actors["auditor"].user, "view_enterprises")
    assert not may(actors["member"].user, "view_enterprises")
    assert may(actors["reviewer"].user, "transition:pass_formal_check", d4).reason


def test_debug_alone_opens_no_staff_data(world, settings):
    """Turning DEBUG on (to read a traceback) is not the public demo: the pages stay closed."""
    settings.DEBUG = True
    settings.VOUCHER_PUBLIC_DEMO = False
    anonymous = Client()
    d4 = world["d4"]
    for path in (
        "/",
        f"/applications/{d4.pk}/",
        f"/applications/{d4.pk}/documents/usage-table.pdf",
    ):
        assert _outcome(anonymous.get(path)) == "login", path
