"""Correcting an enterprise's USCC or name with four eyes (issue 21 item 3): one staff member
proposes with a reason, a second, different one approves or rejects; only then the enterprise
changes. The new code's check character is validated and the code must not be another
enterprise's; drafts follow the enterprise, submitted applications keep what was submitted."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from voucher.applications import roles
from voucher.applications.models import (
    Application,
    Enterprise,
    EnterpriseCorrection,
    Snapshot,
)
from voucher.core.models import AuditEntry
from voucher.core.refusals import CONFLICT, FORBIDDEN, INVALID, Refused
from voucher.policy.uscc import expected_check_character
from voucher.review import actions

from .conftest import application_from
from .review_support import FAST_HASHERS, make_staff, put_in_state, verified_client

pytestmark = pytest.mark.django_db


def _code(body17: str) -> str:
    return body17 + expected_check_character(body17)


RIGHT = _code("91110108MA01RGHT7")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def world(demo_data, django_user_model):
    """Enterprise A with a submitted application (and its submission's snapshot) and a draft."""
    submitted = put_in_state(application_from("d4-small"), "submitted")
    enterprise = submitted.enterprise
    Snapshot.objects.create(
        application=submitted,
        transition="submit",
        document={"applicant": {"uscc": enterprise.uscc, "name": submitted.applicant_name}},
        sha256="0" * 64,
    )
    draft = Application.objects.get(pk=submitted.pk)
    draft.pk = draft.id = None
    draft.save()
    draft = put_in_state(draft, "draft")
    return {
        "enterprise": enterprise,
        "submitted": submitted,
        "draft": draft,
        "reviewer": make_staff(django_user_model, "reviewer", roles.REVIEWER),
        "approver": make_staff(django_user_model, "approver", roles.APPROVER),
        "administrator": make_staff(django_user_model, "administrator", roles.ADMINISTRATOR),
        "auditor": make_staff(django_user_model, "auditor", roles.AUDITOR),
        "screener": make_staff(django_user_model, "screener", roles.SCREENER),
    }


def _propose(w, **values):
    e = w["enterprise"]
    return actions.enterprise_correction_propose(
        enterprise=e,
        new_uscc=values.get("uscc", e.uscc),
        new_name=values.get("name", e.name),
        reason=values.get("reason", "营业执照上的代码与登记不一致"),
        acting_user=values.get("by", w["reviewer"]),
    )


def test_a_proposal_changes_nothing_until_a_second_person_approves(world):
    e = world["enterprise"]
    old_uscc, old_name = e.uscc, e.name
    correction = _propose(world, uscc=RIGHT, name="北京更正后科技有限公司")
    e.refresh_from_db()
    assert (e.uscc, e.name) == (old_uscc, old_name)
    proposed = AuditEntry.objects.get(action="enterprise_correction_propose")
    assert proposed.data["old"] == {"uscc": old_uscc, "name": old_name}
    assert proposed.data["new"] == {"uscc": RIGHT, "name": "北京更正后科技有限公司"}

    with pytest.raises(Refused) as own:  # the proposer cannot be the second pair of eyes
        actions.enterprise_correction_decide(
            correction=correction, approve=True, note="", acting_user=world["reviewer"]
        )
    assert own.value.code == FORBIDDEN
    e.refresh_from_db()
    assert e.uscc == old_uscc

    actions.enterprise_correction_decide(
        correction=correction, approve=True, note="核对执照无误", acting_user=world["approver"]
    )
    e.refresh_from_db()
    assert (e.uscc, e.name) == (RIGHT, "北京更正后科技有限公司")
    approved = AuditEntry.objects.get(action="enterprise_correction_approve")
    assert approved.data["old"] == {"uscc": old_uscc, "name": old_name}
    assert approved.data["new"] == {"uscc": RIGHT, "name": "北京更正后科技有限公司"}
    assert approved.actor_id == world["approver"].pk

    # the draft's applicant block follows the enterprise; the submitted application does not
    draft, submitted = world["draft"], world["submitted"]
    version = draft.version
    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert draft.applicant_name == "北京更正后科技有限公司"
    assert draft.version == version + 1  # a form opened before the correction must reload
    assert draft.enterprise.uscc == RIGHT
    assert submitted.applicant_name == old_name
    snapshot = Snapshot.objects.get(application=submitted)
    assert snapshot.document["applicant"] == {"uscc": old_uscc, "name": old_name}
    assert AuditEntry.objects.filter(
        action="application_applicant_corrected", object_id=str(draft.pk)
    ).exists()


def test_a_rejection_needs_a_note_and_changes_nothing(world):
    e = world["enterprise"]
    correction = _propose(world, name="北京另一个名字有限公司")
    with pytest.raises(Refused) as bare:
        actions.enterprise_correction_decide(
            correction=correction, approve=False, note=" ", acting_user=world["administrator"]
        )
    assert bare.value.field == "note"
    actions.enterprise_correction_decide(
        correction=correction,
        approve=False,
        note="执照名称未变",
        acting_user=world["administrator"],
    )
    e.refresh_from_db()
    assert e.name != "北京另一个名字有限公司"
    assert AuditEntry.objects.filter(action="enterprise_correction_reject").count() == 1
    with pytest.raises(Refused) as again:  # decided once
        actions.enterprise_correction_decide(
            correction=correction, approve=True, note="", acting_user=world["approver"]
        )
    assert again.value.code == CONFLICT


@pytest.mark.parametrize(
    ("uscc", "says"),
    [
        (RIGHT[:17] + ("1" if RIGHT[17] != "1" else "2"), "校验位"),
        ("91110108MA01RGHT", "应为18位"),
        ("91110108MA01RGHTI" + "0", "不允许的字符"),
    ],
    ids=["check-character", "length", "alphabet"],
)
def test_the_new_code_is_validated(world, uscc, says):
    with pytest.raises(Refused) as refused:
        _propose(world, uscc=uscc)
    assert refused.value.field == "new_uscc" and refused.value.code == INVALID
    assert says in str(refused.value.message)
    assert not EnterpriseCorrection.objects.exists()


def test_the_new_code_must_not_be_another_enterprises(world):
    other = Enterprise.objects.create(uscc=RIGHT, name="已登记的另一家")
    with pytest.raises(Refused) as refused:
        _propose(world, uscc=RIGHT)
    assert refused.value.code == CONFLICT and "已登记的另一家" in str(refused.value.message)
    # …also when the other enterprise took the code after the proposal
    other.uscc = _code("91110108MA01XTHR1")
    other.save()
    correction = _propose(world, uscc=RIGHT)
    Enterprise.objects.filter(pk=other.pk).update(uscc=RIGHT)
    with pytest.raises(Refused) as late:
        actions.enterprise_correction_decide(
            correction=correction, approve=True, note="", acting_user=world["approver"]
        )
    assert late.value.code == CONFLICT
    world["enterprise"].refresh_from_db()
    assert world["enterprise"].uscc != RIGHT


def test_who_may_propose_and_decide(world):
    for who in ("auditor", "screener"):
        with pytest.raises(Refused) as refused:
            _propose(world, name="甲", by=world[who])
        assert refused.value.code == FORBIDDEN
    correction = _propose(world, name="甲")
    with pytest.raises(Refused) as twice:  # one pending correction per enterprise
        _propose(world, name="乙", by=world["approver"])
    assert twice.value.code == CONFLICT
    other_reviewer = make_staff(type(world["reviewer"]), "reviewer2", roles.REVIEWER)
    with pytest.raises(Refused) as reviewer:  # a reviewer proposes; approving is not theirs
        actions.enterprise_correction_decide(
            correction=correction, approve=True, note="", acting_user=other_reviewer
        )
    assert reviewer.value.code == FORBIDDEN


def test_the_database_refuses_a_proposer_deciding_their_own(world):
    correction = _propose(world, name="甲")
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseCorrection.objects.filter(pk=correction.pk).update(
            status="approved", decided_by=world["reviewer"], decided_at=correction.proposed_at
        )


def test_the_pages_propose_and_approve(world):
    e = world["enterprise"]
    proposer = verified_client(Client(), world["reviewer"])
    page = proposer.get(f"/review/enterprises/{e.pk}/").content.decode()
    assert "已提交的申报保留提交时的内容" in page and "草稿申报的申报单位信息随之更新" in page
    assert e.name in proposer.get("/review/enterprises/", {"q": e.uscc[:10]}).content.decode()
    screen = proposer.get(f"/review/{world['submitted'].pk}/").content.decode()
    assert f'href="/review/enterprises/{e.pk}/" id="enterprise-link"' in screen
    wrong = RIGHT[:17] + ("1" if RIGHT[17] != "1" else "2")
    refused = proposer.post(
        f"/review/enterprises/{e.pk}/",
        {"new_uscc": wrong, "new_name": e.name, "reason": "执照"},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="new-uscc-error"' in html and "校验位" in html and "执照" in html  # kept
    response = proposer.post(
        f"/review/enterprises/{e.pk}/",
        {"new_uscc": RIGHT, "new_name": "北京页面更正有限公司", "reason": "营业执照"},
    )
    correction = EnterpriseCorrection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/review/enterprises/corrections/{correction.pk}/"
    own = proposer.get(response["Location"]).content.decode()
    assert 'id="cannot-decide"' in own and 'id="correction-decision"' not in own
    approver = verified_client(Client(), world["approver"])
    assert approver.post(response["Location"], {"decision": "approve"}).status_code == 302
    page = approver.get(f"/review/enterprises/{e.pk}/").content.decode()
    assert "北京页面更正有限公司" in page and RIGHT in page


def test_the_pages_in_english(world):
    e = world["enterprise"]
    client = verified_client(Client(), world["reviewer"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/review/enterprises/{e.pk}/").content.decode()
    assert "Correct the USCC or the name" in page
    assert "Submitted applications keep what was submitted" in page


def test_the_admin_does_not_change_an_enterprises_identity(admin_client, world):
    """One door: the admin's change form shows the USCC and name read-only."""
    from django.urls import reverse

    e = world["enterprise"]
    url = reverse("admin:applications_enterprise_change", args=[e.pk])
    admin_client.post(url, {"uscc": RIGHT, "name": "管理后台改的名字"})
    e.refresh_from_db()
    assert e.uscc != RIGHT and e.name != "管理后台改的名字"
