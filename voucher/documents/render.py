"""Which documents there are, what each is rendered from (its data hash) and how it is rendered.

The data hash of a document is the SHA-256 of exactly the data its templates print, in a
canonical JSON form, and of the template version (the source of the templates and of the code
that renders them): the same hash renders the same document, so a rendered file is served again
for as long as the hash stands (voucher/documents/jobs.py). What goes in:

- every document: the application's identity as the footer prints it (reference, id, version =
  its `updated_at`), its round and direction, its state and submission day, and the SHA-256 of
  its canonical interchange JSON (everything the applicant entered: enterprise, project,
  contracts and their records, declarations), which the footer prints too; the four 14-3
  sections (a separate record);
- the package also: the evaluation it prints (its id and version) and the uploaded files (name,
  size, SHA-256, material).

The package prints the time it was generated: a cached package shows the time it was made.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone

from voucher.applications.models import Application
from voucher.applications.selectors import latest_evaluation
from voucher.documents import docx_forms, pdf
from voucher.documents.data import interchange_sha256, load_application
from voucher.documents.models import ImplementationReport
from voucher.documents.package import package_materials
from voucher.documents.report_sections import SECTIONS

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {"pdf": PDF, "docx": DOCX}

Builder = Callable[[Application], bytes]

# document slug -> (file name stem, {extension: builder})
DOCUMENTS: dict[str, tuple[str, dict[str, Builder]]] = {
    "usage-table": (
        "附件14-2 算力使用情况表",
        {"pdf": pdf.usage_table_pdf, "docx": docx_forms.usage_table_docx},
    ),
    "implementation-report": (
        "附件14-3 算力项目实施情况报告",
        {"pdf": pdf.implementation_report_pdf, "docx": docx_forms.implementation_report_docx},
    ),
    "commitment-letter": (
        "附件14-4 承诺书",
        {"pdf": pdf.commitment_letter_pdf, "docx": docx_forms.commitment_letter_docx},
    ),
    "package": ("算力券申报材料", {"pdf": pdf.package_pdf}),
}

# Raise by hand when the rendering changes in a way the sources below do not show (fonts, say).
RENDER_VERSION = "1"

_HERE = Path(__file__).resolve().parent
_SOURCES = (
    "data.py",
    "docx_forms.py",
    "package.py",
    "pdf.py",
    "render.py",
    "report_sections.py",
    "source_text.py",
)


def exists(document: str, extension: str) -> bool:
    return document in DOCUMENTS and extension in DOCUMENTS[document][1]


def filename(application: Application, document: str, extension: str) -> str:
    return f"{application.reference} {DOCUMENTS[document][0]}.{extension}"


@functools.cache
def template_version() -> str:
    """RENDER_VERSION and the SHA-256 of the documents' templates and of the code rendering them:
    a change to any of them renders every document afresh."""
    digest = hashlib.sha256(RENDER_VERSION.encode())
    templates = _HERE.parent / "templates" / "documents"
    for path in sorted(templates.iterdir()) + [_HERE / name for name in _SOURCES]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{RENDER_VERSION}:{digest.hexdigest()[:16]}"


def rendered_from(application: Application, document: str) -> dict[str, Any]:
    """Exactly the data the document is rendered from (see the module's docstring).

    Raises FormatError for a draft not filled in enough to export (the view says what to fill)."""
    a = application
    report = ImplementationReport.objects.filter(application=a).first()
    data: dict[str, Any] = {
        "application": a.pk,
        "reference": a.reference,
        "version": timezone.localtime(a.updated_at).isoformat(),
        "round": a.round.code,
        "direction": a.direction,
        "state": a.state,
        "submitted_on": a.submitted_on.isoformat() if a.submitted_on else None,
        "interchange_sha256": interchange_sha256(a),
        "report": {s.field: getattr(report, s.field, "") if report else "" for s in SECTIONS},
    }
    if document == "package":
        evaluation = latest_evaluation(a, with_correction_in_progress=True)
        data["evaluation"] = (
            None
            if evaluation is None
            else {"id": evaluation.pk, "engine": evaluation.engine_version}
        )
        data["materials"] = sorted(
            (dict(f) for f in package_materials(a)),
            key=lambda f: (f.get("material", ""), f["name"], f["sha256"]),
        )
    return data


def data_hash(application: Application, document: str, extension: str) -> str:
    """SHA-256 over the document's kind, its template version and the data it is rendered from."""
    canonical = json.dumps(
        {
            "document": document,
            "extension": extension,
            "template": template_version(),
            "data": rendered_from(application, document),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build(application_id: int, document: str, extension: str) -> bytes:
    """The document's bytes, rendered from the application as it is in the database now."""
    return DOCUMENTS[document][1][extension](load_application(application_id))
