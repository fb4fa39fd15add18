"""The review screen's cross findings come from the application's neighbourhood
(crosscheck.application_checks) and are the whole round's findings that name it, whatever the
round (and the other rounds: invoices and contracts are compared with every round's) hold; their
cost does not grow with the round."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voucher.applications.models import (
    Application,
    Contract,
    Delivery,
    Enterprise,
    Invoice,
    PolicyRoundRecord,
    RegistryShareholding,
)
from voucher.registry.models import Shareholding
from voucher.review.crosscheck import application_checks, round_checks

from .conftest import application_from
from .review_support import put_in_state

pytestmark = pytest.mark.django_db

ENTERPRISES = ["91110108MA01C3QX7B", "91110105MA02D4RY0J", "91110000600037341L"]
SUPPLIERS = ["91110000MA00TEST01", "91110000MA00TEST02", *ENTERPRISES[:1]]
INVOICES = ["24110000000000000001", " 24110000000000000001", "24110000000000000002", "a-3", "A-3 "]
STATES = ["submitted", "in_review", "supplement_requested", "approved", "draft", "withdrawn"]
PRICES = ["10", "10.5", "11", "10.2", "10.8", "60", "1"]


def _rounds(applications: list[Application]) -> list[PolicyRoundRecord]:
    """The examples' round and an earlier one."""
    earlier, _ = PolicyRoundRecord.objects.get_or_create(
        code="bj-2025",
        defaults={
            "title": "2025",
            "jurisdiction": "北京市",
            "window_start": date(2024, 9, 1),
            "window_end": date(2025, 3, 31),
            "source_sha256": "0" * 64,
        },
    )
    return [applications[0].round, earlier]


def _shuffle_the_round(
    rng: random.Random, applications: list[Application], rounds: list[PolicyRoundRecord]
) -> None:
    """Enterprises, suppliers, invoice numbers, shareholdings, unit prices, states and rounds
    drawn from small pools, so that every kind of cross finding comes up, and some not at all."""
    enterprises = [
        Enterprise.objects.get_or_create(uscc=u, defaults={"name": u})[0] for u in ENTERPRISES
    ]
    for application in applications:
        Application.objects.filter(pk=application.pk).update(
            enterprise=rng.choice(enterprises),
            state=rng.choice(STATES),
            round=rounds[0] if rng.random() < 0.7 else rounds[1],
        )
        Delivery.objects.filter(contract__application=application).update(
            unit_price=Decimal(rng.choice(PRICES))
        )
        for contract in Contract.objects.filter(application=application):
            contract.supplier_uscc = rng.choice(SUPPLIERS)
            contract.save(update_fields=["supplier_uscc"])
            for invoice in Invoice.objects.filter(contract=contract):
                invoice.number = rng.choice(INVOICES) if rng.random() < 0.7 else f"X{invoice.pk}"
                invoice.save(update_fields=["number"])
    Shareholding.objects.all().delete()
    RegistryShareholding.objects.all().delete()
    for _ in range(rng.randrange(4)):
        Shareholding.objects.get_or_create(
            holder=rng.choice(SUPPLIERS), held=rng.choice(ENTERPRISES), ratio=Decimal("0.3")
        )
    for _ in range(rng.randrange(3)):
        RegistryShareholding.objects.get_or_create(
            application=rng.choice(applications),
            holder=rng.choice(SUPPLIERS),
            held=rng.choice(ENTERPRISES),
            defaults={"ratio": Decimal("0.3")},
        )


def test_the_neighbourhood_gives_the_round_s_findings_of_each_application(demo_data):
    """Over 30 shuffled rounds, for every application; and what that covers: every kind of
    finding, and neighbourhoods smaller than the round (a neighbourhood of the whole round
    would pass whatever it left out)."""
    from voucher.review.crosscheck import INACTIVE_STATES, _neighbourhood

    kinds: set[str] = set()
    smaller = 0
    elsewhere = 0
    applications = list(Application.objects.order_by("id"))
    rounds = _rounds(applications)
    for seed in range(30):
        _shuffle_the_round(random.Random(seed), applications, rounds)
        for record in rounds:
            whole = round_checks(record)
            kinds |= {f.check for f in whole.findings}
            active = Application.objects.filter(round=record).exclude(state__in=INACTIVE_STATES)
            for application in Application.objects.filter(round=record).select_related(
                "enterprise", "round"
            ):
                found = application_checks(application)
                assert found == whole.for_application(application.pk), (seed, application.pk)
                kinds |= {f.check for f in found}
                elsewhere += any(
                    not r.startswith(f"{record.code}-") for f in found for r in f.references
                )
                if application.state not in INACTIVE_STATES:
                    mine, _ = _neighbourhood(application)
                    smaller += len(mine) < active.count()
    assert smaller >= 30, smaller
    assert elsewhere >= 30, elsewhere  # findings that name another round's application
    assert kinds == {
        "ONE_DIRECTION",
        "DUPLICATE_INVOICE",
        "DUPLICATE_CONTRACT",
        "SUPPLIER_IS_SHAREHOLDER",
        "UNIT_PRICE_OUTLIER",
    }


def test_the_review_screen_s_checks_cost_the_same_queries_however_large_the_round(demo_data):
    folders = ["d4-small", "d1-cap-binds", "d2-threshold-exact", "d3-modelscope"]
    first = put_in_state(application_from(folders[0]), "submitted")
    counts = []
    for folder in folders:
        put_in_state(application_from(folder), "submitted")
        application = Application.objects.select_related("enterprise").get(pk=first.pk)
        with CaptureQueriesContext(connection) as captured:
            application_checks(application)
        counts.append(len(captured))
    assert len(set(counts)) == 1, counts


def test_a_draft_or_withdrawn_application_has_no_cross_findings(demo_data):
    a = put_in_state(application_from("batch-two-directions", "application-1.json"), "submitted")
    put_in_state(application_from("batch-two-directions", "application-2.json"), "submitted")
    assert {f.check for f in application_checks(a)} >= {"ONE_DIRECTION"}
    for state in ("draft", "withdrawn"):
        assert application_checks(put_in_state(a, state)) == []
