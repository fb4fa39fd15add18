"""Importing registry files: checked row by row, idempotent, replacing a company's holdings."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from voucher.applications import actions
from voucher.policy.format import parse_application
from voucher.registry.importer import import_directory
from voucher.registry.models import Company, Officer, Shareholding
from voucher.registry.persons import hashed_person_id

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
A, B, C, D = (
    "91110108MA01C3QX7B",
    "91110105MA02D4RY0J",
    "91110000MA00AAAA4N",
    "91110000MA00H0LD04",
)


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.csv").write_text(text.strip() + "\n", encoding="utf-8")
    return directory


COMPANIES = (
    f"uscc,name,status\n{A},申报单位,存续\n{B},供应商,存续\n{C},控股公司,存续\n{D},投资公司,存续"
)


def holdings() -> set[tuple[str, str, Decimal]]:
    return {(s.holder, s.held, s.ratio) for s in Shareholding.objects.all()}


def test_the_example_files_import_and_the_same_files_twice_change_nothing():
    first = import_directory(ROOT / "examples" / "registry")
    assert first.error_count == 0
    assert first.counts["shareholdings"]["written"] == 8
    rows = list(Shareholding.objects.order_by("id").values_list("id", "holder", "held", "ratio"))
    officers = list(Officer.objects.order_by("id").values_list("id", "person", "company", "role"))
    second = import_directory(ROOT / "examples" / "registry")
    assert second.changed == 0
    assert second.error_count == 0
    assert (
        list(Shareholding.objects.order_by("id").values_list("id", "holder", "held", "ratio"))
        == rows
    )
    assert (
        list(Officer.objects.order_by("id").values_list("id", "person", "company", "role"))
        == officers
    )


def test_a_file_with_bad_rows_reports_each_by_file_row_and_column_and_keeps_the_good(tmp_path):
    directory = write(
        tmp_path,
        companies=f"{COMPANIES}\n91110000MA00BAD,坏代码,存续\n91110000MA00AAAAIO,含I和O,存续",
        shareholdings="\n".join(
            [
                "holder,held,ratio,as_of",
                f"{C},{A},0.51,2026-03-31",  # 2 good
                f"{C},{B},0,2026-03-31",  # 3 ratio 0
                f"{C},{B},1.5,2026-03-31",  # 4 ratio above 1
                f"{C},{B},51%,2026-03-31",  # 5 percent sign
                "P-1,91110000MA00ZZZZ99,0.2,2026-03-31",  # 6 bad USCC
                f"91110000MA00H0LD17,{B},0.2,2026-03-31",  # 7 holder not in the registry
                f"{C},{A},0.3,2026-03-31",  # 8 duplicate of row 2
                f"P-2,{B},0.2,2026-02-30",  # 9 no such date
                f"P-3,{B},0.0001,2026-03-31",  # 10 good: a tiny holding
            ]
        ),
        officers="\n".join(
            [
                "person,company,role",
                f"P-1,{A},director",  # 2 good
                f"P-1,{B},chairman",  # 3 unknown role
                f"张三,{B},director",  # 4 not a person id
                "P-1,91110000MA00H0LD17,director",  # 5 company not in the registry
            ]
        ),
    )
    report = import_directory(directory)
    errors = {(Path(e.file).name, e.row, e.column) for e in report.errors}
    assert errors == {
        ("companies.csv", 6, "uscc"),
        ("companies.csv", 7, "uscc"),
        ("shareholdings.csv", 3, "ratio"),
        ("shareholdings.csv", 4, "ratio"),
        ("shareholdings.csv", 5, "ratio"),
        ("shareholdings.csv", 6, "held"),
        ("shareholdings.csv", 7, "holder"),
        ("shareholdings.csv", 8, "holder,held"),
        ("shareholdings.csv", 9, "as_of"),
        ("officers.csv", 3, "role"),
        ("officers.csv", 4, "person"),
        ("officers.csv", 5, "company"),
    }
    assert report.error_count == 12
    assert all(e.message for e in report.errors)
    assert Company.objects.count() == 4
    assert holdings() == {(C, A, Decimal("0.51")), ("P-3", B, Decimal("0.0001"))}
    assert list(Officer.objects.values_list("person", "company", "role")) == [
        ("P-1", A, "director")
    ]


def test_an_update_file_replaces_a_company_s_holdings_as_of_its_date(tmp_path):
    write(
        tmp_path / "v1",
        companies=COMPANIES,
        shareholdings=f"holder,held,ratio,as_of\n{C},{A},0.51,2026-01-01\nP-1,{A},0.49,2026-01-01\nP-1,{B},1,2026-01-01",
    )
    write(
        tmp_path / "v2",
        shareholdings=f"holder,held,ratio,as_of\n{D},{A},0.6,2026-03-01\nP-1,{A},0.4,2026-03-01",
    )
    write(
        tmp_path / "old",
        shareholdings=f"holder,held,ratio,as_of\n{C},{A},1,2025-12-01",
    )
    import_directory(tmp_path / "v1")
    report = import_directory(tmp_path / "v2")
    assert report.counts["shareholdings"]["deleted"] == 1  # C no longer holds A
    assert holdings() == {
        (D, A, Decimal("0.6")),
        ("P-1", A, Decimal("0.4")),
        ("P-1", B, Decimal("1")),  # B was not in the update: untouched
    }
    report = import_directory(tmp_path / "old")  # older than what is stored: ignored
    assert report.counts["shareholdings"]["skipped_older"] == 1
    assert (C, A, Decimal("1")) not in holdings()


def test_an_excel_workbook_imports_like_the_csv_files(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "companies"
    sheet.append(["uscc", "name"])
    for uscc in (A, B, C):
        sheet.append([uscc, f"企业{uscc[-4:]}"])
    sheet = workbook.create_sheet("shareholdings")
    sheet.append(["holder", "held", "ratio"])
    sheet.append([C, A, "0.51"])
    sheet.append(["P-1", B, 0.2])  # a number cell
    sheet = workbook.create_sheet("officers")
    sheet.append(["person", "company", "role"])
    sheet.append(["P-1", A, "法定代表人"])
    workbook.save(tmp_path / "registry.xlsx")
    report = import_directory(tmp_path)
    assert report.error_count == 0
    assert holdings() == {(C, A, Decimal("0.51")), ("P-1", B, Decimal("0.2"))}
    assert list(Officer.objects.values_list("role", flat=True)) == ["legal_representative"]


def test_a_national_id_number_is_stored_only_as_a_keyed_hash(tmp_path):
    resident_id = "11010519491231002X"
    write(
        tmp_path,
        companies=COMPANIES,
        officers=f"person,company,role\n{resident_id},{A},director\nID:{resident_id},{B},director",
        shareholdings=f"holder,held,ratio\n{resident_id},{A},0.3",
    )
    report = import_directory(tmp_path)
    assert report.error_count == 0
    assert holdings() == {(hashed_person_id(resident_id), A, Decimal("0.3"))}
    persons = set(Officer.objects.values_list("person", flat=True))
    assert persons == {hashed_person_id(resident_id)}
    (person,) = persons
    assert person.startswith("P-H") and resident_id not in person


def test_import_command_exits_1_and_names_the_rows_when_some_are_bad(tmp_path, capsys):
    write(tmp_path, companies=f"{COMPANIES}\n91110000MA00BAD,坏,存续")
    with pytest.raises(CommandError):
        call_command("registry", "import", str(tmp_path))
    assert "companies.csv:6: uscc:" in capsys.readouterr().err


def _application_without_registry(tmp_path: Path):
    data = json.loads(
        (ROOT / "examples" / "d2-common-shareholder-review" / "application.json").read_text()
    )
    extract = data.pop("registry")
    return parse_application(data), extract


def test_the_d2_example_gets_its_common_shareholder_from_the_stored_registry(tmp_path):
    document, extract = _application_without_registry(tmp_path)
    application = actions.application_import(document=document)

    def equity() -> str:
        stored = actions.application_evaluate(application=application)
        (finding,) = [f for f in stored.findings if f["rule"] == "SUPPLIER_EQUITY"]
        return finding

    assert equity()["status"] == "pass"  # no inline extract, empty registry
    lines = ["holder,held,ratio"] + [
        f"{s['holder']},{s['held']},{s['ratio']}" for s in extract["shareholdings"]
    ]
    write(tmp_path, companies=COMPANIES, shareholdings="\n".join(lines))
    assert import_directory(tmp_path).error_count == 0
    finding = equity()
    assert finding["status"] == "review"
    assert finding["values"]["common_holder"] == "P-7788"
    assert finding["values"]["path_to_applicant"] == ["P-7788", C, A]
    assert finding["values"]["path_to_supplier"] == ["P-7788", B]


def test_an_update_with_a_refused_row_leaves_that_company_s_stored_holdings_as_they_were(tmp_path):
    """The issue's case: `X,B,30%` refused, and the stored X→B was deleted (a fail became a pass).
    A company with a refused row keeps what is stored, and the report says so; the file's other
    companies are updated."""
    write(
        tmp_path / "v1",
        companies=COMPANIES,
        shareholdings=(
            f"holder,held,ratio,as_of\n{C},{B},0.3,2026-01-01\nP-1,{B},0.7,2026-01-01\n"
            f"{C},{A},1,2026-01-01"
        ),
    )
    write(
        tmp_path / "v2",
        shareholdings=(
            f"holder,held,ratio,as_of\n{C},{B},30%,2026-03-01\nP-1,{B},0.7,2026-03-01\n"
            f"{D},{A},1,2026-03-01"
        ),
    )
    import_directory(tmp_path / "v1")
    report = import_directory(tmp_path / "v2")
    assert (C, B, Decimal("0.3")) in holdings()  # kept: its replacement row was refused
    assert (D, A, Decimal("1")) in holdings() and (C, A, Decimal("1")) not in holdings()
    assert report.counts["shareholdings"]["kept_refused"] == 1
    kept = [e for e in report.errors if e.message.startswith(f"{B}:")]
    assert kept and kept[0].row == 2 and "保持不变" in kept[0].message


def test_an_update_with_a_refused_officer_row_keeps_that_company_s_officers(tmp_path):
    write(
        tmp_path / "v1",
        companies=COMPANIES,
        officers=f"person,company,role\nP-1,{B},director\nP-2,{B},supervisor",
    )
    write(tmp_path / "v2", officers=f"person,company,role\nP-1,{B},not-a-role\nP-3,{B},director")
    import_directory(tmp_path / "v1")
    report = import_directory(tmp_path / "v2")
    assert set(Officer.objects.values_list("person", "company", "role")) == {
        ("P-1", B, "director"),
        ("P-2", B, "supervisor"),
    }
    assert report.counts["officers"]["kept_refused"] == 1


def test_a_duplicate_row_in_an_update_keeps_the_company_s_stored_holdings(tmp_path):
    write(
        tmp_path / "v1",
        companies=COMPANIES,
        shareholdings=f"holder,held,ratio,as_of\n{C},{B},0.3,2026-01-01",
    )
    write(
        tmp_path / "v2",
        shareholdings=f"holder,held,ratio,as_of\nP-1,{B},0.5,2026-03-01\nP-1,{B},0.5,2026-03-01",
    )
    import_directory(tmp_path / "v1")
    import_directory(tmp_path / "v2")
    assert holdings() == {(C, B, Decimal("0.3"))}


@pytest.mark.parametrize(
    "content",
    [
        f"holder,held,ratio,as_of\n{C},{B},0.3,2026-01-01\n控股,{B},0.7,2026-01-01\n".encode("gbk"),
        b"\x00\x01\x02\xff\xfe binary \x89PNG\r\n",
    ],
    ids=["gbk", "binary"],
)
def test_a_file_that_is_not_utf8_is_one_clear_line_and_imports_nothing(tmp_path, content):
    write(tmp_path / "v1", companies=COMPANIES)
    (tmp_path / "v1" / "shareholdings.csv").write_bytes(content)
    report = import_directory(tmp_path / "v1")
    (error,) = [e for e in report.errors if "shareholdings" in e.file]
    assert error.row == 0 and "UTF-8" in error.message and "shareholdings" in error.file
    assert not Shareholding.objects.exists()
    assert Company.objects.count() == 4  # the readable file of the same import is imported


def test_the_command_names_an_unreadable_file_without_a_traceback(tmp_path, capsys):
    write(tmp_path / "v1", companies=COMPANIES)
    (tmp_path / "v1" / "officers.csv").write_bytes(
        "person,company,role\n张三,公司,董事\n".encode("gbk")
    )
    with pytest.raises(CommandError):
        call_command("registry", "import", str(tmp_path / "v1"))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "UTF-8" in out.out + out.err


def test_the_stored_registry_says_which_companies_it_names(tmp_path):
    """RULES.md v2: a company with no stored record is no evidence either way; an empty store
    names nothing, and a search cut short says so."""
    from voucher.registry.store import StoredRegistry

    outside = "91110000MA00ZZZZ1X"
    assert StoredRegistry().related_parties([A, outside]).covered is None  # nothing stored
    write(
        tmp_path / "v1",
        companies=COMPANIES,
        shareholdings=f"holder,held,ratio,as_of\n{C},{A},0.5,2026-01-01\n{C},{B},0.5,2026-01-01",
    )
    import_directory(tmp_path / "v1")
    index = StoredRegistry().related_parties([A, outside])
    assert index.covered == frozenset({A}) and not index.truncated
    assert StoredRegistry(max_edges=1).related_parties([A, B]).truncated


def test_a_relation_searched_in_a_registry_cut_short_is_for_review(tmp_path):
    from voucher.registry.queries import relation
    from voucher.registry.store import StoredRegistry

    write(
        tmp_path / "v1",
        companies=COMPANIES,
        shareholdings=f"holder,held,ratio,as_of\n{C},{A},0.5,2026-01-01\n{D},{B},0.5,2026-01-01",
    )
    import_directory(tmp_path / "v1")
    assert (relation(A, B).equity, relation(A, B).personnel) == ("pass", "pass")
    cut = relation(A, B, registry=StoredRegistry(max_edges=1))
    assert cut.truncated and (cut.equity, cut.personnel) == ("review", "review")
