"""Issue 19 point 2: the applicant reads the format's and the engine's problems in plain words.

The self-check, the submission blockers and the imports name the field as the form names it and
say what to do; no validator text ("取值不在允许范围内，应为 'enterprise' or …", "格式不对",
"日期须为 YYYY-MM-DD 格式: None"), no English tail in the Chinese page, no rule id
(D2_CONTRACT_TOTAL, RATE_CAP) in what the applicant reads.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from .portal_helpers import USCC_A, fill_d2, member, open_round

pytestmark = pytest.mark.django_db

VALIDATOR_WORDS = (
    "取值不在允许范围内",
    "'enterprise'",
    "new_rd_institution",
    "格式不对",
    "YYYY-MM-DD 格式",
    "None",
    "(not one of the allowed values)",
    "(does not match the expected pattern)",
    "(must not be blank)",
    "(not a valid mobile number)",
)
RULE_ID = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
CJK = re.compile(r"[\u3400-\u9fff]")


def visible_text(html: str) -> str:
    """What a reader sees: the tags and their attributes (data-rule="…") left out."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("owner@a.example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get(enterprise__uscc=USCC_A)


def selfcheck(client, app) -> str:
    response = client.get(reverse("portal:selfcheck", args=[app.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return visible_text(response.content.decode())


def test_the_issue_s_three_messages_in_plain_words():
    from voucher.applications.wording import plain_message

    with translation.override("zh-hans"):
        assert (
            plain_message(
                "applicant.entity_type",
                "取值不在允许范围内，应为 'enterprise' or 'new_rd_institution'，实为 '' "
                "(not one of the allowed values)",
            )
            == "请选择“单位类型”。"
        )
        assert plain_message(
            "applicant.industry", "格式不对 (does not match the expected pattern)"
        ) == ("请选择“所属行业门类（GB/T 4754）”。")
        assert (
            plain_message(
                "project.start_date", "日期须为 YYYY-MM-DD 格式: None (date must be YYYY-MM-DD)"
            )
            == "请填写“项目开始日期”。"
        )
        assert plain_message(
            "contracts[1].deliveries[0].amount", "不能为负数: -1 (must not be negative)"
        ) == ("“第 2 份合同第 1 条交付记录的金额（元）”不能为负数。")
        # an unknown message keeps its field and loses its internals
        assert (
            plain_message("applicant.name", "??? (something new)") == "“企业名称”填写有误，请核对。"
        )


def test_in_english_the_message_is_english():
    from voucher.applications.wording import plain_message, rule_title

    with translation.override("en"):
        for path, message in (
            (
                "applicant.entity_type",
                "取值不在允许范围内 … 实为 '' (not one of the allowed values)",
            ),
            ("project.start_date", "日期须为 YYYY-MM-DD 格式: None (date must be YYYY-MM-DD)"),
            (
                "applicant.contact.mobile",
                "不是有效的中国大陆手机号: 12 (not a valid mobile number)",
            ),
            ("contracts[0].deliveries[2].unit_price", "不是有效数字: 'x' (not a decimal number)"),
            ("contracts[0].valid_to", "有效期结束早于开始 (valid_to is before valid_from)"),
        ):
            text = plain_message(path, message)
            assert not CJK.search(text), text
        assert rule_title("D2_CONTRACT_TOTAL") and not CJK.search(rule_title("D2_CONTRACT_TOTAL"))


def test_every_rule_of_the_engine_has_a_title_for_the_applicant():
    import voucher.policy.engine  # noqa: F401  (defines the engine's own rules)
    from voucher.applications.wording import RULE_TITLES
    from voucher.policy.rules import RULES

    assert set(RULES) <= set(RULE_TITLES)


def test_a_new_draft_s_self_check_lists_fields_in_the_form_s_words(client, draft):
    page = selfcheck(client, draft)
    for raw in VALIDATOR_WORDS:
        assert raw not in page, raw
    for plain in (
        "请填写“注册地址”。",
        "请选择“单位类型”。",
        "请选择“所属行业门类（GB/T 4754）”。",
        "请填写“联系人手机”。",
        "请填写“项目开始日期”。",
    ):
        assert plain in page, plain


def test_the_submit_step_s_blockers_are_plain_too(client, draft):
    page = visible_text(client.get(reverse("portal:submit", args=[draft.pk])).content.decode())
    assert "请选择“单位类型”。" in page
    for raw in VALIDATOR_WORDS:
        assert raw not in page, raw


def test_findings_are_titled_in_words_not_rule_ids(client, draft):
    fill_d2(client, draft, total="1,000,000.00")  # below direction 2's 20 million
    page = selfcheck(client, draft)
    assert "方向二：合同总额不低于 2,000 万元" in page
    assert "补贴比例" in page  # how the amount came about: RATE_CAP's title
    assert not RULE_ID.findall(page), RULE_ID.findall(page)


def test_import_errors_say_what_to_do(draft, client):
    from .test_portal_import import GOOD_CONTRACT, GOOD_DELIVERY, send, workbook

    no_total = [*GOOD_CONTRACT[:6], "", *GOOD_CONTRACT[7:]]
    page = visible_text(
        send(client, draft, "c.xlsx", workbook({"合同": [no_total]})).content.decode()
    )
    assert "“合同”第2行「合同总额（元）」：请填写“合同总额（元）”。" in page

    no_device = [*GOOD_DELIVERY[:4], None, *GOOD_DELIVERY[5:]]
    content = workbook({"合同": [GOOD_CONTRACT], "交付记录": [GOOD_DELIVERY, no_device]})
    page = visible_text(send(client, draft, "contracts.xlsx", content).content.decode())
    assert "“交付记录”第3行「设备型号」：算力类交付记录须填写“设备型号”" in page
    assert "(compute)" not in page and "（compute）" not in page


def test_one_term_for_the_supplier_the_policy_s():
    """附件14 says 算力供给方; the applicant's pages say so too (not 供应方, not 供应商)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "voucher"
    policy = (root / "policy" / "source").glob("*")
    assert any("供给方" in p.read_text(encoding="utf-8") for p in policy if p.is_file())
    sources = [
        *(root / "templates" / "portal").glob("*.html"),
        root / "portal" / "advice.py",
        root / "portal" / "selectors.py",
        root / "applications" / "wording.py",
    ]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert "供应方" not in text and "供应商" not in text, source.name


def test_a_finding_s_english_gloss_is_left_out_in_chinese_only():
    from voucher.applications.wording import finding_message

    message = "工信部2025年揭榜名单中没有 91110108MA01C3QX7B，请审核人员核实（not on the official list in force）。"
    with translation.override("zh-hans"):
        assert finding_message(message) == (
            "工信部2025年揭榜名单中没有 91110108MA01C3QX7B，请审核人员核实。"
        )
        assert finding_message("没有 (91110108MA01C3QX7B)") == "没有 (91110108MA01C3QX7B)"
    with translation.override("en"):
        assert finding_message(message) == message
