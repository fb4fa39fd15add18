"""Signed documents in (issue 21 item 5): the signatures an uploaded PDF carries are shown to the
reviewer (signer, time, intact or not) in the materials section and the file view; an unsigned
14-4 is shown as 未签名; a malformed PDF shows 无法读取签名 and never breaks the page."""

from __future__ import annotations

import re

import pytest

from voucher.documents import signing

from .conftest import application_from
from .review_support import (
    FAST_HASHERS,
    attach_material,
    make_staff,
    minimal_pdf,
    put_in_state,
    verified_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_on(settings, tmp_path, demo_data, django_user_model, client):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.DATA_DIR = tmp_path  # the uploads and the self-made certificate of these tests
    reviewer = make_staff(django_user_model, "reviewer", "bureau_reviewer")
    application = put_in_state(application_from("d4-small"), "in_review")
    verified_client(client, reviewer)
    return application


def _signed_by(settings, tmp_path, name: str, pdf: bytes) -> bytes:
    """The PDF signed by a key of its own whose certificate's common name is `name`."""
    pem = tmp_path / f"{name}.pem"
    signing.make_self_signed(pem, name)
    saved = settings.VOUCHER_SIGNING_KEY_FILE, settings.VOUCHER_SIGNING_CERT_FILE
    settings.VOUCHER_SIGNING_KEY_FILE = settings.VOUCHER_SIGNING_CERT_FILE = str(pem)
    try:
        return signing.sign_pdf(pdf, field_name="Enterprise")
    finally:
        settings.VOUCHER_SIGNING_KEY_FILE, settings.VOUCHER_SIGNING_CERT_FILE = saved


def _row(page: str, pk: int) -> str:
    match = re.search(rf'<tr id="file-{pk}">.*?</tr>', page, flags=re.S)
    assert match, page
    return match.group(0)


def test_a_signed_upload_shows_its_signer_time_and_that_it_is_intact(
    client, reviewer_on, settings, tmp_path
):
    signed = _signed_by(settings, tmp_path, "北京示例智能科技有限公司", minimal_pdf())
    record = attach_material(reviewer_on, "commitment_letter", signed, "承诺书.pdf")
    page = client.get(f"/review/{reviewer_on.pk}/").content.decode()
    row = _row(page, record.pk)
    assert "北京示例智能科技有限公司" in row
    assert re.search(r'class="sig-time">\d{4}-\d\d-\d\d \d\d:\d\d<', row)
    assert "签名后未改动" in row and "未签名" not in row
    assert "证书未经信任根验证" in row  # the enterprise's own key is no configured root
    view = client.get(f"/review/{reviewer_on.pk}/files/{record.pk}/view/").content.decode()
    assert "北京示例智能科技有限公司" in view and "签名后未改动" in view


def test_a_changed_signed_upload_is_shown_as_changed(client, reviewer_on, settings, tmp_path):
    signed = bytearray(_signed_by(settings, tmp_path, "某公司", minimal_pdf()))
    signed[40] ^= 0x01  # inside the signed range: the page tree's text
    record = attach_material(reviewer_on, "contract", bytes(signed), "合同.pdf")
    row = _row(client.get(f"/review/{reviewer_on.pk}/").content.decode(), record.pk)
    assert "签名后已改动" in row or "无法读取签名" in row
    assert "签名后未改动" not in row


def test_an_unsigned_commitment_letter_is_shown_as_unsigned(client, reviewer_on):
    letter = attach_material(reviewer_on, "commitment_letter", minimal_pdf(), "承诺书.pdf")
    contract = attach_material(reviewer_on, "contract", minimal_pdf(2), "合同.pdf")
    page = client.get(f"/review/{reviewer_on.pk}/").content.decode()
    assert "未签名" in _row(page, letter.pk)
    assert "未签名" not in _row(page, contract.pk) and "无电子签名" in _row(page, contract.pk)


def test_a_malformed_pdf_shows_that_its_signatures_cannot_be_read(client, reviewer_on):
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /AcroForm << /Fields [9 0 R] >> garbage"
    record = attach_material(reviewer_on, "commitment_letter", broken, "坏文件.pdf")
    response = client.get(f"/review/{reviewer_on.pk}/")
    assert response.status_code == 200
    assert "无法读取签名" in _row(response.content.decode(), record.pk)
    view = client.get(f"/review/{reviewer_on.pk}/files/{record.pk}/view/")
    assert view.status_code == 200 and "无法读取签名" in view.content.decode()


def test_the_signatures_are_read_once_per_file(reviewer_on, monkeypatch):
    """Cached under the file's SHA-256: the second page view reads no bytes."""
    record = attach_material(reviewer_on, "commitment_letter", minimal_pdf(), "承诺书.pdf")
    loads = []

    def load():
        loads.append(1)
        from voucher.applications.uploads import upload_content

        return upload_content(record.sha256)

    first = signing.material_signatures(record.sha256, load)
    second = signing.material_signatures(record.sha256, load)
    assert first == second and first.state == signing.UNSIGNED
    assert len(loads) == 1
