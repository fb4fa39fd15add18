"""One header for the public and the enterprises' pages (review of issue 19): the portal and the
公示 page include the same header, and every page with a language switch includes the one form."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parent.parent / "voucher" / "templates"

pytestmark = pytest.mark.django_db


def test_the_language_switch_is_written_once():
    having = sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if 'class="lang-switch"' in p.read_text(encoding="utf-8")
    )
    # written by the tag language_switch (decision 0058), which the headers use
    assert having == []
    switching = sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if "{% language_switch %}" in p.read_text(encoding="utf-8")
    )
    assert switching == ["_site_header.html", "base.html"]
    headers = sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if '"_site_header.html"' in p.read_text(encoding="utf-8")
    )
    assert headers == ["portal/base.html", "public/base.html"]


def test_the_public_and_the_portal_pages_show_the_header_in_both_languages(client, settings):
    from .portal_helpers import USCC_A, member, open_round

    open_round()
    public = client.get(reverse("public:publicity")).content.decode()
    assert "北京市算力券 · 公示" in public and 'name="language" value="en"' in public
    assert reverse("accounts:logout") not in public  # the public page has no account
    client.force_login(member("a@example.cn", USCC_A, "北京示例智能科技有限公司"))
    portal = client.get(reverse("portal:home")).content.decode()
    assert "北京市算力券 · 企业申报" in portal and 'name="language" value="en"' in portal
    assert reverse("accounts:logout") in portal and "a@example.cn" in portal
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("portal:home")).content.decode()
    assert 'aria-current="true" class="current" lang="en"' in english
    assert '<span class="brand-mark" aria-hidden="true" lang="zh-Hans">券</span>' in english
