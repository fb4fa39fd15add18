"""What an applicant can do about a finding, in plain words (shown under its clause text)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

ADVICE = {
    "APPLICANT_BEIJING": gettext_noop(
        "核对“申报单位”中的注册地址是否与营业执照一致；注册地不在北京市的单位不能申报。"
    ),
    "APPLICANT_USCC": gettext_noop(
        "统一社会信用代码的校验位与国家标准不符。请与营业执照核对；如执照即为此代码，审核人员将人工核实，无需处理。"
    ),
    "APPLICANT_ENTITY": gettext_noop(
        "核对单位类型、是否具备独立法人资格和所属行业门类（信息传输软件和信息技术服务业 I、制造业 C、科学研究和技术服务业 M）。"
    ),
    "AI_DIRECTION": gettext_noop(
        "项目须属于人工智能产业方向：在“项目情况”中核对此项并在概述中说明。"
    ),
    "NO_OTHER_MUNICIPAL_SUPPORT": gettext_noop(
        "申报期内已获其他市级财政资金智能算力支持的，不能申报算力券。请核对“声明事项”。"
    ),
    "CREDIT_RECORD": gettext_noop("被实施失信联合惩戒的单位不能申报。请核对“声明事项”。"),
    "ONE_DIRECTION": gettext_noop("同一企业只能申报一个方向。请与贵单位其他申报人核对。"),
    "D1_INSTITUTION": gettext_noop(
        "方向一仅限北京市人工智能领域新型研发机构；如不属于，请改选其他方向。"
    ),
    "D1_TOPIC": gettext_noop(
        "在“项目情况”中选择世界模型、具身智能、AI for Science 或 Agent 之一。"
    ),
    "D2_QUALIFICATION": gettext_noop(
        "方向二须入围工信部2025年揭榜名单，或符合两个2025年行动方案的支持方向：在“项目情况”中勾选并上传证明。"
    ),
    "D2_CONTRACT_TOTAL": gettext_noop(
        "方向二要求符合条件的算力合同总额不低于2000万元：核对各合同总额，或补充其他合同。"
    ),
    "D3_QUALIFICATION": gettext_noop(
        "方向三项目须开源且符合开源场景或行动方案：在“项目情况”中核对。"
    ),
    "D3_PLATFORM": gettext_noop(
        "方向三项目须在所列平台之一发布：在“项目情况”中选择平台并填写地址。"
    ),
    "D4_MODEL_FILING": gettext_noop(
        "方向四须有2026年1月1日及以后的模型（含Agent）备案：在“项目情况”中填写备案编号和日期。"
    ),
    "NO_ELIGIBLE_CONTRACT": gettext_noop(
        "至少要有一份合同符合全部合同条件且核定成本大于0：查看下方各合同的意见。"
    ),
    "CONTRACT_SIGNED": gettext_noop("填写合同签订日期；合同须在申报提交前签订。"),
    "CONTRACT_PERIOD": gettext_noop(
        "合同有效期须与补贴期（2025年9月8日至2026年3月31日）有重叠：核对有效期。"
    ),
    "SUPPLIER_EQUITY": gettext_noop(
        "系统在工商登记数据中发现您与该供给方的股权关联。如有说明材料，请随合同一并上传；审核人员将判断。"
    ),
    "SUPPLIER_PERSONNEL": gettext_noop(
        "双方有人员交叉任职（董事、监事、高管或法定代表人）。关联方提供的算力不予补贴。"
    ),
    "SUPPLIER_AGREEMENTS": gettext_noop(
        "与供给方存在收益分成或风险共担协议的，该合同不予补贴。请在“声明事项”中核对。"
    ),
    "SUPPLIER_HIERARCHY": gettext_noop(
        "与供给方存在行政或业务上下级关系的，该合同不予补贴。请在“声明事项”中核对。"
    ),
    "SUPPLIER_CONFIRMATION": gettext_noop(
        "合同列明的算力供给方须逐行确认合同条款、交付记录、发票和付款；有异议的行请按理由更正，供给方再行确认。"
    ),
    # the supplier's silence (issue 22): the applicant's own declaration is not the problem
    "SUPPLIER_AGREEMENTS:review": gettext_noop(
        "合同列明的算力供给方尚未作出声明（附件14-1 三）：请联系供给方登录系统声明；供给方尚无账号的，可请审核部门邀请。"
    ),
    "SUPPLIER_HIERARCHY:review": gettext_noop(
        "合同列明的算力供给方尚未作出声明（附件14-1 三）：请联系供给方登录系统声明；供给方尚无账号的，可请审核部门邀请。"
    ),
    "EVIDENCE": gettext_noop("为该合同录入发票或付款记录（也可从表格导入），并上传凭证。"),
    "UNIT_PRICE": gettext_noop("单价超出参考区间，审核人员将核实。请确认单价和单位填写无误。"),
}


def advice_for(rule: str, status: str) -> str:
    text = ADVICE.get(f"{rule}:{status}") or ADVICE.get(rule)
    return _(text) if text else ""
