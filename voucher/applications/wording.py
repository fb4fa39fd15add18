"""The applicant's words for the interchange format's and the engine's messages.

The format (`voucher.policy.format`) names a problem by its JSON path and a validator's text,
Chinese with the English in brackets ("取值不在允许范围内，应为 'enterprise' or
'new_rd_institution'，实为 '' (not one of the allowed values)"); the command line and the API keep
exactly that (docs/APPLICATION_FORMAT.md). An applicant reads a form: this catalogue turns a
(path, message) pair into what the form calls the field and what to do about it ("请选择单位类型"),
in the reader's language. It reads the English marker the format appends to every message, so a
format message it does not know still loses its internal values and English tail, never its
field.

Rule ids (`D2_CONTRACT_TOTAL`, `RATE_CAP`) are the bureau's words; the applicant's pages show
`rule_title(rule)` instead.
"""

from __future__ import annotations

import re
from typing import Final

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# A field of the format, its indices dropped (contracts[].deliveries[].amount), as the form
# labels it. Choice fields say 选择, the others 填写.
FIELD_LABELS: Final = {
    "requested_amount": gettext_noop("对应申请金额（万元）"),
    "applicant.name": gettext_noop("企业名称"),
    "applicant.uscc": gettext_noop("统一社会信用代码"),
    "applicant.registered_address": gettext_noop("注册地址"),
    "applicant.business_address": gettext_noop("生产经营地址"),
    "applicant.entity_type": gettext_noop("单位类型"),
    "applicant.independent_legal_person": gettext_noop("是否具有独立法人资格"),
    "applicant.industry": gettext_noop("所属行业门类（GB/T 4754）"),
    "applicant.ai_new_rd_institution": gettext_noop("是否为北京市人工智能领域新型研发机构"),
    "applicant.contact.name": gettext_noop("项目申报联系人"),
    "applicant.contact.mobile": gettext_noop("联系人手机"),
    "applicant.contact.address": gettext_noop("联系人通讯地址"),
    "applicant.contact.email": gettext_noop("联系人电子邮箱"),
    "project.name": gettext_noop("用算项目名称"),
    "project.start_date": gettext_noop("项目开始日期"),
    "project.overview": gettext_noop("项目概述"),
    "project.ai_field": gettext_noop("是否属于人工智能产业方向"),
    "project.topic": gettext_noop("研究方向"),
    "project.topic_note": gettext_noop("其他研究方向的说明"),
    "project.open_source": gettext_noop("开源发布信息"),
    "project.open_source.platform": gettext_noop("发布平台"),
    "project.open_source.url": gettext_noop("项目发布地址"),
    "project.model_filing": gettext_noop("模型备案信息"),
    "project.model_filing.number": gettext_noop("备案编号"),
    "project.model_filing.date": gettext_noop("备案日期"),
    "project.model_filing.kind": gettext_noop("备案类型"),
    "declarations.other_municipal_compute_support": gettext_noop(
        "是否已获其他市级财政资金智能算力支持"
    ),
    "declarations.dishonest_entity": gettext_noop("是否为失信联合惩戒对象"),
    "contracts": gettext_noop("算力合同"),
    "contracts[].id": gettext_noop("合同编号"),
    "contracts[].supplier.name": gettext_noop("算力供给方名称"),
    "contracts[].supplier.uscc": gettext_noop("供给方统一社会信用代码"),
    "contracts[].signed_on": gettext_noop("签订日期"),
    "contracts[].valid_from": gettext_noop("合同有效期开始"),
    "contracts[].valid_to": gettext_noop("合同有效期结束"),
    "contracts[].total_amount": gettext_noop("合同总额（元）"),
    "contracts[].relationship.revenue_or_risk_sharing": gettext_noop("收益分成或风险共担协议"),
    "contracts[].relationship.hierarchy": gettext_noop("行政或业务上下级关系"),
    "contracts[].deliveries[].start": gettext_noop("开始日期"),
    "contracts[].deliveries[].end": gettext_noop("结束日期"),
    "contracts[].deliveries[].service": gettext_noop("服务类型"),
    "contracts[].deliveries[].device": gettext_noop("设备型号"),
    "contracts[].deliveries[].quantity": gettext_noop("数量"),
    "contracts[].deliveries[].unit": gettext_noop("单位"),
    "contracts[].deliveries[].unit_price": gettext_noop("单价（元）"),
    "contracts[].deliveries[].amount": gettext_noop("金额（元）"),
    "contracts[].invoices[].number": gettext_noop("发票号码"),
    "contracts[].invoices[].date": gettext_noop("开票日期"),
    "contracts[].invoices[].amount": gettext_noop("金额（元）"),
    "contracts[].payments[].date": gettext_noop("支付日期"),
    "contracts[].payments[].amount": gettext_noop("金额（元）"),
    "contracts[].other_subsidies[].level": gettext_noop("级别"),
    "contracts[].other_subsidies[].policy": gettext_noop("政策名称"),
    "contracts[].other_subsidies[].amount": gettext_noop("金额（元）"),
    "contracts[].other_subsidies[].status": gettext_noop("状态"),
}
CHOICE_FIELDS: Final = frozenset(
    {
        "applicant.entity_type",
        "applicant.industry",
        "applicant.independent_legal_person",
        "applicant.ai_new_rd_institution",
        "project.ai_field",
        "project.topic",
        "project.open_source.platform",
        "project.model_filing.kind",
        "declarations.other_municipal_compute_support",
        "declarations.dishonest_entity",
        "contracts[].relationship.revenue_or_risk_sharing",
        "contracts[].relationship.hierarchy",
        "contracts[].deliveries[].service",
        "contracts[].other_subsidies[].level",
        "contracts[].other_subsidies[].status",
    }
)
# Where in a contract a row is: the list's name as the form's headings say it.
ROW_NAMES: Final = {
    "deliveries": gettext_noop("第 %(n)d 条交付记录"),
    "invoices": gettext_noop("第 %(n)d 张发票"),
    "payments": gettext_noop("第 %(n)d 笔付款"),
    "other_subsidies": gettext_noop("第 %(n)d 项其他补贴"),
}

# What to do, by the English marker the format ends each message with.
FILL: Final = gettext_noop("请填写“%(field)s”。")
CHOOSE: Final = gettext_noop("请选择“%(field)s”。")
ADVICE: Final = {
    "not one of the allowed values": gettext_noop("请从列表中选择“%(field)s”。"),
    "does not match the expected pattern": gettext_noop(
        "“%(field)s”的写法不对，请按表单上的提示填写。"
    ),
    "date must be YYYY-MM-DD": gettext_noop(
        "“%(field)s”不是有效日期，请用日期选择器或按 2025-09-08 的形式填写。"
    ),
    "no such date": gettext_noop("“%(field)s”是不存在的日期，请核对。"),
    "not a valid mobile number": gettext_noop(
        "“%(field)s”须为中国大陆手机号：11 位数字，以 1 开头。"
    ),
    "not a valid e-mail address": gettext_noop(
        "“%(field)s”不是有效的电子邮箱地址，请核对，如 name@example.cn。"
    ),
    "USCC must have 18 characters": gettext_noop("“%(field)s”须为 18 位，请与营业执照核对。"),
    "USCC has characters outside 0-9A-HJ-NPQRTUWXY": gettext_noop(
        "“%(field)s”含有代码中不会出现的字母（I、O、Z、S、V），请与营业执照核对。"
    ),
    "must not be negative": gettext_noop("“%(field)s”不能为负数。"),
    "at most two decimals": gettext_noop("“%(field)s”精确到分即可，最多两位小数。"),
    "not a decimal amount": gettext_noop("“%(field)s”请只填数字，如 1234.50。"),
    "not a decimal number": gettext_noop("“%(field)s”请只填数字，如 216000。"),
    "too large": gettext_noop("“%(field)s”过大，请核对。"),
    "valid_to is before valid_from": gettext_noop(
        "“合同有效期结束”早于“合同有效期开始”，请核对两个日期。"
    ),
    "end is before start": gettext_noop("“结束日期”早于“开始日期”，请核对两个日期。"),
    "duplicate contract id": gettext_noop("两份合同的合同编号相同，请为每份合同填写不同的编号。"),
    "topic `other` needs topic_note": gettext_noop("研究方向选了“其他”，请说明具体方向。"),
    "device is required for a compute row": gettext_noop(
        "算力类交付记录须填写“设备型号”（如 H800），否则无法核对单价。"
    ),
    "unknown key": gettext_noop("“%(field)s”无法识别，请联系技术支持。"),
}
EMPTY_MARKERS: Final = frozenset({"required field is missing", "must not be blank"})
OTHERWISE: Final = gettext_noop("“%(field)s”填写有误，请核对。")

_MARKER = re.compile(r"\(([^()]*)\)\s*$")
_AT_MOST = re.compile(r"^at most (\d+) characters$")
_INDEX = re.compile(r"\[(\d+)\]")
# The value a validator quotes: '' or None is nothing entered
_EMPTY_VALUE = re.compile(r"(实为 ''|实为 None|: None|: ''|: \"\"|:\s+)\s*\(")
# a choice left unchosen or set to what the list does not hold: the form's answer is to choose
CHOICE_MARKERS: Final = frozenset(
    {"not one of the allowed values", "does not match the expected pattern", "must be a boolean"}
)


def _shape(path: str) -> str:
    return _INDEX.sub("[]", path)


def field_label(path: str) -> str:
    """The field as the form names it, with where it is among the contracts (translated)."""
    shape = _shape(path)
    label = FIELD_LABELS.get(shape)
    if label is None:  # a part of a known field (contracts[0].supplier) or an unknown one
        known = [k for k in FIELD_LABELS if shape.startswith((k + ".", k + "["))]
        label = FIELD_LABELS[max(known, key=len)] if known else gettext_noop("此项")
    text = _(label)
    if not shape.startswith("contracts[]"):
        return text
    contract = re.match(r"contracts\[(\d+)\](?:\.(\w+)\[(\d+)\])?", path)
    if contract is None:
        return text
    where = _("第 %(n)d 份合同") % {"n": int(contract.group(1)) + 1}
    if contract.group(2) in ROW_NAMES:
        row = _(ROW_NAMES[contract.group(2)]) % {"n": int(contract.group(3)) + 1}
        where = _("%(contract)s%(row)s") % {"contract": where, "row": row}
    if shape == "contracts":
        return where
    return _("%(where)s的%(field)s") % {"where": where, "field": text}


def plain_message(path: str, message: str) -> str:
    """What the applicant should do about the format's (path, message), in their language."""
    shape = _shape(path)
    return plain_advice(message, field_label(path), choice=shape in CHOICE_FIELDS)


def plain_advice(message: str, label: str, *, choice: bool = False) -> str:
    """The format's `message` about the field the reader knows as `label` (translated), as
    what to do: the validator's internal values and English tail left out."""
    found = _MARKER.search(message)
    marker = found.group(1) if found else ""
    if (
        marker in EMPTY_MARKERS
        or _EMPTY_VALUE.search(message)
        or (choice and marker in CHOICE_MARKERS)
    ):
        text = CHOOSE if choice else FILL
    elif marker in ADVICE:
        text = ADVICE[marker]
    elif limit := _AT_MOST.match(marker):
        return _("“%(field)s”最多 %(limit)d 个字，请删减。") % {
            "field": label,
            "limit": int(limit.group(1)),
        }
    else:
        text = OTHERWISE
    return _(text) % {"field": label} if "%(field)s" in text else _(text)


# The engine's rules as the applicant reads them (RULES.md); the ids are for the bureau.
RULE_TITLES: Final = {
    "APPLICANT_BEIJING": gettext_noop("注册地在北京市"),
    "APPLICANT_USCC": gettext_noop("统一社会信用代码"),
    "APPLICANT_ENTITY": gettext_noop("申报单位类型和行业"),
    "AI_DIRECTION": gettext_noop("人工智能产业方向"),
    "NO_OTHER_MUNICIPAL_SUPPORT": gettext_noop("未获其他市级算力资金支持"),
    "CREDIT_RECORD": gettext_noop("信用记录"),
    "ONE_DIRECTION": gettext_noop("同一企业只申报一个方向"),
    "D1_INSTITUTION": gettext_noop("方向一：新型研发机构"),
    "D1_TOPIC": gettext_noop("方向一：研究方向"),
    "D2_QUALIFICATION": gettext_noop("方向二：揭榜名单或行动方案"),
    "D2_CONTRACT_TOTAL": gettext_noop("方向二：合同总额不低于 2,000 万元"),
    "D3_QUALIFICATION": gettext_noop("方向三：开源项目"),
    "D3_PLATFORM": gettext_noop("方向三：发布平台"),
    "D4_MODEL_FILING": gettext_noop("方向四：模型备案"),
    "NO_ELIGIBLE_CONTRACT": gettext_noop("至少一份符合条件的合同"),
    "CONTRACT_SIGNED": gettext_noop("合同签订日期"),
    "CONTRACT_PERIOD": gettext_noop("补贴期内的交付"),
    "SUPPLIER_EQUITY": gettext_noop("与供给方的股权关联"),
    "SUPPLIER_PERSONNEL": gettext_noop("与供给方的人员关联"),
    "SUPPLIER_AGREEMENTS": gettext_noop("与供给方的收益分成或风险共担"),
    "SUPPLIER_HIERARCHY": gettext_noop("与供给方的上下级关系"),
    "SUPPLIER_CONFIRMATION": gettext_noop("算力供给方逐行确认"),
    "EVIDENCE": gettext_noop("发票或付款凭证"),
    "UNIT_PRICE": gettext_noop("单价"),
    "COMPUTE_ONLY": gettext_noop("只补贴算力服务"),
    "FLAGGED_DEVICE": gettext_noop("设备型号"),
    "RATE_CAP": gettext_noop("补贴比例"),
    "STACKING_CAP": gettext_noop("与其他补贴叠加的上限"),
    "AMOUNT_CAP": gettext_noop("本方向补贴上限"),
    "REQUESTED": gettext_noop("申请金额"),
    "MATERIALS": gettext_noop("申报材料"),
}


def rule_title(rule: str) -> str:
    """What the finding is about, in the reader's language; never the bare id."""
    title = RULE_TITLES.get(rule)
    return _(title) if title else _("政策规则")


# Choices the portal's forms show, stored in Chinese (voucher.portal.forms.translated): here for
# the catalogue. The GB/T 4754-2017 sections, the entity types, the enterprise roles.
CHOICE_LABELS: Final = (
    gettext_noop("I 信息传输、软件和信息技术服务业"),
    gettext_noop("C 制造业"),
    gettext_noop("M 科学研究和技术服务业"),
    gettext_noop("A 农、林、牧、渔业"),
    gettext_noop("B 采矿业"),
    gettext_noop("D 电力、热力、燃气及水生产和供应业"),
    gettext_noop("E 建筑业"),
    gettext_noop("F 批发和零售业"),
    gettext_noop("G 交通运输、仓储和邮政业"),
    gettext_noop("H 住宿和餐饮业"),
    gettext_noop("J 金融业"),
    gettext_noop("K 房地产业"),
    gettext_noop("L 租赁和商务服务业"),
    gettext_noop("N 水利、环境和公共设施管理业"),
    gettext_noop("O 居民服务、修理和其他服务业"),
    gettext_noop("P 教育"),
    gettext_noop("Q 卫生和社会工作"),
    gettext_noop("R 文化、体育和娱乐业"),
    gettext_noop("S 公共管理、社会保障和社会组织"),
    gettext_noop("T 国际组织"),
    gettext_noop("企业"),
    gettext_noop("新型研发机构"),
    gettext_noop("管理员"),
    gettext_noop("成员"),
)


DIRECTION_NAMES: Final = {
    1: gettext_noop("方向一"),
    2: gettext_noop("方向二"),
    3: gettext_noop("方向三"),
    4: gettext_noop("方向四"),
}


def direction_name(value: object) -> str:
    """方向二, on every page (never 方向2), in the reader's language."""
    try:
        return _(DIRECTION_NAMES[int(str(value))])
    except (KeyError, ValueError):
        return str(value)


# an English gloss at the end: lower-case words in brackets, before the closing 。 if any
_ENGLISH_TAIL = re.compile(r"\s*[（(][a-z][A-Za-z0-9 ,;:'/.-]* [A-Za-z0-9 ,;:'/.-]*[）)](?=。?$)")


def finding_message(message: str) -> str:
    """An engine finding's message (Chinese, specified with the engine) as the applicant reads it
    in Chinese: without the English gloss some messages end with ("(not on the official list in
    force)"); in English the whole message is kept, the gloss being the English there is."""
    if (translation.get_language() or "zh-hans").startswith("en"):
        return message
    return _ENGLISH_TAIL.sub("", message)
