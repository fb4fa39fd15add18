"""Issue 21 in a real Chromium: a new enterprise logs in through the project's own OpenID Connect
provider (voucher/idp, django-oauth-toolkit: authorization code with PKCE, state and nonce),
lands in its own enterprise (the USCC from the claims) and files a draft; a second login with
another USCC sees nothing of it. Screenshots: test-artifacts/oidc-*.png."""

from __future__ import annotations

import re

import pytest

from tests import oidc_support

from .browser_support import ARTIFACTS, chromium, in_thread
from .portal_helpers import open_round

pytestmark = pytest.mark.browser

FIRST = (oidc_support.uscc("91110108MA01D1DC1"), "北京统一认证科技有限公司")
SECOND = (oidc_support.uscc("91110105MA02K3N9P"), "北京另一家智能科技有限公司")


@pytest.fixture
def site(transactional_db, live_server, settings, tmp_path):
    from oauth2_provider.models import Application

    from voucher.applications.rounds import rounds_sync

    settings.DATA_DIR = tmp_path
    settings.ROOT_URLCONF = "tests.idp_urls"
    rounds_sync()
    open_round()
    app_url = live_server.url  # http://localhost:PORT
    idp_url = app_url.replace("localhost", "127.0.0.1")  # another host: other cookies
    oidc_support.configure(settings, idp_url)
    settings.OIDC_RP_CLIENT_SECRET = "demo-client-secret"
    Application.objects.create(
        name="算力券申报系统",
        client_id=oidc_support.CLIENT_ID,
        client_secret="demo-client-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{app_url}/accounts/oidc/callback/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    return app_url


@pytest.fixture
def browser(site):
    with chromium() as browser:
        yield browser


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"oidc-{name}.png"), full_page=True)


def log_in(browser, site: str, uscc: str, name: str, label: str, person: str = ""):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{site}/accounts/login/")
    page.get_by_role("link", name="企业法人：统一身份认证登录").click()
    page.wait_for_url("**/idp/identity/**")
    page.get_by_label("统一社会信用代码").fill(uscc)
    page.get_by_label("单位名称").fill(name)
    if person:
        page.get_by_label("经办人姓名").fill(person)
    shot(page, f"{label}-1-provider")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{site}/portal/")
    return page


def test_an_enterprise_logs_in_through_the_provider_and_sees_only_its_own(browser, site):
    from voucher.applications.models import Application, Membership

    page = log_in(browser, site, *FIRST, label="a", person="张三")
    page.goto(f"{site}/accounts/enterprise/")
    body = page.inner_text("body")
    assert FIRST[0] in body and FIRST[1] in body and "管理员" in body
    # the provider's `name` claim is the person's name: the header shows it, never the synthetic
    # username oidc:<sub>
    assert "oidc:" not in body and "张三" in page.inner_text("header")
    shot(page, "a-2-enterprise")
    page.goto(f"{site}/portal/")
    page.get_by_role("link", name="新建申报").click()
    page.wait_for_url("**/portal/applications/new/")
    page.locator("#direction-2").check()
    page.get_by_role("button", name="创建申报草稿").click()
    page.wait_for_url("**/applicant/")
    draft_url = page.url
    shot(page, "a-3-draft")

    def first_enterprise() -> tuple[str, int]:
        membership = Membership.objects.select_related("enterprise", "user").get(
            enterprise__uscc=FIRST[0]
        )
        drafts = Application.objects.filter(enterprise=membership.enterprise).count()
        return membership.user.username, drafts

    username, drafts = in_thread(first_enterprise)
    assert username.startswith("oidc:") and drafts == 1

    other = log_in(browser, site, *SECOND, label="b")
    portal = other.inner_text("body")
    assert FIRST[1] not in portal and FIRST[0] not in portal
    response = other.goto(draft_url)
    assert response is not None and response.status in (403, 404)
    other.goto(f"{site}/accounts/enterprise/")
    assert SECOND[0] in other.inner_text("body")
    # no name asserted: the enterprise's person (经办人), still never oidc:<sub>
    assert "oidc:" not in other.inner_text("body")
    assert f"{SECOND[1]} 经办人" in other.inner_text("header")
    shot(other, "b-2-enterprise")
    second = in_thread(lambda: Membership.objects.get(enterprise__uscc=SECOND[0]).user.username)
    assert re.match(r"oidc:", second) and second != username
