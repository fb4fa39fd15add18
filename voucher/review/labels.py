"""The Chinese labels the review pages show from other modules, for makemessages to find.

The labels themselves live where they are defined (application states and transitions in
voucher.applications.states, the choices of voucher.applications.models); the pages translate them when
they are shown (`gettext(label)`, `{% trans label %}`). These literals put the same texts into the
review catalogue; tests/test_i18n_review.py checks that every label is here.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext_noop, pgettext_lazy

STATE_LABELS: Final = (
    gettext_noop("草稿"),
    gettext_noop("已提交"),
    gettext_noop("形式审查中"),
    gettext_noop("审核中"),
    gettext_noop("待补正"),
    gettext_noop("已补正"),
    gettext_noop("予以支持"),
    gettext_noop("不予支持"),
    gettext_noop("公示中"),
    gettext_noop("已拨付"),
    gettext_noop("待退还"),
    gettext_noop("已退还"),
    gettext_noop("逾期未退还"),
    gettext_noop("已撤回"),
)

# as actions (context "action"): the buttons and the refusals that name them; lazy only so that
# makemessages reads the context (Django has no pgettext_noop)
TRANSITION_LABELS: Final = (
    pgettext_lazy("action", "提交申报"),
    pgettext_lazy("action", "受理并进行形式审查"),
    pgettext_lazy("action", "形式审查通过，进入审核"),
    pgettext_lazy("action", "要求补正"),
    pgettext_lazy("action", "提交补正材料"),
    pgettext_lazy("action", "补正后继续审核"),
    pgettext_lazy("action", "复核确认：予以支持"),
    pgettext_lazy("action", "复核确认：不予支持"),
    pgettext_lazy("action", "列入公示名单"),
    pgettext_lazy("action", "拨付资金"),
    pgettext_lazy("action", "通知退还资金"),
    pgettext_lazy("action", "资金已退还"),
    pgettext_lazy("action", "逾期未退还"),
    pgettext_lazy("action", "申报单位撤回申报"),
)

CHOICE_LABELS: Final = (
    # Decision.kind, Decision.status
    gettext_noop("予以支持"),
    gettext_noop("不予支持"),
    gettext_noop("待复核"),
    gettext_noop("已确认"),
    gettext_noop("已撤回"),
    # FindingResolution.resolution
    gettext_noop("认可（视为通过）"),
    gettext_noop("不认可（视为不通过）"),
    # ListedEnterprise.kind
    gettext_noop("已获其他市级算力资金支持名单"),
    gettext_noop("失信联合惩戒对象名单"),
    # OfficialList.kind (RULES.md v2: the lists declarations are matched on)
    gettext_noop("北京市人工智能领域新型研发机构名单"),
    gettext_noop("工信部2025年人工智能揭榜名单"),
    gettext_noop("模型（含Agent）备案登记名单"),
    # Delivery.service (voucher.applications.models.SERVICE_CHOICES)
    gettext_noop("算力"),
    gettext_noop("存储"),
    gettext_noop("网络"),
    gettext_noop("安全"),
    # MaterialCheck.status
    gettext_noop("符合"),
    gettext_noop("不符合"),
    # MaterialFile.classified_scan
    gettext_noop("未检查"),
    gettext_noop("未发现密级标志"),
    gettext_noop("此类文件不读取文字，未检查"),
    gettext_noop("文字无法读取，未检查"),
)
