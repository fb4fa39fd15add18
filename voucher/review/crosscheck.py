"""Checks that need the whole round: what one application alone cannot show.

- one direction per enterprise (一（四）: 同一企业不可同时申报多个方向);
- the same invoice number, or the same contract (supplier + contract number), claimed twice;
- a supplier that is a shareholder of another applicant of the round (registry and inline extracts);
- unit prices per device across the round: median, spread (IQR) and the outliers (UNIT_PRICE).

The round's checks page reads the whole round (`round_checks`); the review screen of one
application reads only the applications its findings could involve (`application_checks`), and
gets the same findings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications.models import (
    Application,
    Contract,
    Delivery,
    Invoice,
    PolicyRoundRecord,
    RegistryShareholding,
)
from voucher.policy import format as fmt
from voucher.registry.models import Shareholding

INACTIVE_STATES = ("draft", "withdrawn")


@dataclass(frozen=True)
class CrossFinding:
    check: str  # ONE_DIRECTION, DUPLICATE_INVOICE, DUPLICATE_CONTRACT, SUPPLIER_IS_SHAREHOLDER
    clause: str
    message: str
    applications: tuple[int, ...]
    references: tuple[str, ...]


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
        return [f for f in self.findings if application_id in f.applications]


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


def _quantile(sorted_values: list[Decimal], q: Decimal) -> Decimal:
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
    by_device: dict[tuple[str, str], list[tuple[int, str, Decimal]]] = defaultdict(list)
    refs = {a.pk: a.reference for a in applications}
    rows = Delivery.objects.filter(
        contract__application_id__in=list(refs), device__isnull=False
    ).values_list("contract__application_id", "device", "unit", "unit_price")
    for app_id, device, unit, price in rows:
        if device:
            by_device[(device, unit)].append((app_id, refs[app_id], Decimal(price)))
    result = []
    for (device, unit), samples in sorted(by_device.items()):
        prices = sorted(p for _, _, p in samples)
        q1 = _quantile(prices, Decimal("0.25"))
        q3 = _quantile(prices, Decimal("0.75"))
        median = _quantile(prices, Decimal("0.5"))
        iqr = q3 - q1
        low, high = q1 - iqr * Decimal("1.5"), q3 + iqr * Decimal("1.5")
        outliers: tuple[tuple[int, str, Decimal], ...] = ()
        if len(prices) >= minimum_count:
            outliers = tuple(s for s in samples if s[2] < low or s[2] > high)
        result.append(DevicePrice(device, unit, len(prices), median, q1, q3, low, high, outliers))
    return result


def round_checks(record: PolicyRoundRecord) -> RoundChecks:
    """The round's cross findings and its unit-price statistics (the round's checks page)."""
    applications = _active(record)
    checks = _cross_findings(applications)
    checks.prices = unit_price_statistics(applications)
    return checks


def application_checks(application: Application) -> list[CrossFinding]:
    """The cross findings that name `application`: round_checks(...).for_application(pk), found
    from its neighbourhood (the applications that share its enterprise, an invoice number, a
    supplier, or a shareholding with it) rather than from the whole round. The review screen
    shows them; the round's size then costs one list of its invoice numbers, not every
    application and contract read into objects."""
    return _cross_findings(_neighbourhood(application)).for_application(application.pk)


def _neighbourhood(application: Application) -> list[Application]:
    """Every active application of the round that a cross finding naming `application` could
    involve, or count: with all of them, those findings come out as for the whole round.

    - its enterprise's applications (ONE_DIRECTION);
    - those with an invoice number of its own, compared as the check compares them
      (DUPLICATE_INVOICE);
    - those with one of its contracts (the same supplier and number, compared as the check
      compares them: DUPLICATE_CONTRACT, and its count);
    - the enterprises its suppliers hold, and the applications whose supplier holds it
      (SUPPLIER_IS_SHAREHOLDER).
    """
    active = Application.objects.filter(round_id=application.round_id).exclude(
        state__in=INACTIVE_STATES
    )
    if not active.filter(pk=application.pk).exists():
        return []  # a draft or a withdrawn application is not in the round's checks
    uscc = application.enterprise.uscc
    contract_keys = {
        _contract_key(supplier, contract_id)
        for supplier, contract_id in Contract.objects.filter(application=application).values_list(
            "supplier_uscc", "contract_id"
        )
    }
    suppliers = {supplier for supplier, _ in contract_keys}
    # a large supplier serves much of the round: only its contracts with the same number count
    sharing_contracts = {
        app_id
        for app_id, supplier, contract_id in Contract.objects.filter(
            application__in=active, supplier_uscc__in=suppliers
        ).values_list("application_id", "supplier_uscc", "contract_id")
        if _contract_key(supplier, contract_id) in contract_keys
    }
    numbers = {
        fmt.invoice_key(n)
        for n in Invoice.objects.filter(contract__application=application).values_list(
            "number", flat=True
        )
    }
    sharing_invoices = (
        {
            app_id
            for app_id, number in Invoice.objects.filter(
                contract__application__in=active
            ).values_list("contract__application_id", "number")
            if fmt.invoice_key(number) in numbers
        }
        if numbers
        else set()
    )
    touching = Q(holder__in=suppliers) | Q(held=uscc)
    holdings = set(Shareholding.objects.filter(touching).values_list("holder", "held"))
    # an application's registry extract counts for the whole round: the one that declares a
    # holding must be read with the others
    declaring = set()
    for declared_in, holder, held_uscc in RegistryShareholding.objects.filter(
        touching, application__in=active
    ).values_list("application_id", "holder", "held"):
        holdings.add((holder, held_uscc))
        declaring.add(declared_in)
    holders = {holder for holder, held in holdings if held == uscc}
    held = {held for holder, held in holdings if holder in suppliers}
    ids = set(
        active.filter(
            Q(enterprise__uscc__in={uscc, *held}) | Q(contracts__supplier_uscc__in=holders)
        ).values_list("pk", flat=True)
    )
    ids |= sharing_invoices | sharing_contracts | declaring | {application.pk}
    return list(
        Application.objects.filter(pk__in=ids)
        .select_related("enterprise", "round")
        .prefetch_related("contracts")
        .order_by("id")
    )


def _contract_key(supplier_uscc: str, contract_id: str) -> tuple[str, str]:
    return supplier_uscc, contract_id.strip().upper()


def _cross_findings(applications: list[Application]) -> RoundChecks:
    """The cross findings among `applications` (active ones of one round, in id order)."""
    by_id = {a.pk: a for a in applications}
    checks = RoundChecks()

    def add(check: str, clause: str, message: str, ids: set[int]) -> None:
        ordered = tuple(sorted(ids))
        checks.findings.append(
            CrossFinding(
                check, clause, message, ordered, tuple(by_id[i].reference for i in ordered)
            )
        )

    by_enterprise: dict[str, list[Application]] = defaultdict(list)
    for a in applications:
        by_enterprise[a.enterprise.uscc].append(a)
    for uscc, apps in sorted(by_enterprise.items()):
        directions = sorted({a.direction for a in apps})
        if len(directions) > 1:
            add(
                "ONE_DIRECTION",
                "一（四）",
                _("%(name)s（%(uscc)s）在本轮申报了多个方向：%(directions)s")
                % {
                    "name": apps[0].applicant_name,
                    "uscc": uscc,
                    "directions": pgettext("list separator", "、").join(
                        _("方向%(n)s") % {"n": d} for d in directions
                    ),
                },
                {a.pk for a in apps},
            )

    invoices: dict[str, set[int]] = defaultdict(set)
    invoice_count: dict[str, int] = defaultdict(int)
    for app_id, number in Invoice.objects.filter(
        contract__application_id__in=list(by_id)
    ).values_list("contract__application_id", "number"):
        key = fmt.invoice_key(number)
        invoices[key].add(app_id)
        invoice_count[key] += 1
    for number, ids in sorted(invoices.items()):
        if invoice_count[number] > 1:
            add(
                "DUPLICATE_INVOICE",
                "二（四）",
                _("发票号码 %(number)s 被申报 %(times)s 次")
                % {"number": number, "times": invoice_count[number]},
                ids,
            )

    contracts: dict[tuple[str, str], set[int]] = defaultdict(set)
    contract_count: dict[tuple[str, str], int] = defaultdict(int)
    for a in applications:
        for c in a.contracts.all():
            contract_key = _contract_key(c.supplier_uscc, c.contract_id)
            contracts[contract_key].add(a.pk)
            contract_count[contract_key] += 1
    for (supplier, contract_no), ids in sorted(contracts.items()):
        times = contract_count[(supplier, contract_no)]
        if times > 1:
            add(
                "DUPLICATE_CONTRACT",
                "二（四）",
                _("供应方 %(supplier)s 的合同 %(contract)s 被申报 %(times)s 次")
                % {"supplier": supplier, "contract": contract_no, "times": times},
                ids,
            )

    applicant_usccs = {a.enterprise.uscc: a for a in applications}
    holdings: set[tuple[str, str]] = set(
        Shareholding.objects.filter(held__in=list(applicant_usccs)).values_list("holder", "held")
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
                )
    return checks
