"""Every transition × every role: the allowed ones succeed, the others are refused with the
reason and change nothing (state, audit log, snapshots, decisions)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from voucher.applications import lifecycle
from voucher.applications.models import (
    Clawback,
    Decision,
    PaymentRecord,
    Snapshot,
    SupplementRequest,
)
from voucher.applications.states import TRANSITIONS
from voucher.applications.workflow import RULES
from voucher.core.models import AuditEntry
from voucher.review import actions
from voucher.review.months import add_months

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    ROLE_USERS,
    confirm_by_hand,
    make_applicant,
    make_staff,
    propose,
    publicity_over,
    put_in_state,
)

PERSONAS = (*ROLE_USERS, "applicant", "outsider")

REVIEWERS = {"reviewer", "reviewer2"}

# Who may perform each transition on a direction-2 application (the screener only on direction 3).
EXPECTED = {
    "submit": {"applicant"},
    "accept": REVIEWERS,
    "pass_formal_check": REVIEWERS,
    "request_supplement": REVIEWERS,
    "resubmit": {"applicant"},
    "resume_review": REVIEWERS,
    "approve": {"approver"},
    "reject": {"approver"},
    "publicize": {"approver"},
    "pay": {"approver", "administrator"},
    "request_clawback": {"approver"},
    "record_refund": {"approver", "administrator"},
    "mark_overdue": {"approver", "administrator"},
    "withdraw": {"applicant"},
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def test_the_table_and_its_rules_cover_the_same_transitions():
    assert set(TRANSITIONS) == set(RULES) == set(EXPECTED)


@pytest.fixture
def people(demo_data, django_user_model):
    application = application_from("d2-common-shareholder-review")
    users = {name: make_staff(django_user_model, name, role) for name, role in ROLE_USERS.items()}
    users["applicant"] = make_applicant(django_user_model, application)
    users["outsider"] = django_user_model.objects.create_user("t-outsider", password="x")
    users["proposer"] = make_staff(django_user_model, "proposer", "bureau_reviewer")
    return application, users


def _prepare(name, application, users):
    """Put the application where `name` starts, with whatever its guard needs."""
    state = TRANSITIONS[name].source[-1] if name == "withdraw" else TRANSITIONS[name].source[0]
    put_in_state(application, state)
    today = timezone.localdate()
    context = {}
    if name == "resubmit":
        request = SupplementRequest.objects.create(
            application=application,
            requested_by=users["reviewer"],
            due_on=today + timedelta(days=5),
        )
        context["item"] = request.items.create(position=1, text="补充付款凭证")
    if name in ("approve", "reject"):
        context["decision"] = propose(
            application, users["proposer"], "approval" if name == "approve" else "rejection"
        )
    if name in ("pay", "request_clawback", "record_refund", "mark_overdue"):
        decision = confirm_by_hand(propose(application, users["proposer"]), users["approver"])
        context["amount"] = decision.amount
        publicity_over(application, users["approver"])
    if name in ("request_clawback", "record_refund", "mark_overdue"):
        PaymentRecord.objects.create(
            application=application,
            paid_on=today - timedelta(days=300),
            amount=context["amount"],
            reference="P-1",
            recorded_by=users["approver"],
        )
    if name in ("record_refund", "mark_overdue"):
        notice = today - timedelta(days=200) if name == "mark_overdue" else today
        context["clawback"] = Clawback.objects.create(
            application=application,
            notice_date=notice,
            due_date=add_months(notice, 6),
            amount=Decimal("1000.00"),
            reason="违反承诺",
            requested_by=users["approver"],
        )
    return context


def _perform(name, application, user, context):
    today = timezone.localdate()
    if name == "request_supplement":
        return actions.supplement_request(
            application=application,
            items=["补充付款凭证"],
            due_on=today + timedelta(days=10),
            acting_user=user,
        )
    if name == "resubmit":
        return lifecycle.supplement_answer(
            application=application, answers={context["item"].pk: "已补充"}, acting_user=user
        )
    if name in ("approve", "reject"):
        return actions.decision_confirm(decision=context["decision"], acting_user=user)
    if name == "publicize":
        return actions.publicity_publish(
            round=application.round,
            applications=[application],
            starts_on=today,
            ends_on=today + timedelta(days=7),
            acting_user=user,
        )
    if name == "pay":
        return actions.payment_record(
            application=application,
            paid_on=today,
            amount=context["amount"],
            reference="ZF-2026-001",
            acting_user=user,
        )
    if name == "request_clawback":
        return actions.clawback_request(
            application=application,
            notice_date=today,
            amount="1000.00",
            reason="违反承诺第4条",
            acting_user=user,
        )
    if name == "record_refund":
        return actions.clawback_refund(
            clawback=context["clawback"], refunded_on=today, amount="1000.00", acting_user=user
        )
    return actions.application_transition(
        application=application, transition=name, acting_user=user
    )


CASES = [(name, persona) for name in EXPECTED for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_each_transition_for_each_role(people, name, persona):
    application, users = people
    context = _prepare(name, application, users)
    user = users[persona]
    before_state = application.state
    counts = (AuditEntry.objects.count(), Snapshot.objects.count(), Decision.objects.count())

    if persona in EXPECTED[name]:
        _perform(name, application, user, context)
        application.refresh_from_db()
        assert application.state == TRANSITIONS[name].target
        last = AuditEntry.objects.order_by("-id").first()
        assert last.actor_label == user.username
        assert last.data.get("transition") == name
        assert last.data.get("from") == before_state
    else:
        with pytest.raises(actions.ReviewError) as refused:
            _perform(name, application, user, context)
        assert str(refused.value)  # a reason, in words
        assert not isinstance(refused.value, actions.ConflictError)
        application.refresh_from_db()
        assert application.state == before_state
        assert (
            AuditEntry.objects.count(),
            Snapshot.objects.count(),
            Decision.objects.count(),
        ) == counts


def test_a_screener_works_on_direction_3_only(demo_data, django_user_model):
    screener = make_staff(django_user_model, "screener", "centre_screener")
    d3 = put_in_state(application_from("d3-modelscope"), "submitted")
    actions.application_transition(application=d3, transition="accept", acting_user=screener)
    d3.refresh_from_db()
    assert d3.state == "formal_check"
    d2 = put_in_state(application_from("d2-common-shareholder-review"), "submitted")
    with pytest.raises(actions.ReviewError, match="方向三"):
        actions.application_transition(application=d2, transition="accept", acting_user=screener)


def test_a_transition_from_the_wrong_state_says_so(people):
    application, users = people
    put_in_state(application, "approved")
    with pytest.raises(actions.ConflictError, match="已被他人处理"):
        actions.application_transition(
            application=application, transition="accept", acting_user=users["reviewer"]
        )
