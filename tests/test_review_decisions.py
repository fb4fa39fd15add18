"""Decisions: four eyes, never above approved_max (action, page, admin, database), the notice,
the supplement with its diff, publicity, payment, clawback, budget, lists, audit and e-mail."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.applications import lifecycle
from voucher.applications import permissions as p
from voucher.applications import selectors as app_selectors
from voucher.applications.models import Decision, Notification
from voucher.core.audit import verify_chain
from voucher.core.models import AuditEntry
from voucher.review import actions, selectors, staff
from voucher.review.budget import prorata
from voucher.review.months import add_months

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    PASSWORD,
    latest,
    make_applicant,
    make_staff,
    put_in_state,
    tick_materials,
    verified_client,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "approver2": make_staff(django_user_model, "approver2", "bureau_approver"),
        "auditor": make_staff(django_user_model, "auditor", "auditor"),
        "admin": make_staff(django_user_model, "administrator", "administrator"),
    }


@pytest.fixture
def in_review(team):
    """In review, its materials checked (附件14-1): an approval may be proposed."""
    return tick_materials(put_in_state(application_from("d4-small"), "in_review"), team["reviewer"])


def test_the_proposed_amount_is_approved_max_and_a_second_person_confirms(team, in_review):
    decision = actions.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    assert decision.amount == latest(in_review).approved_max
    with pytest.raises(actions.ReviewError, match="只能由"):
        actions.decision_confirm(decision=decision, acting_user=team["reviewer"])
    actions.decision_confirm(decision=decision, acting_user=team["approver"])
    in_review.refresh_from_db()
    assert in_review.state == "approved"


def test_an_approver_who_proposed_cannot_confirm_their_own(team, in_review):
    team["approver"].groups.add(team["reviewer"].groups.first())
    team["approver"]._voucher_roles = None
    del team["approver"]._voucher_roles
    decision = actions.decision_propose(
        application=in_review, kind="approval", acting_user=team["approver"]
    )
    with pytest.raises(actions.ReviewError, match="四眼原则"):
        actions.decision_confirm(decision=decision, acting_user=team["approver"])
    in_review.refresh_from_db()
    assert in_review.state == "in_review"


def test_an_amount_may_be_lowered_with_a_reason_never_raised(team, in_review):
    maximum = latest(in_review).approved_max
    with pytest.raises(actions.ReviewError, match="只能调减"):
        actions.decision_propose(
            application=in_review,
            kind="approval",
            amount=maximum + Decimal("0.01"),
            acting_user=team["reviewer"],
        )
    with pytest.raises(actions.ReviewError, match="理由"):
        actions.decision_propose(
            application=in_review,
            kind="approval",
            amount=maximum - Decimal("0.01"),
            acting_user=team["reviewer"],
        )
    decision = actions.decision_propose(
        application=in_review,
        kind="approval",
        amount=maximum - Decimal("0.01"),
        lowered_reason="一张发票金额待核",
        acting_user=team["reviewer"],
    )
    assert decision.amount == maximum - Decimal("0.01")
    assert Decision.objects.count() == 1


def test_the_database_refuses_an_amount_above_approved_max(team, in_review):
    evaluation = latest(in_review)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            application=in_review,
            evaluation=evaluation,
            kind="approval",
            amount=evaluation.approved_max + Decimal("0.01"),
            approved_max_at_decision=evaluation.approved_max,
            lowered_reason="x",
            proposed_by=team["reviewer"],
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            application=in_review,
            evaluation=evaluation,
            kind="approval",
            amount=evaluation.approved_max,
            approved_max_at_decision=evaluation.approved_max,
            proposed_by=team["reviewer"],
            confirmed_by=team["reviewer"],  # four eyes, in the database too
        )


def test_the_page_refuses_an_amount_above_approved_max(client, team, in_review):
    verified_client(client, team["reviewer"])
    maximum = latest(in_review).approved_max
    response = client.post(
        f"/review/{in_review.pk}/propose/",
        {"kind": "approval", "amount": str(maximum + Decimal("1"))},
        follow=True,
    )
    assert "只能调减" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_admin_cannot_add_or_change_a_decision(admin_client, team, in_review):
    assert admin_client.get("/admin/applications/decision/add/").status_code == 403
    decision = actions.decision_propose(
        application=in_review, kind="approval", acting_user=team["reviewer"]
    )
    response = admin_client.post(
        f"/admin/applications/decision/{decision.pk}/change/",
        {"amount": str(decision.amount * 2), "status": "confirmed"},
    )
    assert response.status_code == 403  # read-only: the change view refuses
    decision.refresh_from_db()
    assert decision.amount == latest(in_review).approved_max
    assert decision.status == "proposed"


def test_staff_without_a_device_set_one_up_through_the_administrators_link(client, team):
    response = client.post(
        "/review/login/", {"username": team["reviewer"].username, "password": PASSWORD}
    )
    assert response.status_code == 200  # a password alone: no secret, the way to the link
    assert "请使用管理员发送的绑定链接完成验证器绑定" in response.content.decode()
    link = staff.staff_totp_link(user=team["reviewer"], acting_user=team["admin"])
    path = link.split("localhost:8000", 1)[1]
    response = client.post(
        "/review/login/",
        {"username": team["reviewer"].username, "password": PASSWORD, "next": path},
    )
    assert response.status_code == 302 and response["Location"] == path
    page = client.get(path)
    assert "密钥" in page.content.decode()
    device = TOTPDevice.objects.get(user=team["reviewer"], confirmed=False)
    assert client.get("/review/").status_code == 302  # not verified yet
    token = TOTP(device.bin_key).token()
    client.post(path, {"otp_token": f"{token:06d}"})
    assert client.get("/review/").status_code == 200


def test_a_wrong_code_is_refused(client, team):
    TOTPDevice.objects.create(user=team["reviewer"], name="t", confirmed=True)
    response = client.post(
        "/review/login/",
        {"username": team["reviewer"].username, "password": PASSWORD, "otp_token": "000000"},
    )
    assert "用户名、密码或验证码不正确" in response.content.decode()  # as for a wrong password


def test_a_rejection_lists_the_failed_rules_with_clauses_and_the_notice_is_a_pdf(
    client, team, demo_data
):
    application = put_in_state(
        application_from("batch-two-directions", "application-2.json"), "in_review"
    )
    fails = [f for f in latest(application).findings if f["status"] == "fail"]
    decision = actions.decision_propose(
        application=application, kind="rejection", acting_user=team["reviewer"]
    )
    assert [x["rule"] for x in decision.reasons] == [f["rule"] for f in fails]
    assert all(x["clause"] for x in decision.reasons)
    actions.decision_confirm(decision=decision, acting_user=team["approver"])
    verified_client(client, team["auditor"])
    response = client.get(f"/review/{application.pk}/notice.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_supplement_items_the_applicant_answer_and_the_field_diff(
    team, demo_data, django_user_model
):
    application = put_in_state(application_from("d2-common-shareholder-review"), "in_review")
    applicant = make_applicant(django_user_model, application)
    actions.supplement_request(
        application=application,
        items=["补充付款凭证", "说明与供应方的股权关系"],
        due_on=timezone.localdate() + timedelta(days=10),
        acting_user=team["reviewer"],
    )
    (shown,) = app_selectors.supplement_requests_for(application)
    assert [text for _, _, text, _ in shown.items] == ["补充付款凭证", "说明与供应方的股权关系"]
    type(application).objects.filter(pk=application.pk).update(project_name="新的项目名称")
    application.refresh_from_db()
    with pytest.raises(actions.ReviewError, match="第 2 项"):
        lifecycle.supplement_answer(
            application=application, answers={shown.items[0][0]: "已补"}, acting_user=applicant
        )
    lifecycle.supplement_answer(
        application=application,
        answers={shown.items[0][0]: "已补", shown.items[1][0]: "无关联"},
        acting_user=applicant,
    )
    application.refresh_from_db()
    assert application.state == "resubmitted"
    diff = selectors.latest_diff(application)
    assert [(line.path, line.after) for line in diff.lines] == [("project.name", "新的项目名称")]


def test_payment_never_more_than_decided_and_clawback_due_six_calendar_months_later(
    team, demo_data
):
    application = put_in_state(application_from("d4-small"), "in_review")
    tick_materials(application, team["reviewer"])
    decision = actions.decision_propose(
        application=application, kind="approval", acting_user=team["reviewer"]
    )
    actions.decision_confirm(decision=decision, acting_user=team["approver"])
    today = timezone.localdate()
    with pytest.raises(actions.ReviewError, match="公示开始日期不能早于今天"):
        actions.publicity_publish(  # a period already over would let the payment follow at once
            round=application.round,
            applications=[application],
            starts_on=today - timedelta(days=8),
            ends_on=today - timedelta(days=1),
            acting_user=team["approver"],
        )
    publicity = actions.publicity_publish(
        round=application.round,
        applications=[application],
        starts_on=today,
        ends_on=today + timedelta(days=7),
        acting_user=team["approver"],
    )
    assert not p.can_record_payment(team["approver"], application)  # the period is running
    # eight days later: the period is over
    type(publicity).objects.filter(pk=publicity.pk).update(
        starts_on=today - timedelta(days=8), ends_on=today - timedelta(days=1)
    )
    application.refresh_from_db()
    rows = selectors.publicity_rows(list(publicity.applications.all()))
    assert rows[0]["拟支持金额（元）"] == decision.amount and "联系人" not in rows[0]
    # 万元 exactly (4.567891 for 45,678.91 yuan): no third rounding besides RULES.md's two
    assert rows[0]["拟支持金额（万元）"] * 10000 == decision.amount
    with pytest.raises(actions.ReviewError, match="超过核定金额"):
        actions.payment_record(
            application=application,
            paid_on=today,
            amount=decision.amount + Decimal("0.01"),
            reference="ZF-1",
            acting_user=team["approver"],
        )
    actions.payment_record(
        application=application,
        paid_on=today,
        amount=decision.amount,
        reference="ZF-1",
        acting_user=team["approver"],
    )
    # the 办理记录 names each step in words, the 公示 list's publication included
    history = selectors.review_screen(application, team["auditor"]).history
    labels = [e.label for e in history]
    for step in ("拟定审核意见", "复核确认", "发布公示名单", "登记拨付"):
        assert step in labels, labels
    assert not [e.action for e in history if e.label == e.action]  # every step in words
    claw = actions.clawback_request(
        application=application,
        notice_date=date(2026, 8, 31),
        amount="100.00",
        reason="违反承诺第4条",
        acting_user=team["approver"],
    )
    assert claw.due_date == date(2027, 2, 28)  # end of month clamped
    assert [row.reference for row in selectors.overdue_report(today=date(2027, 3, 1))] == [
        application.reference
    ]
    # past due: the auditor sees the report and changes nothing; the approver marks it
    type(claw).objects.filter(pk=claw.pk).update(due_date=today - timedelta(days=1))
    before = AuditEntry.objects.count()
    with pytest.raises(actions.ReviewError, match="标记逾期未退还"):
        actions.clawbacks_mark_overdue(acting_user=team["auditor"])
    assert AuditEntry.objects.count() == before
    assert actions.clawbacks_mark_overdue(acting_user=team["approver"]) == [application]
    application.refresh_from_db()
    assert application.state == "overdue"


def test_add_months_counts_calendar_months():
    assert add_months(date(2026, 1, 15), 6) == date(2026, 7, 15)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_prorata_rounds_down_to_the_fen_and_never_exceeds_budget_or_maximum():
    amounts = {1: Decimal("100000.00"), 2: Decimal("33333.33"), 3: Decimal("0.03")}
    simulation = prorata(amounts, Decimal("100000.00"))
    assert simulation.over_budget
    assert simulation.scaled_total <= Decimal("100000.00")
    for row in simulation.rows:
        assert row.scaled <= row.approved and row.scaled == row.scaled.quantize(Decimal("0.01"))
    assert prorata(amounts, Decimal("1000000")).scaled_total == sum(amounts.values())


def test_imported_lists_feed_credit_record_and_municipal_support(team, demo_data):
    application = application_from("d4-small")
    content = f"统一社会信用代码,名称\n{application.enterprise.uscc},示例\nBAD,坏行\n".encode()
    result = actions.outside_list_import(
        kind="dishonest", content=content, filename="失信名单.csv", acting_user=team["admin"]
    )
    assert result.count == 1 and "第 3 行" in result.errors[0]
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["统一社会信用代码"])
    book.active.append([application.enterprise.uscc])
    out = io.BytesIO()
    book.save(out)
    actions.outside_list_import(
        kind="municipal_support",
        content=out.getvalue(),
        filename="市级支持.xlsx",
        acting_user=team["admin"],
    )
    from voucher.applications.actions import application_evaluate

    stored = application_evaluate(application=application)
    statuses = {f["rule"]: f["status"] for f in stored.findings}
    assert statuses["CREDIT_RECORD"] == "fail"
    assert statuses["NO_OTHER_MUNICIPAL_SUPPORT"] == "fail"
    with pytest.raises(actions.ReviewError, match="管理员"):
        actions.outside_list_import(
            kind="dishonest", content=content, filename="x.csv", acting_user=team["reviewer"]
        )


def test_cross_round_checks_find_duplicate_invoices_and_many_directions(team, demo_data):
    from voucher.applications.models import Invoice
    from voucher.review.crosscheck import round_checks

    a = put_in_state(application_from("batch-two-directions", "application-1.json"), "submitted")
    b = put_in_state(application_from("batch-two-directions", "application-2.json"), "submitted")
    number = Invoice.objects.filter(contract__application=a).first().number
    invoice = Invoice.objects.filter(contract__application=b).first()
    invoice.number = number
    invoice.save()
    checks = round_checks(a.round)
    kinds = {f.check for f in checks.findings}
    assert "DUPLICATE_INVOICE" in kinds
    assert "ONE_DIRECTION" in kinds  # one enterprise, directions 2 and 4


def test_the_round_s_cross_checks_cost_the_same_queries_however_many_applications(team, demo_data):
    """Each application's contracts come with it (before: two queries per application)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from voucher.review.crosscheck import round_checks

    folders = ["d4-small", "d1-cap-binds", "d2-threshold-exact", "d3-modelscope"]
    counts = []
    for folder in folders:
        record = put_in_state(application_from(folder), "submitted").round
        with CaptureQueriesContext(connection) as captured:
            round_checks(record)
        counts.append(len(captured))
    assert len(set(counts)) == 1, counts


def test_a_failing_mail_server_never_blocks_and_administrators_see_it(
    team, in_review, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("voucher.applications.notify.send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        actions.supplement_request(
            application=in_review,
            items=["补充"],
            due_on=timezone.localdate() + timedelta(days=3),
            acting_user=team["reviewer"],
        )
    in_review.refresh_from_db()
    assert in_review.state == "supplement_requested"
    failed = selectors.failed_notifications()
    assert failed and "smtp down" in failed[0].error


def test_notifications_go_after_commit(team, in_review, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.supplement_request(
            application=in_review,
            items=["补充"],
            due_on=timezone.localdate() + timedelta(days=3),
            acting_user=team["reviewer"],
        )
    assert any("要求补正" in m.subject for m in mail.outbox)
    assert Notification.objects.filter(sent_at__isnull=False).exists()


def test_viewing_contact_data_and_exports_are_audited_and_the_chain_holds(client, team, in_review):
    verified_client(client, team["auditor"])
    page = client.get(f"/review/{in_review.pk}/contact/").content.decode()  # a link followed
    assert in_review.contact_mobile not in page
    assert not AuditEntry.objects.filter(action="contact_view").exists()
    page = client.post(f"/review/{in_review.pk}/contact/").content.decode()
    assert in_review.contact_mobile in page
    assert AuditEntry.objects.filter(action="contact_view", object_id=str(in_review.pk)).exists()
    response = client.get("/review/export.xlsx?state=in_review")
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.data["filters"] == {"state": "in_review"}
    assert list(verify_chain()) == []


def test_the_auditor_reads_everything_and_changes_nothing(client, team, in_review):
    verified_client(client, team["auditor"])
    for url in (
        "/review/",
        f"/review/{in_review.pk}/",
        "/review/dashboard/",
        "/review/checks/",
        "/review/publicity/",
        "/review/clawbacks/",
        "/review/lists/",
        "/review/notifications/",
    ):
        assert client.get(url).status_code == 200, url
    client.post(f"/review/{in_review.pk}/propose/", {"kind": "approval"})
    assert not Decision.objects.exists()


def test_the_workflow_doc_is_current():
    from voucher.review.workflow_doc import DOC_PATH, workflow_markdown

    assert DOC_PATH.read_text(encoding="utf-8") == workflow_markdown(), (
        "docs/workflow.md is stale: run `voucher workflow doc`"
    )


def test_a_refused_form_comes_back_as_typed_with_the_error(client, team, in_review, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    verified_client(client, team["reviewer"])
    screen = f"/review/{in_review.pk}/"
    typed = {"kind": "approval", "amount": "1", "lowered_reason": "", "reason": "草稿理由"}
    page = client.post(f"{screen}propose/", typed, follow=True).content.decode()
    assert "调减核定金额须填写理由" in page
    assert 'name="amount" value="1"' in page and 'name="reason" value="草稿理由"' in page
    # once: the next visit shows the defaults again
    page = client.get(screen).content.decode()
    assert 'name="amount" value="1"' not in page and "草稿理由" not in page
    # a refused supplement keeps its items; the other forms keep their defaults
    items = {"items": "补充付款凭证\n补充发票", "due_on": "2020-01-01", "note": "请尽快"}
    page = client.post(f"{screen}supplement/", items, follow=True).content.decode()
    assert "补正截止日期须晚于今天" in page
    assert "补充付款凭证\n补充发票</textarea>" in page and 'value="2020-01-01"' in page
    assert 'name="reason" value=""' in page  # the proposal's reason: not the supplement's


@pytest.mark.parametrize(
    ("who", "offered", "not_offered"),
    [
        (
            "reviewer",
            ["审核队列", "跨申报核查"],
            ["系统管理", "开源项目筛选", "导入登记信息", "通知"],
        ),
        ("auditor", ["审核队列", "通知"], ["系统管理", "开源项目筛选", "企业认领"]),
        ("admin", ["系统管理", "开源项目筛选", "导入登记信息", "通知", "企业认领"], []),
    ],
)
def test_the_navigation_offers_only_pages_the_role_may_open(
    client, team, settings, who, offered, not_offered
):
    import re

    settings.PASSWORD_HASHERS = FAST_HASHERS
    verified_client(client, team[who])
    nav = re.search(
        r'<nav class="review-nav".*?</nav>', client.get("/review/").content.decode(), re.S
    )
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav.group(0)))
    names = set(links.values())
    assert set(offered) <= names and not set(not_offered) & names, names
    for href in links:  # and every link offered opens
        assert client.get(href).status_code == 200, href


def test_an_unknown_transition_is_refused_not_a_500(client, team, in_review, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    verified_client(client, team["reviewer"])
    page = client.post(f"/review/{in_review.pk}/transition/no_such_step/", follow=True)
    assert page.status_code == 200 and "未知的流转" in page.content.decode()
