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
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voucher.policy.money import format_yuan_grouped

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


# --- the engine's findings in English -------------------------------------------------------
#
# The engine (voucher.policy, pure and Django-free) writes each finding's message in Chinese,
# and the command line prints exactly that (../shared/spec/examples). An English page reads
# the finding from its rule id, status and values instead: (rule, status) -> templates, the
# first whose condition the values meet. A condition is None (always), "key" (the value is
# there) or "key=None" / "key=False" (the value is that). Fields: {name} as it is,
# {name:yuan} money as `CNY 1,234.00`, {name:percent}, {name:list} a list joined,
# {name:count} its length, {name:list_name} an official list's name, {name:topic} a
# direction-1 research direction. A message with no template or without the values it needs
# stays in Chinese (marked lang="zh-Hans"); a test checks every rule and status the engine
# writes has one.

_LIST_NAMES_EN: Final = {
    "ai_new_rd_institutions": "the list of Beijing's new AI R&D institutions",
    "miit_2025_list": "the MIIT 2025 list of AI innovation tasks",
    "model_filings": "the register of generative AI services (models, Agents)",
}
_TOPICS_EN: Final = {
    "world_model": "world models",
    "embodied_ai": "embodied AI",
    "ai_for_science": "AI for Science",
    "agent": "Agents",
}
_REVIEWER = " A reviewer checks it."

FINDINGS_EN: Final[dict[tuple[str, str], tuple[tuple[str | None, str], ...]]] = {
    ("APPLICANT_BEIJING", "pass"): (
        (None, "Registered in Beijing; registration authority code {division_code}."),
    ),
    ("APPLICANT_BEIJING", "fail"): (
        (
            None,
            "The registered address “{address}” is not in Beijing. Give the full registered "
            "address as on the business licence.",
        ),
    ),
    ("APPLICANT_BEIJING", "review"): (
        (
            None,
            "The registered address is in Beijing, but the registration authority code "
            "{division_code} of the unified social credit code is not a Beijing one." + _REVIEWER,
        ),
    ),
    ("APPLICANT_USCC", "pass"): ((None, "The check character of {uscc} is correct."),),
    ("APPLICANT_USCC", "review"): (
        (
            None,
            "The check character of {uscc} should be {expected_check_character}. Some codes "
            "issued before 2016 have a wrong one; a reviewer compares it with the business "
            "licence.",
        ),
    ),
    ("APPLICANT_ENTITY", "pass"): (
        ("entity_type", "The applicant is a new R&D institution."),
        ("industry", "An enterprise with independent legal personality in section {industry}."),
    ),
    ("APPLICANT_ENTITY", "fail"): (
        ("industry", "Industry section {industry} is not one the programme supports."),
        (None, "The applicant is an enterprise without independent legal personality."),
    ),
    ("AI_DIRECTION", "pass"): ((None, "The project is in the AI industry's direction."),),
    ("AI_DIRECTION", "fail"): ((None, "The project is not in the AI industry's direction."),),
    ("NO_OTHER_MUNICIPAL_SUPPORT", "pass"): (
        (None, "No other municipal funds for intelligent compute received."),
    ),
    ("NO_OTHER_MUNICIPAL_SUPPORT", "fail"): (
        (
            "declared",
            "The applicant declared other municipal funds for intelligent compute in the period.",
        ),
        ("listed", "The applicant is on the list of other municipal compute support."),
    ),
    ("NO_OTHER_MUNICIPAL_SUPPORT", "info"): (
        (
            None,
            "The contracts list municipal compute subsidies received ({municipal_subsidies:list})"
            "; check whether they fall in the application period.",
        ),
    ),
    ("CREDIT_RECORD", "pass"): ((None, "No joint sanctions for dishonesty found."),),
    ("CREDIT_RECORD", "fail"): (
        ("declared", "The applicant declared joint sanctions for dishonesty."),
        ("listed", "The applicant is on the list of joint sanctions for dishonesty."),
    ),
    ("ONE_DIRECTION", "pass"): (
        (
            "others",
            "The enterprise has other applications in the round ({others:list}); this one was "
            "submitted first and is kept.",
        ),
        (None, "The enterprise's only application in the round."),
    ),
    ("ONE_DIRECTION", "fail"): (
        (
            None,
            "One enterprise applies in one direction only: it has other applications in the "
            "round ({others:list}).",
        ),
    ),
    ("D1_INSTITUTION", "pass"): (
        (None, "Declared a new AI R&D institution of Beijing; found on {list:list_name}."),
    ),
    ("D1_INSTITUTION", "fail"): (
        (
            None,
            "Direction 1 supports Beijing's new AI R&D institutions only; the applicant has "
            "not declared it is one.",
        ),
    ),
    ("D1_INSTITUTION", "review"): (
        (
            "on_list=None",
            "Declared a new AI R&D institution, but {list:list_name} is not loaded, so it "
            "cannot be checked." + _REVIEWER,
        ),
        (None, "Declared a new AI R&D institution, but not found on {list:list_name}." + _REVIEWER),
    ),
    ("D1_TOPIC", "pass"): ((None, "Research direction: {topic:topic}."),),
    ("D1_TOPIC", "review"): (
        (
            None,
            "Research direction “other”: {topic_note}. The clause lists its directions with "
            "“etc.”: a reviewer judges whether it is of the same kind.",
        ),
    ),
    ("D1_TOPIC", "fail"): (
        (
            None,
            "A direction-1 project must research world models, embodied AI, AI for Science, "
            "Agents or a direction of that kind.",
        ),
    ),
    ("D2_QUALIFICATION", "pass"): (
        (None, "Declared on the MIIT 2025 list; found on {list:list_name}."),
    ),
    ("D2_QUALIFICATION", "fail"): (
        (
            None,
            "Direction 2 needs a place on the MIIT 2025 list of AI innovation tasks, or R&D "
            "along the directions of Beijing's two 2025 AI action plans.",
        ),
    ),
    ("D2_QUALIFICATION", "review"): (
        (
            "on_list=None",
            "Declared on the MIIT 2025 list, but {list:list_name} is not loaded, so it cannot be "
            "checked." + _REVIEWER,
        ),
        ("on_list=False", "Declared on the MIIT 2025 list, but not found on it." + _REVIEWER),
        (
            None,
            "Declared R&D along the directions of the two action plans: whether it is so is a "
            "reviewer's judgment.",
        ),
    ),
    ("D2_CONTRACT_TOTAL", "pass"): (
        (
            None,
            "The eligible intelligent-compute contracts total {total:yuan}, not below "
            "{minimum:yuan}.",
        ),
    ),
    ("D2_CONTRACT_TOTAL", "fail"): (
        (
            None,
            "The eligible intelligent-compute contracts total {total:yuan}, below {minimum:yuan}.",
        ),
    ),
    ("D3_QUALIFICATION", "pass"): ((None, "An open-source project, in a supported scenario."),),
    ("D3_QUALIFICATION", "fail"): (
        (
            None,
            "Direction 3 supports open-source projects in the scenarios of Beijing's open-source "
            "plan (2026–2028) or the two action plans; fill in the open-source release.",
        ),
    ),
    ("D3_PLATFORM", "pass"): ((None, "Released on the platform {platform}."),),
    ("D3_PLATFORM", "fail"): ((None, "The project must be released on a listed platform."),),
    ("D4_MODEL_FILING", "pass"): (
        (None, "Model filing {filing_number} of {filing_date}, found on {list:list_name}."),
    ),
    ("D4_MODEL_FILING", "fail"): (
        (
            "filing_date",
            "The filing date {filing_date} is before {on_or_after}: not a newly filed model "
            "product.",
        ),
        (None, "Direction 4 needs the filing of the model product (or Agent); fill it in."),
    ),
    ("D4_MODEL_FILING", "review"): (
        (
            "listed_date",
            "Filing {filing_number} of {filing_date}, but the register gives {listed_date}."
            + _REVIEWER,
        ),
        (
            "on_list=None",
            "Filing {filing_number} of {filing_date}, but the register of filings is not "
            "loaded, so it cannot be checked." + _REVIEWER,
        ),
        (
            None,
            "Filing {filing_number} of {filing_date}, but it is not on the register of filings."
            + _REVIEWER,
        ),
    ),
    ("NO_ELIGIBLE_CONTRACT", "pass"): ((None, "Eligible contracts: {contracts:list}."),),
    ("NO_ELIGIBLE_CONTRACT", "fail"): (
        (
            None,
            "No contract meets every contract condition with a verified compute cost above 0.",
        ),
    ),
    ("CONTRACT_SIGNED", "pass"): ((None, "Signed on {signed_on}."),),
    ("CONTRACT_SIGNED", "fail"): (
        ("submitted_on", "Signed on {signed_on}, after the submission on {submitted_on}."),
        (None, "The signing date is not filled in."),
    ),
    ("CONTRACT_PERIOD", "pass"): (
        (None, "The subsidy period claimed: {claim_start} to {claim_end}."),
    ),
    ("CONTRACT_PERIOD", "fail"): (
        (
            None,
            "The contract's term {valid_from} to {valid_to} does not overlap the subsidy period.",
        ),
    ),
    ("CONTRACT_PERIOD", "info"): (
        (
            None,
            "{excluded:yuan} delivered outside the subsidy period does not count (a line across "
            "its edge is prorated by day).",
        ),
    ),
    ("EVIDENCE", "pass"): ((None, "Invoices or payment records are given."),),
    ("EVIDENCE", "fail"): ((None, "Neither invoices nor payment records are given."),),
    ("UNIT_PRICE", "pass"): ((None, "The unit prices are within the reference band."),),
    ("UNIT_PRICE", "review"): (
        (
            None,
            "Unit prices outside the reference band: {lines:list}. A reviewer checks them "
            "against the market.",
        ),
    ),
    ("COMPUTE_ONLY", "info"): (
        (
            None,
            "Services that are not intelligent compute, {excluded:yuan}, do not count towards "
            "the subsidy base.",
        ),
    ),
    ("FLAGGED_DEVICE", "info"): (
        (
            None,
            "Devices the authorities flagged as unsafe or not recommended ({devices:list}): "
            "{excluded:yuan} is not supported.",
        ),
    ),
    ("SUPPLIER_EQUITY", "pass"): (
        (None, "The registry shows no shareholding link with the supplier."),
    ),
    ("SUPPLIER_EQUITY", "fail"): (
        ("supplier", "The supplier and the applicant are the same entity."),
        (
            "path",
            "One holds shares of the other, directly or indirectly (effective ratio "
            "{effective_ratio:percent}).",
        ),
    ),
    ("SUPPLIER_EQUITY", "review"): (
        (
            "common_holder",
            "The applicant and the supplier have a common shareholder, {common_holder}: a "
            "reviewer judges whether they are related parties.",
        ),
        (None, "The registry lacks data to check the shareholding link." + _REVIEWER),
    ),
    ("SUPPLIER_PERSONNEL", "pass"): (
        (None, "The registry shows no key person in both the applicant and the supplier."),
    ),
    ("SUPPLIER_PERSONNEL", "fail"): ((None, "Key persons hold posts in both: {persons:list}."),),
    ("SUPPLIER_PERSONNEL", "review"): (
        (None, "The registry lacks data to check the key persons." + _REVIEWER),
    ),
    ("SUPPLIER_AGREEMENTS", "pass"): (
        (
            "supplier_declaration='none'",
            "The applicant and the supplier both declared no revenue-sharing or risk-sharing agreement with the other party.",
        ),
        (
            "supplier_declaration='not_asked'",
            "The applicant declared no revenue-sharing or risk-sharing agreement with the other party; in this direction the supplier does not declare "
            "per contract (its data come from the registry platform).",
        ),
        (
            "supplier_declaration='no_source'",
            "The applicant declared no revenue-sharing or risk-sharing agreement with the other party; this evaluation has no source of the supplier's "
            "declarations, so the supplier's was not checked.",
        ),
        (None, "Declared no revenue-sharing or risk-sharing agreement with the other party."),
    ),
    ("SUPPLIER_AGREEMENTS", "fail"): (
        (
            "declared_by=['applicant', 'supplier']",
            "The applicant and the supplier both declared a revenue-sharing or risk-sharing agreement with the other party.",
        ),
        (
            "declared_by=['supplier']",
            "The supplier declared a revenue-sharing or risk-sharing agreement with the other party.",
        ),
        (
            None,
            "The applicant declared a revenue-sharing or risk-sharing agreement with the other party.",
        ),
    ),
    ("SUPPLIER_AGREEMENTS", "review"): (
        (
            None,
            "The applicant declared no revenue-sharing or risk-sharing agreement with the other party, but the supplier has not declared yet (Annex 14-1 "
            "III): wait for the supplier's declaration, or a reviewer checks it.",
        ),
    ),
    ("SUPPLIER_HIERARCHY", "pass"): (
        (
            "supplier_declaration='none'",
            "The applicant and the supplier both declared no administrative or business hierarchy with the other party.",
        ),
        (
            "supplier_declaration='not_asked'",
            "The applicant declared no administrative or business hierarchy with the other party; in this direction the supplier does not declare "
            "per contract (its data come from the registry platform).",
        ),
        (
            "supplier_declaration='no_source'",
            "The applicant declared no administrative or business hierarchy with the other party; this evaluation has no source of the supplier's "
            "declarations, so the supplier's was not checked.",
        ),
        (None, "Declared no administrative or business hierarchy with the other party."),
    ),
    ("SUPPLIER_HIERARCHY", "fail"): (
        (
            "declared_by=['applicant', 'supplier']",
            "The applicant and the supplier both declared an administrative or business hierarchy with the other party.",
        ),
        (
            "declared_by=['supplier']",
            "The supplier declared an administrative or business hierarchy with the other party.",
        ),
        (
            None,
            "The applicant declared an administrative or business hierarchy with the other party.",
        ),
    ),
    ("SUPPLIER_HIERARCHY", "review"): (
        (
            None,
            "The applicant declared no administrative or business hierarchy with the other party, but the supplier has not declared yet (Annex 14-1 "
            "III): wait for the supplier's declaration, or a reviewer checks it.",
        ),
    ),
    ("SUPPLIER_CONFIRMATION", "pass"): (
        (None, "The supplier confirmed every line of the contract ({lines} lines)."),
    ),
    ("SUPPLIER_CONFIRMATION", "review"): (
        ("open_lines=[]", "The supplier has not confirmed any line of the contract yet."),
        (None, "Not yet confirmed by the supplier: {open_lines:list}."),
    ),
    ("RATE_CAP", "info"): (
        (
            None,
            "Verified compute cost {verified_cost:yuan} × {rate:percent} = {rate_limit:yuan} "
            "(the lower of the invoices or payments and the deliveries in the subsidy period).",
        ),
    ),
    ("STACKING_CAP", "info"): (
        (
            None,
            "The verified compute cost {verified_cost:yuan}, times the stacking share, less "
            "other subsidies of {other_subsidies:yuan}, leaves {stacking_limit:yuan}: below "
            "the rate cap, this counts.",
        ),
    ),
    ("AMOUNT_CAP", "info"): (
        (
            None,
            "The contracts' subsidies total {computed:yuan}, above this direction's cap "
            "{cap:yuan}: the cap counts.",
        ),
    ),
    ("REQUESTED", "info"): (
        (
            None,
            "The amount requested, {requested:yuan}, is below the approvable {computable:yuan}: "
            "the amount requested counts.",
        ),
    ),
    ("MATERIALS", "pass"): ((None, "Every material of Annex 14-1 is given."),),
    ("MATERIALS", "info"): ((None, "Materials missing: {missing:count}."),),
}


class _FindingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "yuan":
            return f"CNY\u00a0{format_yuan_grouped(Decimal(str(value)))}"
        if format_spec == "percent":
            return (
                f"{Decimal(str(value)):.0%}"
                if Decimal(str(value)) >= Decimal("0.01")
                else (f"{Decimal(str(value)):.4%}")
            )
        if format_spec == "list":
            items = value if isinstance(value, list | tuple) else [value]
            return ", ".join(str(v) for v in items)
        if format_spec == "count":
            return str(len(value)) if isinstance(value, list | tuple) else str(value)
        if format_spec == "topic":
            return _TOPICS_EN.get(str(value), str(value))
        if format_spec == "list_name":
            return _LIST_NAMES_EN.get(str(value), "the official list")
        return super().format_field(value, format_spec)


_FORMATTER: Final = _FindingFormatter()
_ABSENT: Final = object()


def _meets(condition: str | None, values: Mapping[str, Any]) -> bool:
    if condition is None:
        return True
    key, _eq, wanted = condition.partition("=")
    value = values.get(key, _ABSENT)
    if not _eq:
        return value is not _ABSENT
    return repr(None if value is _ABSENT else value) == wanted


def finding_in_english(rule: str, status: str, values: Mapping[str, Any]) -> str:
    """The finding as an English page says it, from its rule, status and values; "" when the
    catalogue has no rendering with the values given (the Chinese message is shown then)."""
    for condition, template in FINDINGS_EN.get((rule, status), ()):
        if _meets(condition, values):
            try:
                return _FORMATTER.format(template, **values)
            except (KeyError, IndexError, ValueError, ArithmeticError, TypeError):
                return ""
    return ""


def finding_text(
    rule: str, status: str, message: str, values: Mapping[str, Any]
) -> tuple[str, str]:
    """(text, lang) of a finding for the page's language: in English the catalogue's rendering
    ("en"), else the engine's Chinese message without its English gloss ("zh-Hans")."""
    if (translation.get_language() or "zh-hans").startswith("en"):
        english = finding_in_english(rule, status, values)
        if english:
            return english, "en"
        return message, "zh-Hans"
    return finding_message(message), "zh-Hans"
