"""Hypothesis strategies for valid interchange documents (as JSON-ready dicts)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from voucher.policy.round import MATERIAL_IDS

from .builders import APPLICANT_USCC, OTHER_USCC, PARENT_USCC, SUPPLIER_USCC, base_document

DAY0 = date(2025, 6, 1)
DAYS = 400  # 2025-06-01 .. 2026-07-05: both window edges inside


def money(min_fen: int = 0, max_fen: int = 5_000_000_000) -> st.SearchStrategy[str]:
    return st.integers(min_fen, max_fen).map(lambda fen: str(Decimal(fen).scaleb(-2)))


@st.composite
def day_range(draw, max_len: int = 200, last_start: int = DAYS) -> tuple[str, str]:
    start = draw(st.integers(0, last_start))
    length = draw(st.integers(0, max_len))
    return (DAY0 + timedelta(start)).isoformat(), (DAY0 + timedelta(start + length)).isoformat()


@st.composite
def deliveries(draw) -> dict:
    # mostly inside the window (which starts on day 99), sometimes across or outside it
    start, end = draw(
        st.one_of(
            day_range(max_len=120),
            day_range(max_len=60, last_start=300).filter(lambda r: r[0] >= "2025-09-08"),
        )
    )
    service = draw(
        st.sampled_from(["compute", "compute", "compute", "storage", "network", "security"])
    )
    d = {
        "start": start,
        "end": end,
        "service": service,
        "quantity": str(draw(st.integers(1, 10_000))),
        "unit": "card-hour",
        "unit_price": draw(money(1, 10_000)),
        "amount": draw(money()),
    }
    if service == "compute":
        d["device"] = draw(st.sampled_from(["H800", "A800", "Ascend910B", "L20"]))
    return d


@st.composite
def contracts(draw, cid: str) -> dict:
    valid_from, valid_to = draw(day_range(max_len=400, last_start=300))
    signed = draw(st.sampled_from([None, 1, 0, 0, 0, 0, 0, 0, 0, 0]))
    c = {
        "id": cid,
        "supplier": {
            "name": f"供应商{cid}",
            "uscc": draw(st.sampled_from([SUPPLIER_USCC, OTHER_USCC])),
        },
        "valid_from": valid_from,
        "valid_to": valid_to,
        "total_amount": draw(money(0, 10_000_000_000)),
        "relationship": {
            "revenue_or_risk_sharing": draw(st.sampled_from([False] * 7 + [True])),
            "hierarchy": draw(st.sampled_from([False] * 7 + [True])),
        },
        "deliveries": draw(
            st.lists(deliveries(), min_size=draw(st.sampled_from([0, 1, 1, 1])), max_size=5)
        ),
        "invoices": [
            {"number": f"2511200000{i:010d}", "date": "2026-04-01", "amount": a}
            for i, a in enumerate(
                draw(st.lists(money(), min_size=draw(st.sampled_from([0, 1, 1])), max_size=3))
            )
        ],
        "payments": [
            {"date": "2026-04-02", "amount": a} for a in draw(st.lists(money(), max_size=2))
        ],
        "other_subsidies": [
            {"level": lvl, "policy": "某算力补贴", "amount": a, "status": s}
            for lvl, a, s in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(["national", "municipal", "district"]),
                        money(0, 2_000_000_000),
                        st.sampled_from(["granted", "applied"]),
                    ),
                    max_size=2,
                )
            )
        ],
    }
    if signed is not None:
        # mostly signed before the contract starts; sometimes after the application (fails)
        day = min(date.fromisoformat(valid_from), date(2026, 4, 10)) - timedelta(
            draw(st.integers(0, 30))
        )
        c["signed_on"] = (day if signed == 0 else date(2026, 6, 1)).isoformat()
    return c


@st.composite
def applications(draw) -> dict:
    direction = draw(st.sampled_from([1, 2, 3, 4]))
    doc = base_document(direction)
    n = draw(st.sampled_from([0, 1, 1, 1, 2, 3]))
    doc["contracts"] = [draw(contracts(f"C{i + 1}")) for i in range(n)]
    doc["submitted_on"] = "2026-04-10"
    if draw(st.booleans()):
        doc["requested_amount"] = draw(money(0, 4_000_000_000))
    if draw(st.booleans()):
        doc["materials"] = draw(st.lists(st.sampled_from(list(MATERIAL_IDS)), unique=True))
    doc["project"]["ai_field"] = draw(st.sampled_from([True] * 9 + [False]))
    doc["declarations"]["other_municipal_compute_support"] = draw(
        st.sampled_from([False] * 9 + [True])
    )
    holdings = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["P-1", PARENT_USCC, APPLICANT_USCC, SUPPLIER_USCC]),
                st.sampled_from([APPLICANT_USCC, SUPPLIER_USCC, PARENT_USCC, OTHER_USCC]),
            ),
            max_size=3,
        )
    )
    doc["registry"] = {
        "shareholdings": [{"holder": h, "held": d, "ratio": "0.3"} for h, d in holdings if h != d],
        "officers": [],
    }
    return doc
