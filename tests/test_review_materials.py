"""The materials in review (附件14-1): each material's files shown in the page and downloaded
(audited), its checklist judged item by item, a supplement request filled from the items judged
不符合, and no approval while an item is open; a new upload reopens its material's items."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from voucher.applications.models import (
    Decision,
    MaterialCheck,
    MaterialFile,
    SupplementRequest,
)
from voucher.core.models import AuditEntry
from voucher.review import actions, checklist, selectors
from voucher.review.actions import Mark

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    attach_material,
    make_applicant,
    make_staff,
    minimal_pdf,
    put_in_state,
    tick_materials,
    verified_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords_and_own_store(settings, tmp_path):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path  # the uploads of these tests


@pytest.fixture
def team(demo_data, django_user_model):
    return {
        "reviewer": make_staff(django_user_model, "reviewer", "bureau_reviewer"),
        "approver": make_staff(django_user_model, "approver", "bureau_approver"),
        "auditor": make_staff(django_user_model, "auditor", "auditor"),
        "screener": make_staff(django_user_model, "screener", "centre_screener"),
    }


@pytest.fixture
def in_review(team):
    """Direction 4, in review, with no open finding: only the materials stand in the way."""
    return put_in_state(application_from("d4-small"), "in_review")


def _all_ok(application, reviewer, material):
    items = checklist.items_of(material, application.direction)
    return actions.material_check_set(
        application=application,
        material=material,
        marks=[Mark(i.key, "ok") for i in items],
        acting_user=reviewer,
    )


def _propose_approval(application, reviewer):
    return actions.decision_propose(application=application, kind="approval", acting_user=reviewer)


def weasy_pdf(pages: int) -> bytes:
    """A real PDF of `pages` pages with Chinese text (WeasyPrint, as the documents app uses)."""
    from weasyprint import HTML

    body = "".join(
        f'<p style="page-break-after: always">算力合同 第{n}页</p>' for n in range(1, pages + 1)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def png(width=40, height=30, colour="red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


# --- the checklist ------------------------------------------------------------------------------


def test_the_checklist_names_every_material_with_stable_ids():
    from voucher.policy.round import MATERIAL_IDS

    ids = [i.id for i in checklist.ITEMS]
    assert len(ids) == len(set(ids))
    assert {i.material for i in checklist.ITEMS} == set(MATERIAL_IDS)
    assert set(checklist.MATERIAL_HEADINGS) == set(MATERIAL_IDS)
    # stable: MaterialCheck rows name them; renaming one loses the judgements made on it
    assert ids == [
        "contract.sealed_complete",
        "contract.not_classified",
        "contract.intelligent_compute",
        "contract.scale_and_amount",
        "contract.term",
        "contract.other_subsidies",
        "demand_qualification.model_filing",
        "demand_qualification.task_list",
        "supply_qualification.compliant",
        "supply_qualification.scale",
        "supply_qualification.rental_period",
        "supply_qualification.sealed",
        "invoice_or_payment.matches",
        "settlement.records",
        "settlement.details",
        "usage_table.form",
        "usage_table.sealed",
        "implementation_report.form",
        "implementation_report.sealed",
        "commitment_letter.signed",
        "commitment_letter.sealed",
    ]


def test_direction_2_also_checks_the_task_list_and_direction_3_files_nothing(demo_data):
    d2 = application_from("d2-common-shareholder-review")
    d4 = application_from("d4-small")
    d3 = application_from("d3-modelscope")
    keys = lambda app: [i.key for i in checklist.items_of("demand_qualification", app.direction)]  # noqa: E731
    assert keys(d2) == ["model_filing", "task_list"]
    assert keys(d4) == ["model_filing"]
    assert checklist.checked_materials(d4) == tuple(
        m for m in checklist.MATERIAL_HEADINGS if m in checklist.checked_materials(d4)
    )
    assert len(checklist.checked_materials(d4)) == 8
    assert checklist.checked_materials(d3) == ()  # 免申即享: the platform provides the data


# --- the action ---------------------------------------------------------------------------------


def test_items_are_judged_and_audited_and_the_same_judgement_writes_nothing(team, in_review):
    attach_material(in_review, "contract")
    changed = actions.material_check_set(
        application=in_review,
        material="contract",
        marks=[Mark("sealed_complete", "ok"), Mark("not_classified", "wrong", " 第3页有密级标志 ")],
        acting_user=team["reviewer"],
    )
    assert len(changed) == 2
    stored = {c.item: c for c in MaterialCheck.objects.filter(application=in_review)}
    assert stored["sealed_complete"].status == "ok"
    assert stored["not_classified"].status == "wrong"
    assert stored["not_classified"].note == "第3页有密级标志"
    assert stored["not_classified"].checked_by == team["reviewer"]
    entry = AuditEntry.objects.get(action="material_check_set")
    assert entry.actor == team["reviewer"] and entry.object_id == str(in_review.pk)
    assert entry.data["material"] == "contract"
    assert entry.data["items"]["not_classified"] == {"status": "wrong", "note": "第3页有密级标志"}
    # the same again: nothing changes, nothing is recorded
    again = actions.material_check_set(
        application=in_review,
        material="contract",
        marks=[Mark("sealed_complete", "ok")],
        acting_user=team["reviewer"],
    )
    assert again == []
    assert AuditEntry.objects.filter(action="material_check_set").count() == 1


@pytest.mark.parametrize(
    ("material", "mark", "field", "says"),
    [
        ("contract", Mark("not_classified", "wrong", "  "), "note", "须说明哪里不符合"),
        ("contract", Mark("not_classified", "maybe"), "status", "请选择“符合”或“不符合”"),
        ("contract", Mark("no_such_item", "ok"), "item", "不是“算力合同”的核对项"),
        ("contract", Mark("task_list", "ok"), "item", "核对项"),  # direction 2's, not 4's
        ("settlement", Mark("records", "ok"), "status", "“算力结算单”尚未上传，不能判为符合"),
        ("no_such_material", Mark("x", "ok"), "material", "不是本申报需要核对的材料"),
    ],
)
def test_a_bad_judgement_is_refused_naming_the_field(team, in_review, material, mark, field, says):
    attach_material(in_review, "contract")
    with pytest.raises(actions.ReviewError) as refused:
        actions.material_check_set(
            application=in_review, material=material, marks=[mark], acting_user=team["reviewer"]
        )
    assert refused.value.field == field
    assert says in str(refused.value)
    assert not MaterialCheck.objects.exists()


def test_a_material_not_uploaded_may_be_judged_wrong(team, in_review):
    actions.material_check_set(
        application=in_review,
        material="settlement",
        marks=[Mark("records", "wrong", "未上传结算单")],
        acting_user=team["reviewer"],
    )
    assert MaterialCheck.objects.get().status == "wrong"


@pytest.mark.parametrize("who", ["approver", "auditor", "screener"])
def test_only_a_reviewer_of_the_application_judges(team, in_review, who):
    attach_material(in_review, "contract")
    with pytest.raises(actions.ReviewError):
        _all_ok(in_review, team[who], "contract")
    assert not MaterialCheck.objects.exists()


def test_an_applicant_judges_nothing_and_nothing_outside_the_review(
    team, in_review, django_user_model
):
    attach_material(in_review, "contract")
    applicant = make_applicant(django_user_model, in_review)
    with pytest.raises(actions.ReviewError):
        _all_ok(in_review, applicant, "contract")
    put_in_state(in_review, "submitted")  # not under review yet
    with pytest.raises(actions.ReviewError, match="不在审核中"):
        _all_ok(in_review, team["reviewer"], "contract")
    assert not MaterialCheck.objects.exists()


# --- the proposal gate --------------------------------------------------------------------------


def test_no_approval_while_items_are_open_a_rejection_may_be_proposed(team, in_review):
    with pytest.raises(actions.ReviewError) as refused:
        _propose_approval(in_review, team["reviewer"])
    message = str(refused.value)
    assert message.startswith("申报材料尚未核对完毕，不能予以支持")
    assert "算力合同：未上传" in message and "承诺书（附件14-4）：未上传" in message
    attach_material(in_review, "contract")
    with pytest.raises(actions.ReviewError, match="算力合同：6 项未核对"):
        _propose_approval(in_review, team["reviewer"])
    assert not Decision.objects.exists()
    rejection = actions.decision_propose(
        application=in_review, kind="rejection", reason="材料不全", acting_user=team["reviewer"]
    )
    assert rejection.kind == "rejection"


def test_an_approval_once_every_item_is_ticked(team, in_review):
    tick_materials(in_review, team["reviewer"])
    decision = _propose_approval(in_review, team["reviewer"])
    assert decision.kind == "approval" and decision.amount > 0


def test_one_item_open_or_wrong_is_named_and_blocks_the_approval(team, in_review):
    tick_materials(in_review, team["reviewer"])
    MaterialCheck.objects.filter(application=in_review, item="term").delete()
    actions.material_check_set(
        application=in_review,
        material="commitment_letter",
        marks=[Mark("signed", "wrong", "无法定代表人签字")],
        acting_user=team["reviewer"],
    )
    with pytest.raises(actions.ReviewError) as refused:
        _propose_approval(in_review, team["reviewer"])
    message = str(refused.value)
    assert "算力合同：明确合同有效期或算力服务期限（未核对）" in message
    assert "北京市高精尖产业发展资金承诺书（附件14-4）：法定代表人签字（不符合）" in message
    assert "算力结算单" not in message  # judged 符合: not named
    _all_ok(in_review, team["reviewer"], "contract")
    actions.material_check_set(
        application=in_review,
        material="commitment_letter",
        marks=[Mark("signed", "ok")],
        acting_user=team["reviewer"],
    )
    assert _propose_approval(in_review, team["reviewer"]).kind == "approval"


def test_a_new_upload_after_a_supplement_reopens_that_material_only(
    team, in_review, django_user_model
):
    from voucher.portal import actions as portal

    tick_materials(in_review, team["reviewer"])
    actions.supplement_request(
        application=in_review,
        items=["补充盖章版合同"],
        due_on=timezone.localdate() + timedelta(days=10),
        acting_user=team["reviewer"],
    )
    applicant = make_applicant(django_user_model, in_review)
    in_review.refresh_from_db()
    portal.material_file_add(
        application=in_review,
        expected_version=in_review.version,
        material="contract",
        name="合同（盖章版）.pdf",
        content=minimal_pdf(2),
        content_type="application/pdf",
        classified_scan="clean",
        acting_user=applicant,
    )
    in_review = put_in_state(in_review, "in_review")  # answered, resubmitted, review resumed
    review = selectors.materials_review(in_review)
    contract = selectors.material_of(review, "contract")
    assert contract is not None
    assert {i.status for i in contract.items} == {"reopened"}
    assert all(m.complete for m in review.materials if m.material != "contract")
    with pytest.raises(actions.ReviewError) as refused:
        _propose_approval(in_review, team["reviewer"])
    assert "算力合同：6 项未核对" in str(refused.value)
    assert "算力结算单" not in str(refused.value)
    _all_ok(in_review, team["reviewer"], "contract")  # judged again, on the new files
    assert _propose_approval(in_review, team["reviewer"]).kind == "approval"


def test_a_file_deleted_reopens_its_material_too(team, in_review):
    tick_materials(in_review, team["reviewer"])
    second = attach_material(in_review, "settlement", minimal_pdf(3), "结算单2.pdf")
    assert "算力结算单" in actions.materials_open(in_review)
    _all_ok(in_review, team["reviewer"], "settlement")
    assert actions.materials_open(in_review) == ""
    second.delete()
    assert "算力结算单：2 项未核对" in actions.materials_open(in_review)


def test_direction_3_proposes_without_a_checklist(team, demo_data):
    d3 = put_in_state(application_from("d3-modelscope"), "in_review")
    assert actions.materials_open(d3) == ""


# --- the page: materials, checklist, supplement pre-filled --------------------------------------


def test_the_screen_lists_every_material_its_files_and_checklist(client, team, in_review):
    record = attach_material(in_review, "contract", weasy_pdf(2), "算力合同.pdf")
    verified_client(client, team["reviewer"])
    page = client.get(f"/review/{in_review.pk}/").content.decode()
    section = page[page.index('id="materials"') :]
    for heading in checklist.MATERIAL_HEADINGS.values():
        assert str(heading) in section
    assert section.count("申报单位未上传此材料。") == 7  # all but the contract
    assert f"/review/{in_review.pk}/files/{record.pk}/view/" in section
    assert f"/review/{in_review.pk}/files/{record.pk}/" in section
    assert record.sha256 in section and "application/pdf" in section
    assert "未发现密级标志" in section
    assert 'name="status-contract.sealed_complete"' in section
    assert "用印版完整合同" in section and "法定代表人签字" in section
    assert "尚未核对完毕（不能拟定予以支持）" in section


def test_the_checklist_form_saves_and_a_wrong_item_fills_the_supplement(client, team, in_review):
    attach_material(in_review, "contract")
    verified_client(client, team["reviewer"])
    url = f"/review/{in_review.pk}/materials/contract/check/"
    refused = client.post(
        url, {"material": "contract", "status-contract.not_classified": "wrong"}, follow=True
    )
    assert "须说明哪里不符合" in refused.content.decode()
    assert not MaterialCheck.objects.exists()
    response = client.post(
        url,
        {
            "material": "contract",
            "status-contract.sealed_complete": "ok",
            "status-contract.not_classified": "wrong",
            "note-contract.not_classified": "第3页有“秘密★”标志",
            "status-contract.term": "",  # not chosen: left as it is
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/review/{in_review.pk}/#m-contract")
    assert MaterialCheck.objects.count() == 2
    page = client.get(f"/review/{in_review.pk}/").content.decode()
    assert "已保存核对结果" in page
    same = client.post(url, {"status-contract.sealed_complete": "ok"}, follow=True).content.decode()
    assert "核对结果没有变化" in same and "已保存核对结果" not in same
    link = f"/review/{in_review.pk}/?supplement=contract.not_classified#supplement-form"
    assert link in page
    assert f"/review/{in_review.pk}/?supplement=wrong#supplement-form" in page
    textarea = re.compile(r'<textarea name="items"[^>]*>(.*?)</textarea>', re.S)
    assert textarea.search(page).group(1) == ""  # not filled unless asked
    filled = client.get(f"/review/{in_review.pk}/?supplement=contract.not_classified")
    expected = "算力合同：不含涉密内容不符合要求（第3页有“秘密★”标志）"
    assert textarea.search(filled.content.decode()).group(1) == expected
    bogus = client.get(f"/review/{in_review.pk}/?supplement=bogus").content.decode()
    assert textarea.search(bogus).group(1) == ""
    # the supplement goes out with the item, as the reviewer sends the pre-filled form
    sent = client.post(
        f"/review/{in_review.pk}/supplement/",
        {"items": expected, "due_on": (timezone.localdate() + timedelta(days=15)).isoformat()},
    )
    assert sent.status_code == 302
    assert [i.text for i in SupplementRequest.objects.get().items.all()] == [expected]


def test_all_wrong_items_fill_the_supplement_in_chinese_whatever_the_language(team, in_review):
    attach_material(in_review, "contract")
    actions.material_check_set(
        application=in_review,
        material="contract",
        marks=[Mark("term", "wrong", "无期限"), Mark("sealed_complete", "wrong", "未盖章")],
        acting_user=team["reviewer"],
    )
    actions.material_check_set(
        application=in_review,
        material="usage_table",
        marks=[Mark("sealed", "wrong", "缺公章")],
        acting_user=team["reviewer"],
    )
    from django.utils import translation

    with translation.override("en"):
        section = selectors.materials_section(in_review, team["reviewer"], "wrong")
    assert section.supplement_prefill.splitlines() == [
        "算力合同：用印版完整合同不符合要求（未盖章）",
        "算力合同：明确合同有效期或算力服务期限不符合要求（无期限）",
        "算力使用情况说明（附件14-2）：加盖申请企业公章不符合要求（缺公章）",
    ]


def test_an_approver_sees_the_checklist_but_cannot_judge_it(client, team, in_review):
    attach_material(in_review, "contract")
    verified_client(client, team["approver"])
    page = client.get(f"/review/{in_review.pk}/").content.decode()
    assert "用印版完整合同" in page
    assert 'name="status-contract.sealed_complete"' not in page
    assert "只有审核人员可以核对申报材料" in page
    client.post(
        f"/review/{in_review.pk}/materials/contract/check/",
        {"status-contract.sealed_complete": "ok"},
    )
    assert not MaterialCheck.objects.exists()


# --- a file in the page, downloaded; both audited -------------------------------------------------


def test_a_pdf_is_shown_page_by_page_with_its_facts_and_the_view_is_audited(
    client, team, in_review
):
    content = weasy_pdf(3)
    record = attach_material(in_review, "contract", content, "算力合同.pdf")
    verified_client(client, team["reviewer"])
    response = client.get(f"/review/{in_review.pk}/files/{record.pk}/view/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('src="data:image/png;base64,') == 3
    assert "第 2 页 / 共 3 页" in page
    assert "application/pdf" in page and hashlib.sha256(content).hexdigest() in page
    assert "与上传时一致" in page and "未发现密级标志" in page
    assert "仅显示前" not in page
    assert 'name="status-contract.sealed_complete"' in page  # the checklist beside the file
    entry = AuditEntry.objects.get(action="material_view")
    assert entry.actor == team["reviewer"]
    assert entry.data == {
        "file": record.pk,
        "material": "contract",
        "name": "算力合同.pdf",
        "sha256": record.sha256,
        "pages": 3,
    }


def test_a_long_pdf_shows_its_first_20_pages_with_a_note(client, team, in_review):
    record = attach_material(in_review, "settlement", minimal_pdf(23), "结算单.pdf")
    verified_client(client, team["reviewer"])
    page = client.get(f"/review/{in_review.pk}/files/{record.pk}/view/").content.decode()
    assert page.count('src="data:image/png;base64,') == 20
    assert "仅显示前 20 页（共 23 页）" in page
    assert AuditEntry.objects.get(action="material_view").data["pages"] == 20


def test_an_image_is_shown_as_a_picture_and_an_old_file_says_not_checked(client, team, in_review):
    record = attach_material(in_review, "settlement", png(), "截图.png")
    MaterialFile.objects.filter(pk=record.pk).update(classified_scan="")  # stored before the scan
    verified_client(client, team["reviewer"])
    page = client.get(f"/review/{in_review.pk}/files/{record.pk}/view/").content.decode()
    assert page.count('src="data:image/png;base64,') == 1
    assert "未检查" in page
    screen = client.get(f"/review/{in_review.pk}/").content.decode()
    assert "未检查" in screen[screen.index(f'id="file-{record.pk}"') :]


def test_a_file_not_shown_in_the_page_says_so(client, team, in_review):
    record = attach_material(in_review, "contract", b"%PDF-1.4 broken", "坏文件.pdf")
    verified_client(client, team["reviewer"])
    page = client.get(f"/review/{in_review.pk}/files/{record.pk}/view/").content.decode()
    assert "文件无法读取，不能在页面中显示，请下载查看。" in page
    assert "data:image" not in page
    from voucher.applications.uploads import upload_delete

    gone = attach_material(in_review, "usage_table", minimal_pdf(2), "表.pdf")
    upload_delete(gone.sha256)
    page = client.get(f"/review/{in_review.pk}/files/{gone.pk}/view/").content.decode()
    assert "文件内容已不在存储中" in page


def test_a_download_is_an_attachment_and_audited(client, team, in_review):
    content = weasy_pdf(1)
    record = attach_material(in_review, "contract", content, "算力合同.pdf")
    verified_client(client, team["reviewer"])
    response = client.get(f"/review/{in_review.pk}/files/{record.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    entry = AuditEntry.objects.get(action="material_download")
    assert entry.actor == team["reviewer"] and entry.data["file"] == record.pk
    assert not AuditEntry.objects.filter(action="material_view").exists()


def test_who_may_not_open_the_application_gets_nothing_and_nothing_is_recorded(
    client, team, in_review, django_user_model
):
    record = attach_material(in_review, "contract", weasy_pdf(1))
    urls = [
        f"/review/{in_review.pk}/files/{record.pk}/view/",
        f"/review/{in_review.pk}/files/{record.pk}/",
    ]
    # the centre's screener: direction 3 only
    verified_client(client, team["screener"])
    for url in urls:
        assert client.get(url).status_code == 403, url
    # the applicant's own member: not the bureau's pages (the portal has its own download)
    applicant = make_applicant(django_user_model, in_review)
    client.logout()
    client.force_login(applicant)
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "data:image" not in response.content.decode()
    # another application's file under this application's address: 404
    other = put_in_state(application_from("d1-cap-binds"), "in_review")
    foreign = attach_material(other, "contract", weasy_pdf(1), "其他.pdf")
    verified_client(client, team["reviewer"])
    assert client.get(f"/review/{in_review.pk}/files/{foreign.pk}/view/").status_code == 404
    assert not AuditEntry.objects.filter(action__in=("material_view", "material_download")).exists()


# --- the scan's result is kept with each upload ----------------------------------------------------


def test_the_scan_result_is_kept_per_upload():
    from voucher.applications.uploads import check_upload

    assert check_upload("合同.pdf", weasy_pdf(1)).classified_scan == "clean"
    assert check_upload("截图.png", png()).classified_scan == "not_read"


def test_the_preview_renders_pages_and_pictures():
    from voucher.documents.preview import BROKEN_PAGE, NOT_SHOWN, UNREADABLE, preview

    shown = preview(weasy_pdf(3), "application/pdf", max_pages=2)
    assert shown.pages == 3 and len(shown.pictures) == 2 and shown.cut
    first = shown.pictures[0]
    assert first.data.startswith(b"\x89PNG") and first.width == 1000
    assert preview(png(), "image/png").pictures[0].data.startswith(b"\x89PNG")
    assert preview(b"\xff\xd8 not a jpeg", "image/jpeg").problem == UNREADABLE
    assert preview(b"PK", "application/vnd.ms-excel").problem == NOT_SHOWN
    assert preview(b"%PDF-1.4 nothing", "application/pdf").problem == UNREADABLE
    assert BROKEN_PAGE  # a page pdfium cannot render: the pages before it are kept


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_gives_each_example_a_sample_file_per_material(team):
    from voucher.demo.materials import demo_materials_attach

    made = demo_materials_attach()
    d4 = application_from("d4-small")
    d3 = application_from("d3-modelscope")
    files = MaterialFile.objects.filter(application=d4)
    assert sorted(f.material for f in files) == sorted(checklist.checked_materials(d4))
    assert not MaterialFile.objects.filter(application=d3).exists()  # 免申即享
    assert {f.classified_scan for f in made} == {"clean"}
    assert demo_materials_attach() == []  # once
    assert AuditEntry.objects.filter(action="demo_materials_attach").count() == 1
    # a demo reviewer checks them and may then propose the approval
    d4 = put_in_state(d4, "in_review")
    tick_materials(d4, team["reviewer"], attach=False)
    assert _propose_approval(d4, team["reviewer"]).kind == "approval"
