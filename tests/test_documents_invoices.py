"""数电票 in XML and PDF (samples made here after the published layout) and the prefill flags."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import verified_session
from voucher.applications.models import Invoice
from voucher.core.models import AuditEntry
from voucher.documents.invoices import (
    NotParsed,
    ParsedInvoice,
    invoice_prefill,
    read_invoice,
)

from .documents_support import make_application, rich_document

pytestmark = pytest.mark.django_db

APPLICANT = ("北京测试智能科技有限公司", "91110108MA01C3QX7B")
SUPPLIER = ("供应商C1", "91110105MA02D4RY0J")
STRANGER = ("北京别家科技有限公司", "91110115MA03E5TUX0")
NUMBER = "25112000000012345678"
COMPUTE = (
    "*信息技术服务*⼤模型算力服务费",
    "H800",
    "卡时",
    "1000",
    "200.00",
    "200000.00",
    "0.06",
    "12000.00",
)
LEASING = ("*经营租赁*GPU服务器租赁", "8卡", "台月", "1", "10000.00", "10000.00", "0.13", "1300.00")


def invoice_xml(
    *,
    number=NUMBER,
    buyer=APPLICANT,
    seller=SUPPLIER,
    items=(COMPUTE,),
    amount=None,
    tax=None,
    total=None,
    namespace="",
) -> bytes:
    amount = amount or str(sum(Decimal(i[5]) for i in items))
    tax = tax or str(sum(Decimal(i[7]) for i in items))
    total = total or str(Decimal(amount) + Decimal(tax))
    ns = f' xmlns="{namespace}"' if namespace else ""
    lines = "".join(
        f"<IssuItemInformation><ItemName>{i[0]}</ItemName><SpecMod>{i[1]}</SpecMod><MeaUnits>{i[2]}</MeaUnits>"
        f"<Quantity>{i[3]}</Quantity><UnPrice>{i[4]}</UnPrice><Amount>{i[5]}</Amount><TaxRate>{i[6]}</TaxRate>"
        f"<ComTaxAm>{i[7]}</ComTaxAm><TotaltaxIncludedAmount>{Decimal(i[5]) + Decimal(i[7])}</TotaltaxIncludedAmount>"
        f"<TaxClassificationCode>3040201010000000000</TaxClassificationCode></IssuItemInformation>"
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EInvoice{ns}>
  <Header><EIid>{number}</EIid><EInvoiceTag>SWEI1100</EInvoiceTag><Version>0.1</Version>
    <InherentLabel><GeneralOrSpecialVAT><LabelCode>01</LabelCode><LabelName>增值税专用发票</LabelName></GeneralOrSpecialVAT></InherentLabel>
  </Header>
  <EInvoiceData>
    <SellerInformation><SellerIdNum>{seller[1]}</SellerIdNum><SellerName>{seller[0]}</SellerName></SellerInformation>
    <BuyerInformation><BuyerIdNum>{buyer[1]}</BuyerIdNum><BuyerName>{buyer[0]}</BuyerName></BuyerInformation>
    <BasicInformation><TotalAmWithoutTax>{amount}</TotalAmWithoutTax><TotalTaxAm>{tax}</TotalTaxAm>
      <TotalTax-includedAmount>{total}</TotalTax-includedAmount><TotalTax-includedAmountInChinese>略</TotalTax-includedAmountInChinese></BasicInformation>
    {lines}
    <AdditionalInformation><Remark>合同C1 2025年10月</Remark></AdditionalInformation>
  </EInvoiceData>
  <TaxSupervisionInfo><InvoiceNumber>{number}</InvoiceNumber><IssueTime>2025-11-05</IssueTime><TaxBureauCode>11100000000</TaxBureauCode></TaxSupervisionInfo>
</EInvoice>""".encode()


def invoice_pdf(*, number=NUMBER, buyer=APPLICANT, seller=SUPPLIER, items=(COMPUTE,)) -> bytes:
    """A 数电票 PDF after the published layout: title, number and date top right, buyer left and
    seller right with vertical labels, the item table, 合计, 价税合计 (大写/小写), 备注, 开票人.
    Full-width ¥ and a Kangxi radical (⼤) as some generators emit them."""
    import weasyprint

    amount = sum(Decimal(i[5]) for i in items)
    tax = sum(Decimal(i[7]) for i in items)
    rows = "".join(
        f"<tr><td>{i[0]}</td><td>{i[1]}</td><td>{i[2]}</td><td class=n>{i[3]}</td><td class=n>{i[4]}</td>"
        f"<td class=n>{i[5]}</td><td class=n>{int(Decimal(i[6]) * 100)}%</td><td class=n>{i[7]}</td></tr>"
        for i in items
    )
    html = f"""<html><head><style>
    @page {{ size: 240mm 140mm; margin: 8mm; }}
    body {{ font-family: "Noto Serif CJK SC"; font-size: 9pt; color: #8b4513; }}
    h1 {{ text-align: center; font-size: 16pt; margin: 0 0 9mm; }}
    .meta p {{ margin: 0 0 1mm; }}
    .meta {{ position: absolute; right: 0; top: 0; }}
    table {{ width: 100%; border-collapse: collapse; }}
    td, th {{ border: 0.5pt solid #8b4513; padding: 1mm 2mm; font-weight: normal; }}
    .v {{ width: 5mm; text-align: center; }}
    .party td {{ height: 18mm; vertical-align: middle; }}
    .items td {{ border: none; }} .items th {{ border: none; }}
    .n {{ text-align: right; }}
    </style></head><body>
    <div class="meta"><p>发票号码：{number}</p><p>开票日期：2025年11月05日</p></div>
    <h1>电子发票（增值税专用发票）</h1>
    <table class="party"><tr>
      <td class="v">购<br>买<br>方<br>信<br>息</td>
      <td style="width:45%">名称：{buyer[0]}<br>统一社会信用代码/纳税人识别号：{buyer[1]}</td>
      <td class="v">销<br>售<br>方<br>信<br>息</td>
      <td>名称：{seller[0]}<br>统一社会信用代码/纳税人识别号：{seller[1]}</td>
    </tr></table>
    <table class="items">
      <tr><th>项目名称</th><th>规格型号</th><th>单位</th><th class=n>数量</th><th class=n>单价</th><th class=n>金额</th><th class=n>税率/征收率</th><th class=n>税额</th></tr>
      {rows}
      <tr><td>合&emsp;计</td><td></td><td></td><td></td><td></td><td class=n>￥{amount}</td><td></td><td class=n>￥{tax}</td></tr>
    </table>
    <table><tr><td>价税合计（大写）</td><td>⊗（大写金额从略）</td><td>（小写）￥{amount + tax}</td></tr>
    <tr><td>备注</td><td colspan=2>合同C1 2025年10月</td></tr></table>
    <p>开票人：王五</p>
    </body></html>"""
    return weasyprint.HTML(string=html).write_pdf()


@pytest.fixture
def application(db):
    return make_application()


@pytest.fixture
def contract(application):
    return application.contracts.get(contract_id="C1")


def codes(prefill) -> dict[str, str]:
    return {f.code: f.status for f in prefill.flags}


def test_it_reads_every_field_of_the_xml_by_local_names_even_in_a_namespace():
    for namespace in ("", "http://www.chinatax.gov.cn/einvoice"):
        inv = read_invoice(invoice_xml(namespace=namespace, items=(COMPUTE, LEASING)), "a.xml")
        assert isinstance(inv, ParsedInvoice)
        assert (inv.number, inv.issue_date, inv.kind) == (
            NUMBER,
            date(2025, 11, 5),
            "增值税专用发票",
        )
        assert (inv.buyer_name, inv.buyer_tax_id) == APPLICANT
        assert (inv.seller_name, inv.seller_tax_id) == SUPPLIER
        assert (inv.amount, inv.tax, inv.total) == (
            Decimal("210000.00"),
            Decimal("13300.00"),
            Decimal("223300.00"),
        )
        assert [i.name for i in inv.items] == [
            "*信息技术服务*大模型算力服务费",
            "*经营租赁*GPU服务器租赁",
        ]
        assert inv.items[0].tax_rate == Decimal("0.06") and inv.items[0].unit == "卡时"
        assert inv.items[1].category == "经营租赁"
        assert inv.remark == "合同C1 2025年10月"


def test_it_reads_the_pdf_by_position_after_nfkc():
    inv = read_invoice(invoice_pdf(items=(COMPUTE, LEASING)), "a.pdf")
    assert isinstance(inv, ParsedInvoice), inv
    assert inv.source == "pdf" and inv.problems == []
    assert (inv.number, inv.issue_date, inv.kind) == (NUMBER, date(2025, 11, 5), "增值税专用发票")
    assert (inv.buyer_name, inv.buyer_tax_id) == APPLICANT
    assert (inv.seller_name, inv.seller_tax_id) == SUPPLIER
    assert (inv.amount, inv.tax, inv.total) == (
        Decimal("210000.00"),
        Decimal("13300.00"),
        Decimal("223300.00"),
    )
    first, second = inv.items
    assert first.name == "*信息技术服务*大模型算力服务费"  # ⼤ (U+2F24) folded to 大
    assert (first.spec, first.unit, first.quantity, first.unit_price) == (
        "H800",
        "卡时",
        Decimal(1000),
        Decimal("200.00"),
    )
    assert (first.amount, first.tax_rate, first.tax) == (
        Decimal("200000.00"),
        Decimal("0.06"),
        Decimal("12000.00"),
    )
    assert (second.name, second.tax_rate) == ("*经营租赁*GPU服务器租赁", Decimal("0.13"))


def test_a_scanned_image_is_not_parsed_but_accepted_for_a_person():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    result = read_invoice(png, "scan.png")
    assert isinstance(result, NotParsed) and "审核人员" in result.reason
    jpeg = read_invoice(b"\xff\xd8\xff\xe0" + b"\x00" * 64, "scan.jpg")
    assert isinstance(jpeg, NotParsed)


def test_a_pdf_without_text_is_a_scan():
    import base64

    import weasyprint

    # a 1×1 PNG: a PDF that holds only a picture, as a scanner makes it
    pixel = base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
        )
    ).decode()
    data = weasyprint.HTML(
        string=f'<style>@page{{size:A5}}</style><img src="data:image/png;base64,{pixel}" style="width:100mm">'
    ).write_pdf()
    result = read_invoice(data, "scan.pdf")
    assert isinstance(result, NotParsed) and "扫描件" in result.reason


def test_a_good_invoice_prefills_the_record_without_flags(contract):
    prefill = invoice_prefill(contract, read_invoice(invoice_xml(), "a.xml"))
    assert prefill.flags == []
    inv = prefill.invoice
    assert (inv.number, inv.date, inv.amount, inv.contract) == (
        NUMBER,
        date(2025, 11, 5),
        Decimal("212000.00"),
        contract,
    )
    assert inv.pk is None


def test_a_wrong_buyer_is_flagged(contract):
    for data in (invoice_xml(buyer=STRANGER), invoice_pdf(buyer=STRANGER)):
        prefill = invoice_prefill(contract, read_invoice(data, "x"))
        assert codes(prefill) == {"BUYER_NOT_APPLICANT": "fail"}
        assert STRANGER[1] in prefill.flags[0].message


def test_a_seller_other_than_the_contracts_supplier_is_flagged(contract):
    prefill = invoice_prefill(contract, read_invoice(invoice_xml(seller=STRANGER), "x"))
    assert codes(prefill) == {"SELLER_NOT_SUPPLIER": "fail"}


def test_a_number_already_claimed_anywhere_in_the_round_is_flagged(contract):
    other = make_application(rich_document(), report=False)  # same invoice numbers, same round
    claimed = Invoice.objects.filter(contract__application=other).first()
    for data in (invoice_xml(number=claimed.number), invoice_pdf(number=claimed.number)):
        prefill = invoice_prefill(contract, read_invoice(data, "x"))
        assert codes(prefill)["DUPLICATE_NUMBER"] == "fail"
        assert other.reference in " ".join(f.message for f in prefill.flags)


def test_totals_that_do_not_add_up_are_flagged(contract):
    prefill = invoice_prefill(contract, read_invoice(invoice_xml(total="212000.01"), "x"))
    assert codes(prefill) == {"TOTALS": "fail"}
    prefill = invoice_prefill(
        contract, read_invoice(invoice_xml(amount="199999.99", total="211999.99"), "x")
    )
    assert codes(prefill) == {"TOTALS": "fail"}


def test_a_line_that_is_not_compute_goes_to_a_reviewer(contract, settings):
    for data in (invoice_xml(items=(COMPUTE, LEASING)), invoice_pdf(items=(COMPUTE, LEASING))):
        prefill = invoice_prefill(contract, read_invoice(data, "x"))
        assert codes(prefill) == {"NON_COMPUTE_ITEM": "review"}
        assert "经营租赁" in prefill.flags[0].message
    settings.VOUCHER_INVOICE_COMPUTE_CATEGORIES = ["信息技术服务", "经营租赁"]
    assert (
        invoice_prefill(contract, read_invoice(invoice_xml(items=(COMPUTE, LEASING)), "x")).flags
        == []
    )


# --- the staff page ----------------------------------------------------------------------------


@pytest.fixture
def clerk(db, django_user_model):
    """A bureau reviewer: recording an invoice is a write on the evidence, the reviewer's."""
    from django.contrib.auth.models import Group

    from voucher.applications.roles import REVIEWER

    user = django_user_model.objects.create_user("clerk", password="pw-clerk")
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return user


def test_staff_upload_an_invoice_see_the_flags_and_save_it(client, clerk, not_public, contract):
    from django.core.files.uploadedfile import SimpleUploadedFile

    verified_session(client, clerk)
    url = f"/applications/{contract.application_id}/contracts/{contract.pk}/invoices/prefill/"
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("fapiao.xml", invoice_xml(items=(COMPUTE, LEASING)), "text/xml")
    page = client.post(url, {"file": upload}).content.decode()
    assert NUMBER in page and "NON_COMPUTE_ITEM" in page
    before = contract.application.updated_at
    r = client.post(
        url,
        {
            "save": "1",
            "number": NUMBER,
            "date": "2025-11-05",
            "amount": "223300.00",
            "source_name": "fapiao.xml",
        },
    )
    assert r.status_code == 302
    saved = contract.invoices.get(number=NUMBER)
    assert (saved.date, saved.amount, saved.position) == (
        date(2025, 11, 5),
        Decimal("223300.00"),
        1,
    )
    assert AuditEntry.objects.filter(action="invoice_add", object_id=str(saved.pk)).exists()
    contract.application.refresh_from_db()
    assert contract.application.updated_at > before


def test_a_scan_upload_is_accepted_for_a_person_to_read(client, clerk, not_public, contract):
    from django.core.files.uploadedfile import SimpleUploadedFile

    verified_session(client, clerk)
    url = f"/applications/{contract.application_id}/contracts/{contract.pk}/invoices/prefill/"
    page = client.post(
        url, {"file": SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)}
    )
    assert "审核人员阅读" in page.content.decode()


def test_staff_who_do_not_review_cannot_prefill(client, django_user_model, not_public, contract):
    """An auditor reads; an administrator manages: neither records evidence (nor does a user
    who is only Django's is_staff, or a password-only session)."""
    from django.contrib.auth.models import Group

    from voucher.applications.roles import AUDITOR

    auditor = django_user_model.objects.create_user("auditor", password="pw-auditor")
    auditor.groups.add(Group.objects.get_or_create(name=AUDITOR)[0])
    verified_session(client, auditor)
    url = f"/applications/{contract.application_id}/contracts/{contract.pk}/invoices/prefill/"
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("223,300.00", "223300.00"),  # refused before (a DecimalField): as the page shows it
        ("¥223,300.00", "223300.00"),
        ("２２３３００", "223300.00"),
        ("9999999999999.99", "9999999999999.99"),  # the one limit (voucher.policy.money)
        ("10000000000000.00", None),  # one fen above
        ("1e3", None),  # read as 1000 before
        ("-1", None),
        ("1.001", None),
    ],
)
def test_the_saved_amount_is_read_as_every_amount_is(
    client, clerk, not_public, contract, typed, stored
):
    verified_session(client, clerk)
    url = f"/applications/{contract.application_id}/contracts/{contract.pk}/invoices/prefill/"
    data = {"save": "1", "number": NUMBER, "date": "2025-11-05", "amount": typed}
    response = client.post(url, data)
    if stored is None:
        assert response.status_code == 200
        assert response.context["save"].errors.keys() == {"amount"}
        assert not contract.invoices.filter(number=NUMBER).exists()
    else:
        assert response.status_code == 302
        assert contract.invoices.get(number=NUMBER).amount == Decimal(stored)


@pytest.mark.parametrize(
    "typed", ["2025-11-05", "2025/11/05", "2025年11月5日", "２０２５-１１-０５"]
)
def test_the_saved_date_is_read_as_every_day_is(client, clerk, not_public, contract, typed):
    verified_session(client, clerk)
    url = f"/applications/{contract.application_id}/contracts/{contract.pk}/invoices/prefill/"
    data = {"save": "1", "number": NUMBER, "date": typed, "amount": "1.00"}
    assert client.post(url, data).status_code == 302
    assert contract.invoices.get(number=NUMBER).date == date(2025, 11, 5)
