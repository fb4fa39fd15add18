"""The demo's materials (附件14-1): a sample file for each material the submitted examples' direction
files, so that a reviewer trying the demo opens them in the page, checks them item by item and may
then propose an approval (no approval while an item of the checklist is open).

Idempotent: a material that has a file already gets none.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.html import escape

from voucher.applications.models import Application, MaterialFile
from voucher.applications.ports import classified_scan
from voucher.applications.uploads import upload_store
from voucher.core.audit import audit
from voucher.review.checklist import checked_materials, heading, items_of


@cache
def _sample_pdf(material: str, direction: int) -> bytes:
    """A one-page PDF that says it is a sample and lists what the reviewer checks in it."""
    from weasyprint import HTML

    with translation.override("zh-hans"):
        title = escape(heading(material))
        items = "".join(f"<li>{escape(str(i.text))}</li>" for i in items_of(material, direction))
    html = (
        "<html><body style=\"font-family: 'Noto Serif CJK SC', serif; font-size: 13pt\">"
        f'<h1 style="text-align: center">{title}</h1>'
        '<p style="color: #8a1c12">演示材料：系统生成的示例文件，不是真实申报材料。</p>'
        f"<p>审核人员核对的要点：</p><ul>{items}</ul>"
        "</body></html>"
    )
    return bytes(HTML(string=html).write_pdf())


def demo_materials_attach(*, acting_user: Any = None) -> list[MaterialFile]:
    """A sample PDF for every material of the examples (directions 1, 2 and 4) that has none."""
    made = []
    with transaction.atomic():
        for application in Application.objects.filter(source_name__startswith="examples/"):
            present = set(
                MaterialFile.objects.filter(application=application).values_list(
                    "material", flat=True
                )
            )
            for material in checked_materials(application):
                if material in present:
                    continue
                content = _sample_pdf(material, application.direction)
                name = f"演示-{material}.pdf"
                scanned = classified_scan(content, name)
                if scanned.refusal:  # never for these texts; a sample is refused like any upload
                    continue
                sha = hashlib.sha256(content).hexdigest()
                upload_store(content, sha)
                made.append(
                    MaterialFile.objects.create(
                        application=application,
                        material=material,
                        original_name=name,
                        size=len(content),
                        sha256=sha,
                        content_type="application/pdf",
                        classified_scan=scanned.outcome,
                    )
                )
        if made:
            audit(
                actor=acting_user,
                action="demo_materials_attach",
                data={"files": [[f.application_id, f.material] for f in made]},
            )
    return made
