"""Who may apply: 一（一）to 一（三）, 14-2 and 14-4 第2条. A fail makes the application ineligible."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voucher.policy import uscc as codes
from voucher.policy.context import EvaluationContext
from voucher.policy.results import Finding
from voucher.policy.round import PolicyRound
from voucher.policy.rules.base import define

if TYPE_CHECKING:  # for hints only: the models (pydantic) are not needed to read a document
    from voucher.policy.format import Application

APPLICANT_BEIJING = define("APPLICANT_BEIJING", "一（一）", "application", "在北京市注册")
APPLICANT_USCC = define("APPLICANT_USCC", "14-2", "application", "统一社会信用代码校验位正确")
APPLICANT_ENTITY = define(
    "APPLICANT_ENTITY",
    "一（一）",
    "application",
    "新型研发机构，或具备独立法人资格的信息软件业、制造业、科技服务业企业",
)
AI_DIRECTION = define("AI_DIRECTION", "一（二）", "application", "属于人工智能产业发展方向")
NO_OTHER_MUNICIPAL_SUPPORT = define(
    "NO_OTHER_MUNICIPAL_SUPPORT",
    "一（三）, 14-4 第4条",
    "application",
    "申报期内未获得其他市级财政资金的智能算力支持",
)
CREDIT_RECORD = define(
    "CREDIT_RECORD", "14-4 第2条", "application", "未因违法失信行为被实施联合惩戒"
)


def applicant_registered_in_region(app: Application, rnd: PolicyRound) -> Finding:
    address = app.applicant.registered_address.strip().removeprefix("中国").lstrip()
    division = codes.division_code(app.applicant.uscc)
    if not address.startswith(rnd.address_prefixes):
        return APPLICANT_BEIJING.failed(
            f"注册地址“{app.applicant.registered_address}”不在{rnd.region_name}。"
            f"请填写营业执照上的完整注册地址（以“{rnd.region_name}”开头）。",
            address=app.applicant.registered_address,
        )
    if not division.startswith(rnd.uscc_division_prefix):
        return APPLICANT_BEIJING.review(
            f"注册地址在{rnd.region_name}，但统一社会信用代码的登记管理机关代码 {division} "
            f"不以 {rnd.uscc_division_prefix} 开头，请审核人员对照营业执照确认注册地。",
            address=app.applicant.registered_address,
            division_code=division,
        )
    return APPLICANT_BEIJING.passed(
        f"注册地址在{rnd.region_name}，登记管理机关代码 {division}。",
        address=app.applicant.registered_address,
        division_code=division,
    )


def applicant_uscc_check_character(app: Application) -> Finding:
    code = app.applicant.uscc
    expected = codes.expected_check_character(code)
    if expected != code[17]:
        return APPLICANT_USCC.review(
            f"统一社会信用代码 {code} 的校验位应为 {expected}，实为 {code[17]}。"
            "2016年前发放的部分代码校验位有误，请审核人员对照营业执照确认。",
            uscc=code,
            expected_check_character=expected,
        )
    return APPLICANT_USCC.passed(f"统一社会信用代码 {code} 校验位正确。", uscc=code)


def applicant_entity_qualifies(app: Application, rnd: PolicyRound) -> Finding:
    a = app.applicant
    if a.entity_type == "new_rd_institution":
        return APPLICANT_ENTITY.passed("申报单位为新型研发机构。", entity_type=a.entity_type)
    if not a.independent_legal_person:
        return APPLICANT_ENTITY.failed(
            "申报单位为企业但不具备独立法人资格。", entity_type=a.entity_type
        )
    if a.industry not in rnd.eligible_industries:
        allowed = "、".join(f"{k} {v}" for k, v in rnd.eligible_industries.items())
        return APPLICANT_ENTITY.failed(
            f"所属行业门类 {a.industry} 不在支持范围（{allowed}）。",
            industry=a.industry,
        )
    return APPLICANT_ENTITY.passed(
        f"具备独立法人资格的{rnd.eligible_industries[a.industry]}企业。", industry=a.industry
    )


def project_in_ai_direction(app: Application) -> Finding:
    if not app.project.ai_field:
        return AI_DIRECTION.failed("所申项目不属于人工智能产业发展方向。")
    return AI_DIRECTION.passed("所申项目属于人工智能产业发展方向。")


def no_other_municipal_support(app: Application, ctx: EvaluationContext) -> Finding:
    if app.declarations.other_municipal_compute_support:
        return NO_OTHER_MUNICIPAL_SUPPORT.failed(
            "申报单位声明申报期内已获得其他市级财政资金的智能算力支持。", declared=True
        )
    if app.applicant.uscc in ctx.municipal_support_usccs:
        return NO_OTHER_MUNICIPAL_SUPPORT.failed(
            "申报单位在其他市级智能算力支持获得者名单中。", listed=True
        )
    return NO_OTHER_MUNICIPAL_SUPPORT.passed("未获得其他市级财政资金的智能算力支持。")


def municipal_subsidies_on_contracts(app: Application) -> Finding | None:
    """A granted municipal subsidy on a contract sits oddly with a 'none received' declaration.

    RULES.md gives the rule no review case and the subsidy carries no date (it may
    predate the 申报期), so this is told to the reviewer as info, never decided.
    """
    granted = [
        f"{c.id}：{s.policy} {s.amount}"
        for c in app.contracts
        for s in c.other_subsidies
        if s.level == "municipal" and s.status == "granted"
    ]
    if not granted:
        return None
    return NO_OTHER_MUNICIPAL_SUPPORT.info(
        "合同中列有已获得的市级算力补贴（" + "；".join(granted) + "），请核实是否在申报期内。",
        municipal_subsidies=granted,
    )


def credit_record_clean(app: Application, ctx: EvaluationContext) -> Finding:
    if app.declarations.dishonest_entity:
        return CREDIT_RECORD.failed("申报单位声明被实施失信联合惩戒。", declared=True)
    if app.applicant.uscc in ctx.dishonest_usccs:
        return CREDIT_RECORD.failed("申报单位在失信联合惩戒名单中。", listed=True)
    return CREDIT_RECORD.passed("未发现失信联合惩戒记录。")
