"""RULES.md v2, fail closed: declarations pass only when found on their official list, and a
registry extract that names the companies it covers vouches for no one outside them."""

from __future__ import annotations

from datetime import date

import pytest

from voucher.policy.context import EvaluationContext
from voucher.policy.format import FormatError, dump_application, parse_application
from voucher.policy.lists import ListedEntry, OfficialLists, filing_key

from .builders import APPLICANT_USCC, OTHER_USCC, SUPPLIER_USCC, base_document, build, finding, run


def _stored(kind: str, key: str, *, row: int = 7, filed_on: date | None = None):
    entry = ListedEntry(kind, "北京市科委 2026-03 公布", date(2026, 3, 1), row, filed_on=filed_on)
    return EvaluationContext(official_lists=OfficialLists.build([kind], [(kind, key, entry)]))


def _empty(kind: str) -> EvaluationContext:
    return EvaluationContext(official_lists=OfficialLists.build([kind], []))


# --- D1_INSTITUTION ---------------------------------------------------------------------------


def test_a_declared_institution_on_the_files_list_passes_and_names_the_list():
    found = finding(run(base_document(1)), "D1_INSTITUTION")
    assert found.status == "pass"
    assert found.values["list"] == "ai_new_rd_institutions"
    assert "新型研发机构名单" in found.message


def test_a_declared_institution_with_no_list_loaded_is_review_not_pass():
    doc = base_document(1)
    del doc["lists"]
    ev = run(doc)
    found = finding(ev, "D1_INSTITUTION")
    assert found.status == "review"
    assert found.values["on_list"] is None
    assert "no official list" in found.message
    assert ev.outcome == "needs_review"


def test_a_declared_institution_missing_from_the_list_in_force_is_review():
    doc = base_document(1)
    doc["lists"]["ai_new_rd_institutions"] = [OTHER_USCC]
    found = finding(run(doc), "D1_INSTITUTION")
    assert (found.status, found.values["on_list"]) == ("review", False)


def test_an_empty_stored_list_is_loaded_and_matches_no_one():
    doc = base_document(1)
    del doc["lists"]
    found = finding(run(doc, context=_empty("ai_new_rd_institutions")), "D1_INSTITUTION")
    assert (found.status, found.values["on_list"]) == ("review", False)


def test_a_stored_list_match_gives_the_list_source_date_and_row():
    doc = base_document(1)
    del doc["lists"]
    ev = run(doc, context=_stored("ai_new_rd_institutions", APPLICANT_USCC, row=12))
    found = finding(ev, "D1_INSTITUTION")
    assert found.status == "pass"
    assert found.values["list_row"] == 12
    assert found.values["list_as_of"] == date(2026, 3, 1)
    assert "北京市科委 2026-03 公布" in found.message and "第 12 行" in found.message
    assert ev.outcome == "eligible"


def test_an_undeclared_institution_fails_whatever_the_list_says():
    doc = base_document(1)
    doc["applicant"]["ai_new_rd_institution"] = False
    assert finding(run(doc), "D1_INSTITUTION").status == "fail"


# --- D1_TOPIC ---------------------------------------------------------------------------------


def test_topic_other_with_its_note_is_a_judgment():
    doc = base_document(1)
    doc["project"].update(topic="other", topic_note="类脑智能")
    found = finding(run(doc), "D1_TOPIC")
    assert found.status == "review"
    assert found.values["topic_note"] == "类脑智能"


def test_topic_other_without_a_note_is_an_input_error_naming_the_field():
    doc = base_document(1)
    doc["project"]["topic"] = "other"
    with pytest.raises(FormatError) as caught:
        parse_application(doc)
    assert [p for p, _ in caught.value.problems] == ["project.topic_note"]


def test_no_topic_fails():
    doc = base_document(1)
    doc["project"]["topic"] = None
    assert finding(run(doc), "D1_TOPIC").status == "fail"


# --- D2_QUALIFICATION -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "status"),
    [([APPLICANT_USCC], "pass"), ([OTHER_USCC], "review"), ([], "review"), (None, "review")],
)
def test_the_miit_declaration_passes_only_on_the_list(listed, status):
    doc = base_document(2)
    if listed is None:
        del doc["lists"]
    else:
        doc["lists"]["miit_2025_list"] = listed
    assert finding(run(doc), "D2_QUALIFICATION").status == status


def test_the_stored_miit_list_is_used_when_the_file_carries_none():
    doc = base_document(2)
    del doc["lists"]
    found = finding(run(doc, context=_stored("miit_2025_list", APPLICANT_USCC)), "D2_QUALIFICATION")
    assert found.status == "pass" and found.values["list_row"] == 7


def test_action_plan_alignment_alone_is_review():
    doc = base_document(2)
    doc["project"].update(miit_2025_list=False, action_plan_aligned=True)
    assert finding(run(doc), "D2_QUALIFICATION").status == "review"


# --- D4_MODEL_FILING --------------------------------------------------------------------------


def test_a_filing_on_the_list_with_its_date_passes():
    assert finding(run(base_document(4)), "D4_MODEL_FILING").status == "pass"


def test_a_filing_number_is_matched_after_nfkc_spaces_and_case():
    doc = base_document(4)
    doc["lists"]["model_filings"] = [{"number": "beijing - 1", "date": "2026-02-15"}]
    assert filing_key("ＢＥＩＪＩＮＧ-１") == filing_key("beijing - 1") == "beijing-1"
    assert finding(run(doc), "D4_MODEL_FILING").status == "pass"


def test_a_filing_listed_with_another_date_is_review_showing_both_dates():
    doc = base_document(4)
    doc["lists"]["model_filings"][0]["date"] = "2026-02-16"
    found = finding(run(doc), "D4_MODEL_FILING")
    assert found.status == "review"
    assert found.values["listed_date"] == date(2026, 2, 16)
    assert "2026-02-16" in found.message


@pytest.mark.parametrize("lists", [{"model_filings": []}, {}])
def test_a_filing_not_on_the_list_or_with_no_list_loaded_is_review(lists):
    doc = base_document(4)
    doc["lists"] = lists
    assert finding(run(doc), "D4_MODEL_FILING").status == "review"


def test_a_stored_filing_list_matches_by_number_and_date():
    doc = base_document(4)
    del doc["lists"]
    ctx = _stored("model_filings", filing_key("Beijing-1"), filed_on=date(2026, 2, 15))
    assert finding(run(doc, context=ctx), "D4_MODEL_FILING").status == "pass"


def test_a_filing_before_2026_fails_even_when_listed():
    doc = base_document(4)
    doc["project"]["model_filing"]["date"] = "2025-12-31"
    doc["lists"]["model_filings"][0]["date"] = "2025-12-31"
    assert finding(run(doc), "D4_MODEL_FILING").status == "fail"


# --- the format -------------------------------------------------------------------------------


def test_lists_and_registry_companies_survive_a_round_trip():
    doc = base_document(4)
    doc["registry"]["companies"] = [APPLICANT_USCC, SUPPLIER_USCC]
    dumped = dump_application(build(doc))
    assert dumped["lists"] == doc["lists"]
    assert dumped["registry"]["companies"] == [APPLICANT_USCC, SUPPLIER_USCC]


@pytest.mark.parametrize(
    ("lists", "path"),
    [
        ({"miit_2025_list": ["91110108MA01C3QX7"]}, "lists.miit_2025_list[0]"),
        ({"model_filings": [{"number": "X"}]}, "lists.model_filings[0].date"),
        ({"unknown_list": []}, "lists.unknown_list"),
    ],
)
def test_a_bad_list_is_an_input_error_naming_the_field(lists, path):
    doc = base_document(2)
    doc["lists"] = lists
    with pytest.raises(FormatError) as caught:
        parse_application(doc)
    assert path in [p for p, _ in caught.value.problems]


# --- registry.companies -----------------------------------------------------------------------


def test_a_supplier_outside_the_files_companies_is_review_for_both_supplier_rules():
    doc = base_document(2)
    doc["registry"]["companies"] = [APPLICANT_USCC]
    ev = run(doc)
    for rule in ("SUPPLIER_EQUITY", "SUPPLIER_PERSONNEL"):
        found = finding(ev, rule, "C1")
        assert found.status == "review"
        assert found.values["not_in_registry"] == [SUPPLIER_USCC]


def test_both_parties_in_the_files_companies_and_no_relation_pass():
    doc = base_document(2)
    doc["registry"]["companies"] = [APPLICANT_USCC, SUPPLIER_USCC]
    ev = run(doc)
    assert finding(ev, "SUPPLIER_EQUITY", "C1").status == "pass"
    assert finding(ev, "SUPPLIER_PERSONNEL", "C1").status == "pass"
    assert ev.outcome == "eligible"
