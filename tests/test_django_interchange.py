"""Applications go into the database and come out as the very document that went in."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from voucher.applications import actions, supplier
from voucher.applications.interchange import application_export, application_import
from voucher.applications.models import (
    Application,
    Contract,
    Delivery,
    Enterprise,
    RegistryShareholding,
    StoredEvaluation,
)
from voucher.core.models import AuditEntry
from voucher.policy.context import EvaluationContext
from voucher.policy.engine import evaluate
from voucher.policy.format import (
    FormatError,
    dump_application,
    load_application_file,
    parse_application,
)
from voucher.policy.round import get_round

from .conftest import EXAMPLE_FILES, EXAMPLE_FOLDERS, example_id

pytestmark = pytest.mark.django_db


def _round_trip(path):
    application = application_import(document=load_application_file(path))
    fresh = Application.objects.get(pk=application.pk)  # nothing cached from the import
    return dump_application(application_export(fresh))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=example_id)
def test_every_example_comes_back_from_the_database_unchanged(path):
    assert _round_trip(path) == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=lambda p: p.name)
def test_the_evaluation_after_the_round_trip_is_the_evaluation_of_the_files(folder):
    files = sorted(folder.glob("application*.json"))
    documents = [load_application_file(f) for f in files]
    applications = [application_import(document=d) for d in documents]
    # like with like: a file cannot carry its supplier's word (issue 22), the store reads it
    # (here: silence, so directions 1, 2 and 4 are review); the files are evaluated with the
    # very supplier words the store holds
    same_words = EvaluationContext(supplier_words=supplier.supplier_words_for(applications))
    from_files = evaluate(documents, get_round("bj-2026"), same_words)

    stored = actions.applications_evaluate_batch(
        applications=applications, judge_against_rest_of_round=False
    )

    assert [s.to_json() for s in stored] == [e.to_json() for e in from_files]
    fresh = StoredEvaluation.objects.filter(pk__in=[s.pk for s in stored]).order_by("pk")
    assert [s.to_json() for s in fresh] == [e.to_json() for e in from_files]


def _document(path_name="d2-common-shareholder-review", **changes):
    from .conftest import EXAMPLES_DIR

    data = json.loads((EXAMPLES_DIR / path_name / "application.json").read_text())
    data.update(changes)
    return data


def test_it_keeps_the_decimals_quantities_and_ratios_were_written_with():
    data = _document()
    data["contracts"][0]["deliveries"][0]["quantity"] = "1.500"
    data["contracts"][0]["deliveries"][0]["unit_price"] = "2000000.000000"
    data["registry"]["shareholdings"][0]["ratio"] = "1.00000000"
    application = application_import(document=parse_application(data))

    assert Delivery.objects.get(contract__application=application).quantity == Decimal("1.5")
    assert dump_application(application_export(application)) == data


def test_it_keeps_an_empty_registry_apart_from_no_registry():
    with_empty = _document(registry={"shareholdings": [], "officers": []})
    without = _document()
    del without["registry"]
    for data in (with_empty, without):
        application = application_import(document=parse_application(data))
        assert dump_application(application_export(application)) == data


def test_it_round_trips_open_source_model_filing_materials_and_requested_amount():
    data = _document(
        requested_amount="123.40",
        materials=["contract", "usage_table"],
        project={
            **_document()["project"],
            "open_source": {
                "platform": "modelscope",
                "url": "https://modelscope.cn/x",
                "scenario_aligned": True,
            },
            "model_filing": {"number": "Beijing-X-2026", "date": "2026-01-01", "kind": "agent"},
            "topic": "agent",
        },
    )
    del data["submitted_on"]
    data["contracts"][0]["signed_on"] = None
    # a row without a device: only a non-compute one may be so (RULES.md, Fail closed)
    data["contracts"][0]["deliveries"][0]["service"] = "storage"
    del data["contracts"][0]["deliveries"][0]["device"]
    application = application_import(document=parse_application(data))
    assert dump_application(application_export(application)) == data
    assert application.open_source_platform == "modelscope"
    assert application.model_filing_kind == "agent"


def test_import_creates_the_enterprise_once_and_writes_one_audit_entry():
    document = parse_application(_document())
    first = application_import(document=document, source_name="a.json")
    second = application_import(document=document, source_name="b.json")

    assert Enterprise.objects.count() == 1
    assert first.enterprise == second.enterprise
    entries = AuditEntry.objects.filter(action="application_import")
    assert entries.count() == 2
    assert {e.object_id for e in entries} == {str(first.pk), str(second.pk)}
    assert entries.first().data["uscc"] == document.applicant.uscc


def test_it_refuses_a_quantity_the_column_cannot_hold_and_stores_nothing():
    data = _document()
    data["contracts"][0]["deliveries"][0]["quantity"] = "1.1234567"
    with pytest.raises(FormatError) as caught:
        application_import(document=parse_application(data))
    assert caught.value.problems[0][0] == "contracts[0].deliveries[0].quantity"
    assert Application.objects.count() == 0


def test_it_refuses_an_unknown_round():
    with pytest.raises(FormatError) as caught:
        application_import(document=parse_application(_document(round="bj-1999")))
    assert caught.value.problems[0][0] == "round"
    assert Application.objects.count() == 0


def test_import_command_prints_the_new_ids(capsys):
    call_command("import", *[str(p) for p in EXAMPLE_FILES])
    ids = capsys.readouterr().out.split()
    assert sorted(int(i) for i in ids) == sorted(Application.objects.values_list("pk", flat=True))
    assert len(ids) == len(EXAMPLE_FILES)


def test_import_command_stores_nothing_for_a_bad_file_and_exits_2_naming_the_field(
    tmp_path, capsys
):
    data = _document()
    data["contracts"][0]["total_amount"] = 24000000.0  # a float: not money
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("import", str(bad))

    assert caught.value.returncode == 2
    err = capsys.readouterr().err
    assert f"{bad}: contracts[0].total_amount: " in err
    assert Application.objects.count() == 0
    assert Contract.objects.count() == 0
    assert RegistryShareholding.objects.count() == 0


def test_import_command_stores_the_good_files_beside_a_bad_one(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import", str(bad), str(EXAMPLE_FILES[0]))
    out = capsys.readouterr()
    assert f"{bad}: line 1 column 2:" in out.err
    assert Application.objects.count() == 1


def test_export_command_writes_the_document(tmp_path):
    path = EXAMPLE_FILES[0]
    application = application_import(document=load_application_file(path))
    target = tmp_path / "out.json"
    call_command("export", str(application.pk), "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(path.read_text())


def test_export_command_names_an_unknown_id():
    with pytest.raises(CommandError) as caught:
        call_command("export", "999")
    assert caught.value.returncode == 2


def test_it_refuses_text_longer_than_its_column_naming_the_field():
    data = _document()
    data["registry"]["shareholdings"][0]["holder"] = "P-" + "9" * 200
    data["applicant"]["name"] = "北" * 201
    with pytest.raises(FormatError) as caught:
        application_import(document=parse_application(data))
    assert {where for where, _ in caught.value.problems} == {
        "applicant.name",
        "registry.shareholdings[0].holder",
    }
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("9999999999999.98", True), ("9999999999999.99", True), ("10000000000000.00", False)],
)
def test_an_amount_comes_back_from_the_database_exactly_or_is_refused(amount, stored):
    """SQLite keeps a decimal column as a float read back with 15 significant digits: the format
    took 14 digits before the point, and 12,345,678,901,234.56 came back as ….60."""
    data = _document()
    data["contracts"][0]["total_amount"] = amount
    if not stored:
        with pytest.raises(FormatError) as refused:
            parse_application(data)
        assert [p for p, _ in refused.value.problems] == ["contracts[0].total_amount"]
        return
    application = application_import(document=parse_application(data))
    assert Contract.objects.get(application=application).total_amount == Decimal(amount)


def test_an_amount_the_database_would_change_is_refused():
    data = _document()
    data["contracts"][0]["total_amount"] = "12345678901234.56"
    with pytest.raises(FormatError) as refused:
        parse_application(data)
    assert refused.value.problems == [
        ("contracts[0].total_amount", "金额过大，整数部分最多 13 位: 12345678901234.56 (too large)")
    ]
