"""The lifecycle of an application: the one way its state changes, and what follows.

`application_transition` is the only caller of a transition method (Application.submit,
.accept, … .withdraw) in the project; a test scans the code for any other. What each transition
allows and checks is the workflow's table (workflow.py over states.py), asked through
permissions.can_transition; what follows it (a snapshot for the field diff, one audit entry, the
e-mails after commit) is record_transition. The steps around a transition (a decision proposed,
a supplement's items, a payment's record) are the actions of the app that owns the step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models.query import MAX_GET_RESULTS
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from voucher.applications import permissions as p
from voucher.applications import roles as r
from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import application_export, document_sha256
from voucher.applications.models import (
    Application,
    ReviewCase,
    Snapshot,
    StoredEvaluation,
    SupplementItem,
    SupplementRequest,
)
from voucher.applications.notify import applicant_addresses, notify_after_commit
from voucher.applications.selectors import latest_evaluation
from voucher.applications.states import TRANSITIONS
from voucher.applications.workflow import RULES
from voucher.core import clock, precompiled
from voucher.core.audit import audit
from voucher.core.refusals import Conflict, Refused
from voucher.policy.format import dump_application

CONFLICT = gettext_lazy("该申报刚刚已被他人处理，请刷新页面后查看最新状态。")


def _listing(items: Iterable[Any]) -> str:
    return pgettext("list separator", "、").join(str(x) for x in items)


# The bureau's steps refuse with the one refusal (core/refusals.py); the names stay for readers.
ReviewError = Refused
ConflictError = Conflict


# what lock reads with the application
_LOCKED_WITH = (Application.round.field, Application.enterprise.field)


def lock(
    application: Application, *, also: tuple[str, ...] = (), reuse: bool = False
) -> Application:
    """The application's row, locked for the caller's transaction, with its round and its
    enterprise; `also`: one-to-one rows that point at it, read in the same query (the
    submission's steps and report), not locked. `reuse`: the round and the enterprise that
    `application` was read with (the portal's access_application reads them with it) are put
    on the locked row rather than joined and read again: they are not locked either way, and
    an application's round and enterprise do not change (a quarter of a wizard save's lock)."""
    # NO KEY UPDATE: serialises the bureau's actions on one application, yet lets rows that
    # merely reference it (evaluations, audit entries of other transactions) be inserted
    # meanwhile, so a lock held here and the audit chain head cannot deadlock on PostgreSQL.
    # OF self: the application's row only. Without it PostgreSQL locks every row the query
    # joins, the round's and the enterprise's too, and every submission of a round (a deadline
    # rush) waited for the one before it to commit (issue 18 item 9).
    kept = [field for field in _LOCKED_WITH if reuse and field.is_cached(application)]
    related = [*(f.name for f in _LOCKED_WITH if f not in kept), *also]

    def build(pk: int) -> Any:
        rows = Application.objects.select_for_update(no_key=True, of=("self",))
        if related:  # (select_related() of no name would join every foreign key)
            rows = rows.select_related(*related)
        return rows.filter(pk=pk).order_by()[:MAX_GET_RESULTS]  # as get() asks it

    # rows.get(pk=…), its SQL written once per process for each set of relations read with it
    # (decisions 0050 and 0055: a third of a wizard save's lock was compiling it)
    found = precompiled.rows(
        "lifecycle.lock:" + ",".join(related), Application, build, pk=application.pk
    )
    if not found:
        raise Application.DoesNotExist("Application matching query does not exist.")
    (locked,) = found  # its primary key: one row at most
    for field in kept:
        if getattr(locked, field.attname) == getattr(application, field.attname):
            field.set_cached_value(locked, field.get_cached_value(application))
    locked._voucher_locked = True  # application_transition's cue
    return locked


def require(check: p.Check) -> None:
    if not check.allowed:
        raise ReviewError(check.reason)


def take_snapshot(
    locked: Application, transition: str, evaluation: StoredEvaluation | None = None
) -> Snapshot:
    document = application_export(locked)
    return Snapshot.objects.create(
        application=locked,
        transition=transition,
        document=dump_application(document),
        sha256=document_sha256(document),
        evaluation=evaluation or latest_evaluation(locked),
    )


def notify_transition(locked: Application, name: str, extra: str = "") -> None:
    transition = TRANSITIONS[name]
    rule = RULES[name]
    if rule.notify_applicant:
        body = (
            f"贵单位的算力券申报 {locked.reference}（{locked.project_name}）"
            f"状态已更新：{transition.label}。\n{extra}\n请登录系统查看详情。\n"
        )
        notify_after_commit(
            event=f"applicant:{name}",
            recipients=applicant_addresses(locked),
            subject=f"算力券申报 {locked.reference}：{transition.label}",
            body=body,
            application=locked,
        )
    case = ReviewCase.objects.filter(application=locked).select_related("assignee").first()
    if rule.notify_staff and case is not None and case.assignee is not None:
        notify_after_commit(
            event=f"staff:{name}",
            recipients=[case.assignee.email],
            subject=f"您承办的申报 {locked.reference}：{transition.label}",
            body=f"{locked.applicant_name} 的申报 {locked.reference}：{transition.label}。\n{extra}",
            application=locked,
        )


def record_transition(
    locked: Application,
    name: str,
    before: str,
    acting_user: Any,
    *,
    action: str,
    data: Mapping[str, Any] | None = None,
    note: str = "",
    snapshot: bool = True,
    evaluation: StoredEvaluation | None = None,
) -> None:
    """What follows a transition of one application: the snapshot the field diff reads (the
    document does not change after payment, so clawback steps take none), one audit entry with
    from/to, and the e-mails after commit. The batch steps (`publicity_publish`,
    `clawbacks_mark_overdue`) write one audit entry per batch and do this part themselves."""
    if snapshot:
        take_snapshot(locked, name, evaluation)
    audit(
        actor=acting_user,
        action=action,
        obj=locked,
        data={"transition": name, "from": before, "to": locked.state, **(data or {})},
    )
    notify_transition(locked, name, note)


def _perform(locked: Application, name: str, user: Any) -> str:
    """Check and perform one transition on a locked row; returns the previous state."""
    check = p.can_transition(user, locked, name)
    if not check.allowed:
        if (
            name in TRANSITIONS
            and locked.state not in TRANSITIONS[name].source
            and (RULES[name].roles & r.roles_of(user, locked, among=RULES[name].roles))
        ):
            raise ConflictError(
                _("%(conflict)s（%(reason)s）") % {"conflict": CONFLICT, "reason": check.reason}
            )
        raise ReviewError(check.reason)
    before = locked.state
    # the one call of a transition method in the project (tests/test_one_door.py checks)
    getattr(locked, name)()
    locked.save()
    return before


def application_transition(
    *,
    application: Application,
    transition: str,
    acting_user: Any,
    note: str = "",
    record: bool = True,
) -> Application:
    """The one way an application's state changes: portal, review, platforms, both APIs, the
    admin and the demo all come here.

    Locks the row (unless `application` is a row `lock` returned in the caller's transaction),
    asks permissions.can_transition (roles, state, guard: the refusal says why; a state changed
    by someone else meanwhile is a ConflictError), performs the transition and saves. With
    `record` (the default) it then writes what follows a transition: the snapshot, one audit
    entry (application_<transition>, with from/to and the note) and the e-mails after commit.
    A caller that records the step itself (a batch, a step that evaluates after the transition,
    the centre's build) passes record=False and records it with record_transition or audit.
    Returns the locked application, in its new state.
    """
    with transaction.atomic():
        locked = (
            application if getattr(application, "_voucher_locked", False) else lock(application)
        )
        before = _perform(locked, transition, acting_user)
        if transition == "accept":
            # whoever accepts handles it, unless someone already took it from 我的待办
            case, _created = ReviewCase.objects.get_or_create(application=locked)
            if case.assignee_id is None:
                case.assignee = acting_user
                case.assigned_at = timezone.now()
                case.save(update_fields=["assignee", "assigned_at"])
        if record:
            record_transition(
                locked,
                transition,
                before,
                acting_user,
                action=f"application_{transition}",
                data={"note": note},
                note=note,
            )
    return locked


def supplement_answer(
    *, application: Application, answers: Mapping[int, str], acting_user: Any
) -> SupplementRequest:
    """The applicant answers each item and resubmits; the application is evaluated again."""
    with transaction.atomic():
        locked = lock(application)
        request = (
            SupplementRequest.objects.filter(application=locked, answered_at__isnull=True)
            .order_by("-requested_at", "-id")
            .first()
        )
        require(p.can_transition(acting_user, locked, "resubmit"))
        if request is None:
            raise ReviewError(_("没有待答复的补正通知"))
        if clock.today() > request.due_on:
            raise ReviewError(
                _("补正截止日期 %(due)s 已过") % {"due": f"{request.due_on:%Y-%m-%d}"}
            )
        items = list(request.items.all())
        missing = [i.position for i in items if not (answers.get(i.pk) or "").strip()]
        if missing:
            raise ReviewError(
                _("请答复每一项补正要求：第 %(items)s 项未答复") % {"items": _listing(missing)}
            )
        for item in items:
            item.answer = answers[item.pk].strip()
        SupplementItem.objects.bulk_update(items, ["answer"])
        request.answered_at = timezone.now()
        request.save(update_fields=["answered_at"])
        before = locked.state
        application_transition(
            application=locked, transition="resubmit", acting_user=acting_user, record=False
        )
        # After the transition: the corrected version is now submitted, so its evaluation is the
        # bureau's, not one of a correction in progress like the self-checks made before it.
        stored = application_evaluate(application=locked, acting_user=acting_user)
        locked.version += 1
        locked.save(update_fields=["version"])
        record_transition(
            locked,
            "resubmit",
            before,
            acting_user,
            action="supplement_answer",
            data={
                "request": request.pk,
                "answers": {str(i.position): i.answer for i in items},
                "evaluation": stored.pk,
                "outcome": stored.outcome,
            },
            evaluation=stored,
        )
    return request
