"""Payee and payment (issue 20 item 2): the enterprise's administrator gives the account (户名 is
the enterprise's name, the number is checked), two members of staff check and confirm it, payment
batches are exported for the finance system (CSV and Excel with totals and a hash) and the bank's
result file is read back: paid, returned with a reason, retried in a later batch."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from voucher.applications import payees
from voucher.applications.models import (
    ADMIN,
    LINE_PAID,
    LINE_RETURNED,
    Membership,
    PayeeAccount,
    PaymentRecord,
)
from voucher.core import clock
from voucher.core.models import AuditEntry
from voucher.core.refusals import Refused
from voucher.review import actions

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    ROLE_USERS,
    confirm_by_hand,
    make_applicant,
    make_staff,
    propose,
    put_in_state,
    verified_client,
)

ACCOUNT = "1100 1234 5678 9012 345"


@pytest.fixture
def season(demo_data, django_user_model, settings):
    """An approved application, published and its period over (the demo clock moved on), its
    enterprise's administrator and member, and staff: two approvers and a reviewer."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    application = application_from("d2-common-shareholder-review")
    staff = {
        "reviewer": make_staff(django_user_model, "reviewer", ROLE_USERS["reviewer"]),
        "approver": make_staff(django_user_model, "approver", ROLE_USERS["approver"]),
        "approver2": make_staff(django_user_model, "approver2", ROLE_USERS["approver"]),
    }
    admin = make_applicant(django_user_model, application, "boss")
    Membership.objects.filter(user=admin).update(role=ADMIN)
    member = make_applicant(django_user_model, application, "member")
    put_in_state(application, "approved")
    decision = confirm_by_hand(propose(application, staff["reviewer"]), staff["approver"])
    actions.publicity_publish(
        round=application.round,
        applications=[application],
        starts_on=clock.today(),
        ends_on=clock.today() + timedelta(days=7),
        acting_user=staff["approver"],
    )
    clock.set_offset(8)
    application.refresh_from_db()
    return {
        "application": application,
        "decision": decision,
        "admin": admin,
        "member": member,
        **staff,
    }


def _enter(season, **fields):
    values = {
        "account_name": season["application"].enterprise.name,
        "bank": "中国工商银行",
        "branch": "北京中关村支行",
        "account_number": ACCOUNT,
        **fields,
    }
    return payees.payee_enter(
        enterprise=season["application"].enterprise, acting_user=season["admin"], **values
    )


def _confirmed(season) -> PayeeAccount:
    account = _enter(season)
    actions.payee_check(account=account, acting_user=season["reviewer"])
    return actions.payee_confirm(account=account, acting_user=season["approver"])


# --- the account ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"account_name": "张三"}, "account_name", "户名须与企业名称"),
        ({"account_name": ""}, "account_name", "请填写户名"),
        ({"bank": " "}, "bank", "请填写开户银行"),
        ({"branch": ""}, "branch", "请填写开户网点"),
        ({"account_number": "6222 02AB 1234"}, "account_number", "只能由数字组成"),
        ({"account_number": "12345678"}, "account_number", "9 至 30 位"),
        ({"account_number": "1" * 31}, "account_number", "9 至 30 位"),
        ({"account_number": "0" * 19}, "account_number", "不正确"),
    ],
)
def test_a_wrong_account_is_refused_naming_the_field(season, fields, field, words):
    with pytest.raises(Refused) as refused:
        _enter(season, **fields)
    assert refused.value.field == field
    assert words in str(refused.value.message)
    assert not PayeeAccount.objects.exists()


def test_the_name_matches_across_full_and_half_width_and_spaces(season):
    enterprise = season["application"].enterprise
    enterprise.name = "北京示例科技有限公司(北京)"
    enterprise.save()
    account = _enter(season, account_name="北京示例科技有限公司（北京） ")
    assert account.account_number == "1100123456789012345"  # grouping spaces dropped


def test_a_plain_member_cannot_give_the_account(season):
    with pytest.raises(Refused, match="企业管理员"):
        payees.payee_enter(
            enterprise=season["application"].enterprise,
            account_name=season["application"].enterprise.name,
            bank="b",
            branch="c",
            account_number=ACCOUNT,
            acting_user=season["member"],
        )


def test_four_eyes_the_checker_cannot_confirm(season):
    account = _enter(season)
    actions.payee_check(account=account, acting_user=season["approver"])
    with pytest.raises(actions.ReviewError, match="四眼原则"):
        actions.payee_confirm(account=account, acting_user=season["approver"])
    confirmed = actions.payee_confirm(account=account, acting_user=season["approver2"])
    assert confirmed.state == "confirmed"
    assert AuditEntry.objects.filter(action__in=("payee_check", "payee_confirm")).count() == 2


def test_a_change_waits_for_confirmation_and_then_replaces_the_old(season):
    old = _confirmed(season)
    new = _enter(season, account_number="6222 0000 1111 2222 333")
    assert payees.payee_in_force(old.enterprise_id) == old  # the old one until confirmed
    actions.payee_check(account=new, acting_user=season["reviewer"])
    actions.payee_confirm(account=new, acting_user=season["approver"])
    old.refresh_from_db()
    assert old.state == "superseded"
    assert payees.payee_in_force(old.enterprise_id).pk == new.pk


def test_a_rejection_needs_a_reason_and_the_enterprise_reads_it(season, client):
    account = _enter(season)
    with pytest.raises(actions.ReviewError, match="原因"):
        actions.payee_reject(account=account, reason=" ", acting_user=season["reviewer"])
    actions.payee_reject(
        account=account, reason="开户许可证上的账号不同", acting_user=season["reviewer"]
    )
    client.force_login(season["admin"])
    page = client.get(reverse("accounts:payee")).content.decode()
    assert "上次提交的账户未通过：开户许可证上的账号不同" in page


def test_the_portal_page_names_the_wrong_field_and_keeps_what_was_typed(season, client):
    client.force_login(season["admin"])
    response = client.post(
        reverse("accounts:payee"),
        {"account_name": "别的公司", "bank": "工行", "branch": "中关村", "account_number": ACCOUNT},
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "户名须与企业名称" in text and 'aria-invalid="true"' in text
    assert "中关村" in text
    ok = client.post(
        reverse("accounts:payee"),
        {
            "account_name": season["application"].enterprise.name,
            "bank": "工行",
            "branch": "中关村",
            "account_number": ACCOUNT,
        },
    )
    assert ok.status_code == 302
    assert PayeeAccount.objects.get().state == "pending"


def test_a_member_sees_the_page_but_cannot_post(season, client):
    client.force_login(season["member"])
    assert client.get(reverse("accounts:payee")).status_code == 200
    refused = client.post(
        reverse("accounts:payee"),
        {"account_name": "x", "bank": "y", "branch": "z", "account_number": ACCOUNT},
    )
    assert refused.status_code == 403
    assert not PayeeAccount.objects.exists()


# --- the batch -----------------------------------------------------------------------------------


def test_no_payment_without_a_confirmed_account(season):
    rows = actions.payables(season["application"].round)
    assert [r.waiting_for for r in rows] == ["企业的收款账户尚未填报或尚未经工作人员确认"]
    with pytest.raises(actions.ReviewError, match="没有可以拨付"):
        actions.batch_create(round=season["application"].round, acting_user=season["approver"])
    _enter(season)  # entered, not yet confirmed: still no payment
    with pytest.raises(actions.ReviewError, match="没有可以拨付"):
        actions.batch_create(round=season["application"].round, acting_user=season["approver"])


def _batch(season):
    _confirmed(season)
    return actions.batch_create(round=season["application"].round, acting_user=season["approver"])


def test_the_batch_file_has_every_line_its_total_and_its_hash(season):
    batch = _batch(season)
    amount = season["decision"].amount
    assert (batch.count, batch.total) == (1, amount)
    body = actions.batch_csv(batch)
    assert hashlib.sha256(body).hexdigest() == batch.csv_sha256
    assert actions.batch_csv(batch) == body  # the same bytes every time
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["批次号", "序号", "申报编号"]
    assert rows[1][0:2] == [str(batch.pk), "1"]
    assert rows[1][6] == "1100123456789012345"
    assert rows[1][7] == f"{amount:.2f}"
    sheet = load_workbook(io.BytesIO(actions.batch_xlsx(batch))).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[-2][0] == "合计" and values[-2][7] == f"{amount:.2f}"
    assert values[-1][1] == batch.csv_sha256
    # an application in a waiting batch is not in the next one
    with pytest.raises(actions.ReviewError, match="没有可以拨付"):
        actions.batch_create(round=season["application"].round, acting_user=season["approver"])


def _result(batch, result="成功", reason="", amount=None, account="1100123456789012345", row=1):
    amount = amount if amount is not None else f"{batch.total:.2f}"
    lines = [
        "批次号,序号,收款账号,金额（元）,结果,退回原因,银行流水号,处理日期",
        f"{batch.pk},{row},{account},{amount},{result},{reason},YH202612150001,2026-12-15",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_paid_result_records_the_payment_and_the_applicant_sees_it(season, client):
    batch = _batch(season)
    result = actions.batch_result_import(
        batch=batch, content=_result(batch), filename="result.csv", acting_user=season["approver"]
    )
    assert (result.paid, result.returned, result.waiting) == (1, 0, 0)
    application = season["application"]
    application.refresh_from_db()
    assert application.state == "paid"
    record = PaymentRecord.objects.get(application=application)
    assert (record.amount, record.reference) == (season["decision"].amount, "YH202612150001")
    batch.refresh_from_db()
    assert batch.state == "settled"
    # read again: nothing changes
    again = actions.batch_result_import(
        batch=batch, content=_result(batch), filename="result.csv", acting_user=season["approver"]
    )
    assert (again.paid, again.unchanged) == (0, 1)
    assert PaymentRecord.objects.count() == 1
    client.force_login(season["member"])
    page = client.get(reverse("portal:status", args=[application.pk])).content.decode()
    assert f"已拨付 {season['decision'].amount:,.2f} 元" in page


def test_a_returned_payment_is_retried_in_a_later_batch(season):
    batch = _batch(season)
    actions.batch_result_import(
        batch=batch,
        content=_result(batch, result="退回", reason="户名与账号不符"),
        filename="result.csv",
        acting_user=season["approver"],
    )
    application = season["application"]
    application.refresh_from_db()
    assert application.state == "publicized"
    assert batch.lines.get().state == LINE_RETURNED
    retry = actions.batch_create(round=application.round, acting_user=season["approver"])
    assert retry.pk != batch.pk and retry.count == 1
    actions.batch_result_import(
        batch=retry, content=_result(retry), filename="r.csv", acting_user=season["approver"]
    )
    assert retry.lines.get().state == LINE_PAID


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"amount": "1.00"}, "金额与批次不一致"),
        ({"account": "999999999999"}, "收款账号与批次不一致"),
        ({"result": "也许"}, "结果应为"),
        ({"result": "退回"}, "须写明退回原因"),
        ({"row": 7}, "没有序号 7"),
    ],
)
def test_a_result_file_with_a_bad_row_is_refused_whole(season, kwargs, words):
    batch = _batch(season)
    with pytest.raises(actions.ReviewError) as refused:
        actions.batch_result_import(
            batch=batch,
            content=_result(batch, **kwargs),
            filename="result.csv",
            acting_user=season["approver"],
        )
    assert "第 2 行" in str(refused.value) and words in str(refused.value)
    assert batch.lines.get().state == "exported"
    assert not PaymentRecord.objects.exists()


def test_only_an_approver_or_administrator_makes_batches(season):
    _confirmed(season)
    with pytest.raises(actions.ReviewError, match="拨付批次"):
        actions.batch_create(round=season["application"].round, acting_user=season["reviewer"])


def test_the_pages_walk_the_batch(season):
    _confirmed(season)
    approver = verified_client(Client(), season["approver"])
    page = approver.get(reverse("review:payment_batches")).content.decode()
    assert season["application"].reference in page and "生成拨付批次" in page
    created = approver.post(
        reverse("review:payment_batches"), {"round": season["application"].round.code}
    )
    assert created.status_code == 302
    batch = season["application"].payment_lines.get().batch
    download = approver.get(reverse("review:payment_batch_csv", args=[batch.pk]))
    assert hashlib.sha256(download.content).hexdigest() == batch.csv_sha256
    assert AuditEntry.objects.filter(action="export", data__what="payment_batch_csv").exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    approver.post(
        reverse("review:payment_batch", args=[batch.pk]),
        {"file": SimpleUploadedFile("result.csv", _result(batch), "text/csv")},
    )
    season["application"].refresh_from_db()
    assert season["application"].state == "paid"
