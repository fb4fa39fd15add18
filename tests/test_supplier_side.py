"""The supplier's side (issue 22): a compute supplier's member sees only the contracts that name
its USCC, confirms or disputes each line; a confirmed line is locked for the applicant, a changed
line is unconfirmed again, and an unconfirmed or disputed line keeps an approval back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from voucher.applications import supplier
from voucher.applications.models import (
    LINE_CONFIRMED,
    LINE_DISPUTED,
    Contract,
    Delivery,
    SupplierAttestation,
    SupplierMember,
)
from voucher.core.models import AuditEntry
from voucher.portal import actions as portal
from voucher.review import actions as review

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    PASSWORD,
    make_applicant,
    make_staff,
    put_in_state,
    tick_materials,
)

pytestmark = pytest.mark.django_db

OTHER_USCC = "91110108MA01AAAA1X"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def _supplier_user(django_user_model, uscc: str, name: str):
    user = django_user_model.objects.create_user(f"t-{name}", password=PASSWORD)
    SupplierMember.objects.create(user=user, uscc=uscc)
    return user


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def world(demo_data, django_user_model):
    d4 = application_from("d4-small")
    contract = d4.contracts.order_by("pk").first()
    # the demo's supplier has spoken on d4-small (voucher/demo/examples.py): not yet, here
    contract.supplier_confirmations.all().delete()
    SupplierAttestation.objects.filter(contract=contract).delete()
    # the examples share one enterprise: evaluated again against the rest of the round (as a
    # supplier's word makes it), d4-small would fail ONE_DIRECTION, which these tests are not about
    type(d4).objects.filter(enterprise=d4.enterprise).exclude(pk=d4.pk).update(state="withdrawn")
    other = application_from("d2-threshold-exact")  # another applicant, other suppliers
    other_contract = other.contracts.order_by("pk").first()
    other_contract.supplier_uscc = OTHER_USCC
    other_contract.contract_id = "OTHER-SUPPLIER-9"
    other_contract.save()
    return {
        "d4": d4,
        "contract": contract,
        "other_contract": other_contract,
        "supplier": _supplier_user(django_user_model, contract.supplier_uscc, "supplier"),
        "other_supplier": _supplier_user(django_user_model, OTHER_USCC, "other-supplier"),
        "applicant": make_applicant(django_user_model, d4, "applicant"),
        "audit_before": AuditEntry.objects.order_by("-id").values_list("id", flat=True).first(),
    }


def _word(contract, line, state, user, reason=""):
    return supplier.line_word(
        contract=contract, line=line, state=state, reason=reason, acting_user=user
    )


def _delivery_key(contract) -> str:
    return supplier.delivery_line(contract.deliveries.order_by("position", "id").first())


# --- what a supplier sees ----------------------------------------------------------------------


def test_a_supplier_sees_only_the_contracts_that_name_it(world):
    mine = supplier.contracts_of_supplier(world["supplier"])
    assert mine and {c.supplier_uscc for c in mine} == {world["contract"].supplier_uscc}
    assert world["other_contract"] not in mine
    client = _client(world["supplier"])
    listing = client.get(reverse("portal:supplier_contracts")).content.decode()
    assert world["contract"].contract_id in listing
    assert world["other_contract"].contract_id not in listing
    # another supplier's contract, and the applicant's own pages: nothing, not even that they exist
    other = reverse("portal:supplier_contract", args=[world["other_contract"].pk])
    assert client.get(other).status_code == 404
    assert client.get(reverse("portal:open", args=[world["d4"].pk])).status_code == 404
    assert client.get(reverse("portal:contracts", args=[world["d4"].pk])).status_code == 404
    # its own contract's page: the contract and its lines, no other data of the applicant
    page = client.get(reverse("portal:supplier_contract", args=[world["contract"].pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert world["d4"].enterprise.name in text
    assert world["d4"].project_name not in text
    # the invoices it issued and the payments it received are lines it confirms (issue 22);
    # another contract's are not shown
    for invoice in world["contract"].invoices.all():
        assert invoice.number in text
    mine = {i.number for i in world["contract"].invoices.all()}
    for invoice in world["other_contract"].invoices.all():
        assert invoice.number in mine or invoice.number not in text


def test_a_supplier_cannot_speak_on_another_suppliers_contract(world):
    client = _client(world["other_supplier"])
    response = client.post(
        reverse("portal:supplier_contract", args=[world["contract"].pk]),
        {"line": "contract", "state": LINE_CONFIRMED},
    )
    assert response.status_code == 404
    with pytest.raises(supplier.SupplierRefused):
        _word(world["contract"], "contract", LINE_CONFIRMED, world["other_supplier"])
    assert not world["contract"].supplier_confirmations.exists()


def test_an_applicant_and_a_stranger_have_no_supplier_pages(world, django_user_model):
    stranger = django_user_model.objects.create_user("t-stranger", password=PASSWORD)
    for user in (world["applicant"], stranger):
        client = _client(user)
        assert client.get(reverse("portal:supplier_contracts")).status_code == 404
        url = reverse("portal:supplier_contract", args=[world["contract"].pk])
        assert client.get(url).status_code == 404


# --- confirming and disputing, line by line ----------------------------------------------------


def test_each_line_confirmed_or_disputed_and_audited(world):
    contract, user = world["contract"], world["supplier"]
    client = _client(user)
    url = reverse("portal:supplier_contract", args=[contract.pk])
    assert client.post(url, {"line": "contract", "state": LINE_CONFIRMED}).status_code == 302
    key = _delivery_key(contract)
    refused = client.post(url, {"line": key, "state": LINE_DISPUTED, "reason": " "})
    assert refused.status_code == 422 and "理由" in refused.content.decode()
    response = client.post(url, {"line": key, "state": LINE_DISPUTED, "reason": "数量应为 8 台"})
    assert response.status_code == 302
    states = {line.key: (line.state, line.reason) for line in supplier.lines_of(contract)}
    assert states["contract"] == (LINE_CONFIRMED, "")
    assert states[key] == (LINE_DISPUTED, "数量应为 8 台")
    assert supplier.contract_state(supplier.lines_of(contract)) == LINE_DISPUTED
    logged = AuditEntry.objects.filter(
        action__startswith="supplier_line_", id__gt=world["audit_before"]
    ).order_by("id")
    assert [(e.action, e.data["line"]) for e in logged] == [
        ("supplier_line_confirmed", "contract"),
        ("supplier_line_disputed", key),
    ]
    assert logged.last().data["reason"] == "数量应为 8 台"
    # the applicant sees the dispute on its contract page
    portal_page = _client(world["applicant"]).get(
        reverse("portal:contract", args=[world["d4"].pk, contract.pk])
    )
    assert "供给方有异议：数量应为 8 台" in portal_page.content.decode()


def test_the_applicant_sees_the_suppliers_dispute_once_submitted(world):
    """Submitted, the wizard is frozen (the contract page sends the applicant to the status
    page): the status page shows the supplier's word on each line, a dispute with its reason,
    and says it is corrected through 补正."""
    d4, contract = put_in_state(world["d4"], "submitted"), world["contract"]
    _word(contract, "contract", LINE_CONFIRMED, world["supplier"])
    _word(contract, _delivery_key(contract), LINE_DISPUTED, world["supplier"], "数量应为 8 台")
    applicant = _client(world["applicant"])
    frozen = applicant.get(reverse("portal:contract", args=[d4.pk, contract.pk]))
    assert frozen.status_code == 302 and frozen.url.endswith(f"/{d4.pk}/status/")
    page = applicant.get(frozen.url).content.decode()
    words = page[page.index('id="supplier-status"') :]
    assert f"合同 {contract.contract_id}" in words
    assert "供给方已确认" in words and "供给方有异议：数量应为 8 台" in words
    assert "补正" in words


def _draft(application):
    type(application).objects.filter(pk=application.pk).update(state="draft")
    application.refresh_from_db()
    return application


def test_a_confirmed_line_cannot_be_changed_by_the_applicant(world):
    d4, contract = _draft(world["d4"]), world["contract"]
    _word(contract, "contract", LINE_CONFIRMED, world["supplier"])
    key = _delivery_key(contract)
    _word(contract, key, LINE_CONFIRMED, world["supplier"])
    with pytest.raises(portal.PortalError, match="算力供给方已确认"):
        portal.contract_save(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            values={"contract_id": contract.contract_id, "total_amount": Decimal("1")},
            acting_user=world["applicant"],
        )
    with pytest.raises(portal.PortalError, match="算力供给方已确认"):
        portal.contract_row_delete(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            kind="deliveries",
            row_pk=int(key.split(":")[1]),
            acting_user=world["applicant"],
        )
    with pytest.raises(portal.PortalError, match="算力供给方已确认"):
        portal.contract_delete(
            application=d4,
            expected_version=d4.version,
            contract_pk=contract.pk,
            acting_user=world["applicant"],
        )
    contract.refresh_from_db()
    assert contract.total_amount != Decimal("1")
    assert Delivery.objects.filter(pk=int(key.split(":")[1])).exists()
    # saving the contract's form unchanged is no change: allowed
    portal.contract_save(
        application=d4,
        expected_version=d4.version,
        contract_pk=contract.pk,
        values={"contract_id": contract.contract_id, "total_amount": contract.total_amount},
        acting_user=world["applicant"],
    )
    # and through the pages: the refusal is a message, not a traceback
    d4.refresh_from_db()
    client = _client(world["applicant"])
    row_pk = int(key.split(":")[1])
    url = reverse("portal:contract_row_delete", args=[d4.pk, contract.pk, "deliveries", row_pk])
    page = client.post(url, {"version": d4.version, "confirm": "on"}, follow=True)
    assert page.status_code == 200
    assert "算力供给方已确认该交付记录，不能再修改" in page.content.decode()
    assert Delivery.objects.filter(pk=row_pk).exists()


def test_a_changed_line_is_unconfirmed_again(world):
    d4, contract = _draft(world["d4"]), world["contract"]
    _word(contract, "contract", LINE_DISPUTED, world["supplier"], reason="总额不符")
    portal.contract_save(
        application=d4,
        expected_version=d4.version,
        contract_pk=contract.pk,
        values={"contract_id": contract.contract_id, "total_amount": Decimal("123.45")},
        acting_user=world["applicant"],
    )
    line = supplier.lines_of(Contract.objects.get(pk=contract.pk))[0]
    assert line.state == supplier.UNCONFIRMED
    # the same amount written another way is the same line
    contract.refresh_from_db()
    _word(contract, "contract", LINE_CONFIRMED, world["supplier"])
    contract.total_amount = Decimal("123.450")
    assert supplier.lines_of(contract)[0].state == LINE_CONFIRMED


# --- the review: each line's word, and the approval's gate -----------------------------------


@pytest.fixture
def team(django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
    }


def test_a_disputed_line_blocks_the_approval_proposal(world, team):
    d4 = tick_materials(put_in_state(world["d4"], "in_review"), team["reviewer"])
    contract = world["contract"]
    key = _delivery_key(contract)
    _word(contract, key, LINE_DISPUTED, world["supplier"], reason="单价应为 10 元")
    with pytest.raises(review.ReviewError, match="算力供给方尚未确认") as refused:
        review.decision_propose(application=d4, kind="approval", acting_user=team["reviewer"])
    assert "单价应为 10 元" in str(refused.value)
    assert contract.contract_id in str(refused.value)
    assert [e["location"] for e in refused.value.errors] == ["supplier_confirmation"]
    # a rejection needs no confirmation; an approval once the line is confirmed
    _word(contract, key, LINE_CONFIRMED, world["supplier"])
    decision = review.decision_propose(
        application=d4, kind="approval", acting_user=team["reviewer"]
    )
    assert decision.kind == "approval"


def test_an_unconfirmed_line_blocks_the_approval_and_the_screen_says_so(world, team):
    from .review_support import verified_client

    d4 = tick_materials(put_in_state(world["d4"], "in_review"), team["reviewer"])
    contract = world["contract"]
    contract.supplier_confirmations.filter(line=_delivery_key(contract)).delete()
    with pytest.raises(review.ReviewError, match="算力供给方尚未确认"):
        review.decision_propose(application=d4, kind="approval", acting_user=team["reviewer"])
    _word(contract, "contract", LINE_DISPUTED, world["supplier"], reason="签订日期不符")
    screen = verified_client(Client(), team["reviewer"]).get(reverse("review:screen", args=[d4.pk]))
    text = screen.content.decode()
    assert "供给方有异议：签订日期不符" in text
    assert "供给方未确认" in text


def test_direction_3_has_no_supplier_gate(demo_data):
    d3 = application_from("d3-modelscope")
    assert supplier.open_lines(d3) == []


# --- the attestation of 附件14-1 三 ---------------------------------------------------------------


def test_the_supplier_attests_per_contract_with_who_and_when(world, team):
    from .review_support import verified_client

    contract, user = world["contract"], world["supplier"]
    url = reverse("portal:supplier_contract", args=[contract.pk])
    client = _client(user)
    refused = client.post(url, {"form": "attestation", "no_sharing": "on"})
    assert refused.status_code == 422 and "合规的智算资源" in refused.content.decode()
    assert supplier.attestation_of(contract) is None
    made = client.post(url, {"form": "attestation", "compliant": "on", "no_sharing": "on"})
    assert made.status_code == 302
    attestation = supplier.attestation_of(contract)
    assert attestation.by == user and attestation.at is not None
    assert (attestation.compliant, attestation.no_sharing, attestation.no_hierarchy) == (
        True,
        True,
        False,
    )
    entry = AuditEntry.objects.get(action="supplier_attestation", id__gt=world["audit_before"])
    assert entry.data["no_hierarchy"] is False
    # another supplier cannot attest it
    other = _client(world["other_supplier"]).post(url, {"form": "attestation", "compliant": "on"})
    assert other.status_code == 404
    d4 = put_in_state(world["d4"], "in_review")
    screen = verified_client(Client(), team["reviewer"]).get(reverse("review:screen", args=[d4.pk]))
    assert "存在行政/业务上下级关系" in screen.content.decode()


def test_the_demo_has_a_supplier_login_with_contracts_of_several_applicants(demo_data):
    from voucher.demo.examples import DEMO_SUPPLIER, demo_supplier_ensure

    uscc = demo_supplier_ensure()
    assert demo_supplier_ensure() == uscc  # again: nothing new
    member = SupplierMember.objects.get(user__username=DEMO_SUPPLIER)
    contracts = supplier.contracts_of_supplier(member.user)
    assert len({c.application.enterprise_id for c in contracts}) > 1
    assert all(c.supplier_uscc == uscc for c in contracts)


# --- the bureau's invitation ------------------------------------------------------------------


def test_the_invitation_is_the_administrators_and_is_checked(
    world, django_user_model, mailoutbox, django_capture_on_commit_callbacks
):
    from voucher.accounts import actions as accounts

    admin = make_staff(django_user_model, "administrator", "administrator")
    reviewer = make_staff(django_user_model, "reviewer2", "bureau_reviewer")

    def invite(uscc, email, by=admin):
        return accounts.supplier_invitation_create(
            uscc=uscc, email=email, acting_user=by, accept_url_for=lambda t: f"/x/{t}/"
        )

    with pytest.raises(accounts.AccountError, match="系统管理员"):
        invite(OTHER_USCC, "a@b.example.cn", by=reviewer)
    with pytest.raises(accounts.AccountError) as bad:
        invite("123", "a@b.example.cn")
    assert bad.value.field == "uscc"
    with pytest.raises(accounts.AccountError) as bad:
        invite(OTHER_USCC, "not-an-address")
    assert bad.value.field == "email"
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, link = invite(OTHER_USCC.lower(), "New@Supplier.example.cn")
    token = link.split("/")[-2]
    assert len(mailoutbox) == 1 and link in mailoutbox[0].body
    wrong = django_user_model.objects.create_user("t-wrong", email="wrong@example.cn")
    with pytest.raises(accounts.AccountError, match=r"new@supplier\.example\.cn"):
        accounts.supplier_invitation_accept(token=token, acting_user=wrong)
    right = django_user_model.objects.create_user("t-right", email="new@supplier.example.cn")
    member = accounts.supplier_invitation_accept(token=token, acting_user=right)
    assert member.uscc == OTHER_USCC
    with pytest.raises(accounts.AccountError, match="无效或已过期"):  # once only
        accounts.supplier_invitation_accept(token=token, acting_user=right)
    assert supplier.contracts_of_supplier(right) == [world["other_contract"]]
