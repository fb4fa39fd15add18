"""The review screen's cross findings come from the application's neighbourhood
(crosscheck.application_checks) and are the whole round's findings that name it, whatever the
round (and the other rounds: invoices and contracts are compared with every round's) hold; their
cost does not grow with the round."""

from __future__ import annotations

import random
import re
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
    from voucher.review.crosscheck import INACTIVE_STATES, _neighbourhood_read

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
                # as the review screen loads it (its document's relations fetched onto it): the
                # checks read its own rows from there, and find the same
                assert application_checks(_as_the_screen_loads(application.pk)) == found, (
                    seed,
                    application.pk,
                )
                kinds |= {f.check for f in found}
                elsewhere += any(
                    not r.startswith(f"{record.code}-") for f in found for r in f.references
                )
                if application.state not in INACTIVE_STATES:
                    mine, _, _ = _neighbourhood_read(application)
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


def _as_the_screen_loads(pk: int) -> Application:
    from voucher.applications.selectors import DOCUMENT_PREFETCH

    return (
        Application.objects.select_related("enterprise", "round")
        .prefetch_related(*DOCUMENT_PREFETCH)
        .get(pk=pk)
    )


def test_the_checks_do_not_read_again_what_the_screen_loaded(demo_data):
    """The screen's application (its state, contracts, invoices and deliveries fetched onto
    it): the checks read none of them again, and the application itself is not loaded again."""
    a = put_in_state(application_from("batch-two-directions", "application-1.json"), "submitted")
    put_in_state(application_from("batch-two-directions", "application-2.json"), "submitted")
    plain = Application.objects.select_related("enterprise", "round").get(pk=a.pk)
    with CaptureQueriesContext(connection) as reading_them:
        expected = application_checks(plain)
    loaded = _as_the_screen_loads(a.pk)
    with CaptureQueriesContext(connection) as captured:
        assert application_checks(loaded) == expected
    # its contracts' keys, its invoice numbers, its devices' prices: from what it carries
    assert len(captured) == len(reading_them) - 3, (len(captured), len(reading_them))
    loads = [
        re.findall(r"\d+", m)
        for q in captured
        for m in re.findall(r'"applications_application"\."id" IN \(([^)]*)\)', q["sql"])
    ]
    assert all(str(a.pk) not in ids for ids in loads), ("the application read again", loads)


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
    # alone in its neighbourhood it reads no other application (nor their contracts): two
    # queries fewer; with neighbours, as many however many there are
    assert counts[0] == counts[1] - 2, counts
    assert len(set(counts[1:])) == 1, counts


def test_a_draft_or_withdrawn_application_has_no_cross_findings(demo_data):
    a = put_in_state(application_from("batch-two-directions", "application-1.json"), "submitted")
    put_in_state(application_from("batch-two-directions", "application-2.json"), "submitted")
    assert {f.check for f in application_checks(a)} >= {"ONE_DIRECTION"}
    for state in ("draft", "withdrawn"):
        assert application_checks(put_in_state(a, state)) == []


# --- a supplier with a large business: the neighbourhood reads the rows that match ---------------


class _RowsRead:
    """The rows the database gives back while it is on (every fetch of Django's cursors)."""

    def __init__(self, monkeypatch):
        from django.db.backends.utils import CursorWrapper

        self.rows = 0

        def counted(name):
            def fetch(cursor, *args):
                got = getattr(cursor.cursor, name)(*args)
                if name == "fetchone":
                    self.rows += got is not None
                else:
                    self.rows += len(got)
                return got

            return fetch

        for name in ("fetchone", "fetchmany", "fetchall"):
            monkeypatch.setattr(CursorWrapper, name, counted(name), raising=False)


def _uscc(kind: str, n: int) -> str:
    from voucher.policy.uscc import expected_check_character

    body = f"9111010{kind}MA{n:07d}"[:17]
    return body + expected_check_character(body + "0")


def _filed(n: int, *, number: str, contract_id: str = "") -> Application:
    """An applicant of its own whose one contract is with the big supplier (its own contract
    number), one invoice `number`, and a device of its own (the unit-price band of a device
    reads the round's rows of that device: another matter)."""
    from tests.builders import base_document
    from voucher.applications.interchange import application_import
    from voucher.policy.format import parse_application

    doc = base_document(2)
    doc["applicant"]["uscc"] = _uscc("8", n)
    doc["applicant"]["name"] = f"北京第{n}号智能科技有限公司"
    contract = doc["contracts"][0]
    contract["id"] = contract_id or f"HT-{n}"
    contract["supplier"] = {"name": "大供应商", "uscc": _uscc("5", 1)}
    contract["invoices"][0]["number"] = number
    for d in contract["deliveries"]:
        d["device"] = f"DEV-{n}"
    doc["lists"] = {"miit_2025_list": [doc["applicant"]["uscc"]]}
    application = application_import(document=parse_application(doc))
    return put_in_state(application, "submitted")


def test_a_supplier_s_business_does_not_cost_the_review_screen_rows_or_queries(
    demo_data, monkeypatch
):
    """The application shares an invoice number with one other customer and a contract (the big
    supplier's `HT-0`, written otherwise) with another; the supplier's other customers, in
    this round and another, share nothing. Twenty more of them read no more rows and ask no
    more queries, and the findings are the whole round's."""
    record = PolicyRoundRecord.objects.get(code="bj-2026")
    mine = _filed(0, number="2511 0000 0001A")
    _filed(1, number="2511 0000 0002A")  # another number: no finding
    _filed(2, number=" 2511 0000 0001a ")  # the same invoice, compared as the check compares
    _filed(3, number="2511-3", contract_id=" ht-0")  # the same contract
    filed = 4
    rows = _RowsRead(monkeypatch)
    measured = []
    for size in (4, 24):
        for k in range(filed, size):
            _filed(k, number=f"2511-{k}")
        filed = size
        application = Application.objects.select_related("enterprise", "round").get(pk=mine.pk)
        rows.rows = 0
        with CaptureQueriesContext(connection) as captured:
            found = application_checks(application)
        measured.append((len(captured), rows.rows))
        assert found == round_checks(record).for_application(mine.pk)
        assert {f.check for f in found} == {"DUPLICATE_INVOICE", "DUPLICATE_CONTRACT"}
    assert measured[0] == measured[1], measured


def test_the_keys_follow_the_numbers_however_the_rows_are_written(demo_data):
    """create, save(update_fields=[the number]) and bulk_create write the key; the migration
    fills it for the rows stored before it."""
    import importlib

    from django.apps import apps

    invoice = Invoice.objects.select_related("contract").first()
    contract = invoice.contract
    contract.contract_id = " ht-9 "
    contract.save(update_fields=["contract_id"])
    invoice.number = " no-1 "
    invoice.save(update_fields=["number"])
    copy = Invoice.objects.bulk_create(
        [Invoice(contract=contract, position=9, number="x 2 ", date=invoice.date, amount=1)]
    )[0]
    assert Contract.objects.get(pk=contract.pk).contract_key == "HT-9"
    assert Invoice.objects.get(pk=invoice.pk).number_key == "NO-1"
    assert Invoice.objects.get(pk=copy.pk).number_key == "X 2"

    Invoice.objects.update(number_key="")
    Contract.objects.update(contract_key="")
    importlib.import_module("voucher.applications.migrations.0021_match_keys").fill(apps, None)
    assert not Invoice.objects.filter(number_key="").exists()
    assert not Contract.objects.filter(contract_key="").exists()
    assert Invoice.objects.get(pk=invoice.pk).number_key == "NO-1"
    assert Contract.objects.get(pk=contract.pk).contract_key == "HT-9"


def test_a_device_s_round_prices_cost_the_screen_its_distinct_prices_not_its_rows(
    demo_data, monkeypatch
):
    """Every applicant of the round buys the same device at one of two prices (written two
    ways), the application at a price far above them: its outlier finding is the whole round's,
    counted with every row (a price read once for all its rows would leave four samples where
    there are many), and twenty more applicants at those prices read no more rows."""
    record = PolicyRoundRecord.objects.get(code="bj-2026")

    def priced(n: int, price: str) -> Application:
        application = _filed(n, number=f"2512-{n}")
        Delivery.objects.filter(contract__application=application).update(
            device="DEV-SHARED", unit_price=Decimal(price)
        )
        return application

    mine = priced(0, "60")
    filed = 1
    rows = _RowsRead(monkeypatch)
    measured = []
    for size in (4, 24):
        for k in range(filed, size):
            priced(k, ("10", "10.5", "10.500000")[k % 3])
        filed = size
        application = Application.objects.select_related("enterprise", "round").get(pk=mine.pk)
        rows.rows = 0
        with CaptureQueriesContext(connection) as captured:
            found = application_checks(application)
        measured.append((len(captured), rows.rows))
        assert found == round_checks(record).for_application(mine.pk)
        outliers = [f for f in found if f.check == "UNIT_PRICE_OUTLIER"]
        assert [f.subject.split("|")[::2] for f in outliers] == [["DEV-SHARED", "60"]]
    assert measured[0] == measured[1], measured
