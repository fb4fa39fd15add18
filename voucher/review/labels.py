"""The Chinese labels the review pages show from other modules, for makemessages to find.

The labels themselves live where they are defined (application states and transitions in
voucher.applications.states, the choices of voucher.review.models); the pages translate them when
they are shown (`gettext(label)`, `{% trans label %}`). These literals put the same texts into the
review catalogue; tests/test_i18n_review.py checks that every label is here.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext_noop as N_

STATE_LABELS: Final = (
    N_("草稿"),
    N_("已提交"),
    N_("形式审查中"),
    N_("审核中"),
    N_("待补正"),
    N_("已补正"),
    N_("予以支持"),
    N_("不予支持"),
    N_("公示中"),
    N_("已拨付"),
    N_("待退还"),
    N_("已退还"),
    N_("逾期未退还"),
    N_("已撤回"),
)

TRANSITION_LABELS: Final = (
    N_("提交申报"),
    N_("受理并进行形式审查"),
    N_("形式审查通过，进入审核"),
    N_("要求补正"),
    N_("提交补正材料"),
    N_("补正后继续审核"),
    N_("复核确认：予以支持"),
    N_("复核确认：不予支持"),
    N_("列入公示名单"),
    N_("拨付资金"),
    N_("通知退还资金"),
    N_("资金已退还"),
    N_("逾期未退还"),
    N_("申报单位撤回申报"),
)

CHOICE_LABELS: Final = (
    # Decision.kind, Decision.status
    N_("予以支持"),
    N_("不予支持"),
    N_("待复核"),
    N_("已确认"),
    N_("已撤回"),
    # FindingResolution.resolution
    N_("认可（视为通过）"),
    N_("不认可（视为不通过）"),
    # ListedEnterprise.kind
    N_("已获其他市级算力资金支持名单"),
    N_("失信联合惩戒对象名单"),
)
