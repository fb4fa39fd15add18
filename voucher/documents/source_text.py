"""The fixed text of forms 14-2, 14-3 and 14-4, verbatim from the source.

Source: voucher/policy/source/attachment-14-compute-voucher-guide.zh.txt. A test checks that every
string here occurs in that file character for character, and that every generated document
carries them all, so a typo cannot creep into a form that applicants sign.
"""

from __future__ import annotations

from typing import Final

from voucher.documents.report_sections import CHAPTERS, SECTIONS

# --- 附件14-2 算力使用情况表 ------------------------------------------------------------------

USAGE_ATTACHMENT: Final = "附件14-2"
USAGE_TITLE: Final = "算力使用情况表"
USAGE_PART_1: Final = "第一部分 申请企业情况（加盖公章）"
USAGE_PART_2: Final = "第二部分 算力使用情况"
# (label, hint) in the source's order, two fields a row where the source has two.
USAGE_ENTERPRISE_ROWS: Final = (
    (("企业名称", ""), ("统一社会信用代码", "")),
    (("注册地址", ""), ("生产经营地址", "")),
    (("项目申报联系人", ""), ("联系人手机", "")),
    (("联系人通讯地址", ""), ("联系人电子邮箱", "")),
)
USAGE_PROJECT_NAME: Final = "用算项目名称"
USAGE_TOTAL: Final = "该项目消耗算力总额（万元）"
USAGE_REQUESTED: Final = "对应申请金额（万元）"
USAGE_START: Final = "项目开始日期"
USAGE_OTHER_FUNDS: Final = "项目是否获得其他财政资金支持"
USAGE_OTHER_FUNDS_HINT: Final = "（如有，请填写支持政策名称）"
USAGE_OTHER_AMOUNT: Final = "所获政策资金额度（万元）"
USAGE_OTHER_AMOUNT_HINT: Final = "（如有）"
USAGE_OVERVIEW: Final = "项目概述"
USAGE_OVERVIEW_HINT: Final = (
    "（简要描述申报项目所属的行业领域，提供能够明确算力应用领域或目的的相关材料，"
    "如应用案例、应用场景说明等，以确认算力应用领域、场景符合对应方向支持要求）"
)

# --- 附件14-3 算力项目实施情况报告 ------------------------------------------------------------

REPORT_ATTACHMENT: Final = "附件14-3"
REPORT_TITLE: Final = "算力项目实施情况报告"
REPORT_PROJECT_LABEL: Final = "项目名称："
REPORT_COMPANY_LABEL: Final = "企业名称（加盖公章）："
# Section texts (headings and hints) live in report_sections.py, which the portal imports.

# --- 附件14-4 北京市高精尖产业发展资金承诺书 --------------------------------------------------

COMMITMENT_ATTACHMENT: Final = "附件14-4"
COMMITMENT_TITLE: Final = "北京市高精尖产业发展资金承诺书"
COMMITMENT_INTRO: Final = "本单位拟申请2026年北京市高精尖产业发展资金算力券补贴方向，具体承诺如下："
COMMITMENTS: Final = (
    "本单位严格遵守国家相关法律法规、政策要求，以及《北京市高精尖产业发展项目资金管理办法》等相关规定。",
    "本单位未因违法失信行为被行政机关实施联合惩戒，或被司法部门采取失信惩戒措施。",
    "本单位提交的全部材料均真实、准确、有效，申报资格和条件符合指南、通知相关规定。",
    "本单位在申报期内未获得其他市级财政资金的相关智能算力支持。",
    "所有材料已经脱密处理，如有发生涉密资料（载体）泄露，愿意承担有关保密责任。",
    "本单位自愿接受并积极配合市区相关部门监管。",
    "本单位遵循诚实守信原则，若违反以上承诺事项，将在收到北京市经济和信息化局要求退还资金的通知之日起6个月内向北京市经济和信息化局退还全部资金。",
    "本单位将按照相关法律法规和制度规定使用高精尖资金，对高精尖资金申报和使用中存在虚报、骗取、挪用、贿赂等违法违规行为，将依照《财政违法行为处罚处分条例》等相关法律法规接受处理。涉嫌犯罪的，自愿接受司法机关依法处理。",
)
COMMITMENT_SIGNATURE: Final = "法定代表人（签字）："
COMMITMENT_SEAL: Final = "单位（签章）："
COMMITMENT_DATE: Final = "时间："

# --- 附件14-1 (the checklist in the package) --------------------------------------------------

MATERIALS_TITLE: Final = "算力券政策申报材料清单"
MATERIAL_HEADINGS: Final = {
    "contract": "一、算力合同",
    "demand_qualification": "二、算力需求企业资质证明",
    "supply_qualification": "三、算力供给企业资质证明",
    "invoice_or_payment": "四、支付发票或付款证明",
    "settlement": "五、算力结算单",
    "usage_table": "六、算力使用情况说明",
    "implementation_report": "七、算力项目实施情况报告",
    "commitment_letter": "八、北京市高精尖产业发展资金承诺书",
}


def fixed_sentences_14_2() -> list[str]:
    out = [USAGE_ATTACHMENT, USAGE_TITLE, USAGE_PART_1, USAGE_PART_2]
    for row in USAGE_ENTERPRISE_ROWS:
        out.extend(label for label, _hint in row)
    out += [
        USAGE_PROJECT_NAME,
        USAGE_TOTAL,
        USAGE_REQUESTED,
        USAGE_START,
        USAGE_OTHER_FUNDS,
        USAGE_OTHER_FUNDS_HINT,
        USAGE_OTHER_AMOUNT,
        USAGE_OTHER_AMOUNT_HINT,
        USAGE_OVERVIEW,
        USAGE_OVERVIEW_HINT,
    ]
    return out


def fixed_sentences_14_3() -> list[str]:

    out = [REPORT_ATTACHMENT, REPORT_TITLE, REPORT_PROJECT_LABEL, REPORT_COMPANY_LABEL]
    out += list(CHAPTERS.values())
    for s in SECTIONS:
        out += [s.heading, s.hint]
    return out


def fixed_sentences_14_4() -> list[str]:
    return [
        COMMITMENT_ATTACHMENT,
        COMMITMENT_TITLE,
        COMMITMENT_INTRO,
        *(f"{i}.{text}" for i, text in enumerate(COMMITMENTS, 1)),
        COMMITMENT_SIGNATURE,
        COMMITMENT_SEAL,
        COMMITMENT_DATE,
    ]
