"""An applicant who chooses English sees the portal in English; Chinese stays the default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .portal_helpers import USCC_A, member, open_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "北京示例智能科技有限公司"))
    return client


def english(client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302


def test_the_portal_home_page_is_chinese_by_default(client_a):
    page = client_a.get(reverse("portal:home")).content.decode()
    assert "我的申报" in page
    assert "新建申报" in page
    assert "My applications" not in page


def test_the_portal_home_page_switches_to_english(client_a):
    english(client_a)
    page = client_a.get(reverse("portal:home")).content.decode()
    assert "My applications" in page
    assert "New application" in page
    assert "Your organisation has no application in this round yet." in page
    assert "Enterprise members" in page
    for chinese in ("我的申报", "新建申报", "贵单位在本轮次还没有申报。", "企业成员"):
        assert chinese not in page


def test_a_wizard_step_switches_to_english(client_a):
    from voucher.applications.models import Application

    english(client_a)
    response = client_a.post(reverse("portal:new"), {"direction": 2})
    assert response.status_code == 302
    app = Application.objects.latest("id")

    home = client_a.get(reverse("portal:home")).content.decode()
    assert "Status and timeline" in home
    assert "状态与时间线" not in home

    page = client_a.get(reverse("portal:contracts", args=[app.pk])).content.decode()
    assert "No contracts entered yet." in page
    assert "Enter a contract" in page
    assert "Import from Excel / CSV" in page
    assert "Sign out" in page
    for chinese in ("尚未录入合同。", "录入一份合同", "从 Excel / CSV 导入", "退出"):
        assert chinese not in page
