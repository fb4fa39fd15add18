"""Benchmark: `evaluate` over 10,000 varied applications against `json.load` of the same files.

    python -m benchmarks.bench_evaluate [--count 10000] [--repeat 3]

Prints the time of each step and the ratio evaluate / json.load (goal: ≤ 3×). Parsing
(pydantic validation) is printed too, for information: it is paid once per file read,
while evaluation runs on every self-check and every re-evaluation of a round.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from voucher.policy.engine import evaluate
from voucher.policy.format import parse_application
from voucher.policy.round import get_round
from voucher.policy.uscc import expected_check_character

GOAL = 3.0


def _uscc(rng: random.Random, region: str = "11") -> str:
    body = f"91{region}0108MA{rng.randrange(16**7):07X}".replace("I", "J").replace("O", "P")
    body = body.replace("S", "T").replace("V", "W").replace("Z", "Y")
    return body + expected_check_character(body + "0")


def _day(rng: random.Random, lo: date, hi: date) -> date:
    return lo + timedelta(rng.randrange((hi - lo).days + 1))


def _money(rng: random.Random, hi_yuan: int) -> str:
    return f"{rng.randrange(hi_yuan * 100) / 100:.2f}" if hi_yuan else "0.00"


def make_application(rng: random.Random, index: int) -> dict:
    direction = rng.choice([1, 2, 2, 3, 4, 4])
    applicant = _uscc(rng)
    contracts = []
    for c in range(rng.choice([1, 1, 2, 3, 4])):
        start = _day(rng, date(2025, 6, 1), date(2026, 2, 1))
        deliveries = []
        for _ in range(rng.randint(1, 6)):
            d0 = _day(rng, date(2025, 8, 1), date(2026, 4, 30))
            d1 = d0 + timedelta(rng.randint(0, 60))
            service = rng.choice(["compute"] * 4 + ["storage", "network", "security"])
            line = {
                "start": d0.isoformat(),
                "end": d1.isoformat(),
                "service": service,
                "quantity": str(rng.randint(100, 200000)),
                "unit": "card-hour",
                "unit_price": f"{rng.randint(5, 30)}.00",
                "amount": _money(rng, 3_000_000),
            }
            if service == "compute":
                line["device"] = rng.choice(["H800", "A800", "Ascend910B", "L20", "H20"])
            deliveries.append(line)
        total = sum(float(d["amount"]) for d in deliveries)  # generator only, never in the engine
        contracts.append(
            {
                "id": f"C{c + 1}",
                "supplier": {"name": f"供应商{c}", "uscc": _uscc(rng)},
                "signed_on": (start - timedelta(rng.randint(0, 20))).isoformat(),
                "valid_from": start.isoformat(),
                "valid_to": (start + timedelta(rng.randint(60, 500))).isoformat(),
                "total_amount": f"{total * rng.uniform(1, 12):.2f}",
                "relationship": {
                    "revenue_or_risk_sharing": rng.random() < 0.03,
                    "hierarchy": rng.random() < 0.03,
                },
                "deliveries": deliveries,
                "invoices": [
                    {
                        "number": f"2511200{rng.randrange(10**13):013d}",
                        "date": "2026-04-01",
                        "amount": _money(rng, 4_000_000),
                    }
                    for _ in range(rng.randint(0, 3))
                ],
                "payments": [
                    {"date": "2026-04-02", "amount": _money(rng, 4_000_000)}
                    for _ in range(rng.randint(0, 2))
                ],
                "other_subsidies": [
                    {
                        "level": rng.choice(["national", "municipal", "district"]),
                        "policy": "区级算力补贴",
                        "amount": _money(rng, 500_000),
                        "status": rng.choice(["granted", "applied"]),
                    }
                    for _ in range(rng.choice([0, 0, 0, 1, 2]))
                ],
            }
        )
    shareholdings = []
    if rng.random() < 0.3:
        parent = _uscc(rng)
        shareholdings = [
            {"holder": "P-" + str(rng.randrange(10**6)), "held": parent, "ratio": "1"},
            {"holder": parent, "held": applicant, "ratio": "0.51"},
        ]
        if rng.random() < 0.5:
            shareholdings.append(
                {
                    "holder": shareholdings[0]["holder"],
                    "held": contracts[0]["supplier"]["uscc"],
                    "ratio": "0.2",
                }
            )
    doc = {
        "format": "compute-voucher/application@1",
        "round": "bj-2026",
        "submitted_on": _day(rng, date(2026, 4, 1), date(2026, 4, 30)).isoformat(),
        "direction": direction,
        "applicant": {
            "name": f"北京测试{index}科技有限公司",
            "uscc": applicant,
            "registered_address": rng.choice(
                ["北京市海淀区知春路7号", "北京市朝阳区望京街10号", "天津市滨海新区1号"]
            ),
            "business_address": "北京市海淀区知春路7号",
            "entity_type": "new_rd_institution" if direction == 1 else "enterprise",
            "independent_legal_person": True,
            "industry": rng.choice("IIIICMF"),
            "ai_new_rd_institution": direction == 1,
            "contact": {
                "name": "李四",
                "mobile": "13912345678",
                "address": "北京市海淀区知春路7号",
                "email": "lisi@example.cn",
            },
        },
        "project": {
            "name": "测试项目",
            "start_date": "2025-09-10",
            "overview": "用于基准测试的算力项目。",
            "ai_field": rng.random() < 0.97,
            "topic": rng.choice(["world_model", "embodied_ai", "ai_for_science", "agent"])
            if direction == 1
            else None,
            "miit_2025_list": rng.random() < 0.5,
            "action_plan_aligned": rng.random() < 0.5,
            "open_source": {
                "platform": rng.choice(["modelscope", "oschina", "github"]),
                "url": "https://example.org/p",
                "scenario_aligned": True,
            }
            if direction == 3
            else None,
            "model_filing": {
                "number": f"Beijing-{index}",
                "date": _day(rng, date(2025, 11, 1), date(2026, 3, 1)).isoformat(),
                "kind": rng.choice(["model", "agent"]),
            }
            if direction == 4
            else None,
        },
        "declarations": {
            "other_municipal_compute_support": rng.random() < 0.02,
            "dishonest_entity": False,
        },
        "contracts": contracts,
        "registry": {"shareholdings": shareholdings, "officers": []},
    }
    if rng.random() < 0.5:
        doc["requested_amount"] = _money(rng, 2_000_000)
    if rng.random() < 0.5:
        doc["materials"] = rng.sample(
            list(get_round("bj-2026").required_materials), k=rng.choice([7, 8, 8])
        )
    return doc


def _best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    policy_round = get_round("bj-2026")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.count):
            path = Path(tmp) / f"application-{i:05d}.json"
            path.write_text(
                json.dumps(make_application(rng, i), ensure_ascii=False), encoding="utf-8"
            )
            files.append(path)
        size = sum(p.stat().st_size for p in files)

        def load_all() -> list:
            out = []
            for p in files:
                with p.open(encoding="utf-8") as fh:
                    out.append(json.load(fh))
            return out

        raw = load_all()
        applications = [parse_application(d) for d in raw]
        t_load = _best_of(args.repeat, load_all)
        t_parse = _best_of(args.repeat, lambda: [parse_application(d) for d in raw])
        t_eval = _best_of(args.repeat, lambda: evaluate(applications, policy_round))

    results = evaluate(applications, policy_round)
    outcomes: dict[str, int] = {}
    for ev in results:
        outcomes[ev.outcome] = outcomes.get(ev.outcome, 0) + 1
    contracts = sum(len(a.contracts) for a in applications)
    lines = sum(len(c.deliveries) for a in applications for c in a.contracts)

    n = args.count
    print(
        f"{n} applications, {contracts} contracts, {lines} delivery lines, {size / 1e6:.1f} MB of JSON"
    )
    print(f"outcomes: {outcomes}")
    print(f"{'step':<34}{'total s':>10}{'µs / application':>20}")
    print(f"{'json.load (baseline)':<34}{t_load:>10.3f}{t_load / n * 1e6:>20.1f}")
    print(f"{'parse_application (pydantic)':<34}{t_parse:>10.3f}{t_parse / n * 1e6:>20.1f}")
    print(f"{'evaluate (the engine)':<34}{t_eval:>10.3f}{t_eval / n * 1e6:>20.1f}")
    ratio = t_eval / t_load
    verdict = "meets" if ratio <= GOAL else "MISSES"
    print(f"evaluate / json.load = {ratio:.2f}×  (goal ≤ {GOAL:.0f}×: {verdict})")


if __name__ == "__main__":
    main()
