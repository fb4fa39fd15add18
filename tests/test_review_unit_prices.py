"""The round's unit-price samples (RoundUnitPrice) are counted by the database's triggers
(voucher.applications.unit_prices), and the review screen's unit-price findings read them: the
counts are the round's active delivery rows however those rows, their contracts and their
applications are written — a submission, a withdrawal, a save, a queryset's update, a bulk
create, a delete — and the findings stay the whole round's."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from voucher.applications import unit_prices
from voucher.applications.lifecycle import application_transition
from voucher.applications.models import (
    Application,
    Contract,
    Delivery,
    PolicyRoundRecord,
    RoundUnitPrice,
)
from voucher.review.crosscheck import INACTIVE_STATES, application_checks, round_checks

from .portal_helpers import USCC_A, fill_d2, member, open_round, post_step
from .review_support import put_in_state, supplier_confirms_all
from .test_review_crosscheck import _filed


def _kept() -> Counter:
    kept: Counter = Counter()
    for round_id, device, unit, price, n in RoundUnitPrice.objects.values_list(
        "round_id", "device", "unit", "unit_price", "deliveries"
    ):
        kept[(round_id, device, unit, price)] += n
    return +kept  # the counts gone to zero are not samples


def _counted() -> Counter:
    """The samples as the whole round's statistics read them: every row, one by one."""
    return Counter(
        (round_id, device, unit, price)
        for round_id, device, unit, price in Delivery.objects.exclude(
            contract__application__state__in=INACTIVE_STATES
        )
        .exclude(device__isnull=True)
        .exclude(device="")
        .values_list("contract__application__round_id", "device", "unit", "unit_price")
    )


def _same_findings(*applications: Application) -> None:
    for application in applications:
        application = Application.objects.select_related("enterprise", "round").get(
            pk=application.pk
        )
        whole = round_checks(application.round).for_application(application.pk)
        assert application_checks(application) == whole


def _priced(n: int, price: str, device: str = "DEV-SHARED") -> Application:
    application = _filed(n, number=f"2513-{n}")
    Delivery.objects.filter(contract__application=application).update(
        device=device, unit_price=Decimal(price)
    )
    return application


@pytest.fixture
def round_of_prices(demo_data):
    """Eight applicants buying one device at about 10 yuan, one at 60 (an outlier)."""
    others = [_priced(k, ("10", "10.5", "11")[k % 3]) for k in range(1, 9)]
    return _priced(0, "60"), others


def test_the_counts_are_the_round_s_rows_after_each_way_of_writing_them(round_of_prices):
    mine, others = round_of_prices
    assert _kept() == _counted() and _kept()
    outliers = [f.subject for f in application_checks(mine) if f.check == "UNIT_PRICE_OUTLIER"]
    assert [s.split("|")[::2] for s in outliers] == [["DEV-SHARED", "60"]]

    row = Delivery.objects.filter(contract__application=others[0]).first()
    row.unit_price = Decimal("61")  # a save
    row.save()
    assert _kept() == _counted()
    Delivery.objects.filter(contract__application__in=others[:3]).update(unit_price="60")
    assert _kept() == _counted()  # a queryset's update: no signal is sent
    _same_findings(mine, *others[:3])  # four at 60 of nine: 60 is no longer an outlier

    copies = list(Delivery.objects.filter(contract__application=others[4])) * 3
    for k, copy in enumerate(copies):
        copy.pk = None
        copy.position += 100 + k
    Delivery.objects.bulk_create(copies)  # a bulk create
    assert _kept() == _counted()
    Delivery.objects.filter(pk=copies[0].pk).update(device="")  # no device: no sample
    Delivery.objects.filter(pk=copies[1].pk).update(device=None)
    assert _kept() == _counted()
    Delivery.objects.filter(pk=copies[0].pk).delete()  # a delete
    assert _kept() == _counted()

    moved = Contract.objects.filter(application=others[5]).first()
    Contract.objects.filter(pk=moved.pk).update(application=others[6])  # a contract moved
    assert _kept() == _counted()
    Contract.objects.filter(application=others[6]).delete()  # contracts and their deliveries
    assert _kept() == _counted()
    others[7].delete()  # an application and all it holds
    assert _kept() == _counted()
    elsewhere = PolicyRoundRecord.objects.get(pk=mine.round_id)
    elsewhere.pk, elsewhere.code = None, "bj-other"
    elsewhere.save()
    Application.objects.filter(pk=others[1].pk).update(round=elsewhere)  # another round
    assert _kept() == _counted()
    _same_findings(mine, others[0], others[2])


def test_a_withdrawn_or_draft_application_leaves_the_counts_and_comes_back(round_of_prices):
    mine, others = round_of_prices
    for state in ("withdrawn", "draft", "in_review", "submitted"):
        Application.objects.filter(pk__in=[a.pk for a in others[:5]]).update(state=state)
        assert _kept() == _counted()
        _same_findings(mine, others[6])


def test_a_submission_and_a_withdrawal_move_the_counts(client, db):
    """Through the portal's submission and the one transition function (the applicant's
    withdrawal): the draft's rows are no samples, the submitted application's are, the withdrawn
    one's are not again, and its findings are the round's all along."""
    record = open_round()
    user = member("a@example.cn", USCC_A, "北京示例智能科技有限公司")
    client.force_login(user)
    client.post(reverse("portal:new"), {"direction": 2})
    draft = Application.objects.latest("id")
    fill_d2(client, draft)
    supplier_confirms_all(draft)
    client.get(reverse("portal:selfcheck", args=[draft.pk]))
    device, unit = Delivery.objects.filter(contract__application=draft).values_list(
        "device", "unit"
    )[0]
    assert device

    def samples() -> int:
        kept = _kept()
        assert kept == _counted()
        return sum(n for (r, d, u, _p), n in kept.items() if (r, d, u) == (record.pk, device, unit))

    before = samples()
    post_step(client, Application.objects.get(pk=draft.pk), "submit", {"confirm": "on"})
    submitted = Application.objects.get(pk=draft.pk)
    assert submitted.state not in INACTIVE_STATES
    rows = Delivery.objects.filter(contract__application=draft, device=device, unit=unit).count()
    assert samples() == before + rows > before
    _same_findings(submitted)

    application_transition(application=submitted, transition="withdraw", acting_user=user)
    assert Application.objects.get(pk=draft.pk).state == "withdrawn"
    assert samples() == before
    assert application_checks(Application.objects.get(pk=draft.pk)) == []


def test_the_screen_reads_the_counts_not_the_round_s_rows(round_of_prices):
    """No query of the screen's checks counts delivery rows: the round's size is not its cost."""
    mine, _others = round_of_prices
    application = Application.objects.select_related("enterprise", "round").get(pk=mine.pk)
    with CaptureQueriesContext(connection) as captured:
        application_checks(application)
    for query in captured.captured_queries:
        sql = query["sql"]
        assert not ("applications_delivery" in sql and "COUNT(" in sql.upper()), sql


def test_missing_triggers_come_back_with_the_counts_after_migrate(round_of_prices):
    """SQLite drops a table's triggers when a migration remakes the table: post_migrate makes
    them again and counts the table from the rows."""
    mine, others = round_of_prices
    unit_prices.drop(connection)
    Delivery.objects.filter(contract__application=others[0]).update(unit_price="12")
    put_in_state(others[1], "withdrawn")
    assert _kept() != _counted()
    assert unit_prices.install(connection) is True
    assert _kept() == _counted()
    assert unit_prices.install(connection) is False  # all there: nothing done
    put_in_state(others[2], "withdrawn")
    assert _kept() == _counted()
    _same_findings(mine)


def test_after_a_flush_the_counts_are_counted_again_whatever_order_it_deleted_in(
    round_of_prices,
):
    """`flush` (between the tests of a database, or by an operator) deletes table by table and
    sends post_migrate: counts left below zero by deliveries deleted after the count table
    would be added to the next season's, unless the counts are made again from the rows."""
    from voucher.applications.models import RoundUnitPrice

    RoundUnitPrice.objects.all().delete()  # the count table first, as a flush may
    Delivery.objects.all().delete()  # each delivery moves its count below zero
    assert RoundUnitPrice.objects.filter(deliveries__lt=0).exists()
    unit_prices.installed_after_migrate(using=connection.alias)
    assert not RoundUnitPrice.objects.filter(deliveries__lt=0).exists()
    assert _kept() == _counted()
