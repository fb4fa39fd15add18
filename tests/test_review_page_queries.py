"""The bureau's pages cost the same number of queries whatever the size of the round: each page
is requested in a round of a few applications and again after many more were added (more than a
page of them), and must make the same queries, under a ceiling. An N+1 (a query per row, per
application, per decision) fails here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voucher.applications.models import Budget

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, verified_client
from .season_support import copy_applications

SMALL, MORE = 4, 60  # MORE: past the first page of the lists (50)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def world(demo_data, django_user_model):
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    reviewer2 = make_staff(django_user_model, "reviewer2", "bureau_reviewer")
    approver = make_staff(django_user_model, "approver", "bureau_approver")
    template = application_from("d2-common-shareholder-review")
    return {
        "reviewer": reviewer,
        "reviewer2": reviewer2,
        "approver": approver,
        "template": template,
        "grow": lambda n: copy_applications(template, n, assignee=reviewer, proposer=reviewer2),
    }


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries.captured_queries)


def _same_at_two_sizes(
    client, world, urls, ceiling: int | dict[str, int], user: str = "reviewer"
) -> None:
    world["grow"](SMALL)
    verified_client(client, world[user])
    small = {url: _count(client, url) for url in urls}
    world["grow"](MORE)
    large = {url: _count(client, url) for url in urls}
    assert large == small, f"the queries grew with the round: {small} → {large}"
    for url, n in large.items():
        most = ceiling[url] if isinstance(ceiling, dict) else ceiling
        assert n <= most, f"{url}: {n} queries (at most {most})"


@pytest.mark.parametrize(
    "query",
    ["", "?sort=-open", "?sort=amount&state=in_review", "?open=yes&page=2", "?amount_min=1"],
)
def test_the_queue(client, world, query):
    # the session, the user, the device, the groups; the count, the page (6 since its rows'
    # decisions, which the page does not show, are not read: branch mine); 3 since the first
    # four are one query (branch door, decision 0053)
    _same_at_two_sizes(client, world, [f"/review/{query}"], ceiling=3)


def test_the_queue_as_an_approver(client, world):
    _same_at_two_sizes(
        client,
        world,
        ["/review/", "/review/mine/"],
        ceiling={"/review/": 3, "/review/mine/": 5},  # the door: one query (decision 0053)
        user="approver",
    )


@pytest.mark.parametrize("query", ["", "?sort=-amount", "?unassigned_page=2&direction=2"])
def test_my_queue(client, world, query):
    # both lists counted in one query, each page (not its decisions, which the page does not
    # show: 7 since branch mine); the proposals to confirm; 4 since the session, the user,
    # the device and the groups are one query (branch door, decision 0053)
    _same_at_two_sizes(client, world, [f"/review/mine/{query}"], ceiling=4)


def test_the_review_screen(client, world):
    pk = world["template"].pk
    # 31 since its assignment is read with the application (issue 23, session 13); 30 since
    # the count of its cross findings is read with it too (branch screen): on a season's
    # application alone in its neighbourhood, four fewer (the shareholdings and the other
    # applications' invoices not read again); 16 since one query asks which of its lists are
    # empty and those are not read (branch screen2: an application in review has no decision,
    # payment, clawback, supplement request, 公示 list, resubmission, platform record...);
    # 13 since the session, the user, the device and the groups are one (branch door)
    _same_at_two_sizes(client, world, [f"/review/{pk}/"], ceiling=13)


def test_the_dashboard_and_the_round_pages(client, world, django_user_model):
    template = world["template"]
    Budget.objects.create(round=template.round, direction=2, amount="100000000.00")
    code = template.round.code
    _same_at_two_sizes(
        client,
        world,
        [
            f"/review/dashboard/?round={code}&direction=2",
            f"/review/publicity/?round={code}",
            f"/review/checks/?round={code}",
        ],
        ceiling={
            # 10 since the simulation reads its candidates' amounts, approvals and names in one
            # query (branch dash): the session, the user, the device, the groups, the round,
            # the budgets; the simulation; the approvals and payments by month; the figures;
            # 7 since the first four are one query (branch door, decision 0053)
            f"/review/dashboard/?round={code}&direction=2": 7,
            f"/review/publicity/?round={code}": 37,
            f"/review/checks/?round={code}": 37,
        },
        user="approver",
    )


def test_the_screen_does_not_grow_with_the_contracts(client, world):
    """The document's relations are fetched once (not four queries per contract for the stale
    check, then the contracts again for their lines)."""
    from voucher.applications.models import Contract, Delivery, Invoice, Payment

    template = world["template"]
    verified_client(client, world["reviewer"])

    def add_contracts(n: int) -> None:
        original = template.contracts.order_by("id").first()
        for i in range(n):
            contract = Contract.objects.create(
                application=template,
                position=100 + i,
                contract_id=f"EXTRA-{Contract.objects.count()}",
                supplier_name=original.supplier_name,
                supplier_uscc=original.supplier_uscc,
                valid_from=original.valid_from,
                valid_to=original.valid_to,
                total_amount=original.total_amount,
                revenue_or_risk_sharing=False,
                hierarchy=False,
            )
            for model in (Delivery, Invoice, Payment):
                item = model.objects.filter(contract=original).first()
                if item is not None:
                    item.pk = None
                    item.contract = contract
                    if model is Invoice:
                        item.number = f"X{contract.pk:08d}"
                    item.save()

    add_contracts(1)
    small = _count(client, f"/review/{template.pk}/")
    add_contracts(8)
    large = _count(client, f"/review/{template.pk}/")
    assert large == small, f"the screen's queries grew with its contracts: {small} → {large}"


def test_the_queue_reads_a_page_and_no_findings(client, world):
    """The queue's counts come from the kept counts: no query reads an evaluation's findings or
    contracts (the JSON), and a page holds 50 rows whatever the round."""
    world["grow"](MORE)
    verified_client(client, world["reviewer"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/review/").content.decode()
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"findings"' not in read and '"contracts"' not in read
    assert page.count('<tr data-state="') == 50
    assert 'rel="next"' in page and "第 1 / 2 页" in page
    second = client.get("/review/?page=2").content.decode()
    assert 'rel="prev"' in second and second.count('<tr data-state="') > 0


def _publicized_and_paid(made, approver) -> None:
    """Of copies made: a third publicized (the payment batch's list), a third paid (the follow-up
    reports they owe), with their records."""
    from datetime import timedelta

    from voucher.applications.models import Application, PaymentRecord, PublicityList
    from voucher.core import clock

    publicized, paid = made[::3], made[1::3]
    Application.objects.filter(pk__in=[a.pk for a in publicized]).update(state="publicized")
    Application.objects.filter(pk__in=[a.pk for a in paid]).update(state="paid")
    today = clock.today()
    listed = PublicityList.objects.create(
        round=made[0].round,
        starts_on=today - timedelta(days=10),
        ends_on=today - timedelta(days=3),
        published_by=approver,
    )
    listed.applications.add(*publicized[::2])
    PaymentRecord.objects.bulk_create(
        PaymentRecord(
            application=a,
            paid_on=today - timedelta(days=30 * (k % 14)),
            amount="1000.00",
            reference=f"P{a.pk}",
            recorded_by=approver,
        )
        for k, a in enumerate(paid)
    )


def test_the_statistics_supervision_and_payment_pages(client, world):
    """The round's statistics, the follow-up reports owed and the payment batch's list of
    payables (a decision, an account and the publicity's end per application: read together)."""
    code = world["template"].round.code
    grow = world["grow"]
    world["grow"] = lambda n: _publicized_and_paid(grow(n), world["approver"])
    _same_at_two_sizes(
        client,
        world,
        [
            f"/review/statistics/?round={code}",
            f"/review/supervision/?round={code}",
            f"/review/payments/?round={code}",
        ],
        ceiling=37,  # 40 until the door (decision 0053) read four queries as one
        user="approver",
    )


def test_the_payables_are_each_application_s_own(world, django_user_model):
    """The payment batch's list read together says for each application what the functions of
    one application say (its decision in force, its account, the publicity's guard)."""
    from voucher.applications.payees import payee_in_force
    from voucher.applications.selectors import confirmed_decision
    from voucher.applications.workflow import pay_guard
    from voucher.review.actions import payables

    _publicized_and_paid(world["grow"](12), world["approver"])
    rows = payables(world["template"].round)
    assert len(rows) >= 4 and {bool(r.waiting_for) for r in rows} == {True}
    assert len({r.waiting_for for r in rows}) >= 2  # listed or not: two reasons to wait
    for row in rows:
        decision = confirmed_decision(row.application)
        assert row.amount == (decision.amount if decision else None)
        assert row.payee == payee_in_force(row.application.enterprise_id)
        guard = pay_guard(row.application, None)
        assert row.waiting_for == guard if guard else row.waiting_for not in ("", None)
