"""The supplier's side at scale (issue 22 items 3 and 5): its contracts across applicants filtered
and paged in SQL, a CSV/Excel export of their lines (key and content hash, cells escaped), the
file uploaded back with 确认/有异议 (checked row by row; a line changed since the export refused
for its row; another supplier's lines not reachable), and the 14-1 三 declaration as a signed PDF
that `voucher documents verify` verifies."""

# ruff: noqa: F811  (the fixtures `world` and `team` come from tests/test_supplier_side.py)

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from voucher.applications import supplier
from voucher.applications.models import LINE_CONFIRMED, LINE_DISPUTED, Contract
from voucher.core.models import AuditEntry
from voucher.portal import actions as portal
from voucher.portal import supplier_files
from voucher.portal.imports import ImportFailed

from .review_support import put_in_state, verified_client
from .test_signed_documents import _one_byte_changed, _verify
from .test_supplier_side import (  # noqa: F401  (fixtures)
    _client,
    _delivery_key,
    _word,
    fast_passwords,
    team,
    world,
)

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/","点此领取")'


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _csv_bytes(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _export(client, extension: str = "csv", query: str = "") -> bytes:
    response = client.get(reverse("portal:supplier_export", args=[extension]) + query)
    assert response.status_code == 200
    return response.content


def _upload(client, name: str, data: bytes):
    return client.post(reverse("portal:supplier_upload"), {"file": SimpleUploadedFile(name, data)})


def _rows_of(rows, contract):
    return [r for r in rows if r["行标识"].startswith(f"{contract.pk}/")]


def _since(world):
    """The audit entries written by the test (the demo's suppliers have spoken already)."""
    return AuditEntry.objects.filter(id__gt=world["audit_before"] or 0)


def _words(contract) -> set[tuple[str, str, str]]:
    return set(contract.supplier_confirmations.values_list("line", "state", "content_hash"))


def _with_word(user, state: str) -> set[Contract]:
    """The truth the SQL filter keeps: the supplier's contracts whose lines add up to `state`
    (the demo's suppliers have confirmed other examples' contracts already)."""
    return {
        c
        for c in supplier.supplier_contracts_query(user)
        if supplier.contract_state(supplier.lines_of(c)) == state
    }


# --- the list and the export -------------------------------------------------------------------


def test_the_list_filters_by_state_and_word_and_pages_in_sql(world, django_assert_max_num_queries):
    user, contract = world["supplier"], world["contract"]
    mine = supplier.supplier_contracts_query(user)
    total = mine.count()
    assert total > 1 and world["other_contract"] not in mine
    # the supplier's word on the contract as a whole is kept, in SQL, by the action
    for line in supplier.lines_of(contract):
        _word(contract, line.key, LINE_CONFIRMED, user)
    contract.refresh_from_db()
    assert contract.supplier_state == LINE_CONFIRMED
    confirmed = list(supplier.supplier_contracts_query(user, supplier_state=LINE_CONFIRMED))
    assert contract in confirmed and len(confirmed) < total
    assert set(confirmed) == _with_word(user, LINE_CONFIRMED)
    unconfirmed = set(supplier.supplier_contracts_query(user, supplier_state="unconfirmed"))
    assert contract not in unconfirmed and unconfirmed == _with_word(user, "unconfirmed")
    _word(contract, _delivery_key(contract), LINE_DISPUTED, user, reason="数量不符")
    assert list(supplier.supplier_contracts_query(user, supplier_state=LINE_DISPUTED)) == [contract]
    assert contract not in supplier.supplier_contracts_query(user, supplier_state=LINE_CONFIRMED)
    # by the application's state
    put_in_state(world["d4"], "in_review")
    in_review = supplier.supplier_contracts_query(user, application_state="in_review")
    assert contract in in_review and all(c.application.state == "in_review" for c in in_review)
    # the page: filtered, paged, its query count does not grow with the contracts
    client = _client(user)
    url = reverse("portal:supplier_contracts")
    with django_assert_max_num_queries(12):
        page = client.get(url + "?word=disputed").content.decode()
    assert contract.contract_id in page and "第 1 / " not in page  # one contract, one page
    from voucher.portal import views_supplier

    views_supplier.PAGE_SIZE, size = 2, views_supplier.PAGE_SIZE
    try:
        first = client.get(url).content.decode()
        assert f"第 1 / {-(-total // 2)} 页" in first and 'rel="next"' in first
        last = client.get(url + "?page=999").content.decode()  # out of range: the last page
        assert 'rel="prev"' in last
    finally:
        views_supplier.PAGE_SIZE = size
    assert client.get(url + "?word=nonsense&state=x").status_code == 200  # no filter, no error


def test_an_applicants_change_reopens_the_contract_in_the_filter(world):
    user, contract, d4 = world["supplier"], world["contract"], world["d4"]
    for line in supplier.lines_of(contract):
        _word(contract, line.key, LINE_CONFIRMED, user)
    put_in_state(d4, "draft")
    portal.contract_row_add(
        application=d4,
        expected_version=d4.version,
        contract_pk=contract.pk,
        kind="deliveries",
        values={
            "start": contract.valid_from,
            "end": contract.valid_from,
            "service": "compute",
            "device": "H800",
            "quantity": Decimal("1"),
            "unit": "card-hour",
            "unit_price": Decimal("10"),
            "amount": Decimal("10.00"),
        },
        acting_user=world["applicant"],
    )
    contract.refresh_from_db()
    assert contract.supplier_state == "unconfirmed"  # a new line is unconfirmed


def test_the_export_has_only_its_contracts_every_line_keyed_and_cells_escaped(world):
    user, contract = world["supplier"], world["contract"]
    d4 = world["d4"]
    d4.enterprise.name = EVIL
    d4.enterprise.save(update_fields=["name"])
    client = _client(user)
    rows = _csv_rows(_export(client))
    mine = {c.pk for c in supplier.supplier_contracts_query(user)}
    assert {int(r["行标识"].split("/")[0]) for r in rows} == mine
    assert world["other_contract"].contract_id not in {r["合同编号"] for r in rows}
    lines = supplier.lines_of(contract)
    exported = _rows_of(rows, contract)
    assert [r["行标识"] for r in exported] == [f"{contract.pk}/{line.key}" for line in lines]
    assert [r["内容校验码"] for r in exported] == [supplier.content_hash(x.row) for x in lines]
    assert all(r["申报单位"] == "'" + EVIL for r in exported)  # never a live formula
    # the Excel file: the same rows, the same escaping
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_export(client, "xlsx")))
    sheet = book[supplier_files.SHEET]
    header = [c.value for c in sheet[1]]
    values = [dict(zip(header, [c.value for c in r], strict=False)) for r in sheet.iter_rows(2)]
    assert {v["行标识"] for v in values} == {r["行标识"] for r in rows}
    assert {v["申报单位"] for v in values if v["行标识"].startswith(f"{contract.pk}/")} == {
        "'" + EVIL
    }
    # the export is audited; another supplier's export does not have this contract
    assert AuditEntry.objects.filter(action="supplier_contracts_export").count() == 2
    others = _csv_rows(_export(_client(world["other_supplier"])))
    assert {r["合同编号"] for r in others} == {world["other_contract"].contract_id}


# --- the file back -----------------------------------------------------------------------------


def test_a_file_with_one_dispute_confirms_the_rest_each_word_audited(world):
    user, contract = world["supplier"], world["contract"]
    client = _client(user)
    rows = _rows_of(_csv_rows(_export(client)), contract)
    dispute = _delivery_key(contract)
    for r in rows:
        if r["行标识"].endswith("/" + dispute):
            r["确认/有异议"], r["异议理由"] = "有异议", "单价应为 10 元"
        else:
            r["确认/有异议"] = "确认"
    response = _upload(client, "words.csv", _csv_bytes(rows))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"确认 {len(rows) - 1} 行，提出异议 1 行" in text
    states = {line.key: (line.state, line.reason) for line in supplier.lines_of(contract)}
    assert states.pop(dispute) == (LINE_DISPUTED, "单价应为 10 元")
    assert set(states.values()) == {(LINE_CONFIRMED, "")}
    # audited exactly like the page's words: one entry per line, with its hash
    entries = _since(world).filter(action__startswith="supplier_line_")
    assert entries.count() == len(rows)
    assert {e.data["line"] for e in entries} == {r["行标识"].split("/", 1)[1] for r in rows}
    assert AuditEntry.objects.get(action="supplier_file_words").data["confirmed"] == len(rows) - 1
    contract.refresh_from_db()
    assert contract.supplier_state == LINE_DISPUTED
    # the same file again: nothing new is written
    again = _upload(client, "words.csv", _csv_bytes(rows))
    assert f"{len(rows)} 行与已有的确认相同" in again.content.decode()
    assert _since(world).filter(action__startswith="supplier_line_").count() == len(rows)


def test_every_mistake_is_named_by_row_and_column_and_nothing_is_saved(world):
    user, contract = world["supplier"], world["contract"]
    rows = _rows_of(_csv_rows(_export(_client(user))), contract)
    assert len(rows) >= 2
    rows[0]["确认/有异议"] = "同意"  # row 2: not a word the file knows
    rows[1]["确认/有异议"] = "有异议"  # row 3: a dispute without a reason
    extra = dict(rows[1], **{"确认/有异议": "确认", "行标识": "abc"})  # row 4: a broken key
    good = dict(rows[1], **{"确认/有异议": "确认"})  # row 5: fine on its own
    with pytest.raises(ImportFailed) as failed:
        supplier_files.read_words(
            "words.csv", _csv_bytes([*rows[:2], extra, good]), acting_user=user
        )
    errors = [str(e) for e in failed.value.errors]
    assert errors == [
        "“CSV”第2行「确认/有异议」：应填“确认”或“有异议”（或留空），收到“同意”",
        "“CSV”第3行「异议理由」：提出异议须写明理由",
        "“CSV”第4行「行标识」：无法识别“abc”：请勿修改此列",
    ]
    # through the page: 422, every error listed, no word saved
    response = _upload(_client(user), "words.csv", _csv_bytes([*rows[:2], extra, good]))
    assert response.status_code == 422
    text = response.content.decode()
    assert "文件中有 3 处错误，未保存任何确认。" in text
    assert "第3行「异议理由」：提出异议须写明理由" in text
    assert not contract.supplier_confirmations.exists()
    # a missing column is named; an unknown extension is refused
    del_rows = [{k: v for k, v in r.items() if k != "内容校验码"} for r in rows]
    with pytest.raises(ImportFailed, match="「内容校验码」：缺少此列"):
        supplier_files.read_words("w.csv", _csv_bytes(del_rows), acting_user=user)
    with pytest.raises(ImportFailed, match=r"只能上传 \.xlsx 或 \.csv 文件"):
        supplier_files.read_words("w.txt", b"x", acting_user=user)


def test_a_line_changed_since_the_export_is_refused_for_its_row_only(world):
    user, contract, d4 = world["supplier"], world["contract"], world["d4"]
    client = _client(user)
    rows = _rows_of(_csv_rows(_export(client)), contract)
    for r in rows:
        r["确认/有异议"] = "确认"
    # the applicant corrects the contract's terms after the supplier exported them
    put_in_state(d4, "draft")
    portal.contract_save(
        application=d4,
        expected_version=d4.version,
        contract_pk=contract.pk,
        values={
            "contract_id": contract.contract_id,
            "total_amount": contract.total_amount + Decimal("1.00"),
        },
        acting_user=world["applicant"],
    )
    response = _upload(client, "words.csv", _csv_bytes(rows))
    assert response.status_code == 200
    text = response.content.decode()
    assert "以下 1 行未保存" in text
    assert "“CSV”第2行「行标识」：该行内容在导出后已被申报单位修改，未保存" in text
    states = {line.key: line.state for line in supplier.lines_of(contract)}
    assert states.pop("contract") == "unconfirmed"  # never confirmed on content it did not see
    assert set(states.values()) == {LINE_CONFIRMED}
    assert not _since(world).filter(action="supplier_line_confirmed", data__line="contract")


def test_a_supplier_cannot_speak_on_another_suppliers_lines_through_the_file(world):
    other = world["other_contract"]
    mine = _csv_rows(_export(_client(world["supplier"])))
    theirs = _rows_of(_csv_rows(_export(_client(world["other_supplier"]))), other)
    # the other supplier's exported rows, put into this supplier's file
    rows = [dict(r, **{"确认/有异议": "确认"}) for r in theirs]
    rows.append(dict(mine[0], **{"确认/有异议": "确认"}))
    first = Contract.objects.get(pk=int(mine[0]["行标识"].split("/")[0]))
    # the demo's suppliers have spoken on the examples already: nothing is added or changed
    other_before, first_before = _words(other), _words(first)
    with pytest.raises(ImportFailed) as failed:
        supplier_files.read_words("w.csv", _csv_bytes(rows), acting_user=world["supplier"])
    assert {e.message for e in failed.value.errors} == {
        "找不到此行：它不属于列明贵单位为算力供给方的合同"
    }
    assert [e.row for e in failed.value.errors] == list(range(2, 2 + len(theirs)))
    assert _words(other) == other_before and _words(first) == first_before
    # even past the file's check, the action refuses a contract that does not name it
    word = supplier_files.FileWord(
        "CSV", 2, other.pk, "contract", theirs[0]["内容校验码"], LINE_CONFIRMED, ""
    )
    result = supplier_files.words_apply(
        [word], source_name="w.csv", data=b"", acting_user=world["supplier"]
    )
    assert result.confirmed == 0 and len(result.refused) == 1
    assert _words(other) == other_before
    assert not _since(world).filter(action__startswith="supplier_line_")


def test_the_excel_file_round_trips_and_an_unsafe_workbook_is_refused(world):
    from openpyxl import load_workbook

    user, contract = world["supplier"], world["contract"]
    client = _client(user)
    book = load_workbook(io.BytesIO(_export(client, "xlsx")))
    sheet = book[supplier_files.SHEET]
    header = [c.value for c in sheet[1]]
    key_at, word_at = header.index("行标识"), header.index("确认/有异议")
    for row in sheet.iter_rows(2):
        if str(row[key_at].value).startswith(f"{contract.pk}/"):
            row[word_at].value = "确认"
    out = io.BytesIO()
    book.save(out)
    response = _upload(client, "words.xlsx", out.getvalue())
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert {line.state for line in supplier.lines_of(contract)} == {LINE_CONFIRMED}
    # the same workbook with a link to another workbook: refused before it is read
    linked = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(out.getvalue())) as source,
        zipfile.ZipFile(linked, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    refused = _upload(client, "words.xlsx", linked.getvalue())
    assert refused.status_code == 422
    assert "外部链接" in refused.content.decode()


def test_a_file_over_the_limit_is_refused(world, settings):
    settings.VOUCHER_MAX_UPLOAD_MB = {
        **settings.VOUCHER_MAX_UPLOAD_MB,
        "supplier_confirmations": 0.001,
    }
    with pytest.raises(ImportFailed, match="上传内容过大"):
        supplier_files.read_words("w.csv", b"x" * 2000, acting_user=world["supplier"])


# --- the declaration as a signed PDF -----------------------------------------------------------


def test_the_declaration_pdf_is_signed_and_verifies_and_a_changed_byte_does_not(
    world, team, tmp_path
):
    user, contract = world["supplier"], world["contract"]
    client = _client(user)
    url = reverse("portal:supplier_attestation_pdf", args=[contract.pk])
    assert client.get(url).status_code == 404  # nothing declared yet
    client.post(
        reverse("portal:supplier_contract", args=[contract.pk]),
        {"form": "attestation", "compliant": "on", "no_sharing": "on"},
    )
    page = client.get(reverse("portal:supplier_contract", args=[contract.pk])).content.decode()
    assert url in page
    pdf = client.get(url).content
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "attestation.pdf"
    path.write_bytes(pdf)
    out, error = _verify(path)
    assert error is None, out
    assert out.rstrip().endswith("VERIFIED")
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(_one_byte_changed(pdf))
    out, error = _verify(tampered)
    assert error is not None and "NOT VERIFIED" in out
    # what it says: the contract, the declaration as made (a hierarchy declared), who and when
    from voucher.documents.attestations import attestation_html

    html = attestation_html(contract, supplier.attestation_of(contract))
    assert contract.contract_id in html and user.get_username() in html
    assert "不存在收益分成、风险共担等协议" in html.replace("</strong>", "")
    assert "<strong>存在</strong>行政或业务上的上下级关系" in html
    # the reviewer downloads it from the review screen; another supplier cannot
    d4 = put_in_state(world["d4"], "in_review")
    reviewer = verified_client(Client(), team["reviewer"])
    review_url = reverse("review:supplier_attestation_pdf", args=[d4.pk, contract.pk])
    assert review_url in reviewer.get(reverse("review:screen", args=[d4.pk])).content.decode()
    from_review = reviewer.get(review_url)
    assert from_review.status_code == 200 and from_review.content.startswith(b"%PDF-")
    assert _client(world["other_supplier"]).get(url).status_code == 404
    wrong = reverse("review:supplier_attestation_pdf", args=[d4.pk, world["other_contract"].pk])
    assert reviewer.get(wrong).status_code == 404  # a contract of another application


def test_the_page_refuses_a_word_on_content_changed_since_it_was_shown(world):
    user, contract = world["supplier"], world["contract"]
    client = _client(user)
    url = reverse("portal:supplier_contract", args=[contract.pk])
    shown = supplier.content_hash(contract)
    assert f'name="content_hash" value="{shown}"' in client.get(url).content.decode()
    Contract.objects.filter(pk=contract.pk).update(total_amount=contract.total_amount + 1)
    response = client.post(
        url, {"line": "contract", "state": LINE_CONFIRMED, "content_hash": shown}
    )
    assert response.status_code == 422
    assert "与您核对的内容不同，未保存" in response.content.decode()
    assert not contract.supplier_confirmations.exists()


def test_the_migration_fills_the_state_from_the_words_already_given(world):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "voucher.applications.migrations.0020_contract_supplier_state"
    )
    user, contract = world["supplier"], world["contract"]
    for line in supplier.lines_of(contract):
        _word(contract, line.key, LINE_CONFIRMED, user)
    other = supplier.supplier_contracts_query(user).exclude(pk=contract.pk).first()
    _word(other, "contract", LINE_DISPUTED, user, reason="总额不符")
    # the rest keep the demo's suppliers' words; 0020 knew a contract's terms and deliveries
    # only (invoices and payments became lines later): its fill is frozen at that point in history
    rest = Contract.objects.exclude(pk__in=[contract.pk, other.pk]).prefetch_related(
        "deliveries", "invoices", "payments"
    )
    expected = {
        c.pk: supplier.contract_state(
            [x for x in supplier.lines_of(c) if x.kind in (supplier.CONTRACT_LINE, "delivery")]
        )
        for c in rest
    }
    assert "unconfirmed" in expected.values()  # a contract without a word stays unconfirmed
    Contract.objects.update(supplier_state="unconfirmed")  # as before the field existed
    migration.states_from_words(apps, None)
    assert Contract.objects.get(pk=contract.pk).supplier_state == LINE_CONFIRMED
    assert Contract.objects.get(pk=other.pk).supplier_state == LINE_DISPUTED
    assert dict(Contract.objects.filter(pk__in=expected).values_list("pk", "supplier_state")) == (
        expected
    )


def test_invoices_and_payments_are_exported_with_their_columns_and_confirmed_by_file(world):
    user, contract = world["supplier"], world["contract"]
    invoice, payment = contract.invoices.first(), contract.payments.first()
    assert invoice is not None and payment is not None
    rows = {r["行标识"]: r for r in _rows_of(_csv_rows(_export(_client(user))), contract)}
    by_invoice = rows[f"{contract.pk}/invoice:{invoice.pk}"]
    assert (by_invoice["行"], by_invoice["发票号码"], by_invoice["开票日期"]) == (
        "发票",
        invoice.number,
        str(invoice.date),
    )
    assert Decimal(by_invoice["金额（元）"]) == invoice.amount
    by_payment = rows[f"{contract.pk}/payment:{payment.pk}"]
    assert (by_payment["行"], by_payment["支付日期"], by_payment["发票号码"]) == (
        "付款",
        str(payment.date),
        "",
    )
    assert Decimal(by_payment["金额（元）"]) == payment.amount
    filled = [
        dict(by_invoice, **{"确认/有异议": "确认"}),
        dict(by_payment, **{"确认/有异议": "确认"}),
    ]
    words = supplier_files.read_words("w.csv", _csv_bytes(filled), acting_user=user)
    assert [w.line for w in words] == [f"invoice:{invoice.pk}", f"payment:{payment.pk}"]
    result = supplier_files.words_apply(words, source_name="w.csv", data=b"", acting_user=user)
    assert result.confirmed == 2 and not result.refused
    assert {f"invoice:{invoice.pk}", f"payment:{payment.pk}"} <= supplier.confirmed_keys(contract)
    # a kind the contract does not have is still a mistake in the file
    broken = dict(by_payment, **{"确认/有异议": "确认", "行标识": f"{contract.pk}/refund:1"})
    with pytest.raises(ImportFailed, match="请勿修改此列"):
        supplier_files.read_words("w.csv", _csv_bytes([broken]), acting_user=user)
