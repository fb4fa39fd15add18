"""The wizard's steps, in order, and where a field of the interchange format is filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext_noop


@dataclass(frozen=True, slots=True)
class Step:
    slug: str
    title: str  # a gettext_noop literal; templates translate it


STEPS: Final = (
    Step("direction", gettext_noop("申报方向")),
    Step("applicant", gettext_noop("申报单位")),
    Step("project", gettext_noop("项目情况")),
    Step("contracts", gettext_noop("算力合同")),
    Step("report", gettext_noop("实施情况报告")),
    Step("declarations", gettext_noop("声明事项")),
    Step("commitment", gettext_noop("承诺书")),
    Step("materials", gettext_noop("申报材料")),
    Step("submit", gettext_noop("核对提交")),
)
# The project step's fields that belong to one direction (the rest are shared); changing the
# direction of a draft clears the fields of the directions it left (value when cleared).
DIRECTION_PROJECT_FIELDS: Final = {
    1: ("topic",),
    2: ("miit_2025_list", "action_plan_aligned"),
    3: (
        "open_source_platform",
        "open_source_url",
        "open_source_scenario_aligned",
        "action_plan_aligned",
    ),
    4: ("model_filing_number", "model_filing_date", "model_filing_kind"),
}
CLEARED_PROJECT_VALUES: Final = {
    "topic": None,
    "miit_2025_list": False,
    "action_plan_aligned": False,
    "open_source_platform": None,
    "open_source_url": None,
    "open_source_scenario_aligned": None,
    "model_filing_number": None,
    "model_filing_date": None,
    "model_filing_kind": None,
}
# 免申即享 (二（二）): a direction-3 application is built from a platform's data and filed by the
# centre; an enterprise does not open one in the portal, nor turn its draft into one.
PORTAL_DIRECTIONS: Final = (1, 2, 4)

# Steps whose saving the submission requires (direction is saved when the draft is created).
REQUIRED_STEPS: Final = ("applicant", "project", "contracts", "report", "declarations")

# JSON path prefix of the interchange format -> (step, label) for the self-check's list of
# fields still to fill in. Longest prefix wins.
FIELD_STEPS: Final = {
    "requested_amount": ("project", gettext_noop("对应申请金额")),
    "applicant.name": ("applicant", gettext_noop("企业名称")),
    "applicant.registered_address": ("applicant", gettext_noop("注册地址")),
    "applicant.business_address": ("applicant", gettext_noop("生产经营地址")),
    "applicant.entity_type": ("applicant", gettext_noop("单位类型")),
    "applicant.industry": ("applicant", gettext_noop("所属行业门类")),
    "applicant.contact.name": ("applicant", gettext_noop("项目申报联系人")),
    "applicant.contact.mobile": ("applicant", gettext_noop("联系人手机")),
    "applicant.contact.address": ("applicant", gettext_noop("联系人通讯地址")),
    "applicant.contact.email": ("applicant", gettext_noop("联系人电子邮箱")),
    "applicant": ("applicant", gettext_noop("申报单位")),
    "project.name": ("project", gettext_noop("用算项目名称")),
    "project.start_date": ("project", gettext_noop("项目开始日期")),
    "project.open_source": ("project", gettext_noop("开源发布信息")),
    "project.model_filing": ("project", gettext_noop("模型备案信息")),
    "project": ("project", gettext_noop("项目情况")),
    "declarations": ("declarations", gettext_noop("声明事项")),
    "contracts": ("contracts", gettext_noop("算力合同")),
}


def step_for_path(path: str) -> tuple[str, str]:
    for prefix in sorted(FIELD_STEPS, key=len, reverse=True):
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return FIELD_STEPS[prefix]
    return ("submit", path)
