"""Issue 22, the rules: SUPPLIER_AGREEMENTS and SUPPLIER_HIERARCHY take both parties' word, an
unconfirmed or disputed line is a `review` finding (SUPPLIER_CONFIRMATION), invoices and
payments are lines the supplier confirms, and the supplier is told
(docs/policy/supplier-confirmation.md)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from voucher.policy.context import (
    EvaluationContext,
    SupplierWord,
    SupplierWords,
    supplier_word_key,
)

from .builders import base_document, build, finding, run

ASKED = frozenset({1, 2, 4})


def _words(doc, **word) -> SupplierWords:
    app = build(doc)
    contract = app.contracts[0]
    return SupplierWords(ASKED, {supplier_word_key(app, contract): SupplierWord(**word)})


def _run(doc, words):
    return run(doc, context=EvaluationContext(supplier_words=words))


# --- the engine: both parties' declarations ------------------------------------------------------


@pytest.mark.parametrize("rule", ["SUPPLIER_AGREEMENTS", "SUPPLIER_HIERARCHY"])
def test_without_any_source_of_supplier_declarations_the_finding_says_so(rule):
    doc = base_document(2)
    f = finding(run(doc), rule)
    assert f.status == "pass"
    assert "没有供给方声明的来源" in f.message
    assert f.values["supplier_declaration"] == "no_source"


@pytest.mark.parametrize("rule", ["SUPPLIER_AGREEMENTS", "SUPPLIER_HIERARCHY"])
def test_the_suppliers_silence_is_review_with_its_reason(rule):
    doc = base_document(4)
    silent = SupplierWords(ASKED, {})
    f = finding(_run(doc, silent), rule)
    assert f.status == "review"
    assert "供给方尚未声明" in f.message
    ev = _run(doc, silent)
    assert ev.outcome == "needs_review"
    # a word without the declaration (lines confirmed only) is silence too
    f = finding(_run(doc, _words(doc, declared=False, lines=1)), rule)
    assert f.status == "review"


def test_either_party_declaring_a_relation_fails_naming_who():
    doc = base_document(2)
    ev = _run(
        doc, _words(doc, declared=True, revenue_or_risk_sharing=True, declared_on="2026-03-02")
    )
    f = finding(ev, "SUPPLIER_AGREEMENTS")
    assert f.status == "fail" and f.message.startswith("供给方声明")
    assert f.values["declared_by"] == ["supplier"]
    assert finding(ev, "SUPPLIER_HIERARCHY").status == "pass"
    # a fail excludes the contract, as the applicant's own declaration does
    assert ev.contracts[0].subsidy == 0

    doc["contracts"][0]["relationship"]["hierarchy"] = True
    ev = _run(doc, _words(doc, declared=True, hierarchy=True))
    f = finding(ev, "SUPPLIER_HIERARCHY")
    assert f.status == "fail" and "申报单位和供给方均声明" in f.message
    assert f.values["declared_by"] == ["applicant", "supplier"]

    ev = _run(doc, _words(doc, declared=True))  # the supplier declares none: the applicant's word
    f = finding(ev, "SUPPLIER_HIERARCHY")
    assert f.status == "fail" and f.message.startswith("申报单位声明")


def test_both_declaring_none_passes_naming_both():
    doc = base_document(1)
    ev = _run(doc, _words(doc, declared=True, declared_on="2026-03-02", lines=2))
    for rule in ("SUPPLIER_AGREEMENTS", "SUPPLIER_HIERARCHY"):
        f = finding(ev, rule)
        assert f.status == "pass"
        assert "申报单位和供给方" in f.message and "2026-03-02" in f.message
    assert ev.outcome == "eligible"


def test_direction_3_suppliers_are_not_asked():
    doc = base_document(3)
    ev = _run(doc, SupplierWords(ASKED, {}))
    f = finding(ev, "SUPPLIER_AGREEMENTS")
    assert f.status == "pass" and f.values["supplier_declaration"] == "not_asked"
    assert not [x for x in ev.findings if x.rule == "SUPPLIER_CONFIRMATION"]


# --- the engine: the supplier's confirmation of each line --------------------------------------


def test_an_open_line_is_a_review_finding_naming_it():
    doc = base_document(2)
    open_lines = ("交付记录 2025-10-01 至 2025-10-31（1000000 元），有异议：单价应为 10 元",)
    ev = _run(doc, _words(doc, declared=True, lines=3, open_lines=open_lines))
    f = finding(ev, "SUPPLIER_CONFIRMATION")
    assert f.status == "review" and "单价应为 10 元" in f.message
    assert f.clause == "14-1 三, 14-1 五"
    assert ev.outcome == "needs_review"
    assert ev.contracts[0].subsidy > 0  # review, not fail: the amounts are still computed
    ev = _run(doc, _words(doc, declared=True, lines=3))
    assert finding(ev, "SUPPLIER_CONFIRMATION").status == "pass"
    assert ev.outcome == "eligible"
    # a contract the supplier has said nothing about
    f = finding(_run(doc, SupplierWords(ASKED, {})), "SUPPLIER_CONFIRMATION")
    assert f.status == "review"


def test_a_file_evaluated_alone_has_no_confirmation_finding():
    assert not [f for f in run(base_document(2)).findings if f.rule == "SUPPLIER_CONFIRMATION"]


def test_two_stored_contracts_behind_one_key_merge_fail_closed():
    declared = SupplierWord(declared=True, declared_on="2026-03-02", lines=2)
    silent = SupplierWord(lines=1, open_lines=("合同条款",))
    merged = declared.merged(silent)
    assert not merged.declared and merged.open_lines == ("合同条款",) and merged.lines == 3
    related = SupplierWord(declared=True, hierarchy=True)
    assert declared.merged(related).hierarchy


# --- the store: the supplier's word reaches the bureau's evaluation -----------------------------


def _latest(application):
    from voucher.applications.selectors import latest_evaluation

    return latest_evaluation(application)


def _rules(stored, status):
    return sorted({f["rule"] for f in stored.findings if f["status"] == status})


@pytest.fixture
def silent_d4(demo_data, django_user_model):
    """d4-small in review, its supplier silent (the demo's words removed), its supplier with a
    member; the other examples of its enterprise withdrawn (ONE_DIRECTION is not the point)."""
    from voucher.applications import supplier
    from voucher.applications.models import SupplierAttestation, SupplierMember

    from .conftest import application_from
    from .review_support import put_in_state

    d4 = put_in_state(application_from("d4-small"), "in_review")
    type(d4).objects.filter(enterprise=d4.enterprise).exclude(pk=d4.pk).update(state="withdrawn")
    contract = d4.contracts.get()
    contract.supplier_confirmations.all().delete()
    SupplierAttestation.objects.filter(contract=contract).delete()
    supplier.evaluate_after_supplier_word([d4.pk])
    user = django_user_model.objects.create_user("t-sup", email="ops@supplier.example.cn")
    SupplierMember.objects.create(user=user, uscc=contract.supplier_uscc)
    return {"d4": d4, "contract": contract, "user": user}


@pytest.mark.django_db
def test_the_suppliers_word_reaches_the_stored_evaluation(silent_d4):
    from voucher.applications import supplier
    from voucher.applications.models import LINE_CONFIRMED, LINE_DISPUTED

    d4, contract, user = silent_d4["d4"], silent_d4["contract"], silent_d4["user"]
    stored = _latest(d4)
    assert stored.outcome == "needs_review"
    assert _rules(stored, "review") == [
        "SUPPLIER_AGREEMENTS",
        "SUPPLIER_CONFIRMATION",
        "SUPPLIER_HIERARCHY",
    ]
    assert stored.review_open == 3  # the queue's open-review count shows them
    message = next(f for f in stored.findings if f["rule"] == "SUPPLIER_AGREEMENTS")["message"]
    assert "供给方尚未声明" in message

    supplier.attestation_make(
        contract=contract, compliant=True, no_sharing=True, no_hierarchy=False, acting_user=user
    )
    stored = _latest(d4)
    # its one contract excluded: no eligible contract is left
    assert _rules(stored, "fail") == ["NO_ELIGIBLE_CONTRACT", "SUPPLIER_HIERARCHY"]
    hierarchy = next(f for f in stored.findings if f["rule"] == "SUPPLIER_HIERARCHY")
    assert hierarchy["message"].startswith("供给方声明")

    supplier.attestation_make(
        contract=contract, compliant=True, no_sharing=True, no_hierarchy=True, acting_user=user
    )
    lines = supplier.lines_of(contract)
    for line in lines[:-1]:
        supplier.line_word(
            contract=contract, line=line.key, state=LINE_CONFIRMED, reason="", acting_user=user
        )
    supplier.line_word(
        contract=contract,
        line=lines[-1].key,
        state=LINE_DISPUTED,
        reason="金额应为 100 元",
        acting_user=user,
    )
    stored = _latest(d4)
    assert _rules(stored, "review") == ["SUPPLIER_CONFIRMATION"]
    confirmation = next(f for f in stored.findings if f["rule"] == "SUPPLIER_CONFIRMATION")
    assert "有异议：金额应为 100 元" in confirmation["message"]

    supplier.line_word(
        contract=contract, line=lines[-1].key, state=LINE_CONFIRMED, reason="", acting_user=user
    )
    stored = _latest(d4)
    assert stored.outcome == "eligible" and stored.review_open == 0


@pytest.mark.django_db
def test_a_declaration_counts_only_while_the_contract_names_its_supplier(silent_d4):
    from voucher.applications import supplier

    d4, contract, user = silent_d4["d4"], silent_d4["contract"], silent_d4["user"]
    supplier.attestation_make(
        contract=contract, compliant=True, no_sharing=True, no_hierarchy=True, acting_user=user
    )
    assert supplier.attestation_of(contract).supplier_uscc == contract.supplier_uscc
    type(contract).objects.filter(pk=contract.pk).update(supplier_uscc="91110115MA03E5TUX0")
    contract.refresh_from_db()
    assert supplier.attestation_of(contract) is None
    supplier.evaluate_after_supplier_word([d4.pk])
    assert "SUPPLIER_AGREEMENTS" in _rules(_latest(d4), "review")


# --- invoices and payments are lines -------------------------------------------------------------


@pytest.mark.django_db
def test_invoices_and_payments_are_confirmed_and_locked_like_delivery_lines(silent_d4):
    from voucher.applications import supplier
    from voucher.applications.models import LINE_CONFIRMED, LINE_DISPUTED, Invoice, Payment
    from voucher.portal import actions as portal

    d4, contract, user = silent_d4["d4"], silent_d4["contract"], silent_d4["user"]
    invoice = contract.invoices.order_by("id").first()
    payment = contract.payments.order_by("id").first()
    assert invoice is not None and payment is not None
    keys = [line.key for line in supplier.lines_of(contract)]
    assert supplier.row_line("invoice", invoice) in keys
    assert supplier.row_line("payment", payment) in keys

    supplier.line_word(
        contract=contract,
        line=supplier.row_line("invoice", invoice),
        state=LINE_CONFIRMED,
        reason="",
        acting_user=user,
    )
    supplier.line_word(
        contract=contract,
        line=supplier.row_line("payment", payment),
        state=LINE_DISPUTED,
        reason="未收到该笔付款",
        acting_user=user,
    )
    assert "未收到该笔付款" in "；".join(supplier.open_lines(d4))  # the approval's gate names it
    type(d4).objects.filter(pk=d4.pk).update(state="draft")
    d4.refresh_from_db()
    with pytest.raises(portal.PortalError, match="算力供给方已确认该发票"):
        portal.contract_row_delete(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            kind="invoices",
            row_pk=invoice.pk,
            acting_user=user,
        )
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    # a changed invoice is unconfirmed again (the content hash)
    Invoice.objects.filter(pk=invoice.pk).update(amount=invoice.amount + 1)
    states = {line.key: line.state for line in supplier.lines_of(contract)}
    assert states[supplier.row_line("invoice", invoice)] == supplier.UNCONFIRMED
    # the disputed payment may be removed (to be added again, corrected)
    portal.contract_row_delete(
        application=d4,
        expected_version=d4.version,
        contract_pk=contract.pk,
        kind="payments",
        row_pk=payment.pk,
        acting_user=user,
    )
    assert not Payment.objects.filter(pk=payment.pk).exists()


@pytest.mark.django_db
def test_the_supplier_page_lists_invoices_and_payments_to_confirm(silent_d4):
    from voucher.applications import supplier
    from voucher.applications.models import LINE_CONFIRMED

    contract, user = silent_d4["contract"], silent_d4["user"]
    client = Client()
    client.force_login(user)
    url = reverse("portal:supplier_contract", args=[contract.pk])
    invoice = contract.invoices.order_by("id").first()
    page = client.get(url).content.decode()
    assert invoice.number in page and "付款" in page
    key = supplier.row_line("invoice", invoice)
    assert client.post(url, {"line": key, "state": LINE_CONFIRMED}).status_code == 302
    assert {x.key: x.state for x in supplier.lines_of(contract)}[key] == LINE_CONFIRMED


# --- the supplier is told ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_suppliers_members_are_told_of_a_submission_and_a_correction(
    silent_d4, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.applications import supplier
    from voucher.applications.models import LINE_DISPUTED
    from voucher.core.models import AuditEntry
    from voucher.portal import actions as portal

    d4, contract, user = silent_d4["d4"], silent_d4["contract"], silent_d4["user"]
    with django_capture_on_commit_callbacks(execute=True):
        told = supplier.notify_submission(application=d4, acting_user=None)
    assert told == [contract.supplier_uscc]
    assert [m.to for m in mailoutbox] == [["ops@supplier.example.cn"]]
    assert contract.contract_id in mailoutbox[0].subject
    assert "逐行确认" in mailoutbox[0].body
    entry = AuditEntry.objects.filter(action="supplier_notified").latest("id")
    assert entry.data["event"] == "supplier:submitted"
    assert entry.data["supplier_uscc"] == contract.supplier_uscc

    supplier.line_word(
        contract=contract, line="contract", state=LINE_DISPUTED, reason="总额不符", acting_user=user
    )
    type(d4).objects.filter(pk=d4.pk).update(state="draft")
    d4.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        portal.contract_save(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            values={"contract_id": contract.contract_id, "total_amount": contract.total_amount + 1},
            acting_user=user,
        )
    assert len(mailoutbox) == 2 and "已更正" in mailoutbox[1].subject
    assert "合同条款" in mailoutbox[1].body
    entry = AuditEntry.objects.filter(action="supplier_notified").latest("id")
    assert entry.data["event"] == "supplier:corrected"
    # an unchanged save of the (now unconfirmed) contract tells nobody again
    d4.refresh_from_db()
    contract.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        portal.contract_save(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            values={"contract_id": contract.contract_id, "total_amount": contract.total_amount},
            acting_user=user,
        )
    assert len(mailoutbox) == 2


@pytest.mark.django_db
def test_without_members_nothing_is_sent_and_the_screen_says_so(
    silent_d4, django_user_model, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.applications import supplier
    from voucher.applications.models import Notification, SupplierMember

    from .review_support import make_staff, verified_client

    d4 = silent_d4["d4"]
    SupplierMember.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert supplier.notify_submission(application=d4, acting_user=None) == []
    assert mailoutbox == [] and not Notification.objects.filter(event__startswith="supplier:")
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    screen = verified_client(Client(), reviewer).get(reverse("review:screen", args=[d4.pk]))
    text = screen.content.decode()
    assert "该算力供给方尚未在系统中开设账号" in text


@pytest.mark.django_db
def test_the_screen_marks_the_delivered_amount_the_supplier_confirmed(silent_d4, django_user_model):
    from voucher.applications import supplier
    from voucher.applications.models import LINE_CONFIRMED

    from .review_support import make_staff, verified_client

    d4, contract, user = silent_d4["d4"], silent_d4["contract"], silent_d4["user"]
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    client = verified_client(Client(), reviewer)

    def delivered_cell() -> str:
        text = client.get(reverse("review:screen", args=[d4.pk])).content.decode()
        start = text.index('data-label="交付"')
        return text[start : text.index("</td>", start)]

    assert "供给方未确认" in delivered_cell()
    assert (
        "该算力供给方尚未在系统中开设账号"
        not in client.get(reverse("review:screen", args=[d4.pk])).content.decode()
    )
    for line in supplier.lines_of(contract):
        if line.kind == "delivery":
            supplier.line_word(
                contract=contract, line=line.key, state=LINE_CONFIRMED, reason="", acting_user=user
            )
    assert "供给方已确认" in delivered_cell()


@pytest.mark.django_db
def test_submitting_in_the_portal_tells_the_supplier(
    client, settings, tmp_path, django_user_model, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.applications.models import Application, SupplierMember
    from voucher.core.models import AuditEntry

    from .portal_helpers import USCC_A, USCC_B, fill_d2, member, open_round, post_step

    settings.DATA_DIR = tmp_path
    open_round()
    user = django_user_model.objects.create_user("t-sup-b", email="confirm@b.example.cn")
    SupplierMember.objects.create(user=user, uscc=USCC_B)
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    app = Application.objects.get()
    fill_d2(client, app)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_step(client, app, "submit", {"confirm": "on"}).status_code == 302
    to_supplier = [m for m in mailoutbox if m.to == ["confirm@b.example.cn"]]
    assert len(to_supplier) == 1 and "请确认合同" in to_supplier[0].subject
    entry = AuditEntry.objects.get(action="supplier_notified")
    assert entry.data == {"event": "supplier:submitted", "supplier_uscc": USCC_B, "recipients": 1}
    # the bureau's evaluation at submission: the supplier has not spoken yet
    stored = _latest(app)
    assert "SUPPLIER_CONFIRMATION" in _rules(stored, "review")


def test_the_advice_for_the_suppliers_silence_is_about_the_supplier():
    from voucher.portal.advice import advice_for

    for rule in ("SUPPLIER_AGREEMENTS", "SUPPLIER_HIERARCHY"):
        assert "供给方尚未作出声明" in advice_for(rule, "review")
        assert "声明事项" in advice_for(rule, "fail")  # the applicant's own declaration
