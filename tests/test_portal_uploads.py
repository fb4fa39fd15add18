"""Every upload attack is refused with its reason, and nothing is stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from .portal_helpers import (
    USCC_A,
    USCC_B,
    docx_bytes,
    member,
    open_round,
    pdf_bytes,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(settings, tmp_path, client):
    from voucher.applications.models import Application

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    return Application.objects.get()


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def _pdf_with(extra: bytes) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R" + extra + b">>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def classified_pdf() -> bytes:
    from docx import Document  # noqa: F401 - the same libraries the documents app uses

    return docx_bytes("本合同 机密★5年 不得外传")


ATTACKS = {
    "an executable named .pdf": ("contract.pdf", b"MZ\x90\x00" + b"\x00" * 200, "与扩展名"),
    "a PNG named .pdf": ("contract.pdf", png_bytes(), "与扩展名"),
    "an HTML page named .docx": (
        "report.docx",
        b"<html><script>alert(1)</script></html>",
        "与扩展名",
    ),
    "a script file": ("run.js", b"alert(1)", "不接受此类文件"),
    "an SVG image": ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "不接受此类文件"),
    "an empty file": ("empty.pdf", b"", "空"),
    "a zip bomb as DOCX": (
        "bomb.docx",
        _zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"0" * (30 * 2**20)}),
        "压缩炸弹",
    ),
    "a plain zip named .xlsx": ("data.xlsx", _zip({"a.txt": b"hello"}), "不是 XLSX"),
    "a DOCX with macros": (
        "macro.docx",
        _zip(
            {
                "[Content_Types].xml": b"<x/>",
                "word/document.xml": b"<x/>",
                "word/vbaProject.bin": b"\x00" * 10,
            }
        ),
        "宏",
    ),
    "a zip with a path outside": (
        "trick.ofd",
        _zip({"OFD.xml": b"<x/>", "../../etc/passwd": b"x"}),
        "路径",
    ),
    "a PDF with JavaScript": (
        "js.pdf",
        _pdf_with(b"/OpenAction<</S/JavaScript/JS(app.alert(1))>>"),
        "JavaScript",
    ),
    "an encrypted PDF": ("locked.pdf", _pdf_with(b"") + b"trailer<</Encrypt 3 0 R>>", "加密"),
    "a DOCX with a classification mark": ("secret.docx", classified_pdf(), "密级标志"),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_the_attack_is_refused_with_the_reason_and_nothing_is_stored(
    draft, client, settings, attack
):
    from voucher.applications.models import MaterialFile

    name, content, reason = ATTACKS[attack]
    response = upload(client, draft, "contract", name, content)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert MaterialFile.objects.count() == 0
    uploads = settings.DATA_DIR / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    draft.refresh_from_db()
    assert draft.materials == []


def test_a_file_over_the_size_limit_is_refused(draft, client, settings):
    from voucher.applications.models import MaterialFile

    settings.VOUCHER_MAX_UPLOAD_MB = {**settings.VOUCHER_MAX_UPLOAD_MB, "materials": 1000 / 2**20}
    response = upload(client, draft, "contract", "big.pdf", pdf_bytes() + b"%" * 2000)
    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert MaterialFile.objects.count() == 0


def test_the_application_total_is_limited(draft, client, settings):
    from voucher.applications.models import MaterialFile

    one = pdf_bytes()
    settings.VOUCHER_UPLOAD_MAX_APPLICATION_BYTES = len(one) + 10
    assert upload(client, draft, "contract", "a.pdf", one).status_code == 302
    response = upload(client, draft, "settlement", "b.pdf", one)
    assert response.status_code == 400
    assert "合计不能超过" in response.content.decode()
    assert MaterialFile.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "scan"),
    [
        ("合同.pdf", pdf_bytes(), "clean"),
        ("scan.PNG", png_bytes(), "not_read"),
        ("说明.docx", docx_bytes(), "clean"),
    ],
)
def test_good_files_are_stored_under_their_hash_and_fill_the_materials(
    draft, client, settings, name, content, scan
):
    import hashlib

    from voucher.applications.models import MaterialFile

    assert upload(client, draft, "contract", name, content).status_code == 302
    record = MaterialFile.objects.get()
    assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert (settings.DATA_DIR / "uploads" / record.sha256).read_bytes() == content
    assert record.classified_scan == scan  # what the scan for classification marks found
    draft.refresh_from_db()
    assert draft.materials == ["contract"]


def test_names_are_sanitised():
    from voucher.applications.uploads import sanitise_name

    assert sanitise_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert sanitise_name("C:\\Users\\x\\合同 扫描件.PDF") == "合同 扫描件.pdf"
    assert sanitise_name('a<b>:"|?*.pdf') == "a_b_.pdf"
    assert sanitise_name("...hidden.pdf") == "hidden.pdf"
    assert sanitise_name("x" * 400 + ".pdf") == "x" * 150 + ".pdf"


def test_deleting_a_draft_file_keeps_bytes_a_claim_s_licence_shares(
    draft, client, settings, django_user_model, django_capture_on_commit_callbacks
):
    """Uploads are stored under their hash: a licence sent with an enterprise claim and the
    same PDF uploaded as a draft material are one file, which the draft must not delete."""
    import hashlib

    from voucher.accounts.models import EnterpriseClaim
    from voucher.applications.models import Enterprise, MaterialFile
    from voucher.portal import actions

    content = pdf_bytes()
    sha = hashlib.sha256(content).hexdigest()
    EnterpriseClaim.objects.create(
        enterprise=Enterprise.objects.create(uscc=USCC_B, name="乙公司"),
        claimant=django_user_model.objects.create_user("c@example.cn"),
        claimant_name="张三",
        claimant_position="总经理",
        declaration="…",
        licence_name="营业执照.pdf",
        licence_size=len(content),
        licence_sha256=sha,
        licence_content_type="application/pdf",
    )
    assert upload(client, draft, "contract", "营业执照.pdf", content).status_code == 302
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        actions.material_file_delete(
            application=draft,
            expected_version=draft.version,
            file_pk=MaterialFile.objects.get().pk,
            acting_user=draft.enterprise.memberships.get().user,
        )
    assert not MaterialFile.objects.exists()
    assert (settings.DATA_DIR / "uploads" / sha).read_bytes() == content  # the licence stays
    EnterpriseClaim.objects.all().delete()
    assert not actions.upload_in_use(sha)
