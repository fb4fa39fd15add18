"""Every rule of RULES.md: pass, fail and review, and every threshold one fen or one day
below, at and above. Tests read as sentences a policy officer can check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voucher.policy.context import EvaluationContext, OtherSubmission
from voucher.policy.engine import evaluate
from voucher.policy.round import PriceBand

from .builders import (
    APPLICANT_USCC,
    BJ_2026,
    OTHER_USCC,
    PARENT_USCC,
    SUPPLIER_USCC,
    base_document,
    build,
    contract,
    delivery,
    finding,
    run,
    statuses,
    subsidy,
    uscc,
)

# --- the applicant ------------------------------------------------------------------------


def test_an_applicant_registered_in_beijing_passes():
    ev = run(base_document())
    assert finding(ev, "APPLICANT_BEIJING").status == "pass"
    assert ev.outcome == "eligible"


def test_an_applicant_registered_outside_beijing_is_ineligible():
    doc = base_document()
    doc["applicant"]["registered_address"] = "上海市浦东新区世纪大道100号"
    ev = run(doc)
    assert finding(ev, "APPLICANT_BEIJING").status == "fail"
    assert ev.outcome == "ineligible"
    assert ev.subsidy.approved_max == 0


def test_a_beijing_address_with_a_non_beijing_uscc_goes_to_review():
    doc = base_document()
    doc["applicant"]["uscc"] = uscc("91310115MA1K4ABC1")
    ev = run(doc)
    f = finding(ev, "APPLICANT_BEIJING")
    assert f.status == "review"
    assert f.values["division_code"] == "310115"
    assert ev.outcome == "needs_review"


def test_a_wrong_uscc_check_character_is_accepted_for_review():
    doc = base_document()
    doc["applicant"]["uscc"] = "91110108MA01C3QX7C"  # right one is B
    ev = run(doc)
    f = finding(ev, "APPLICANT_USCC")
    assert f.status == "review"
    assert f.values["expected_check_character"] == "B"
    assert ev.outcome == "needs_review"


@pytest.mark.parametrize("industry", ["I", "C", "M"])
def test_enterprises_of_the_three_industries_qualify(industry):
    doc = base_document()
    doc["applicant"]["industry"] = industry
    assert finding(run(doc), "APPLICANT_ENTITY").status == "pass"


def test_an_enterprise_of_another_industry_is_ineligible():
    doc = base_document()
    doc["applicant"]["industry"] = "F"  # wholesale and retail
    ev = run(doc)
    assert finding(ev, "APPLICANT_ENTITY").status == "fail"
    assert ev.outcome == "ineligible"


def test_an_enterprise_without_independent_legal_personality_is_ineligible():
    doc = base_document()
    doc["applicant"]["independent_legal_person"] = False
    assert finding(run(doc), "APPLICANT_ENTITY").status == "fail"


def test_a_new_rd_institution_qualifies_whatever_its_industry():
    doc = base_document()
    doc["applicant"].update(
        entity_type="new_rd_institution", industry="P", independent_legal_person=False
    )
    assert finding(run(doc), "APPLICANT_ENTITY").status == "pass"


def test_a_project_outside_ai_is_ineligible():
    doc = base_document()
    doc["project"]["ai_field"] = False
    ev = run(doc)
    assert finding(ev, "AI_DIRECTION").status == "fail"
    assert ev.outcome == "ineligible"


def test_declared_other_municipal_compute_support_is_ineligible():
    doc = base_document()
    doc["declarations"]["other_municipal_compute_support"] = True
    ev = run(doc)
    assert finding(ev, "NO_OTHER_MUNICIPAL_SUPPORT").status == "fail"
    assert ev.outcome == "ineligible"


def test_an_applicant_on_the_municipal_support_list_is_ineligible_even_if_it_declares_none():
    ctx = EvaluationContext(municipal_support_usccs=frozenset({APPLICANT_USCC}))
    ev = run(base_document(), context=ctx)
    assert finding(ev, "NO_OTHER_MUNICIPAL_SUPPORT").status == "fail"


def test_a_granted_municipal_subsidy_on_a_contract_is_pointed_out_to_the_reviewer():
    doc = base_document()
    doc["contracts"][0]["other_subsidies"] = [subsidy("1000.00", level="municipal")]
    ev = run(doc)
    assert finding(ev, "NO_OTHER_MUNICIPAL_SUPPORT", status="info").message
    assert finding(ev, "NO_OTHER_MUNICIPAL_SUPPORT", status="pass")


def test_a_declared_dishonest_entity_is_ineligible():
    doc = base_document()
    doc["declarations"]["dishonest_entity"] = True
    assert finding(run(doc), "CREDIT_RECORD").status == "fail"


def test_an_applicant_on_the_dishonesty_list_is_ineligible():
    ctx = EvaluationContext(dishonest_usccs=frozenset({APPLICANT_USCC}))
    ev = run(base_document(), context=ctx)
    assert finding(ev, "CREDIT_RECORD").status == "fail"
    assert ev.outcome == "ineligible"


# --- one direction per enterprise -------------------------------------------------------------


def _filed(direction: int, on: str, applicant: str = APPLICANT_USCC) -> dict:
    doc = base_document(direction)
    doc["submitted_on"] = on
    doc["applicant"]["uscc"] = applicant
    return doc


def test_the_earliest_application_of_an_enterprise_is_kept_and_the_later_fails():
    first, later = evaluate(
        [build(_filed(2, "2026-04-10")), build(_filed(4, "2026-04-11"))], BJ_2026
    )
    assert finding(first, "ONE_DIRECTION").status == "pass"
    assert finding(later, "ONE_DIRECTION").status == "fail"
    assert later.outcome == "ineligible"
    assert later.subsidy.approved_max == 0


def test_applications_of_one_enterprise_filed_on_the_same_day_all_fail():
    evs = evaluate([build(_filed(2, "2026-04-10")), build(_filed(4, "2026-04-10"))], BJ_2026)
    assert [finding(ev, "ONE_DIRECTION").status for ev in evs] == ["fail", "fail"]


def test_applications_of_different_enterprises_do_not_affect_each_other():
    evs = evaluate(
        [build(_filed(2, "2026-04-10")), build(_filed(4, "2026-04-09", applicant=OTHER_USCC))],
        BJ_2026,
    )
    assert [finding(ev, "ONE_DIRECTION").status for ev in evs] == ["pass", "pass"]


def test_an_earlier_application_stored_outside_the_batch_counts():
    ctx = EvaluationContext(
        other_submissions=[OtherSubmission(APPLICANT_USCC, date_(2026, 4, 1), "SQ-0001")]
    )
    ev = run(_filed(2, "2026-04-10"), context=ctx)
    f = finding(ev, "ONE_DIRECTION")
    assert f.status == "fail"
    assert "SQ-0001" in f.message


def test_a_draft_loses_to_a_submitted_application():
    draft = base_document(4)
    draft.pop("submitted_on")
    submitted, unsent = evaluate([build(_filed(2, "2026-04-10")), build(draft)], BJ_2026)
    assert finding(submitted, "ONE_DIRECTION").status == "pass"
    assert finding(unsent, "ONE_DIRECTION").status == "fail"


def date_(y, m, d):
    from datetime import date

    return date(y, m, d)


# --- the directions -----------------------------------------------------------------------------


def test_direction_1_requires_a_beijing_ai_new_rd_institution():
    doc = base_document(1)
    assert finding(run(doc), "D1_INSTITUTION").status == "pass"
    doc["applicant"]["ai_new_rd_institution"] = False
    ev = run(doc)
    assert finding(ev, "D1_INSTITUTION").status == "fail"
    assert ev.outcome == "ineligible"


def test_direction_1_requires_an_enterprise_to_be_a_new_rd_institution():
    doc = base_document(1)
    doc["applicant"]["entity_type"] = "enterprise"
    assert finding(run(doc), "D1_INSTITUTION").status == "fail"


@pytest.mark.parametrize("topic", ["world_model", "embodied_ai", "ai_for_science", "agent"])
def test_direction_1_accepts_the_four_topics(topic):
    doc = base_document(1)
    doc["project"]["topic"] = topic
    assert finding(run(doc), "D1_TOPIC").status == "pass"


def test_direction_1_without_a_topic_is_ineligible():
    doc = base_document(1)
    doc["project"]["topic"] = None
    assert finding(run(doc), "D1_TOPIC").status == "fail"


def test_direction_2_qualifies_by_the_miit_list_or_the_action_plans():
    doc = base_document(2)
    assert finding(run(doc), "D2_QUALIFICATION").status == "pass"
    # RULES.md v2: alignment with the action plans is a judgment, never a pass on a ticked box
    doc["project"].update(miit_2025_list=False, action_plan_aligned=True)
    assert finding(run(doc), "D2_QUALIFICATION").status == "review"
    doc["project"].update(miit_2025_list=False, action_plan_aligned=False)
    ev = run(doc)
    assert finding(ev, "D2_QUALIFICATION").status == "fail"
    assert ev.outcome == "ineligible"


def _two_contracts_totalling(second_total: str) -> dict:
    doc = base_document(2)
    doc["contracts"] = [
        contract("C1", total="12000000.00"),
        contract("C2", supplier=OTHER_USCC, total=second_total),
    ]
    return doc


@pytest.mark.parametrize(
    ("second", "status"),
    [("7999999.99", "fail"), ("8000000.00", "pass"), ("8000000.01", "pass")],
)
def test_direction_2_contract_total_at_one_fen_below_at_and_above_20_million(second, status):
    ev = run(_two_contracts_totalling(second))
    f = finding(ev, "D2_CONTRACT_TOTAL")
    assert f.status == status
    assert f.values["total"] == Decimal("12000000.00") + Decimal(second)
    assert ev.outcome == ("ineligible" if status == "fail" else "eligible")


def test_direction_2_contract_total_counts_only_contracts_that_pass_every_contract_rule():
    doc = _two_contracts_totalling("8000000.00")
    doc["contracts"][1]["relationship"]["hierarchy"] = True
    ev = run(doc)
    assert finding(ev, "D2_CONTRACT_TOTAL").status == "fail"
    assert finding(ev, "D2_CONTRACT_TOTAL").values["total"] == Decimal("12000000.00")


def test_direction_2_rule_is_not_applied_to_other_directions():
    ev = run(base_document(4))
    assert statuses(ev, "D2_CONTRACT_TOTAL") == []
    assert statuses(ev, "D4_MODEL_FILING") == ["pass"]


def test_direction_3_needs_an_open_source_project_aligned_with_a_plan():
    doc = base_document(3)
    assert finding(run(doc), "D3_QUALIFICATION").status == "pass"
    doc["project"]["open_source"]["scenario_aligned"] = False
    assert finding(run(doc), "D3_QUALIFICATION").status == "fail"
    doc["project"]["action_plan_aligned"] = True
    assert finding(run(doc), "D3_QUALIFICATION").status == "pass"
    doc["project"]["open_source"] = None
    ev = run(doc)
    assert finding(ev, "D3_QUALIFICATION").status == "fail"
    assert finding(ev, "D3_PLATFORM").status == "fail"


@pytest.mark.parametrize("platform", sorted(BJ_2026.d3_platforms))
def test_direction_3_accepts_each_listed_platform(platform):
    doc = base_document(3)
    doc["project"]["open_source"]["platform"] = platform
    assert finding(run(doc), "D3_PLATFORM").status == "pass"


def test_direction_3_on_an_unlisted_platform_is_ineligible():
    doc = base_document(3)
    doc["project"]["open_source"]["platform"] = "github"
    ev = run(doc)
    assert finding(ev, "D3_PLATFORM").status == "fail"
    assert ev.outcome == "ineligible"


@pytest.mark.parametrize(
    ("filed_on", "status"),
    [("2025-12-31", "fail"), ("2026-01-01", "pass"), ("2026-01-02", "pass")],
)
def test_direction_4_model_filing_one_day_before_on_and_after_2026_01_01(filed_on, status):
    doc = base_document(4)
    doc["project"]["model_filing"]["date"] = filed_on
    doc["lists"]["model_filings"][0]["date"] = filed_on
    assert finding(run(doc), "D4_MODEL_FILING").status == status


def test_direction_4_accepts_an_agent_filing_and_refuses_no_filing():
    doc = base_document(4)
    doc["project"]["model_filing"]["kind"] = "agent"
    assert finding(run(doc), "D4_MODEL_FILING").status == "pass"
    doc["project"]["model_filing"] = None
    ev = run(doc)
    assert finding(ev, "D4_MODEL_FILING").status == "fail"
    assert ev.outcome == "ineligible"


# --- contracts ------------------------------------------------------------------------------------


def _one_contract(**kwargs) -> dict:
    doc = base_document(4)  # direction 4 has no contract-total minimum to get in the way
    doc["contracts"] = [contract(**kwargs)]
    return doc


@pytest.mark.parametrize(
    ("signed", "status"), [("2026-04-09", "pass"), ("2026-04-10", "pass"), ("2026-04-11", "fail")]
)
def test_a_contract_must_be_signed_by_the_day_the_application_is_submitted(signed, status):
    ev = run(_one_contract(signed_on=signed))
    assert finding(ev, "CONTRACT_SIGNED", "C1").status == status


def test_a_contract_without_a_signing_date_fails_and_earns_nothing():
    ev = run(_one_contract(signed_on=None))
    assert finding(ev, "CONTRACT_SIGNED", "C1").status == "fail"
    assert ev.contracts[0].subsidy == 0
    assert ev.contracts[0].verified_cost == Decimal("3000000.00")  # still shown to the reviewer
    assert finding(ev, "NO_ELIGIBLE_CONTRACT").status == "fail"
    assert ev.outcome == "ineligible"


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "status"),
    [
        ("2025-01-01", "2025-09-07", "fail"),  # ends the day before the window
        ("2025-01-01", "2025-09-08", "pass"),  # valid on the window's first day only
        ("2025-01-01", "2025-09-09", "pass"),
        ("2026-03-30", "2026-12-31", "pass"),
        ("2026-03-31", "2026-12-31", "pass"),  # valid on the window's last day only
        ("2026-04-01", "2026-12-31", "fail"),  # starts the day after
    ],
)
def test_a_contract_must_be_valid_on_some_day_of_the_window(valid_from, valid_to, status):
    ev = run(_one_contract(valid_from=valid_from, valid_to=valid_to, signed_on="2024-12-31"))
    assert finding(ev, "CONTRACT_PERIOD", "C1", status=status)


@pytest.mark.parametrize(
    ("day", "counted"),
    [
        ("2025-09-07", "0.00"),
        ("2025-09-08", "1000.00"),
        ("2025-09-09", "1000.00"),
        ("2026-03-30", "1000.00"),
        ("2026-03-31", "1000.00"),
        ("2026-04-01", "0.00"),
    ],
)
def test_a_one_day_delivery_counts_only_inside_the_window(day, counted):
    doc = _one_contract(deliveries=[delivery(day, day, "1000.00")], invoiced="1000.00", paid=None)
    ev = run(doc)
    assert ev.contracts[0].delivered == Decimal(counted)
    if counted == "0.00":
        assert finding(ev, "CONTRACT_PERIOD", "C1", status="info").values["excluded"] == Decimal(
            "1000.00"
        )


def test_a_delivery_straddling_the_window_start_is_pro_rated_by_whole_days():
    # 2025-09-01..30 is 30 days, 23 of them from 09-08: 3,000,000 × 23 / 30
    doc = _one_contract(deliveries=[delivery("2025-09-01", "2025-09-30", "3000000.00")])
    assert run(doc).contracts[0].delivered == Decimal("2300000.00")


def test_a_delivery_straddling_the_window_end_is_pro_rated_by_whole_days():
    # 2026-03-01..04-30 is 61 days, 31 of them in March: 1,220,000 × 31 / 61
    doc = _one_contract(
        deliveries=[delivery("2026-03-01", "2026-04-30", "1220000.00")], invoiced="1220000.00"
    )
    assert run(doc).contracts[0].delivered == Decimal("620000.00")


def test_a_delivery_is_pro_rated_to_the_contract_validity_not_only_the_window():
    # contract ends 2025-10-15: 15 of the 31 October days count
    doc = _one_contract(
        valid_to="2025-10-15", deliveries=[delivery("2025-10-01", "2025-10-31", "3100.00")]
    )
    assert run(doc).contracts[0].delivered == Decimal("1500.00")


@pytest.mark.parametrize(
    ("amount", "share"), [("0.03", "0.02"), ("0.01", "0.01"), ("0.05", "0.03")]
)
def test_pro_rating_rounds_half_up_to_the_fen(amount, share):
    # two-day record, one day inside: exactly half, a tie decided upwards
    doc = _one_contract(deliveries=[delivery("2025-09-07", "2025-09-08", amount)], invoiced="1.00")
    assert run(doc).contracts[0].delivered == Decimal(share)


def test_a_contract_without_invoice_or_payment_fails_evidence():
    ev = run(_one_contract(invoiced=None, paid=None))
    assert finding(ev, "EVIDENCE", "C1").status == "fail"
    assert ev.contracts[0].evidenced == 0
    assert ev.contracts[0].subsidy == 0


@pytest.mark.parametrize(
    ("invoiced", "paid", "evidenced"),
    [
        ("100.00", None, "100.00"),
        (None, "200.00", "200.00"),
        ("300.00", "250.00", "300.00"),
        ("250.00", "300.00", "300.00"),
    ],
)
def test_invoices_or_payments_evidence_the_cost_whichever_is_larger(invoiced, paid, evidenced):
    ev = run(_one_contract(invoiced=invoiced, paid=paid))
    assert finding(ev, "EVIDENCE", "C1").status == "pass"
    assert ev.contracts[0].evidenced == Decimal(evidenced)
    assert ev.contracts[0].verified_cost == Decimal(evidenced)  # delivered is 3,000,000


def test_storage_network_and_security_count_nothing_and_are_reported():
    deliveries = [delivery(amount="1000.00")] + [
        delivery(amount="500.00", service=s, device=None)
        for s in ("storage", "network", "security")
    ]
    ev = run(_one_contract(deliveries=deliveries))
    assert ev.contracts[0].delivered == Decimal("1000.00")
    assert finding(ev, "COMPUTE_ONLY", "C1").values["excluded"] == Decimal("1500.00")


def test_a_flagged_device_counts_nothing_and_is_reported():
    rnd = BJ_2026.with_overrides(flagged_devices={"h20": "某部委2026年第1号公告"})
    deliveries = [
        delivery(amount="1000.00", device="H800"),
        delivery(amount="700.00", device="h 20"),
    ]
    ev = run(_one_contract(deliveries=deliveries), rnd)
    assert ev.contracts[0].delivered == Decimal("1000.00")
    f = finding(ev, "FLAGGED_DEVICE", "C1")
    assert f.status == "info"
    assert f.values["excluded"] == Decimal("700.00")


@pytest.mark.parametrize(
    ("price", "status"),
    [
        ("7.99", "review"),
        ("8.00", "pass"),
        ("8.01", "pass"),
        ("19.99", "pass"),
        ("20.00", "pass"),
        ("20.01", "review"),
    ],
)
def test_unit_prices_outside_the_band_go_to_review_at_one_fen_past_each_edge(price, status):
    band = PriceBand("H800", "card-hour", Decimal("8.00"), Decimal("20.00"))
    rnd = BJ_2026.with_overrides(unit_price_bands={("h800", "card-hour"): band})
    doc = _one_contract(deliveries=[delivery(amount="1000.00", unit_price=price, unit="card-hour")])
    ev = run(doc, rnd)
    assert finding(ev, "UNIT_PRICE", "C1").status == status
    assert ev.contracts[0].subsidy > 0  # review never excludes the contract


def test_a_round_without_price_bands_checks_no_unit_price():
    assert statuses(run(base_document()), "UNIT_PRICE") == []


# --- the supplier must not be related ------------------------------------------------------------


def _with_registry(shareholdings=(), officers=()) -> dict:
    doc = _one_contract()
    doc["registry"] = {"shareholdings": list(shareholdings), "officers": list(officers)}
    return doc


def _holds(holder, held, ratio="0.5"):
    return {"holder": holder, "held": held, "ratio": ratio}


def test_an_applicant_holding_the_supplier_directly_excludes_the_contract():
    ev = run(_with_registry([_holds(APPLICANT_USCC, SUPPLIER_USCC, "0.0001")]))
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "fail"
    assert ev.contracts[0].subsidy == 0
    assert ev.outcome == "ineligible"  # it was the only contract


def test_a_supplier_holding_the_applicant_through_a_chain_of_three_excludes_the_contract():
    a, b = uscc("91110105MA0AAAAA1"), uscc("91110105MA0BBBBB2")
    ev = run(_with_registry([_holds(SUPPLIER_USCC, a), _holds(a, b), _holds(b, APPLICANT_USCC)]))
    f = finding(ev, "SUPPLIER_EQUITY", "C1")
    assert f.status == "fail"
    assert f.values["path"] == [SUPPLIER_USCC, a, b, APPLICANT_USCC]
    assert f.values["effective_ratio"] == Decimal("0.125")


def test_a_cycle_in_the_registry_does_not_hang_the_search():
    a = uscc("91110105MA0AAAAA1")
    ev = run(_with_registry([_holds(a, PARENT_USCC), _holds(PARENT_USCC, a)]))
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "pass"


def test_a_common_shareholder_sends_the_contract_to_review_with_both_paths():
    ev = run(
        _with_registry(
            [
                _holds("P-7788", PARENT_USCC, "1"),
                _holds(PARENT_USCC, APPLICANT_USCC, "0.51"),
                _holds("P-7788", SUPPLIER_USCC, "0.2"),
            ]
        )
    )
    f = finding(ev, "SUPPLIER_EQUITY", "C1")
    assert f.status == "review"
    assert f.values["path_to_applicant"] == ["P-7788", PARENT_USCC, APPLICANT_USCC]
    assert f.values["path_to_supplier"] == ["P-7788", SUPPLIER_USCC]
    assert ev.contracts[0].subsidy > 0
    assert ev.outcome == "needs_review"


def test_a_state_asset_body_held_in_common_does_not_relate_two_enterprises():
    sasac = uscc("11110000MB0XAXAC1")
    rnd = BJ_2026.with_overrides(state_asset_holders=frozenset({sasac}))
    doc = _with_registry([_holds(sasac, APPLICANT_USCC), _holds(sasac, SUPPLIER_USCC)])
    assert finding(run(doc, rnd), "SUPPLIER_EQUITY", "C1").status == "pass"
    assert finding(run(doc), "SUPPLIER_EQUITY", "C1").status == "review"


def test_a_supplier_that_is_the_applicant_itself_fails():
    ev = run(_one_contract(supplier=APPLICANT_USCC))
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "fail"


def test_the_registry_kept_by_the_system_is_searched_too():
    from voucher.policy.format import Shareholding

    ctx = EvaluationContext(
        shareholdings=[Shareholding.model_validate(_holds(SUPPLIER_USCC, APPLICANT_USCC))]
    )
    assert finding(run(_one_contract(), context=ctx), "SUPPLIER_EQUITY", "C1").status == "fail"


def test_one_person_as_officer_of_both_excludes_the_contract():
    officers = [
        {"person": "P-1", "company": APPLICANT_USCC, "role": "director"},
        {"person": "P-1", "company": SUPPLIER_USCC, "role": "legal_representative"},
    ]
    ev = run(_with_registry(officers=officers))
    f = finding(ev, "SUPPLIER_PERSONNEL", "C1")
    assert f.status == "fail"
    assert f.values["persons"] == ["P-1"]


def test_different_officers_at_each_side_pass():
    officers = [
        {"person": "P-1", "company": APPLICANT_USCC, "role": "director"},
        {"person": "P-2", "company": SUPPLIER_USCC, "role": "director"},
    ]
    assert (
        finding(run(_with_registry(officers=officers)), "SUPPLIER_PERSONNEL", "C1").status == "pass"
    )


@pytest.mark.parametrize(
    ("declared", "rule"),
    [("revenue_or_risk_sharing", "SUPPLIER_AGREEMENTS"), ("hierarchy", "SUPPLIER_HIERARCHY")],
)
def test_a_declared_agreement_or_hierarchy_with_the_supplier_excludes_the_contract(declared, rule):
    doc = _one_contract()
    assert finding(run(doc), rule, "C1").status == "pass"
    doc["contracts"][0]["relationship"][declared] = True
    ev = run(doc)
    assert finding(ev, rule, "C1").status == "fail"
    assert ev.contracts[0].subsidy == 0


def test_a_failing_contract_is_excluded_but_the_others_still_count():
    doc = base_document(4)
    doc["contracts"] = [contract("C1"), contract("C2", supplier=OTHER_USCC)]
    doc["contracts"][0]["relationship"]["hierarchy"] = True
    ev = run(doc)
    assert [c.subsidy for c in ev.contracts] == [Decimal("0.00"), Decimal("300000.00")]
    assert ev.outcome == "eligible"
    assert ev.subsidy.approved_max == Decimal("300000.00")


# --- the amounts ------------------------------------------------------------------------------------


def _cost(verified: str, direction: int = 2, others=(), requested: str | None = None) -> dict:
    doc = base_document(direction)
    doc["contracts"] = [
        contract(
            total="90000000.00",
            deliveries=[delivery("2025-10-01", "2025-10-31", verified)],
            invoiced=verified,
            paid=verified,
            other_subsidies=list(others),
        )
    ]
    if requested is not None:
        doc["requested_amount"] = requested
    return doc


@pytest.mark.parametrize(
    ("other", "rate_limit", "stacking_limit", "paid"),
    [
        ("899999.99", "600000.00", "600000.01", "600000.00"),
        ("900000.00", "600000.00", "600000.00", "600000.00"),
        ("900000.01", "600000.00", "599999.99", "599999.99"),
        ("1500000.00", "600000.00", "0.00", "0.00"),
        ("1500000.01", "600000.00", "0.00", "0.00"),
    ],
)
def test_all_public_funding_on_a_contract_stays_within_half_the_verified_cost(
    other, rate_limit, stacking_limit, paid
):
    ev = run(_cost("3000000.00", others=[subsidy(other, status="applied")]))
    c = ev.contracts[0]
    assert (c.rate_limit, c.stacking_limit, c.subsidy) == (
        Decimal(rate_limit),
        Decimal(stacking_limit),
        Decimal(paid),
    )
    binding = "STACKING_CAP" if Decimal(stacking_limit) < Decimal(rate_limit) else "RATE_CAP"
    assert finding(ev, binding, "C1").status == "info"


def test_subsidies_granted_and_applied_at_every_level_all_count_toward_the_50_percent():
    others = [
        subsidy("400000.00", "national", "granted"),
        subsidy("300000.00", "district", "applied"),
        subsidy("250000.00", "municipal", "applied"),
    ]
    c = run(_cost("3000000.00", others=others)).contracts[0]
    assert c.stacking_limit == Decimal("550000.00")
    assert c.subsidy == Decimal("550000.00")


@pytest.mark.parametrize(
    ("direction", "verified", "computed", "approved"),
    [
        (1, "59999999.98", "29999999.99", "29999999.99"),
        (1, "60000000.00", "30000000.00", "30000000.00"),
        (1, "60000000.02", "30000000.01", "30000000.00"),
        (2, "24999999.95", "4999999.99", "4999999.99"),
        (2, "25000000.00", "5000000.00", "5000000.00"),
        (2, "25000000.05", "5000000.01", "5000000.00"),
        (3, "4999999.95", "999999.99", "999999.99"),
        (3, "5000000.00", "1000000.00", "1000000.00"),
        (3, "5000000.05", "1000000.01", "1000000.00"),
        (4, "2999999.90", "299999.99", "299999.99"),
        (4, "3000000.00", "300000.00", "300000.00"),
        (4, "3000000.10", "300000.01", "300000.00"),
    ],
)
def test_each_direction_amount_cap_one_fen_below_at_and_above(
    direction, verified, computed, approved
):
    ev = run(_cost(verified, direction))
    assert ev.outcome == "eligible"
    assert ev.subsidy.computed == Decimal(computed)
    assert ev.subsidy.cap == BJ_2026.directions[direction].amount_cap
    assert ev.subsidy.approved_max == Decimal(approved)
    assert statuses(ev, "AMOUNT_CAP") == (["info"] if computed != approved else [])


def test_the_cap_binds_across_several_contracts():
    doc = base_document(4)
    doc["contracts"] = [
        contract("C1", deliveries=[delivery(amount="2000000.00")], invoiced="2000000.00"),
        contract(
            "C2",
            supplier=OTHER_USCC,
            deliveries=[delivery(amount="2000000.00")],
            invoiced="2000000.00",
        ),
    ]
    ev = run(doc)
    assert ev.subsidy.computed == Decimal("400000.00")
    assert ev.subsidy.approved_max == Decimal("300000.00")


@pytest.mark.parametrize(
    ("requested", "approved"),
    [("599999.99", "599999.99"), ("600000.00", "600000.00"), ("600000.01", "600000.00")],
)
def test_the_requested_amount_bounds_the_approval(requested, approved):
    ev = run(_cost("3000000.00", requested=requested))
    assert ev.subsidy.requested == Decimal(requested)
    assert ev.subsidy.approved_max == Decimal(approved)
    assert statuses(ev, "REQUESTED") == (["info"] if requested == "599999.99" else [])


def test_a_contract_subsidy_is_rounded_down_to_the_fen():
    # 10 % of 456,789.12 is 45,678.912
    ev = run(_cost("456789.12", direction=4))
    assert ev.contracts[0].rate_limit == Decimal("45678.912")
    assert ev.contracts[0].subsidy == Decimal("45678.91")
    assert ev.contracts[0].to_json()["rate_limit"] == "45678.91"


def test_verified_cost_is_the_smaller_of_delivered_and_evidenced():
    doc = _cost("3000000.00")
    doc["contracts"][0]["invoices"][0]["amount"] = "2500000.00"
    doc["contracts"][0]["payments"][0]["amount"] = "2400000.00"
    c = run(doc).contracts[0]
    assert (c.delivered, c.evidenced, c.verified_cost) == (
        Decimal("3000000.00"),
        Decimal("2500000.00"),
        Decimal("2500000.00"),
    )


def test_no_contract_at_all_is_ineligible():
    doc = base_document(4)
    doc["contracts"] = []
    ev = run(doc)
    assert finding(ev, "NO_ELIGIBLE_CONTRACT").status == "fail"
    assert ev.subsidy.approved_max == 0


def test_a_contract_with_nothing_delivered_in_the_window_is_not_an_eligible_contract():
    doc = _one_contract(deliveries=[delivery("2025-08-01", "2025-08-31", "1000.00")])
    ev = run(doc)
    assert ev.contracts[0].verified_cost == 0
    assert finding(ev, "NO_ELIGIBLE_CONTRACT").status == "fail"


# --- the outcome ----------------------------------------------------------------------------------

ALL_MATERIALS = list(BJ_2026.required_materials)


def test_a_missing_material_makes_an_otherwise_eligible_application_incomplete():
    doc = base_document()
    doc["materials"] = ALL_MATERIALS[:-1]
    ev = run(doc)
    assert ev.outcome == "incomplete"
    assert ev.missing_materials == ["commitment_letter"]
    assert "承诺书" in finding(ev, "MATERIALS").message
    assert ev.subsidy.approved_max > 0


def test_all_materials_present_is_eligible_and_absent_list_is_not_checked():
    doc = base_document()
    doc["materials"] = ALL_MATERIALS
    assert run(doc).outcome == "eligible"
    doc.pop("materials")
    assert run(doc).outcome == "eligible"
    assert statuses(run(doc), "MATERIALS") == []


def test_review_comes_before_incomplete_and_ineligible_before_review():
    doc = base_document()
    doc["materials"] = []
    doc["applicant"]["uscc"] = "91110108MA01C3QX7C"
    assert run(doc).outcome == "needs_review"
    doc["project"]["ai_field"] = False
    assert run(doc).outcome == "ineligible"


def test_every_finding_names_a_rule_of_the_registry_and_a_known_clause():
    from voucher.policy.clauses import CLAUSES, clause_ids
    from voucher.policy.rules import RULES

    ev = run(_with_registry([_holds(APPLICANT_USCC, SUPPLIER_USCC)]))
    for f in ev.findings:
        assert f.rule in RULES
        assert f.clause == RULES[f.rule].clause
        assert all(cid in CLAUSES for cid in clause_ids(f.clause))
        assert f.message


def test_a_registry_source_is_asked_about_the_applicant_and_every_supplier_with_the_inline_extract():
    from voucher.policy.relations import RelatedPartyIndex

    asked = []

    class Store:
        def related_parties(
            self, companies, extra_shareholdings, extra_officers, extra_companies=None
        ):
            asked.append((list(companies), len(extra_shareholdings)))
            from voucher.policy.format import Shareholding

            stored = [Shareholding.model_validate(_holds(PARENT_USCC, SUPPLIER_USCC))]
            return RelatedPartyIndex([*stored, *extra_shareholdings], extra_officers)

    # the stored record (parent holds supplier) and the inline one (parent holds applicant)
    # make a common holder only together
    doc = _with_registry([_holds(PARENT_USCC, APPLICANT_USCC)])
    ev = run(doc, context=EvaluationContext(registry=Store()))
    assert asked == [([APPLICANT_USCC, SUPPLIER_USCC], 1)]
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "review"


def test_evaluation_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    run(base_document())
    assert gc.isenabled()
    gc.disable()
    try:
        run(base_document())
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(AttributeError):
        evaluate([object()], BJ_2026)  # type: ignore[list-item]
    assert gc.isenabled()


# --- fail closed: no evidence is never "no relation" (RULES.md v2) ----------------------------


def _store(covered, truncated=False, holdings=()):
    from voucher.policy.format import Shareholding
    from voucher.policy.relations import RelatedPartyIndex

    class Store:
        def related_parties(
            self, companies, extra_shareholdings, extra_officers, extra_companies=None
        ):
            index = RelatedPartyIndex(
                [Shareholding.model_validate(h) for h in holdings], extra_officers
            )
            index.covered = covered
            index.truncated = truncated
            return index

    return EvaluationContext(registry=Store())


def test_a_supplier_the_registry_has_no_record_of_is_for_review_not_a_pass():
    ev = run(base_document(), context=_store(frozenset({APPLICANT_USCC})))
    for rule in ("SUPPLIER_EQUITY", "SUPPLIER_PERSONNEL"):
        found = finding(ev, rule, "C1")
        assert found.status == "review", found
        assert found.values["not_in_registry"] == [SUPPLIER_USCC]
        assert "not in the registry" in found.message


def test_a_registry_that_names_both_parties_and_no_relation_passes():
    ev = run(base_document(), context=_store(frozenset({APPLICANT_USCC, SUPPLIER_USCC})))
    assert statuses(ev, "SUPPLIER_EQUITY") == ["pass"]
    assert statuses(ev, "SUPPLIER_PERSONNEL") == ["pass"]


def test_a_registry_that_names_no_companies_is_judged_on_what_it_gives():
    assert statuses(run(base_document(), context=_store(None)), "SUPPLIER_EQUITY") == ["pass"]


def test_a_search_cut_short_is_for_review_never_a_pass():
    both = frozenset({APPLICANT_USCC, SUPPLIER_USCC})
    ev = run(base_document(), context=_store(both, truncated=True))
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "review"
    assert finding(ev, "SUPPLIER_PERSONNEL", "C1").values["truncated"] is True


def test_a_chain_found_in_a_search_cut_short_still_fails():
    both = frozenset({APPLICANT_USCC, SUPPLIER_USCC})
    context = _store(both, truncated=True, holdings=[_holds(APPLICANT_USCC, SUPPLIER_USCC)])
    assert finding(run(base_document(), context=context), "SUPPLIER_EQUITY", "C1").status == "fail"


@pytest.mark.parametrize("typed", ["Ｈ２０", " h20 ", "H 2 0", "ｈ２０"])
def test_a_flagged_device_typed_full_width_or_spaced_is_the_same_device(typed):
    """RULES.md v2: device names compare after NFKC, trimming and case folding."""
    from voucher.policy.round import device_key

    assert device_key(typed) == device_key("H20") == "h20"
    rnd = BJ_2026.with_overrides(flagged_devices={"h20": "某部委2026年第1号公告"})
    deliveries = [
        delivery(amount="1000.00", device="H800"),
        delivery(amount="700.00", device=typed),
    ]
    ev = run(_one_contract(deliveries=deliveries), rnd)
    assert ev.contracts[0].delivered == Decimal("1000.00")
    assert finding(ev, "FLAGGED_DEVICE", "C1").values["excluded"] == Decimal("700.00")
