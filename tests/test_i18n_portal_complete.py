"""Issue 19 point 9: the portal in English is English throughout: the directions, states,
outcomes, roles, the entity types, the GB/T 4754 industries, the eight materials, the findings'
titles and advice, money ("CNY 2,300,000.00", no 万元), and no full-width colon after English.

What the applicant typed (names, addresses) and the official Chinese texts shown as such (the
commitment letter and the policy clauses, marked lang="zh-Hans") are left out of the check.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, fill_d2, member, open_round

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff60]+")
STEPS = ("direction", "applicant", "project", "contracts", "report", "declarations", "materials",
         "submit")  # fmt: skip


def english_text(html: str) -> str:
    """The visible text, without what is Chinese on purpose: elements marked lang="zh-Hans"
    (the official texts), <option> values the applicant typed, and the applicant's own data."""
    html = re.sub(r"<(\w+)[^>]*\blang=\"zh-Hans\"[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"<textarea.*?</textarea>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    for typed in (
        "北京示例智能科技有限公司", "北京市海淀区中关村大街1号", "张三", "北京示例算力有限公司",
        "工业质检大模型训练", "甲公司", "面向制造业的工业质检大模型。",
    ):  # fmt: skip
        text = text.replace(typed, " ")
    return text


@pytest.fixture
def english_draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("owner@a.example.cn", USCC_A, "甲公司"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get(enterprise__uscc=USCC_A)
    fill_d2(client, app, total="1,000,000.00")
    return app


def chinese_left(client, url: str) -> list[str]:
    response = client.get(url, HTTP_HX_REQUEST="true" if "selfcheck" in url else None)
    assert response.status_code == 200, url
    return CJK.findall(english_text(response.content.decode()))


def page_text(client, url: str) -> str:
    response = client.get(url, HTTP_HX_REQUEST="true" if "selfcheck" in url else None)
    assert response.status_code == 200, url
    return english_text(response.content.decode())


def test_the_labels_stored_in_chinese_are_english(client, english_draft):
    a = english_draft.pk
    applicant = page_text(client, reverse("portal:applicant", args=[a]))
    assert "New R&amp;D institution" in applicant or "New R&D institution" in applicant
    assert "I Information transmission, software and IT services" in applicant
    assert "信息传输" not in applicant and "新型研发机构" not in applicant
    materials = page_text(client, reverse("portal:materials", args=[a]))
    assert "Compute contract" in materials and "Compute settlement statement" in materials
    assert "算力合同" not in materials and "算力结算单" not in materials
    home = page_text(client, reverse("portal:home"))
    assert "Direction 2" in home and "Draft" in home and "Administrator" in home
    assert "方向二" not in home and "草稿" not in home and "管理员" not in home
    new = page_text(client, reverse("portal:new"))
    assert "Direction 1" in new and "方向一" not in new and "万元" not in new
    for step in ("project", "contracts", "submit", "direction"):
        page = page_text(client, reverse(f"portal:{step}", args=[a]))
        assert "方向二" not in page, step
        assert "万元" not in page and "元" not in page, step
        assert re.search(r"CNY\s\d", page), step
        assert not re.search(r"[A-Za-z)]：", page), (step, re.findall(r".{20}[A-Za-z)]：", page))
    check = page_text(client, reverse("portal:selfcheck", args=[a]))
    assert "Direction 2: contracts total at least 20,000,000.00 yuan" in check
    assert "Subsidy rate" in check and re.search(r"CNY\s\d", check)


def test_the_status_page_has_no_full_width_colon_after_english(client, english_draft):
    page = page_text(client, reverse("portal:status", args=[english_draft.pk]))
    assert "Compute usage" in page
    assert not re.search(r"[A-Za-z0-9)]\s*：", page), re.findall(r".{30}：", page)


def test_the_findings_read_in_english(client, english_draft):
    """The engine's findings from the catalogue (wording.FINDINGS_EN), not its Chinese: the
    contracts total 1,000,000.00, below direction 2's minimum."""
    url = reverse("portal:selfcheck", args=[english_draft.pk])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<p lang="en">The eligible intelligent-compute contracts total CNY' in page
    assert "符合条件的智能算力合同总额" not in page
    assert re.findall(r'<p lang="zh-Hans">(.*?)</p>', page) == []  # every finding rendered
    assert re.findall(r'<span lang="zh-Hans">(.*?)</span>', page) == []  # and every cap
