"""Checks that need more than one application: what one application alone cannot show.

- several applications of one enterprise in the round, in one direction or several
  (一（四）: 同一企业不可同时申报多个方向; ONE_DIRECTION);
- the same invoice number, or the same contract (supplier + contract number), claimed by another
  application of any round (DUPLICATE_INVOICE, DUPLICATE_CONTRACT);
- a supplier that is a shareholder of another applicant of the round (registry and inline
  extracts; SUPPLIER_IS_SHAREHOLDER);
- unit prices per device across the round: median, spread (IQR) and the outliers
  (UNIT_PRICE_OUTLIER).

Drafts and withdrawn applications take part in none of them. The round's checks page reads the
whole round (`round_checks`); the review screen and the proposal of one application read only
the applications its findings could involve (`application_checks`), and get the same findings.

Each cross finding of an application is a `review` item of it (RULES.md v2, "Fail closed"):
`cross_items` gives them with their resolutions, keyed to each finding's identity (the check,
what it is about, the other applications involved); a reviewer resolves one with a reason and no
decision is proposed while one is unresolved (voucher.review.actions.crossfindings).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications.absent_rows import has_none
from voucher.applications.models import (
    Application,
    Contract,
    CrossFindingCount,
    CrossFindingResolution,
    Delivery,
    Invoice,
    PolicyRoundRecord,
    RegistryShareholding,
    RoundUnitPrice,
)
from voucher.applications.selectors import MISSING, selected
from voucher.applications.wording import direction_name
from voucher.core import precompiled
from voucher.policy import format as fmt
from voucher.registry.models import Shareholding

INACTIVE_STATES = ("draft", "withdrawn")
PRICE_OUTLIER = "UNIT_PRICE_OUTLIER"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CrossFinding:
    # ONE_DIRECTION, DUPLICATE_INVOICE, DUPLICATE_CONTRACT, SUPPLIER_IS_SHAREHOLDER,
    # UNIT_PRICE_OUTLIER
    check: str
    clause: str
    message: str
    applications: tuple[int, ...]
    references: tuple[str, ...]
    # what it is about: the invoice number, the supplier and contract number, the enterprise's
    # USCC, the supplier and the enterprise it holds, the device, unit and price
    subject: str

    def identity(self, application_id: int) -> str:
        """The finding as a review item of `application_id`: its check, its subject and the
        other applications involved. A ninth application claiming the invoice is another
        identity; the counts and the words of the message are not part of it."""
        others = ",".join(str(i) for i in self.applications if i != application_id)
        return f"{self.check}|{self.subject}|{others}"

    @property
    def named(self) -> list[tuple[int, str]]:
        """(id, reference) of each application it names."""
        return list(zip(self.applications, self.references, strict=True))


@dataclass(frozen=True)
class DevicePrice:
    device: str
    unit: str
    count: int
    median: Decimal
    q1: Decimal
    q3: Decimal
    low: Decimal  # Tukey fences: Q1 − 1.5·IQR, Q3 + 1.5·IQR
    high: Decimal
    outliers: tuple[tuple[int, str, Decimal], ...]  # (application id, reference, unit price)

    @property
    def spread(self) -> Decimal:
        return self.q3 - self.q1


@dataclass
class RoundChecks:
    findings: list[CrossFinding] = field(default_factory=list)
    prices: list[DevicePrice] = field(default_factory=list)

    def for_application(self, application_id: int) -> list[CrossFinding]:
        """The findings that name the application, then its unit-price outliers."""
        named = [f for f in self.findings if application_id in f.applications]
        return named + price_findings(self.prices, application_id)


def identity_key(identity: str) -> str:
    """The stored key of an identity (of any length): its SHA-256, in hex."""
    return hashlib.sha256(identity.encode()).hexdigest()


@dataclass(frozen=True)
class CrossItem:
    """One cross finding as a `review` item of one application, and its resolution if any."""

    finding: CrossFinding
    identity: str
    key: str
    resolution: CrossFindingResolution | None

    @property
    def unresolved(self) -> bool:
        return self.resolution is None


def cross_items(application: Application) -> list[CrossItem]:
    """The application's cross findings as review items (one per identity), each with the
    resolution recorded for that identity; a finding whose identity changed is unresolved."""
    resolved = (
        {}
        if has_none(application, "cross_resolutions")  # the review screen asked: none
        else {
            x.key: x
            for x in CrossFindingResolution.objects.filter(application=application).select_related(
                "resolved_by"
            )
        }
    )
    items: dict[str, CrossItem] = {}
    for finding in application_checks(application):
        identity = finding.identity(application.pk)
        key = identity_key(identity)
        if key not in items:  # two contracts with one shareholder supplier: one item
            items[key] = CrossItem(finding, identity, key, resolved.get(key))
    return list(items.values())


def _active(record: PolicyRoundRecord) -> list[Application]:
    # the contracts are read twice per application (duplicates, shareholders): fetched with
    # them in one query, not two per application
    return list(
        Application.objects.filter(round=record)
        .exclude(state__in=INACTIVE_STATES)
        .select_related("enterprise", "round")
        .prefetch_related("contracts")
        .order_by("id")
    )


def _quantile(sorted_values: Sequence[Decimal], q: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (the spreadsheet's QUARTILE.INC)."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    fraction = position - low
    if low + 1 >= len(sorted_values):
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[low + 1] - sorted_values[low]) * fraction


def unit_price_statistics(
    applications: list[Application], *, minimum_count: int = 4
) -> list[DevicePrice]:
    refs = {a.pk: a.reference for a in applications}
    rows = Delivery.objects.filter(
        contract__application_id__in=list(refs), device__isnull=False
    ).values_list("contract__application_id", "device", "unit", "unit_price")
    return _device_prices(rows, refs, minimum_count=minimum_count)


def _device_prices(
    rows: Iterable[tuple[int, str | None, str, Any]],
    refs: dict[int, str],
    *,
    minimum_count: int = 4,
) -> list[DevicePrice]:
    by_device: dict[tuple[str, str], list[tuple[int, str, Decimal]]] = defaultdict(list)
    for app_id, device, unit, price in rows:
        if device:
            by_device[(device, unit)].append((app_id, refs.get(app_id, ""), Decimal(price)))
    return [
        _device_price(device, unit, sorted(p for _, _, p in samples), samples, minimum_count)
        for (device, unit), samples in sorted(by_device.items())
    ]


def _device_price(
    device: str,
    unit: str,
    prices: Sequence[Decimal],
    samples: Iterable[tuple[int, str, Decimal]],
    minimum_count: int = 4,
) -> DevicePrice:
    """The statistics of one device and unit from all its round's `prices` (sorted), and those
    of `samples` (application id, reference, price) that lie outside the band."""
    q1 = _quantile(prices, Decimal("0.25"))
    q3 = _quantile(prices, Decimal("0.75"))
    median = _quantile(prices, Decimal("0.5"))
    iqr = q3 - q1
    low, high = q1 - iqr * Decimal("1.5"), q3 + iqr * Decimal("1.5")
    outliers: tuple[tuple[int, str, Decimal], ...] = ()
    if len(prices) >= minimum_count:
        outliers = tuple(s for s in samples if s[2] < low or s[2] > high)
    return DevicePrice(device, unit, len(prices), median, q1, q3, low, high, outliers)


def _plain(value: Decimal) -> str:
    """A decimal without its trailing zeros, never in exponent form."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def price_findings(prices: list[DevicePrice], application_id: int) -> list[CrossFinding]:
    """The application's unit prices that lie outside their device's band in the round: one
    finding per device, unit and price."""
    found = []
    for d in prices:
        seen: set[Decimal] = set()
        for app_id, reference, price in sorted(d.outliers, key=lambda o: o[2]):
            if app_id != application_id or price in seen:
                continue
            seen.add(price)
            found.append(
                CrossFinding(
                    PRICE_OUTLIER,
                    "14-1 一",
                    _(
                        "设备 %(device)s 的单价 %(price)s 元/%(unit)s 不在本轮 %(count)s 个样本的"
                        "正常区间 %(low)s–%(high)s 内（中位数 %(median)s）"
                    )
                    % {
                        "device": d.device,
                        "price": _plain(price),
                        "unit": d.unit,
                        "count": d.count,
                        "low": d.low.quantize(CENT),
                        "high": d.high.quantize(CENT),
                        "median": d.median.quantize(CENT),
                    },
                    (app_id,),
                    (reference,),
                    f"{d.device}|{d.unit}|{_plain(price)}",
                )
            )
    return found


def round_checks(record: PolicyRoundRecord) -> RoundChecks:
    """The round's cross findings and its unit-price statistics (the round's checks page). An
    invoice or contract also claimed in another round names that round's applications too."""
    applications = _active(record)
    checks = _cross_findings(applications, _elsewhere_sharing(record))
    checks.prices = unit_price_statistics(applications)
    return checks


def application_checks(application: Application) -> list[CrossFinding]:
    """The cross findings of `application`: round_checks(...).for_application(pk), found from
    its neighbourhood (the applications that share its enterprise, an invoice number, a
    supplier, or a shareholding with it, and the prices of its devices) rather than from the
    whole round. The review screen shows them and a proposal waits for them; the round's size
    then costs one list of the invoice numbers and of its devices' prices, not every
    application and contract read into objects."""
    mine, elsewhere, known = _neighbourhood_read(application)
    if not mine:
        return []  # a draft or a withdrawn application is not in the cross checks
    named = _cross_findings(mine, elsewhere, known=known).for_application(application.pk)
    return named + price_findings(_prices_of(application), application.pk)


def _active_anywhere() -> Any:
    return Application.objects.exclude(state__in=INACTIVE_STATES)


def _loaded(ids: Iterable[int], *, have: Application | None = None) -> list[Application]:
    """The applications `ids`, with their enterprise, round and contracts, in id order; `have`
    (one of them, loaded so: the review screen's) is used as it is, not read again."""
    wanted = set(ids)
    if have is not None and have.pk in wanted:
        wanted.discard(have.pk)
        others = _loaded(wanted)
        return sorted([*others, have], key=lambda a: a.pk)
    if not wanted:  # most applications share nothing: no query to compile for none
        return []
    return list(
        Application.objects.filter(pk__in=wanted)
        .select_related("enterprise", "round")
        .prefetch_related("contracts")
        .order_by("id")
    )


def _prefetched(instance: Any, relation: str) -> bool:
    return relation in getattr(instance, "_prefetched_objects_cache", {})


def _contracts_if_loaded(application: Application) -> list[Contract] | None:
    """The application's contracts if its caller fetched them onto it (the review screen
    fetches its document's relations), else None: read them in one query then."""
    return list(application.contracts.all()) if _prefetched(application, "contracts") else None


def _usable_as_loaded(application: Application) -> bool:
    """Whether `application` carries what _loaded gives (its enterprise, round and contracts),
    so the cross checks read it as it is rather than again."""
    state = application._state
    return (
        _prefetched(application, "contracts")
        and "enterprise" in state.fields_cache
        and "round" in state.fields_cache
    )


def _elsewhere_sharing(record: PolicyRoundRecord) -> list[Application]:
    """The active applications of other rounds that claim an invoice number or a contract of
    an active application of `record`, compared as the checks compare them: by the keys kept
    for it, in the database (only the other rounds' rows that match are read)."""
    ours = Application.objects.filter(round=record).exclude(state__in=INACTIVE_STATES)
    theirs = Application.objects.exclude(round=record).exclude(state__in=INACTIVE_STATES)
    ids = set(
        Invoice.objects.filter(
            number_key__in=Invoice.objects.filter(contract__application__in=ours).values(
                "number_key"
            ),
            contract__application__in=theirs,
        )
        .order_by()
        .values_list("contract__application_id", flat=True)
    )
    ids |= set(
        Contract.objects.filter(
            Exists(
                Contract.objects.filter(
                    application__in=ours,
                    supplier_uscc=OuterRef("supplier_uscc"),
                    contract_key=OuterRef("contract_key"),
                )
            ),
            application__in=theirs,
        )
        .order_by()
        .values_list("application_id", flat=True)
    )
    return _loaded(ids)


def _prices_of(application: Application) -> list[DevicePrice]:
    """The round's unit-price statistics of the devices (and units) `application` (an active
    one: application_checks asks for no other) uses, with its own outliers (all that
    price_findings reads for it).

    The same figures as `_device_prices` over the round's rows of those devices, from the
    counts the database keeps of them (RoundUnitPrice, voucher.applications.unit_prices): a
    device the whole round uses is thousands of rows and a few prices, read as its prices."""
    contracts = _contracts_if_loaded(application)
    if contracts is not None and all(_prefetched(c, "deliveries") for c in contracts):
        own: list[tuple[Any, str, Any]] = [  # the screen fetched them onto the application
            (line.device, line.unit, line.unit_price)
            for c in contracts
            for line in c.deliveries.all()
            if line.device is not None and line.device != ""
        ]
    else:
        own = [
            (device, unit, price)
            for device, unit, price in Delivery.objects.filter(
                contract__application=application, device__isnull=False
            )
            .exclude(device="")
            .order_by()
            .values_list("device", "unit", "unit_price")
        ]
    if not own:
        return []
    pairs = {(device, unit) for device, unit, _price in own}
    # the round's samples of those devices and units as the triggers keep them counted
    # (RoundUnitPrice): a device's few prices, however many rows of it the round holds
    # (a price's count is kept in several rows, summed here: unit_prices.SHARDS)
    # the pairs asked as two IN lists (the index's columns), the pairs themselves kept here: an
    # OR of a condition per pair costs the ORM a millisecond to compile (issue 23), and a
    # device's prices in another of the units asked are a few rows more
    # (its SQL compiled once per length of the lists: decision 0057)
    counted = precompiled.in_list_rows(
        "crosscheck.round_prices",
        RoundUnitPrice,
        _round_prices,
        [application.round_id],
        sorted({device for device, _unit in pairs}),
        sorted({unit for _device, unit in pairs}),
    )
    by_device: dict[tuple[str, str], dict[Decimal, int]] = defaultdict(lambda: defaultdict(int))
    for device, unit, price, rows in counted:  # a price written two ways: one price
        if (device, unit) in pairs:
            by_device[(device, unit)][price] += rows
    result = []
    for (device, unit), counts in sorted(by_device.items()):
        prices = _CountedPrices(counts)
        samples = [
            (application.pk, application.reference, price)
            for d, u, price in own
            if (d, u) == (device, unit)
        ]
        result.append(_device_price(device, unit, prices, samples))
    return result


def _round_prices(round_id: list[int], devices: list[str], units: list[str]) -> Any:
    """(device, unit, price, rows) of the round `round_id[0]`'s counted prices of `devices` in
    `units`."""
    return (
        RoundUnitPrice.objects.filter(round_id=round_id[0], device__in=devices, unit__in=units)
        .order_by()
        .values("device", "unit", "unit_price")
        .annotate(rows=Sum("deliveries"))
        .filter(rows__gt=0)
        .values_list("device", "unit", "unit_price", "rows")
    )


class _CountedPrices(Sequence[Decimal]):
    """The sorted list of prices in which each of `counts` (price → how many rows) is
    repeated its count, as _quantile reads it (its length, an item by its position), without
    making it: a device the whole round uses is tens of thousands of rows and a few prices, and
    the list of them cost the screen a millisecond (decision 0057)."""

    def __init__(self, counts: dict[Decimal, int]) -> None:
        self._prices = sorted(counts)
        self._ends = list(accumulate(counts[price] for price in self._prices))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, i: Any) -> Any:
        if not isinstance(i, int) or not 0 <= i < len(self):
            raise IndexError(i)  # _quantile asks only positions within the list
        return self._prices[bisect_right(self._ends, i)]


@dataclass(frozen=True)
class KnownHoldings:
    """The shareholdings _neighbourhood_read read that hold the enterprise `uscc`: the registry's
    (holder, held), and the extracts' (declaring application, holder, held), those of every
    active application of its round. _cross_findings reads no more when the applications it is
    given are all of that enterprise (most neighbourhoods are the application alone)."""

    uscc: str
    registry: frozenset[tuple[str, str]]
    extracts: frozenset[tuple[int, str, str]]


def _neighbourhood_read(
    application: Application,
) -> tuple[list[Application], list[Application], KnownHoldings | None]:
    """Every active application that a cross finding naming `application` could involve, or
    count: with all of them, those findings come out as for the whole round. Those of its round,
    then those of other rounds (([], []) for a draft or a withdrawn application).

    - its enterprise's applications (ONE_DIRECTION);
    - those of any round with an invoice number of its own, compared as the check compares them
      (DUPLICATE_INVOICE);
    - those of any round with one of its contracts (the same supplier and number, compared as
      the check compares them: DUPLICATE_CONTRACT, and its count);
    - the enterprises its suppliers hold, and the applications whose supplier holds it
      (SUPPLIER_IS_SHAREHOLDER).
    """
    if application.state in INACTIVE_STATES:  # as loaded, with the request (or locked)
        return [], [], None
    uscc = application.enterprise.uscc
    # the records claiming one of its contracts or invoice numbers, found by their keys (indexed
    # columns kept as the checks compare them): a supplier serving much of the round, or every
    # round's invoices, cost the rows that match, not all of them. Its own keys: from the
    # contracts (and invoices) its caller fetched onto it, when it did
    contracts = _contracts_if_loaded(application)
    contract_keys = (
        {(c.supplier_uscc, c.contract_key) for c in contracts}
        if contracts is not None
        else set(
            Contract.objects.filter(application=application).values_list(
                "supplier_uscc", "contract_key"
            )
        )
    )
    suppliers = {supplier for supplier, _ in contract_keys}
    sharing: set[tuple[int, int]] = set()
    if contract_keys:
        # the pairs asked as two IN lists (the index's two columns), the pairs themselves kept
        # here: an OR of a condition per contract costs the ORM milliseconds to compile
        # (issue 23), and a supplier's other numbers that match a key of another supplier are
        # a few rows more
        sharing |= {
            (app_id, round_id)
            for app_id, round_id, supplier, key in precompiled.in_list_rows(
                "crosscheck.sharing_contracts",
                Contract,
                _sharing_contracts,
                sorted(suppliers),
                sorted({key for _supplier, key in contract_keys}),
            )
            if (supplier, key) in contract_keys
        }
    numbers = (
        {i.number_key for c in contracts for i in c.invoices.all()}
        if contracts is not None and all(_prefetched(c, "invoices") for c in contracts)
        else set(
            Invoice.objects.filter(contract__application=application).values_list(
                "number_key", flat=True
            )
        )
    )
    if numbers:
        sharing |= set(
            precompiled.in_list_rows(
                "crosscheck.sharing_invoices", Invoice, _sharing_invoices, sorted(numbers)
            )
        )
    # the reads below each compiled once per length of their lists (decision 0057): the ORM
    # wrote their SQL at every request, about a fifth of the screen's selector
    holdings = set(
        precompiled.in_list_rows(
            "crosscheck.holdings", Shareholding, _holdings, sorted(suppliers), [uscc]
        )
    )
    registry = holdings.copy()
    # an application's registry extract counts for the whole round: the one that declares a
    # holding must be read with the others
    declaring = set()
    extracts = set()
    for declared_in, holder, held_uscc in precompiled.in_list_rows(
        "crosscheck.extracts",
        RegistryShareholding,
        _extracts,
        sorted(suppliers),
        [uscc],
        [application.round_id],
    ):
        holdings.add((holder, held_uscc))
        declaring.add(declared_in)
        extracts.add((declared_in, holder, held_uscc))
    holders = {holder for holder, held in holdings if held == uscc}
    held = {held for holder, held in holdings if holder in suppliers}
    ids = {
        pk
        for (pk,) in precompiled.in_list_rows(
            "crosscheck.neighbours",
            Application,
            _neighbours,
            sorted({uscc, *held}),
            sorted(holders),
            [application.round_id],
        )
    }
    ids |= {app_id for app_id, round_id in sharing if round_id == application.round_id}
    ids |= declaring | {application.pk}
    elsewhere = {app_id for app_id, round_id in sharing if round_id != application.round_id}
    known = KnownHoldings(
        uscc,
        frozenset(x for x in registry if x[1] == uscc),
        frozenset(x for x in extracts if x[2] == uscc),
    )
    return (
        _loaded(ids, have=application if _usable_as_loaded(application) else None),
        _loaded(elsewhere),
        known,
    )


# _neighbourhood_read's reads, each built from lists of values (precompiled.in_list_rows: the
# sentinels' lists when compiled); a value compared with `=` is a list of one


def _sharing_contracts(suppliers: list[str], keys: list[str]) -> Any:
    """The active applications (and their rounds) with a contract of one of `suppliers` and
    one of `keys` (the caller keeps the pairs it asked)."""
    return (
        Contract.objects.filter(
            supplier_uscc__in=suppliers, contract_key__in=keys, application__in=_active_anywhere()
        )
        .order_by()
        .values_list("application_id", "application__round_id", "supplier_uscc", "contract_key")
    )


def _sharing_invoices(numbers: list[str]) -> Any:
    """The active applications (and their rounds) claiming one of the invoice `numbers`."""
    return (
        Invoice.objects.filter(number_key__in=numbers, contract__application__in=_active_anywhere())
        .order_by()
        .values_list("contract__application_id", "contract__application__round_id")
    )


def _touching(suppliers: list[str], uscc: list[str]) -> Q:
    """The holdings of one of `suppliers`, or of the enterprise `uscc[0]`."""
    return Q(holder__in=suppliers) | Q(held=uscc[0])


def _holdings(suppliers: list[str], uscc: list[str]) -> Any:
    return Shareholding.objects.filter(_touching(suppliers, uscc)).values_list("holder", "held")


def _extracts(suppliers: list[str], uscc: list[str], round_id: list[int]) -> Any:
    return RegistryShareholding.objects.filter(
        _touching(suppliers, uscc),
        application__in=_active_anywhere().filter(round_id=round_id[0]),
    ).values_list("application_id", "holder", "held")


def _neighbours(usccs: list[str], holders: list[str], round_id: list[int]) -> Any:
    """The active applications of the round of the enterprises `usccs`, or with a contract of a
    supplier among `holders`."""
    return (
        _active_anywhere()
        .filter(round_id=round_id[0])
        .filter(Q(enterprise__uscc__in=usccs) | Q(contracts__supplier_uscc__in=holders))
        .values_list("pk")
    )


def _contract_key(supplier_uscc: str, contract_id: str) -> tuple[str, str]:
    return supplier_uscc, fmt.invoice_key(contract_id)  # as the stored `contract_key`


def _invoice_numbers(applications: Iterable[Application]) -> list[tuple[int, str]]:
    """(application id, number) of every invoice of `applications`: those fetched onto an
    application (the review screen's) as they are, the others read in one query."""
    numbers: list[tuple[int, str]] = []
    unread = []
    for a in applications:
        contracts = _contracts_if_loaded(a)
        if contracts is not None and all(_prefetched(c, "invoices") for c in contracts):
            numbers += [(a.pk, i.number) for c in contracts for i in c.invoices.all()]
        else:
            unread.append(a.pk)
    if unread:
        numbers += Invoice.objects.filter(contract__application_id__in=unread).values_list(
            "contract__application_id", "number"
        )
    return numbers


def _cross_findings(
    applications: list[Application],
    elsewhere: Iterable[Application] = (),
    *,
    known: KnownHoldings | None = None,
) -> RoundChecks:
    """The cross findings among `applications` (active ones of one round, in id order), and
    between them and `elsewhere` (active ones of other rounds: invoices and contracts only).
    `known`: the shareholdings _neighbourhood_read found holding one enterprise, used when the
    applications are all of that enterprise (then they are all those the queries would find)."""
    by_id = {a.pk: a for a in applications}
    everyone = {**by_id, **{a.pk: a for a in elsewhere}}
    checks = RoundChecks()

    def add(check: str, clause: str, message: str, ids: set[int], subject: str) -> None:
        ordered = tuple(sorted(ids))
        checks.findings.append(
            CrossFinding(
                check,
                clause,
                message,
                ordered,
                tuple(everyone[i].reference for i in ordered),
                subject,
            )
        )

    by_enterprise: dict[str, list[Application]] = defaultdict(list)
    for a in applications:
        by_enterprise[a.enterprise.uscc].append(a)
    for uscc, apps in sorted(by_enterprise.items()):
        if len(apps) < 2:
            continue
        directions = sorted({a.direction for a in apps})
        message = (
            _("%(name)s（%(uscc)s）在本轮申报了多个方向：%(directions)s")
            % {
                "name": apps[0].applicant_name,
                "uscc": uscc,
                "directions": pgettext("list separator", "、").join(
                    direction_name(d) for d in directions
                ),
            }
            if len(directions) > 1
            else _("%(name)s（%(uscc)s）在本轮有 %(count)s 个申报（%(direction)s）")
            % {
                "name": apps[0].applicant_name,
                "uscc": uscc,
                "count": len(apps),
                "direction": direction_name(directions[0]),
            }
        )
        add("ONE_DIRECTION", "一（四）", message, {a.pk for a in apps}, uscc)

    invoices: dict[str, set[int]] = defaultdict(set)
    invoice_count: dict[str, int] = defaultdict(int)
    for app_id, number in _invoice_numbers(everyone.values()):
        key = fmt.invoice_key(number)
        invoices[key].add(app_id)
        invoice_count[key] += 1
    for number, ids in sorted(invoices.items()):
        if invoice_count[number] > 1 and ids & by_id.keys():
            add(
                "DUPLICATE_INVOICE",
                "二（四）",
                _("发票号码 %(number)s 被申报 %(times)s 次")
                % {"number": number, "times": invoice_count[number]},
                ids,
                number,
            )

    contracts: dict[tuple[str, str], set[int]] = defaultdict(set)
    contract_count: dict[tuple[str, str], int] = defaultdict(int)
    for a in everyone.values():
        for c in a.contracts.all():
            contract_key = _contract_key(c.supplier_uscc, c.contract_id)
            contracts[contract_key].add(a.pk)
            contract_count[contract_key] += 1
    for (supplier, contract_no), ids in sorted(contracts.items()):
        times = contract_count[(supplier, contract_no)]
        if times > 1 and ids & by_id.keys():
            add(
                "DUPLICATE_CONTRACT",
                "二（四）",
                _("供应方 %(supplier)s 的合同 %(contract)s 被申报 %(times)s 次")
                % {"supplier": supplier, "contract": contract_no, "times": times},
                ids,
                f"{supplier}|{contract_no}",
            )

    applicant_usccs = {a.enterprise.uscc: a for a in applications}
    holdings: set[tuple[str, str]]
    if known is not None and set(applicant_usccs) == {known.uscc}:
        holdings = set(known.registry)
        holdings |= {(holder, held) for app_id, holder, held in known.extracts if app_id in by_id}
    else:
        holdings = set(
            Shareholding.objects.filter(held__in=list(applicant_usccs)).values_list(
                "holder", "held"
            )
        )
        holdings |= set(
            RegistryShareholding.objects.filter(
                application_id__in=list(by_id), held__in=list(applicant_usccs)
            ).values_list("holder", "held")
        )
    holders_of: dict[str, set[str]] = defaultdict(set)
    for holder, held in holdings:
        holders_of[holder].add(held)
    for a in applications:
        for c in a.contracts.all():
            for held in sorted(holders_of.get(c.supplier_uscc, set())):
                other = applicant_usccs[held]
                if other.pk == a.pk:
                    continue  # the applicant's own supplier-shareholder: SUPPLIER_EQUITY covers it
                add(
                    "SUPPLIER_IS_SHAREHOLDER",
                    "一（五）注1",
                    _(
                        "%(reference)s 的供应方 %(supplier)s（%(supplier_uscc)s）"
                        "是本轮另一申报单位 %(other)s（%(other_reference)s）的股东"
                    )
                    % {
                        "reference": a.reference,
                        "supplier": c.supplier_name,
                        "supplier_uscc": c.supplier_uscc,
                        "other": other.applicant_name,
                        "other_reference": other.reference,
                    },
                    {a.pk, other.pk},
                    f"{a.pk}|{c.supplier_uscc}|{held}",
                )
    return checks


# --- the counts the bureau's lists show (CrossFindingCount) --------------------------------------

# a batch larger than this is counted from the round's checks (one pass), not one by one
ROUND_PASS_FROM = 10


def _counts_store(counts: dict[int, int]) -> None:
    if counts:
        CrossFindingCount.objects.bulk_create(
            [CrossFindingCount(application_id=k, open=v) for k, v in sorted(counts.items())],
            update_conflicts=True,
            unique_fields=["application"],
            update_fields=["open", "counted_at"],
        )


def cross_count_store(application: Application, items: list[CrossItem]) -> int:
    """Keep the count of `items` (cross_items of the application, just worked out) unresolved;
    written only when it differs from the count kept (a page that shows them reads, and writes
    only what changed)."""
    count = sum(1 for item in items if item.unresolved)
    stored = selected(application, "cross_count", missing=MISSING)  # the review screen's
    if stored is not MISSING:
        kept = stored.open if stored is not None else None
    else:
        kept = (
            CrossFindingCount.objects.filter(application_id=application.pk)
            .values_list("open", flat=True)
            .first()
        )
    if kept != count:
        _counts_store({application.pk: count})
    return count


def round_cross_counts(record: PolicyRoundRecord, checks: RoundChecks | None = None) -> int:
    """Count the unresolved cross findings of every application of the round from the round's
    checks (worked out here unless given) and keep them; returns how many were counted."""
    checks = checks if checks is not None else round_checks(record)
    named: dict[int, list[CrossFinding]] = defaultdict(list)
    for finding in checks.findings:
        for app_id in finding.applications:
            named[app_id].append(finding)
    priced = {app_id for d in checks.prices for app_id, _ref, _price in d.outliers}
    resolved: dict[int, set[str]] = defaultdict(set)
    for app_id, key in CrossFindingResolution.objects.filter(application__round=record).values_list(
        "application_id", "key"
    ):
        resolved[app_id].add(key)
    counts = {}
    for app_id, state in Application.objects.filter(round=record).values_list("pk", "state"):
        if state in INACTIVE_STATES:
            counts[app_id] = 0
            continue
        findings = named.get(app_id, [])
        if app_id in priced:
            findings = findings + price_findings(checks.prices, app_id)
        keys = {identity_key(f.identity(app_id)) for f in findings}
        counts[app_id] = len(keys - resolved[app_id])
    kept = dict(
        CrossFindingCount.objects.filter(application__round=record).values_list(
            "application_id", "open"
        )
    )
    _counts_store({k: v for k, v in counts.items() if kept.get(k) != v})  # what changed
    return len(counts)


def cross_counts_after_evaluation(applications: Iterable[Application]) -> None:
    """After `applications` were evaluated: count theirs again, and those of the applications
    their findings name (a new duplicate invoice is a finding of both). A large batch (a round
    evaluated again) is counted from the round's checks in one pass."""
    by_round: dict[int, list[Application]] = defaultdict(list)
    for application in applications:
        by_round[application.round_id].append(application)
    for round_id, batch in by_round.items():
        if len(batch) > ROUND_PASS_FROM:
            round_cross_counts(PolicyRoundRecord.objects.get(pk=round_id))
            continue
        evaluated = {a.pk for a in batch}
        partners: set[int] = set()
        for application in _loaded(evaluated):
            items = cross_items(application)
            cross_count_store(application, items)
            partners |= {i for item in items for i in item.finding.applications}
        for partner in _loaded(partners - evaluated):
            cross_count_store(partner, cross_items(partner))


def cross_counts_missing(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After `migrate`: count the active applications that have no count yet (those stored
    before the counts were kept), a round at a time. Runs after every migration, with today's
    code, so it can use the checks themselves; once counted, it finds nothing to do."""
    if using != "default":
        return
    rounds = (
        Application.objects.filter(cross_count__isnull=True)
        .exclude(state__in=INACTIVE_STATES)
        .values_list("round_id", flat=True)
        .order_by()
        .distinct()
    )
    for record in PolicyRoundRecord.objects.filter(pk__in=list(rounds)):
        round_cross_counts(record)
