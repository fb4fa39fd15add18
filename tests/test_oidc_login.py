"""Enterprises log in through OpenID Connect (issue 21, items 1 and 2): the callback against a fake
token endpoint and JWKS signed with a real RSA key (tests/oidc_support.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import oidc_support as idp
from voucher.applications.models import ADMIN, MEMBER, Enterprise, Membership

pytestmark = pytest.mark.django_db

GOOD = idp.uscc("91110108MA01ABCD1")


class _Response:
    def __init__(self, body: dict[str, Any]):
        self.status_code = 200
        self._body = body
        self.url = ""
        self.text = ""

    def json(self) -> dict[str, Any]:
        return self._body

    def raise_for_status(self) -> None:
        pass


@pytest.fixture
def provider(settings, monkeypatch):
    """What the token endpoint answers next: `provider["id_token"]`; the JWKS is the test key's."""
    idp.configure(settings)
    answer: dict[str, Any] = {}

    def post(url: str, data: dict[str, Any], **kwargs: Any) -> _Response:
        assert url == settings.OIDC_OP_TOKEN_ENDPOINT
        answer["sent"] = data
        return _Response({"access_token": "at", "id_token": answer["id_token"]})

    def get(url: str, **kwargs: Any) -> _Response:
        assert url == settings.OIDC_OP_JWKS_ENDPOINT
        return _Response(idp.jwks())

    monkeypatch.setattr("mozilla_django_oidc.auth.requests.post", post)
    monkeypatch.setattr("mozilla_django_oidc.auth.requests.get", get)
    return answer


def _start(client: Client) -> dict[str, str]:
    response = client.get("/accounts/oidc/login/")
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def _users() -> int:
    return get_user_model().objects.count()


def test_login_creates_the_enterprise_from_the_claims_with_pkce(client, provider):
    sent = _start(client)
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    provider["id_token"] = idp.id_token(
        nonce=sent["nonce"], uscc=GOOD, enterprise_name="北京测试科技有限公司"
    )
    response = client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})
    assert response.status_code == 302 and "/accounts/login/" not in response["Location"]
    assert provider["sent"]["code_verifier"]  # PKCE: the verifier goes to the token endpoint
    membership = Membership.objects.select_related("enterprise", "user").get()
    assert membership.enterprise.uscc == GOOD
    assert membership.enterprise.name == "北京测试科技有限公司"
    assert membership.role == ADMIN
    assert membership.user.username == "oidc:subject-1"
    assert not membership.user.has_usable_password()
    assert client.get("/accounts/enterprise/").status_code == 200


def test_a_second_person_of_the_same_enterprise_joins_as_member(client, provider):
    for subject in ("one", "two"):
        browser = Client()
        sent = _start(browser)
        provider["id_token"] = idp.id_token(
            nonce=sent["nonce"], sub=subject, uscc=GOOD, enterprise_name="甲"
        )
        browser.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"oidc:one": ADMIN, "oidc:two": MEMBER}
    assert Enterprise.objects.count() == 1


def test_tampered_state_is_refused(client, provider):
    sent = _start(client)
    provider["id_token"] = idp.id_token(nonce=sent["nonce"], uscc=GOOD, enterprise_name="甲")
    response = client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"] + "x"})
    assert response.status_code == 400
    assert _users() == 0 and "_auth_user_id" not in client.session


def test_wrong_nonce_is_refused(client, provider):
    sent = _start(client)
    provider["id_token"] = idp.id_token(nonce="another", uscc=GOOD, enterprise_name="甲")
    response = client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})
    assert response.status_code == 400
    assert _users() == 0 and "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1_700_000_000, "iat": 1_699_999_000},  # expired long ago
        {"exp": None},  # no expiry at all
        {"iss": "https://elsewhere.test"},
        {"aud": "another-client"},
    ],
    ids=["expired", "no-exp", "issuer", "audience"],
)
def test_an_expired_or_foreign_id_token_is_refused(client, provider, claims):
    sent = _start(client)
    provider["id_token"] = idp.id_token(
        nonce=sent["nonce"], uscc=GOOD, enterprise_name="甲", **claims
    )
    response = client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})
    assert response.status_code == 400
    assert _users() == 0 and "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("uscc", "says"),
    [
        (None, "没有提供统一社会信用代码"),
        ("", "没有提供统一社会信用代码"),
        ("91110108MA01ABCD", "应为18位"),
        (GOOD[:17] + ("0" if GOOD[17] != "0" else "1"), "校验位不正确"),
    ],
    ids=["missing", "empty", "short", "check-character"],
)
def test_a_claim_without_a_valid_uscc_is_refused_and_nothing_created(client, provider, uscc, says):
    sent = _start(client)
    provider["id_token"] = idp.id_token(nonce=sent["nonce"], uscc=uscc, enterprise_name="甲")
    response = client.get(
        "/accounts/oidc/callback/", {"code": "c", "state": sent["state"]}, follow=True
    )
    assert response.redirect_chain[0][0] == "/accounts/login/"
    assert says in response.content.decode()
    assert _users() == 0 and Enterprise.objects.count() == 0
    assert "_auth_user_id" not in client.session


def test_a_later_login_asserting_another_enterprise_is_refused(client, provider):
    sent = _start(client)
    provider["id_token"] = idp.id_token(nonce=sent["nonce"], uscc=GOOD, enterprise_name="甲")
    client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})
    other = Client()
    sent = _start(other)
    provider["id_token"] = idp.id_token(
        nonce=sent["nonce"], uscc=idp.uscc("91110105MA02WXY37"), enterprise_name="乙"
    )
    response = other.get(
        "/accounts/oidc/callback/", {"code": "c", "state": sent["state"]}, follow=True
    )
    assert "不一致" in response.content.decode()
    assert Enterprise.objects.count() == 1 and "_auth_user_id" not in other.session


def test_oidc_is_closed_when_not_configured(client):
    assert client.get("/accounts/oidc/login/").status_code == 404
    assert client.get("/accounts/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404


def test_password_sign_up_can_be_switched_off(client, settings):
    settings.VOUCHER_PASSWORD_SIGNUP = False
    assert client.get("/accounts/signup/").status_code == 404
    assert "/accounts/signup/" not in client.get("/accounts/login/").content.decode()
    settings.VOUCHER_PASSWORD_SIGNUP = True
    assert client.get("/accounts/signup/").status_code == 200


# --- the person's name, never oidc:<sub> (issue 21, display names) ------------------------------


def _log_in(client: Client, provider: dict[str, Any], **claims: Any) -> Any:
    sent = _start(client)
    provider["id_token"] = idp.id_token(nonce=sent["nonce"], **claims)
    return client.get("/accounts/oidc/callback/", {"code": "c", "state": sent["state"]})


def test_the_header_and_the_member_list_show_the_persons_name(client, provider):
    _log_in(client, provider, uscc=GOOD, enterprise_name="北京测试科技有限公司", name="张三")
    user = get_user_model().objects.get()
    assert user.username == "oidc:subject-1" and user.first_name == "张三"
    for page in ("/portal/", "/accounts/enterprise/"):
        html = client.get(page, follow=True).content.decode()
        assert "张三" in html, page
        assert "oidc:" not in html, page
    # a later login with a new name (the provider's record changed): the pages follow it
    client.logout()
    _log_in(client, provider, uscc=GOOD, enterprise_name="北京测试科技有限公司", name="张三丰")
    assert get_user_model().objects.get().first_name == "张三丰"
    assert "张三丰" in client.get("/accounts/enterprise/").content.decode()


def test_without_a_name_claim_the_synthetic_username_never_shows(client, provider):
    _log_in(client, provider, uscc=GOOD, enterprise_name="北京测试科技有限公司")
    for page in ("/portal/", "/accounts/enterprise/"):
        html = client.get(page, follow=True).content.decode()
        assert "oidc:" not in html, page
        assert "北京测试科技有限公司 经办人" in html, page


# --- two first logins of the same person at once (issue 21, the first-login race) ---------------


def test_a_simultaneous_first_login_of_the_same_person_gets_the_same_user(monkeypatch):
    """The IntegrityError path, deterministically (SQLite): the other login created the user
    between this one's look-up and its insert. Before: the insert's IntegrityError was a 500."""
    from voucher.accounts import actions

    first, _membership = actions.enterprise_from_identity(
        username="oidc:same", uscc=GOOD, name="甲", issuer=idp.ISSUER
    )
    looked_up = actions._identity_user
    calls = []

    def not_yet_committed(username: str, code: str) -> Any:
        calls.append(username)
        return None if len(calls) == 1 else looked_up(username, code)  # the race's window

    monkeypatch.setattr(actions, "_identity_user", not_yet_committed)
    second, membership = actions.enterprise_from_identity(
        username="oidc:same", uscc=GOOD, name="甲", issuer=idp.ISSUER
    )
    assert second.pk == first.pk and membership.user_id == first.pk
    assert len(calls) == 2  # the insert failed, and the retry found the other's user
    assert get_user_model().objects.count() == 1
    assert Enterprise.objects.count() == 1 and Membership.objects.count() == 1


def test_the_same_person_logging_in_twice_through_the_callback_is_one_user(provider):
    """The backend found no user (the other request had not committed), then the action did."""
    from voucher.accounts.oidc import EnterpriseOIDCBackend

    _log_in(Client(), provider, uscc=GOOD, enterprise_name="甲", name="李四")
    empty = get_user_model().objects.none()
    original = EnterpriseOIDCBackend.filter_users_by_claims
    try:
        EnterpriseOIDCBackend.filter_users_by_claims = lambda self, claims: empty  # type: ignore[method-assign]
        browser = Client()
        response = _log_in(browser, provider, uscc=GOOD, enterprise_name="甲", name="李四")
    finally:
        EnterpriseOIDCBackend.filter_users_by_claims = original  # type: ignore[method-assign]
    assert response.status_code == 302 and "/accounts/login/" not in response["Location"]
    assert browser.session["_auth_user_id"] == str(get_user_model().objects.get().pk)
    assert Enterprise.objects.count() == 1


def test_histories_name_the_person_and_hide_a_synthetic_label(django_user_model):
    """The review screen's history and the portal's timeline call label_of for each entry."""
    from voucher.applications.people import display_name, label_of

    enterprise = Enterprise.objects.create(uscc=GOOD, name="北京测试科技有限公司")
    nameless = django_user_model.objects.create_user("oidc:nameless")
    Membership.objects.create(user=nameless, enterprise=enterprise)
    named = django_user_model.objects.create_user("oidc:named", first_name="王五")
    staff = django_user_model.objects.create_user("shenhe")
    assert label_of(named, "oidc:named") == "王五"
    assert label_of(nameless, "oidc:nameless") == "北京测试科技有限公司 经办人"
    assert label_of(staff, "shenhe") == "shenhe"
    assert label_of(None, "oidc:gone") == "统一身份认证用户"  # the user was deleted since
    assert label_of(None, "system") == "system"
    assert display_name(django_user_model.objects.create_user("oidc:alone")) == "统一身份认证用户"
