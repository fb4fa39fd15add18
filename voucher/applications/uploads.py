"""Checks an upload must pass before it is stored (pure functions of (name, bytes)), and the
store that keeps the bytes that passed under their hash (`upload_store`).

- the type is what libmagic reads in the content, and it must agree with the extension;
- PDF, JPG, PNG, OFD, DOCX and XLSX only; a size limit per file of its kind (settings
  VOUCHER_MAX_UPLOAD_MB; the action adds the one per application);
- zip containers (DOCX, XLSX, OFD) are opened with limits on entries, expanded size and ratio,
  read for real (a declared size can lie), and must have the parts their kind needs; no part may
  declare a DOCTYPE or an ENTITY (XXE, billion laughs: the raw bytes are read, nothing is
  expanded), and no part may point outside the file (an XLSX external link `xl/externalLinks/`,
  a relationship with TargetMode="External" other than a hyperlink, e.g. a remote template);
- a PDF that is encrypted or carries active content is refused: JavaScript, /AA (actions run on
  events), an /OpenAction that is not a plain go-to, XFA forms, Launch, SubmitForm, ImportData,
  GoToR/GoToE (another file, e.g. a UNC path), a URI action pointing at a file or a share,
  embedded files, RichMedia; the objects are walked with pypdf (names are decoded, compressed
  object streams are read) and the bytes outside streams are scanned too;
- polyglots: a PDF must start with `%PDF-` at offset 0, and no PDF, JPG or PNG may carry HTML,
  script or SVG markup in its first 1 KB (a browser sniffing it would render a page);
- a PDF or DOCX with a classification mark (密级标志) is refused with the page;
- the name is reduced to a safe file name; it never names a path on disk (the hash does).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import magic
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from voucher.applications import ports
from voucher.core.files import local_path, store_once
from voucher.core.http import upload_limit_bytes
from voucher.core.refusals import Refused
from voucher.policy.text import strip_format

ZIP_KINDS = {"docx", "xlsx", "ofd"}
ALLOWED_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "ofd", "docx", "xlsx")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What libmagic may call each kind (it names some zip containers by their parts, some not).
_ZIP_MIMES = {
    "application/zip",
    "application/x-zip-compressed",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",  # a zip whose first entry libmagic does not know
}
DETECTED_OK = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "png": {"image/png"},
    "ofd": _ZIP_MIMES,
    "docx": _ZIP_MIMES,
    "xlsx": _ZIP_MIMES,
}
KIND_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "application/zip": "ZIP",
    "text/plain": _("纯文本"),
    "text/html": "HTML",
    "application/x-dosexec": _("Windows 可执行程序"),
    "application/x-executable": _("可执行程序"),
}
REQUIRED_PARTS = {
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
    "ofd": ("OFD.xml",),
}
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_EXPANDED = 200 * 2**20
ZIP_MAX_RATIO = 100
_CHUNK = 64 * 1024

# PDF names that make a file active wherever they stand (as keys, or as the type of an action).
_PDF_ACTIVE_NAMES = (
    "JavaScript",
    "JS",
    "AA",
    "XFA",
    "Launch",
    "SubmitForm",
    "ImportData",
    "GoToR",
    "GoToE",
    "EmbeddedFile",
    "EmbeddedFiles",
    "RichMedia",
    "RichMediaExecute",
)
_PDF_ACTIVE = re.compile(rb"/(" + "|".join(_PDF_ACTIVE_NAMES).encode() + rb")(?![#\w])")
# Stream bodies hold compressed (random-looking) bytes: the raw scan skips them.
_PDF_STREAM_BODY = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
# A plain jump inside the document is the only thing /OpenAction may do.
_PDF_OPEN_ACTION_OK = {None, "/GoTo"}
# Markup a browser would render if it sniffed the file as a page (polyglots).
_MARKUP = re.compile(rb"<\s*(?:html|script|svg|body|iframe|!doctype\s+html)\b", re.IGNORECASE)
# In any XML part of a zip container: what XXE and billion laughs need (never expanded here).
_XML_DECLARATIONS = (b"<!doctype", b"<!entity")
_XML_DECLARATION_PATTERNS = tuple(
    p.decode().encode(enc) for p in _XML_DECLARATIONS for enc in ("ascii", "utf-16-le", "utf-16-be")
)
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>", re.IGNORECASE)
_EXTERNAL_MODE = re.compile(rb"""TargetMode\s*=\s*["']External["']""", re.IGNORECASE)
_HYPERLINK_TYPE = re.compile(rb"""Type\s*=\s*["'][^"']*/hyperlink["']""", re.IGNORECASE)
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


UploadRefused = Refused  # why an upload is not accepted, in words for the applicant


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    extension: str
    content: bytes
    content_type: str
    # what the scan for classification marks found (ports.SCAN_*), kept with the stored file
    classified_scan: str = ""


def sanitise_name(name: str) -> str:
    """A file name that is safe to show and to offer for download (never used as a path)."""
    name = strip_format(unicodedata.normalize("NFKC", name or ""))  # no "李\u202egnp.exe"
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE_NAME.sub("_", name)
    name = " ".join(name.split()).lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.lower()[:10]
    stem = stem[:150] or "file"
    return f"{stem}.{extension}" if extension else stem


def _refuse(message: str) -> UploadRefused:
    return UploadRefused(message)


def _check_zip(data: bytes, extension: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise _refuse(
            _("文件已损坏：不是有效的 %(kind)s 文件。") % {"kind": extension.upper()}
        ) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > ZIP_MAX_ENTRIES:
            raise _refuse(
                _("文件内部条目过多（%(n)d 个），疑似压缩炸弹，不予接收。") % {"n": len(entries)}
            )
        names = {e.filename for e in entries}
        for part in REQUIRED_PARTS[extension]:
            if part not in names:
                raise _refuse(
                    _("文件内容不是 %(kind)s 文档（缺少 %(part)s）。")
                    % {"kind": extension.upper(), "part": part}
                )
        if extension in ("docx", "xlsx") and any(
            n.lower().endswith("vbaproject.bin") for n in names
        ):
            raise _refuse(_("文件含有宏（VBA），不予接收。请另存为不含宏的文档。"))
        if extension == "xlsx" and any(n.lower().startswith("xl/externallinks/") for n in names):
            raise _refuse(_("文件含有外部链接（引用其他工作簿：xl/externalLinks），不予接收。"))
        expanded = 0
        for entry in entries:
            if entry.flag_bits & 0x1:
                raise _refuse(_("文件内部有加密条目，不予接收。"))
            if entry.filename.startswith(("/", "\\")) or ".." in entry.filename.split("/"):
                raise _refuse(_("文件内部条目路径不安全，不予接收。"))
            if entry.file_size > ZIP_MAX_EXPANDED or (
                entry.compress_size and entry.file_size / entry.compress_size > ZIP_MAX_RATIO
            ):
                raise _refuse(_("文件解压后体积异常（压缩比过高），疑似压缩炸弹，不予接收。"))
            # Read it for real: the sizes in the directory are the file's own claim.
            is_rels = entry.filename.lower().endswith(".rels")
            rels = b""
            try:
                with archive.open(entry) as stream:
                    read = 0
                    carry = b""  # the end of the previous chunk: a mark may straddle two
                    while chunk := stream.read(_CHUNK):
                        read += len(chunk)
                        expanded += len(chunk)
                        if read > max(entry.compress_size, 1) * ZIP_MAX_RATIO + _CHUNK or (
                            expanded > ZIP_MAX_EXPANDED
                        ):
                            raise _refuse(
                                _("文件解压后体积异常（压缩比过高），疑似压缩炸弹，不予接收。")
                            )
                        window = (carry + chunk).lower()
                        if any(p in window for p in _XML_DECLARATION_PATTERNS):
                            raise _refuse(
                                _(
                                    "文件内部的 %(part)s 含有 DOCTYPE 或 ENTITY 声明"
                                    "（可用于读取服务器文件或耗尽内存），不予接收。"
                                )
                                % {"part": entry.filename}
                            )
                        carry = window[-32:]
                        if is_rels:
                            rels += chunk
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise _refuse(_("文件已损坏：无法读取其中的条目。")) from None
            if is_rels and extension in ("docx", "xlsx"):
                _check_relationships(rels, entry.filename)


def _check_relationships(rels: bytes, part: str) -> None:
    """A relationship may point outside the file only as a hyperlink a reader clicks: a remote
    template, a linked workbook or image, an OLE link is fetched when the file is opened."""
    for match in _RELATIONSHIP.finditer(rels):
        attributes = match.group(1)
        if _EXTERNAL_MODE.search(attributes) and not _HYPERLINK_TYPE.search(attributes):
            raise _refuse(
                _('文件含有指向外部的链接（%(part)s 中 TargetMode="External"），不予接收。')
                % {"part": part}
            )


PDF_MAX_OBJECTS = 500_000  # dictionaries and arrays walked; a larger tree is refused


class _PdfTooComplex(Exception):
    pass


def _pdf_active_content(reader: Any) -> str | None:
    """What makes the PDF active (the PDF name, e.g. "/XFA", "/OpenAction /URI"), or None:
    every object reachable from the trailer is walked, compressed object streams included, with
    no depth limit (an explicit stack) and each indirect object once."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    active_keys = {f"/{name}" for name in _PDF_ACTIVE_NAMES}
    active_actions = active_keys - {"/JS", "/AA", "/XFA", "/EmbeddedFiles"}
    root = reader.trailer["/Root"].get_object()
    open_action = root.get("/OpenAction")
    if open_action is not None:
        open_action = open_action.get_object()
        if isinstance(open_action, DictionaryObject):
            kind = open_action.get("/S")
            if kind not in _PDF_OPEN_ACTION_OK:
                return f"/OpenAction {kind}"
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise _PdfTooComplex
        if isinstance(node, DictionaryObject):
            kind = node.get("/S")
            if kind in active_actions:
                return str(kind)
            if node.get("/Type") == "/EmbeddedFile":
                return "/EmbeddedFile"
            if kind == "/URI":
                target = str(node.get("/URI", "")).strip().lower()
                if target.startswith(("file:", "\\\\", "//", "smb:")):
                    return "/URI file"
            for name, value in node.items():
                if name in active_keys:
                    return str(name)
                if name not in ("/Parent", "/Encrypt"):
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return None


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    encrypted = _("PDF 已加密（设置了密码或权限限制），审核人员无法打开。请上传未加密的文件。")

    def active(what: str) -> UploadRefused:
        return _refuse(
            _(
                "PDF 含有活动内容（%(what)s），不予接收：脚本（JavaScript）、自动执行的动作、"
                "XFA 表单、提交表单、打开其他文件或网址的动作、嵌入文件都不允许。"
                "请打印为普通 PDF 后再上传。"
            )
            % {"what": what}
        )

    # The raw bytes first (outside the stream bodies, which are compressed data): a crafted file
    # may not even parse, and the reason should be told.
    found = _PDF_ACTIVE.search(_PDF_STREAM_BODY.sub(b"stream endstream", data))
    if found:
        raise active(found.group(0).decode("ascii"))
    if b"/Encrypt" in data:
        raise _refuse(encrypted)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse(encrypted)
        # objects inside compressed object streams are not in the raw bytes, and names may be
        # written with #xx escapes: walk the parsed objects
        what = _pdf_active_content(reader)
    except UploadRefused:
        raise
    except _PdfTooComplex:
        raise _refuse(_("PDF 结构过于复杂（对象过多），无法检查，不予接收。")) from None
    except Exception:  # pypdf raises many kinds on a broken file
        raise _refuse(_("PDF 文件已损坏，无法读取。")) from None
    if what:
        raise active(what)


def _check_classified(data: bytes, name: str) -> str:
    """The documents app's scan for classification marks (plugged in: ports.py): refused with
    the marks found, or what the scan found in a file it passes (ports.SCAN_*)."""
    result = ports.classified_scan(data, name)
    if result.refusal or result.outcome == ports.SCAN_REFUSED:
        raise _refuse(result.refusal or ports.NO_CLASSIFIED_SCAN)
    return result.outcome


def check_upload(name: str, data: bytes, *, kind: str = "materials") -> CheckedUpload:
    """The upload as it will be stored, or UploadRefused saying why not (naming the file);
    `kind` names its size limit (settings.VOUCHER_MAX_UPLOAD_MB)."""
    safe = sanitise_name(name)
    try:
        return _check_upload(safe, data, upload_limit_bytes(kind))
    except UploadRefused as exc:
        raise _refuse(
            _("文件“%(name)s”：%(reason)s") % {"name": safe, "reason": exc.message}
        ) from None


def _check_upload(safe: str, data: bytes, limit: int) -> CheckedUpload:
    extension = safe.rpartition(".")[2].lower() if "." in safe else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise _refuse(
            _("不接受此类文件（.%(ext)s）。可上传 PDF、JPG、PNG、OFD、DOCX、XLSX。")
            % {"ext": extension or "?"}
        )
    if not data:
        raise _refuse(_("文件是空的。"))
    if len(data) > limit:
        raise _refuse(
            _("文件过大（%(size).1f MB），单个文件不能超过 %(limit)d MB。")
            % {"size": len(data) / 2**20, "limit": limit // 2**20}
        )
    detected = magic.from_buffer(data[: 64 * 1024], mime=True)
    if detected not in DETECTED_OK[extension]:
        raise _refuse(
            _("文件内容是 %(kind)s，与扩展名 .%(ext)s 不符，不予接收。")
            % {"kind": KIND_NAMES.get(detected, detected), "ext": extension}
        )
    # polyglots: libmagic finds %PDF- anywhere in the first KB, a browser finds a page there
    if extension == "pdf" and not data.startswith(b"%PDF-"):
        raise _refuse(
            _("PDF 文件头（%(header)s）不在文件开头，疑似伪装成 PDF 的其他文件，不予接收。")
            % {"header": "%PDF-"}
        )
    if extension not in ZIP_KINDS and _MARKUP.search(data[:1024]):
        raise _refuse(_("文件开头含有网页标记（HTML、脚本或 SVG），疑似多格式伪装文件，不予接收。"))
    if extension in ZIP_KINDS:
        _check_zip(data, extension)
    elif extension == "pdf":
        _check_pdf(data)
    scanned = _check_classified(data, safe)
    return CheckedUpload(safe, extension, data, CONTENT_TYPES[extension], scanned)


# --- the store ---------------------------------------------------------------------------------


def upload_dir() -> Path:
    """The local directory of the uploads, for `voucher backup` (docs/backup.md); an object
    store (S3) has none and is backed up with the store's own tools."""
    path = local_path(default_storage, "uploads")
    if path is None:
        raise ImproperlyConfigured(
            "uploads are kept in an object store: back them up with its own versioning"
        )
    return path


def upload_name(sha: str) -> str:
    """Where the bytes of a checked upload live in the storage (STORAGES["default"])."""
    return f"uploads/{sha}"


def upload_store(content: bytes, sha: str) -> None:
    """Keep the bytes of a checked upload under their hash (written once, atomically): a
    material file and an enterprise claim's licence share the store."""
    store_once(default_storage, upload_name(sha), io.BytesIO(content))


def upload_content(sha: str) -> bytes | None:
    """The stored bytes of an upload, or None when they are gone."""
    name = upload_name(sha)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as stored:
        return bytes(stored.read())


def upload_delete(sha: str) -> None:
    default_storage.delete(upload_name(sha))


def upload_file_response(sha: str, *, filename: str, content_type: str) -> FileResponse:
    """Stored upload bytes as a download that no browser renders in place (a PDF or an HTML
    file from an applicant must never run in the bureau's origin); 404 if its bytes are gone."""
    name = upload_name(sha)
    if not default_storage.exists(name):
        raise Http404("no such file")
    response = FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def material_file_response(record: Any) -> FileResponse:
    """An uploaded material (MaterialFile) as a download."""
    return upload_file_response(
        record.sha256, filename=record.original_name, content_type=record.content_type
    )
