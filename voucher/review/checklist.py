"""The reviewer's checklist of the materials (附件14-1): what each material must show, item by
item, with stable ids. The one place the items are named; the review screen, the action
(actions/materials.py), the proposal gate and the supplement request read them here.

Ids never change once used (MaterialCheck rows name them): an item whose wording changes keeps
its id; an item that goes away is left out of ITEMS, and its rows no longer count.

Which materials a direction files: the round's `required_materials` (附件14-1, every direction
in bj-2026), except direction 3: under 免申即享 (二（二）) the enterprise files nothing, the
platform provides the consumption details and contracts, which the review screen reconciles
(platform data), so there is no 14-1 checklist for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from voucher.applications.models import Application
from voucher.policy.round import MATERIAL_IDS, get_rounds

# 附件14-1's headings of the materials (its own words; MATERIAL_NAMES of the engine)
MATERIAL_HEADINGS: dict[str, Promise] = {
    "contract": _("算力合同"),
    "demand_qualification": _("算力需求企业资质证明"),
    "supply_qualification": _("算力供给企业资质证明"),
    "invoice_or_payment": _("支付发票或付款证明"),
    "settlement": _("算力结算单"),
    "usage_table": _("算力使用情况说明（附件14-2）"),
    "implementation_report": _("算力项目实施情况报告（附件14-3）"),
    "commitment_letter": _("北京市高精尖产业发展资金承诺书（附件14-4）"),
}


@dataclass(frozen=True)
class Item:
    material: str  # a material id of 14-1 (MATERIAL_IDS)
    key: str  # stable within the material
    text: Promise  # what the reviewer checks, in 14-1's words
    clause: str  # where 14-1 (or the form) asks for it
    directions: frozenset[int] | None = None  # None: every direction that files the material

    @property
    def id(self) -> str:
        """The item's stable id: `material.key`."""
        return f"{self.material}.{self.key}"

    def applies_to(self, direction: int) -> bool:
        return self.directions is None or direction in self.directions


ITEMS: tuple[Item, ...] = (
    # 一、算力合同
    Item("contract", "sealed_complete", _("用印版完整合同"), "14-1 一"),
    Item("contract", "not_classified", _("不含涉密内容"), "14-1 一"),
    Item("contract", "intelligent_compute", _("交付标的包含智能算力"), "14-1 一"),
    Item(
        "contract",
        "scale_and_amount",
        _("明确算力交付规模和支付金额，或明确算力单价（符合市场一般情况）"),
        "14-1 一",
    ),
    Item("contract", "term", _("明确合同有效期或算力服务期限"), "14-1 一"),
    Item(
        "contract",
        "other_subsidies",
        _("对申请国家、市、区级相关算力补贴进行情况说明（含已申请未发放）"),
        "14-1 一",
    ),
    # 二、算力需求企业资质证明
    Item("demand_qualification", "model_filing", _("模型备案、登记证明材料"), "14-1 二"),
    Item(
        "demand_qualification",
        "task_list",
        _("入围创新任务揭榜名单证明材料（方向二）"),
        "14-1 二",
        directions=frozenset({2}),
    ),
    # 三、算力供给企业资质证明
    Item(
        "supply_qualification",
        "compliant",
        _("明确所租智能算力属于合规的智算资源"),
        "14-1 三",
    ),
    Item("supply_qualification", "scale", _("明确算力规模"), "14-1 三"),
    Item("supply_qualification", "rental_period", _("明确算力租赁时间"), "14-1 三"),
    Item("supply_qualification", "sealed", _("由算力供给企业或平台加盖公章"), "14-1 三"),
    # 四、支付发票或付款证明
    Item(
        "invoice_or_payment",
        "matches",
        _("发票或付款证明与算力合同、支付额度、交付时间对应"),
        "14-1 四",
    ),
    # 五、算力结算单
    Item(
        "settlement",
        "records",
        _("与合同匹配的订单、资源分配、使用情况等系统截图或证明文件"),
        "14-1 五",
    ),
    Item(
        "settlement",
        "details",
        _("明确算力交付标的、使用期限、使用量和金额"),
        "14-1 五",
    ),
    # 六、七、八: the forms 14-2, 14-3 and 14-4
    Item("usage_table", "form", _("按附件14-2模板填写完整"), "14-2"),
    Item("usage_table", "sealed", _("加盖申请企业公章"), "14-2"),
    Item("implementation_report", "form", _("按附件14-3模板填写完整"), "14-3"),
    Item("implementation_report", "sealed", _("加盖企业公章"), "14-3"),
    Item("commitment_letter", "signed", _("法定代表人签字"), "14-4"),
    Item("commitment_letter", "sealed", _("单位签章"), "14-4"),
)
ITEMS_BY_ID = {item.id: item for item in ITEMS}

# What 14-1 says besides the items, shown with the material's checklist
MATERIAL_HINTS: dict[str, Promise] = {
    "contract": _("合同中未明确的上述内容，需提交相关证明材料，并加盖甲乙双方公章。"),
}


def checked_materials(application: Application) -> tuple[str, ...]:
    """The materials of 14-1 this application files and the reviewer checks, in 14-1's order:
    its round's required materials; none for direction 3 (免申即享)."""
    if application.direction == 3:
        return ()
    policy_round = get_rounds().get(application.round.code)
    required = policy_round.required_materials if policy_round is not None else MATERIAL_IDS
    return tuple(m for m in MATERIAL_IDS if m in required)


def items_of(material: str, direction: int) -> list[Item]:
    """The material's items for a direction, in the checklist's order."""
    return [i for i in ITEMS if i.material == material and i.applies_to(direction)]


def checklist(application: Application) -> list[tuple[str, list[Item]]]:
    """(material, its items) of every material the application's direction files."""
    return [(m, items_of(m, application.direction)) for m in checked_materials(application)]


def heading(material: str) -> str:
    return str(MATERIAL_HEADINGS.get(material, material))


def listing(parts: Iterable[str]) -> str:
    return pgettext("list separator", "、").join(parts)
