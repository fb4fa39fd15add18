"""The related-party questions over the stored registry, through the engine's code path."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from voucher.policy.format import Officer, Shareholding
from voucher.policy.uscc import expected_check_character
from voucher.registry.models import Company
from voucher.registry.models import Officer as OfficerRow
from voucher.registry.models import Shareholding as HoldingRow
from voucher.registry.queries import (
    common_shareholders,
    ownership,
    relation,
    shared_key_persons,
)
from voucher.registry.store import StoredRegistry

pytestmark = pytest.mark.django_db


def code(n: int) -> str:
    body = f"91110000MA{n:07d}"
    return body + expected_check_character(body)


A, B, C, D, E, F, G = (code(i) for i in range(1, 8))


def companies(*usccs: str) -> None:
    Company.objects.bulk_create(Company(uscc=u, name=f"企业{u[-4:]}") for u in usccs)


def hold(holder: str, held: str, ratio: str) -> None:
    HoldingRow.objects.create(holder=holder, held=held, ratio=Decimal(ratio))


def officer(person: str, company: str, role: str) -> None:
    OfficerRow.objects.create(person=person, company=company, role=role)


def test_a_cycle_a_holds_b_holds_a_is_found_and_the_search_ends():
    companies(A, B, C)
    hold(A, B, "0.6")
    hold(B, A, "0.3")
    rel = relation(A, B)
    assert rel.equity == "fail"
    assert rel.paths == [[A, B]]
    assert relation(A, C).equity == "pass"  # a search through the cycle terminates
    assert relation(C, A).equity == "pass"


def test_a_six_hop_chain_fails_either_way_with_the_product_of_ratios():
    chain = [code(100 + i) for i in range(7)]
    companies(*chain)
    for top, bottom in itertools.pairwise(chain):
        hold(top, bottom, "0.5")
    for a, b in ((chain[0], chain[6]), (chain[6], chain[0])):
        rel = relation(a, b)
        assert rel.equity == "fail"
        assert rel.paths == [chain]
        assert rel.ownership is not None
        assert rel.ownership.top == chain[0]
        assert rel.ownership.ratio == Decimal("0.015625")  # 0.5 ** 6, exactly


def test_the_effective_ratio_sums_over_every_path():
    companies(A, B, C, D)
    hold(A, B, "0.5")
    hold(A, C, "0.4")
    hold(B, D, "0.2")
    hold(C, D, "0.5")
    found = ownership(A, D)
    assert found is not None
    assert [len(p) for p in found.paths] == [2, 2]
    assert found.ratio == Decimal("0.30")  # 0.5 × 0.2 + 0.4 × 0.5


def test_a_person_shareholder_common_to_both_is_for_review_with_both_paths():
    companies(A, B, C)
    hold("P-7788", C, "1")
    hold(C, A, "0.51")
    hold("P-7788", B, "0.2")
    rel = relation(A, B)
    assert rel.equity == "review"
    (holder, to_a, to_b) = common_shareholders(A, B)[0]
    assert holder == "P-7788"
    assert [h.held for h in to_a] == [C, A]
    assert [h.held for h in to_b] == [B]
    assert rel.paths == [[A, C, "P-7788", B]]


def test_common_shareholders_come_nearest_first_and_state_asset_holders_are_left_out():
    companies(A, B, C, D)
    hold(C, D, "1")
    hold(D, A, "0.3")
    hold(D, B, "0.3")
    hold("P-1", A, "0.1")
    hold("P-1", B, "0.1")
    # D and P-1 are both one step above each; C is two: nearest first, then by id
    assert [h for h, _, _ in common_shareholders(A, B)] == [D, "P-1", C]
    assert relation(A, B, excluded=frozenset({"P-1", D, C})).equity == "pass"


def test_a_director_of_one_who_is_legal_representative_of_the_other_fails():
    companies(A, B)
    officer("P-9", A, "director")
    officer("P-9", B, "legal_representative")
    rel = relation(A, B)
    assert rel.personnel == "fail"
    assert shared_key_persons(A, B) == [("P-9", "director", "legal_representative")]


def test_a_director_of_one_who_is_an_ordinary_employee_of_the_other_passes():
    companies(A, B)
    officer("P-9", A, "director")
    officer("P-9", B, "other")
    assert relation(A, B).personnel == "pass"
    assert shared_key_persons(A, B) == []


def test_a_ratio_of_one_in_ten_thousand_is_still_a_holding():
    companies(A, B)
    hold(A, B, "0.0001")
    rel = relation(B, A)
    assert rel.equity == "fail"
    assert rel.ownership is not None
    assert rel.ownership.ratio == Decimal("0.0001")


def test_a_chain_mixing_stored_and_inline_holdings_is_found():
    companies(A, B, C, D)
    hold(A, C, "0.9")  # stored: A → C
    hold(D, B, "0.9")  # stored: D → B
    inline = [Shareholding(holder=C, held=D, ratio="0.5")]  # the application says C → D
    index = StoredRegistry().related_parties([A, B], inline, [])
    path = index.ownership_path(A, B)
    assert path is not None
    assert [h.held for h in path] == [C, D, B]
    inline_officers = [Officer(person="P-5", company=B, role="executive")]
    officer("P-5", A, "supervisor")
    index = StoredRegistry().related_parties([A, B], [], inline_officers)
    assert index.shared_officers(A, B) == [("P-5", "supervisor", "executive")]


def test_the_view_is_bounded_and_says_when_it_was_cut():
    companies(A, B, C, D, E, F, G)
    for top, bottom in ((C, A), (D, C), (E, D), (F, E), (G, F)):
        hold(top, bottom, "0.5")
    assert not StoredRegistry().related_parties([A, B]).truncated
    small = StoredRegistry(max_edges=3).related_parties([A, B])
    assert small.truncated
    assert len(small.edges()) == 3


def test_relation_command_prints_json_with_the_verdicts_and_the_paths(capsys):
    companies(A, B, C)
    hold(A, C, "1")
    hold(C, B, "0.25")
    officer("P-1", A, "executive")
    officer("P-1", B, "supervisor")
    call_command("registry", "relation", A, B, "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["equity"] == "fail"
    assert out["personnel"] == "fail"
    assert out["paths"] == [[A, C, B]]
    assert out["ownership"]["effective_ratio"] == "0.25"
    call_command("registry", "relation", B, A)
    text = capsys.readouterr().out
    assert "不通过 (fail)" in text
    assert f"{A} →100%→ {C} →25%→ {B}" in text
