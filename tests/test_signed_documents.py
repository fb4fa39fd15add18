"""Signed documents out (issue 21 item 4): the decision notice and the submission receipt are
PAdES-signed PDFs; `voucher documents verify FILE` says who signed, when, whether the file is
unchanged since and whether the certificate is trusted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from voucher.documents import signing
from voucher.documents.pdf import html_to_pdf

from .conftest import ROOT
from .portal_helpers import USCC_A, fill_d2, member, open_round, post_step
from .test_decision_to_applicant import decided  # noqa: F401  (a fixture)


def _verify(path) -> tuple[str, str | None]:
    """The command's output and its error (None when every signature verified)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("documents", "verify", str(path), stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def _one_byte_changed(pdf: bytes) -> bytes:
    """The file with one byte of its signed content flipped (the middle of the document, well
    before the signature appended at its end)."""
    data = bytearray(pdf)
    data[len(pdf) // 3] ^= 0x01
    return bytes(data)


def test_the_decision_notice_is_signed_and_verifies(client, decided, tmp_path):  # noqa: F811
    application, member_, _, _ = decided
    client.force_login(member_)
    pdf = client.get(reverse("portal:notice", args=[application.pk])).content
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    out, error = _verify(path)
    assert error is None, out
    assert signing.SELF_SIGNED_NAME in out  # who signed: the certificate's subject
    assert "signed at: " in out and "unknown time" not in out
    assert "intact: yes, unchanged since signing" in out
    assert "certificate: trusted" in out
    assert out.rstrip().endswith("VERIFIED")


def test_the_notice_with_one_byte_changed_does_not_verify(client, decided, tmp_path):  # noqa: F811
    application, member_, _, _ = decided
    client.force_login(member_)
    pdf = client.get(reverse("portal:notice", args=[application.pk])).content
    path = tmp_path / "tampered.pdf"
    path.write_bytes(_one_byte_changed(pdf))
    out, error = _verify(path)
    assert error is not None and "not verified" in error and str(path) in error
    assert "intact: NO, the file was changed after it was signed" in out
    assert "NOT VERIFIED" in out


def test_the_verify_command_exits_non_zero_on_a_changed_file(tmp_path, settings):
    """The exit status, as a shell script sees it (the command run as a process)."""
    settings.DATA_DIR = tmp_path
    signed = signing.sign_pdf(html_to_pdf("<p>审核结果通知书</p>"))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(signed)
    bad.write_bytes(_one_byte_changed(signed))
    env = dict(os.environ, VOUCHER_DEV="1", VOUCHER_DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = [sys.executable, "-m", "voucher", "documents", "verify"]
    ok = subprocess.run([*run, str(good)], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    changed = subprocess.run([*run, str(bad)], env=env, capture_output=True, text=True, timeout=120)
    assert changed.returncode == 1
    assert "the file was changed after it was signed" in changed.stdout
    assert "not verified" in changed.stderr


def test_a_signature_by_another_key_is_intact_but_not_trusted(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    other = tmp_path / "other.pem"
    signing.make_self_signed(other, "someone else")
    settings.VOUCHER_SIGNING_KEY_FILE = settings.VOUCHER_SIGNING_CERT_FILE = str(other)
    signed = signing.sign_pdf(html_to_pdf("<p>x</p>"))
    settings.VOUCHER_SIGNING_KEY_FILE = settings.VOUCHER_SIGNING_CERT_FILE = ""
    path = tmp_path / "other.pdf"
    path.write_bytes(signed)
    out, error = _verify(path)  # against the development machine's own certificate
    assert "someone else" in out and "intact: yes" in out
    assert "certificate: NOT trusted" in out
    assert error is not None


def test_an_unsigned_or_unreadable_file_is_refused_with_a_message(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(html_to_pdf("<p>x</p>"))
    out, error = _verify(unsigned)
    assert "carries no signature" in out and error is not None
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf at all")
    out, error = _verify(garbage)
    assert "not a readable PDF" in out and error is not None
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("documents", "verify", str(tmp_path / "missing.pdf"))


def test_signing_can_be_switched_off(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.VOUCHER_SIGN_DOCUMENTS = False
    pdf = html_to_pdf("<p>x</p>")
    assert signing.sign_pdf(pdf) == pdf


@pytest.mark.django_db
def test_the_submission_receipt_is_a_signed_pdf(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "北京示例智能科技有限公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    from voucher.applications.models import Application
    from voucher.portal.models import Submission

    app = Application.objects.latest("id")
    assert client.get(reverse("portal:receipt", args=[app.pk])).status_code == 404
    fill_d2(client, app)
    assert post_step(client, app, "submit", {"confirm": "on"}).status_code == 302
    submission = Submission.objects.get(application=app)
    status = client.get(reverse("portal:status", args=[app.pk])).content.decode()
    assert reverse("portal:receipt", args=[app.pk]) in status
    response = client.get(reverse("portal:receipt", args=[app.pk]))
    assert response["Content-Type"] == "application/pdf"
    (report,) = signing.verify_pdf(response.content)
    assert report.ok and report.covers_whole_file
    assert signing.SELF_SIGNED_NAME in report.signer
    from io import BytesIO

    import pdfplumber

    with pdfplumber.open(BytesIO(response.content)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert submission.receipt_number in text


@pytest.mark.django_db
def test_the_receipt_keeps_the_submitted_applicant_after_an_enterprise_correction(
    client, settings, tmp_path
):
    """An enterprise corrected after the submission (issue 21 item 3): the receipt still says
    what was submitted — its applicant name and USCC are the submitted document's."""
    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "北京示例智能科技有限公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    from io import BytesIO

    import pdfplumber

    from voucher.applications.models import Application, Enterprise

    app = Application.objects.latest("id")
    fill_d2(client, app)
    assert post_step(client, app, "submit", {"confirm": "on"}).status_code == 302
    submitted_name = Application.objects.get(pk=app.pk).applicant_name
    corrected = "91110108MA01RGHT7" + signing_check("91110108MA01RGHT7")
    Enterprise.objects.filter(pk=app.enterprise_id).update(uscc=corrected, name="更正后的名称")
    response = client.get(reverse("portal:receipt", args=[app.pk]))
    with pdfplumber.open(BytesIO(response.content)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert USCC_A in text and corrected not in text
    assert submitted_name in text


def signing_check(body17: str) -> str:
    from voucher.policy.uscc import expected_check_character

    return expected_check_character(body17)


RED_RGB = (0.784314, 0.062745, 0.180392)  # documents/seal.py's #c8102e as the PDF holds it


@pytest.mark.parametrize("template", ["documents/receipt.html", "documents/notice.html"])
def test_the_signed_documents_carry_the_systems_drawn_seal(tmp_path, settings, template):
    """A visible seal (documents/seal.py) in the issuer's place at the foot of the receipt and the
    notice: the system's, marked 系统电子签章 / 非实物印章, drawn in the page's layout; the
    signature over the file still verifies."""
    from io import BytesIO

    import pdfplumber
    from django.template.loader import render_to_string

    from voucher.documents.seal import SEAL_NOTE, seal_svg

    settings.DATA_DIR = tmp_path
    html = render_to_string(
        template,
        {"title": "回执", "a": None, "issued": "二〇二六年十二月七日", "seal": seal_svg()},
    )
    pdf = signing.sign_pdf(html_to_pdf(html), reason="test")
    with pdfplumber.open(BytesIO(pdf)) as doc:
        page = doc.pages[0]
        red = [c for c in page.chars if c["non_stroking_color"] == RED_RGB]  # the seal's words
        issued = [c for c in page.chars if c["text"] == "〇"]  # the issuer's date
        assert SEAL_NOTE in "".join(c["text"] for c in red)
        assert "系统电子签章" in "".join(c["text"] for c in red)
        assert all(c["x0"] > page.width / 2 for c in red)  # on the right, where the issuer signs
        top, bottom = min(c["top"] for c in red), max(c["bottom"] for c in red)
        assert issued and all(top < c["top"] < bottom for c in issued)  # over the date, a stamp
        assert page.curves  # the ring is drawn
    (report,) = signing.verify_pdf(pdf)
    assert report.ok and report.covers_whole_file
