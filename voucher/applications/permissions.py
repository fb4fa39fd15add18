"""Every permission check of the bureau's side goes through here and says why it refuses.

Each function returns a `Check` — a (allowed, reason) pair; `reason` is the sentence shown to the
person refused. Views, actions, the admin and the API ask these, and nothing else.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from voucher.applications import ports
from voucher.applications import roles as r
from voucher.applications.models import Application
from voucher.applications.states import STATE_CHOICES, TRANSITIONS, WITH_BUREAU_STATES
from voucher.applications.states import TRANSITIONS as T
from voucher.applications.workflow import RULES, pay_guard


class Check(NamedTuple):
    allowed: bool
    reason: str = ""
    code: str = ""  # a refusal a caller branches on has a stable code; never the words

    def __bool__(self) -> bool:
        return self.allowed


OK = Check(True)
# The stable codes of refusals a caller tells apart (the words change with the language).
NOT_ADMINISTRATOR = "not_administrator"  # a member, but not the enterprise's administrator


def _no(reason: str, code: str = "") -> Check:
    return Check(False, reason, code)


def staff_roles(user: Any) -> frozenset[str]:
    """The user's staff roles (Django groups); empty for an applicant or anonymous."""
    return r.staff_roles_of(user)


def _state_label(state: str) -> str:

    label = dict(STATE_CHOICES).get(state)
    return _(label) if label else state


def transition_label(name: str) -> str:
    """The transition as an action (a button; "... can only be done by"), in the active language."""
    return pgettext("action", TRANSITIONS[name].label)


def can_use_review_site(user: Any) -> Check:
    if user is None or not getattr(user, "is_authenticated", False):
        return _no(_("请先登录"))
    if not staff_roles(user):
        return _no(_("仅市经信局、市数字经济中心工作人员及审计人员可以使用审核系统"))
    return OK


def can_view_application(user: Any, application: Application) -> Check:
    if not staff_roles(user):
        return _no(_("仅工作人员可以查看审核页面"))
    directions = viewable_directions(user)
    if directions is not None and application.direction not in directions:
        return _no(_("市数字经济中心初审人员只处理方向三的申报"))
    return OK


def viewable_directions(user: Any) -> frozenset[int] | None:
    """The directions whose applications the user may see; None for all of them (a screener
    who holds no other role sees direction 3 only): the list filters by it and
    can_view_application asks it, so the two cannot disagree."""
    if staff_roles(user) == {r.SCREENER}:
        return frozenset({3})
    return None


def can_view_contact(user: Any, application: Application) -> Check:
    """Personal contact data: staff who work on applications; every view is audited."""
    check = can_view_application(user, application)
    if not check:
        return check
    return OK


def can_transition(user: Any, application: Application, name: str) -> Check:
    """Roles, then the state, then the guard; the first refusal is the reason."""
    transition = TRANSITIONS.get(name)
    rule = RULES.get(name)
    if transition is None or rule is None:
        return _no(_("未知的流转：%(name)s") % {"name": name})
    allowed_roles = rule.roles & r.roles_of(user, application, among=rule.roles)
    if not allowed_roles:
        needed = pgettext("list separator", "、").join(
            str(r.ROLE_LABELS[x]) for x in sorted(rule.roles)
        )
        return _no(
            _("“%(transition)s”只能由%(roles)s操作")
            % {"transition": transition_label(name), "roles": needed}
        )
    if (
        allowed_roles == {r.SCREENER}
        and rule.screener_direction_3_only
        and application.direction != 3
    ):
        return _no(_("市数字经济中心初审人员只处理方向三的申报"))
    if application.state not in transition.source:
        return _no(
            _("申报当前为“%(state)s”，不能“%(transition)s”（可能已被他人处理，请刷新页面）")
            % {"state": _state_label(application.state), "transition": transition_label(name)}
        )
    why = rule.guard_reason(application, user)
    if why:
        return _no(why)
    return OK


def can_prefill_invoices(user: Any, application: Application) -> Check:
    """Recording an invoice from an e-invoice file is a write on the application's evidence."""
    if not (staff_roles(user) & {r.REVIEWER, r.SCREENER}):
        return _no(_("只有审核人员可以登记发票"))
    return can_view_application(user, application)


def can_resolve_finding(user: Any, application: Application) -> Check:
    return _reviewing(user, application, _("只有审核人员可以处理待审核项"))


def _reviewing(user: Any, application: Application, not_a_reviewer: str) -> Check:
    """A reviewer (or the centre's screener, direction 3) on an application under review."""

    if not (staff_roles(user) & {r.REVIEWER, r.SCREENER}):
        return _no(not_a_reviewer)
    if (
        r.SCREENER in staff_roles(user)
        and r.REVIEWER not in staff_roles(user)
        and application.direction != 3
    ):
        return _no(_("市数字经济中心初审人员只处理方向三的申报"))
    reviewing = set(T["pass_formal_check"].source) | set(T["request_supplement"].source)
    if application.state not in reviewing:
        return _no(
            _("申报当前为“%(state)s”，不在审核中") % {"state": _state_label(application.state)}
        )
    return OK


def can_request_supplement(user: Any, application: Application) -> Check:
    return _reviewing(user, application, _("只有审核人员可以发起补正"))


def can_check_materials(user: Any, application: Application) -> Check:
    """The checklist of the materials (附件14-1): who reviews the application, while it is
    under review (as a supplement request)."""
    return _reviewing(user, application, _("只有审核人员可以核对申报材料"))


def can_propose(
    user: Any, application: Application, *, platform_changed: bool | None = None
) -> Check:
    """`platform_changed`: ports.platform_data_changed(application), when the caller has
    asked it already (the review screen shows it too)."""
    if r.REVIEWER not in staff_roles(user):
        return _no(_("只有市经信局审核人员可以拟定审核意见"))
    if application.state != "in_review":
        return _no(
            _("申报当前为“%(state)s”，不能拟定审核意见")
            % {"state": _state_label(application.state)}
        )
    return platform_data_current(application, changed=platform_changed)


def platform_data_current(application: Application, *, changed: bool | None = None) -> Check:
    """Direction 3: a decision is taken on the platform's data as they are, not as they were
    when the application was built (a batch processed or withdrawn since, a contract saved).
    `changed`: what ports.platform_data_changed answered, if the caller asked it already."""
    if changed is None:
        changed = ports.platform_data_changed(application)
    if changed:
        return _no(str(PLATFORM_DATA_CHANGED))
    return OK


PLATFORM_DATA_CHANGED = gettext_lazy(
    "平台数据在生成本申报后有变化（批次处理、撤回或合同更新）：须由市数字经济中心重新生成申报后再拟定审核意见"
)


def can_confirm(
    user: Any, application: Application, kind: str, *, platform_changed: bool | None = None
) -> Check:
    check = can_transition(user, application, "approve" if kind == "approval" else "reject")
    if check and kind == "approval":  # proposed on the data as they were
        return platform_data_current(application, changed=platform_changed)
    return check


def can_confirm_some(user: Any) -> Check:
    """Whether the user confirms proposals at all: the roles of `approve` and `reject`.
    我的待办 asks it once and lists the open proposals of others on applications in the states
    they are confirmed from (what the guards of both ask), instead of asking can_confirm (a
    query each) of every proposal of the season; the screen and the confirmation ask can_confirm."""
    roles = RULES["approve"].roles | RULES["reject"].roles
    if not (staff_roles(user) & roles):
        return _no(_("只有复核（审批）人员可以复核审核意见"))
    return OK


def can_publish_publicity(user: Any) -> Check:
    if r.APPROVER not in staff_roles(user):
        return _no(_("只有复核（审批）人员可以发布公示名单"))
    return OK


def can_mark_overdue(user: Any) -> Check:
    """The batch step that marks every clawback past its due date (the transition's own roles:
    a read-only auditor sees the report and changes nothing)."""
    if not (staff_roles(user) & RULES["mark_overdue"].roles):
        return _no(_("只有复核（审批）人员或管理员可以标记逾期未退还"))
    return OK


def can_record_objection(user: Any) -> Check:
    if not (staff_roles(user) & {r.REVIEWER, r.APPROVER}):
        return _no(_("只有审核或复核人员可以登记、处理公示异议"))
    return OK


def can_record_payment(user: Any, application: Application) -> Check:
    if not (staff_roles(user) & RULES["pay"].roles):
        return _no(_("只有复核（审批）人员或管理员可以登记拨付"))
    if application.state != "publicized":
        return _no(
            _("申报当前为“%(state)s”，公示后方可拨付") % {"state": _state_label(application.state)}
        )

    why = pay_guard(application, user)
    return _no(why) if why else OK


def can_enter_payee(user: Any, enterprise: Any) -> Check:
    """The enterprise's bank account is given by its administrator (it decides where money goes)."""
    membership = r.membership_of(user)
    if membership is None or membership.enterprise_id != getattr(enterprise, "pk", None):
        return _no(_("只有本企业的成员可以填报收款账户"))
    if not membership.is_admin:
        return _no(_("收款账户只能由企业管理员填报"), code=NOT_ADMINISTRATOR)
    return OK


def can_check_payee(user: Any) -> Check:
    """The first of the four eyes on a payee account: checked against the enterprise's papers."""
    if not (staff_roles(user) & {r.REVIEWER, r.APPROVER, r.ADMINISTRATOR}):
        return _no(_("只有审核、复核人员或管理员可以核验收款账户"))
    return OK


def can_confirm_payee(user: Any, account: Any) -> Check:
    """The second eye: an approver or administrator who did not check it."""
    if not (staff_roles(user) & {r.APPROVER, r.ADMINISTRATOR}):
        return _no(_("只有复核（审批）人员或管理员可以确认收款账户"))
    if account is not None and account.checked_by_id == getattr(user, "pk", None):
        return _no(_("四眼原则：核验人不能确认自己核验的收款账户，须由另一名工作人员确认"))
    return OK


def can_manage_payment_batches(user: Any) -> Check:
    """Exporting payments for the finance system and reading the bank's results back."""
    if not (staff_roles(user) & RULES["pay"].roles):
        return _no(_("只有复核（审批）人员或管理员可以办理拨付批次"))
    return OK


def can_request_clawback(user: Any, application: Application) -> Check:
    if r.APPROVER not in staff_roles(user):
        return _no(_("只有复核（审批）人员可以发出退还通知"))
    if application.state != "paid":
        return _no(
            _("申报当前为“%(state)s”，只有已拨付的可以要求退还")
            % {"state": _state_label(application.state)}
        )
    return OK


def can_return(user: Any) -> Check:
    """Sending a reviewer's proposal back (with a reason) is the approver's call."""
    if r.APPROVER not in staff_roles(user):
        return _no(_("只有复核（审批）人员可以退回审核意见"))
    return OK


def can_screen(user: Any) -> Check:
    """Direction 3 (免申即享): the centre's screener lists or refuses published projects and
    builds the listed enterprises' applications; the administrator may stand in."""
    if not (staff_roles(user) & {r.SCREENER, r.ADMINISTRATOR}):
        return _no(_("只有市数字经济中心初审人员可以筛选开源项目"))
    return OK


def can_hand_out(user: Any) -> Check:
    """Who may hand applications to reviewers (taking one oneself included)."""
    if not (staff_roles(user) & {r.REVIEWER, r.APPROVER, r.ADMINISTRATOR}):
        return _no(_("只有审核、复核人员或管理员可以分配申报"))
    return OK


def can_take(user: Any) -> Check:
    """Taking an application oneself (我的待办 → 领取): reviewers and screeners."""
    if not (staff_roles(user) & {r.REVIEWER, r.SCREENER}):
        return _no(_("只能分配给审核人员"))
    return OK


def can_assign(user: Any, assignee: Any, application: Application, current: Any = None) -> Check:
    """Handing an application to a reviewer or screener (taking it oneself included).

    `current` is who handles it now: a reviewer takes only what nobody has, or hands on their
    own case; moving a colleague's case to someone else is the approver's or administrator's.
    """
    check = can_hand_out(user)
    if not check:
        return check
    if not (staff_roles(assignee) & {r.REVIEWER, r.SCREENER}):
        return _no(_("只能分配给审核人员"))
    if not can_view_application(assignee, application):
        return _no(
            _("%(name)s 不能处理该申报：%(why)s")
            % {
                "name": assignee.get_username(),
                "why": can_view_application(assignee, application).reason,
            }
        )
    if application.state not in WITH_BUREAU_STATES:  # someone handles it until decided
        return _no(
            _("申报当前为“%(state)s”，无需分配承办人") % {"state": _state_label(application.state)}
        )
    if (
        current is not None
        and current.pk not in (assignee.pk, user.pk)
        and not (staff_roles(user) & {r.APPROVER, r.ADMINISTRATOR})
    ):
        return _no(
            _("该申报已由 %(name)s 承办；只有复核人员或管理员可以改派")
            % {"name": current.get_username()}
        )
    return OK


def can_manage_users(user: Any) -> Check:
    """Staff accounts, their roles and TOTP devices: the administrator."""
    if r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以管理工作人员账号"))
    return OK


def can_invite_supplier(user: Any) -> Check:
    """Inviting a compute supplier's contact (issue 22): the administrator."""
    if r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以邀请算力供给方"))
    return OK


def can_act_for_supplier(user: Any, contract: Any) -> Check:
    """A supplier's member, on a contract that names its USCC as the supplier (issue 22)."""
    uscc = r.supplier_uscc_of(user)
    if uscc is None:
        return _no(_("仅算力供给方的成员可以确认合同"))
    if contract is not None and contract.supplier_uscc != uscc:
        return _no(_("该合同未列明贵单位为算力供给方"))
    return OK


def can_use_admin(user: Any) -> Check:
    """The Django admin (every table, read-only where the actions own the writes): the
    administrator."""
    if r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以使用管理后台"))
    return OK


def can_manage_round(user: Any) -> Check:
    """Budgets, outside and official lists: the administrator (or the command line, whose
    operator holds the server)."""
    if user is not r.SYSTEM_ACTOR and r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以设置预算、导入名单"))
    return OK


def can_decide_enterprise_claim(user: Any) -> Check:
    """A claim on an enterprise without members (e.g. from a registry import): the administrator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return _no(_("请先登录"))
    if r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以审核企业认领申请"))
    return OK


def can_view_enterprises(user: Any) -> Check:
    """The enterprises, their members and the corrections of their identity: staff of every
    role (the auditor reads them too)."""
    if not staff_roles(user):
        return _no(_("只有工作人员可以查看企业信息"))
    return OK


def can_propose_enterprise_correction(user: Any) -> Check:
    """Proposing to correct an enterprise's USCC or name: the bureau's reviewers, approvers and
    the administrator (the first pair of eyes)."""
    if not staff_roles(user) & {r.REVIEWER, r.APPROVER, r.ADMINISTRATOR}:
        return _no(_("只有市经信局审核、复核人员或系统管理员可以提出企业信息更正"))
    return OK


def can_decide_enterprise_correction(user: Any, correction: Any = None) -> Check:
    """Approving or rejecting a proposed correction: an approver or the administrator, and
    never the person who proposed it (the second pair of eyes)."""
    if not staff_roles(user) & {r.APPROVER, r.ADMINISTRATOR}:
        return _no(_("只有市经信局复核人员或系统管理员可以批准企业信息更正"))
    if correction is not None and correction.proposed_by_id == getattr(user, "pk", None):
        return _no(_("企业信息更正须由提出人以外的另一名工作人员复核"))
    return OK


def can_view_registry(user: Any) -> Check:
    """The company registry (persons, officers: personal data): staff of every role."""
    if not staff_roles(user):
        return _no(_("只有工作人员可以查看企业登记信息"))
    return OK


def can_import_registry(user: Any) -> Check:
    """Uploading registry files replaces holdings and officers: the administrator."""
    if r.ADMINISTRATOR not in staff_roles(user):
        return _no(_("只有系统管理员可以导入企业登记信息"))
    return OK


def can_sweep_registry(user: Any) -> Check:
    """Running a round's related-party sweep: reviewers, approvers, the administrator."""
    if not (staff_roles(user) & {r.REVIEWER, r.APPROVER, r.ADMINISTRATOR}):
        return _no(_("只有审核、复核人员或管理员可以发起关联排查"))
    return OK


def can_export(user: Any) -> Check:
    return can_use_review_site(user)


def can_see_notifications(user: Any) -> Check:
    if not (staff_roles(user) & {r.ADMINISTRATOR, r.AUDITOR}):
        return _no(_("只有系统管理员和审计人员可以查看通知发送情况"))
    return OK
