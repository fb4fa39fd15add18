"""The materials of one application as the reviewer checks them (附件14-1): each material its
direction files, its uploaded files, and each item of its checklist with where it stands.

An item's judgement counts while the material's files are the ones it was made on: a file
uploaded or deleted since (a 补正 answered, say) opens the material's items again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications import permissions as p
from voucher.applications.absent_rows import has_none
from voucher.applications.models import (
    CHECK_OK,
    CHECK_WRONG,
    Application,
    MaterialCheck,
    MaterialFile,
)
from voucher.applications.uploads import upload_content
from voucher.core import precompiled
from voucher.documents.preview import previewable
from voucher.documents.signing import MaterialSignatures, material_signatures
from voucher.review.checklist import (
    ITEMS_BY_ID,
    MATERIAL_HINTS,
    Item,
    checked_materials,
    checklist,
    heading,
    listing,
)

OPEN = "open"  # never judged
REOPENED = "reopened"  # judged on files that are no longer the material's


def fingerprint(files: Iterable[MaterialFile]) -> list[list[int | str]]:
    """The files a judgement is made on: [pk, sha256] of each, by pk."""
    return [[f.pk, f.sha256] for f in sorted(files, key=lambda f: f.pk)]


@dataclass
class ItemState:
    item: Item
    check: MaterialCheck | None  # the judgement stored, current or not
    status: str  # CHECK_OK, CHECK_WRONG, OPEN or REOPENED

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def done(self) -> bool:
        return self.status == CHECK_OK

    @property
    def wrong(self) -> bool:
        return self.status == CHECK_WRONG


@dataclass
class MaterialState:
    material: str
    heading: str
    files: list[MaterialFile]
    items: list[ItemState]
    hint: str = ""

    @property
    def missing(self) -> bool:
        return not self.files

    @property
    def open_items(self) -> list[ItemState]:
        return [i for i in self.items if not i.done]

    @property
    def wrong_items(self) -> list[ItemState]:
        return [i for i in self.items if i.wrong]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.open_items

    @property
    def counts(self) -> dict[str, int]:
        return {
            "ok": sum(1 for i in self.items if i.done),
            "wrong": len(self.wrong_items),
            "open": sum(1 for i in self.items if i.status in (OPEN, REOPENED)),
            "all": len(self.items),
        }


@dataclass
class MaterialsReview:
    materials: list[MaterialState]
    other_files: list[MaterialFile] = field(default_factory=list)  # of no material checked

    @property
    def incomplete(self) -> list[MaterialState]:
        return [m for m in self.materials if not m.complete]

    @property
    def wrong_items(self) -> list[ItemState]:
        return [i for m in self.materials for i in m.wrong_items]


def materials_review(application: Application) -> MaterialsReview:
    # none read when note_absent_rows found none (the review screen asks it first)
    files = (
        []
        if has_none(application, "material_files")
        else precompiled.rows(  # its SQL written once per process (decision 0050)
            "materials.files",
            MaterialFile,
            lambda application_id: MaterialFile.objects.filter(
                application_id=application_id
            ).order_by("uploaded_at", "pk"),
            application_id=application.pk,
        )
    )
    checks = (
        {}
        if has_none(application, "material_checks")
        else {
            (c.material, c.item): c
            for c in precompiled.rows(
                "materials.checks",
                MaterialCheck,
                lambda application_id: MaterialCheck.objects.filter(
                    application_id=application_id
                ).select_related("checked_by"),
                application_id=application.pk,
            )
        }
    )
    states = []
    listed = set()
    for material, items in checklist(application):
        own = [f for f in files if f.material == material]
        listed.add(material)
        current = fingerprint(own)
        rows = []
        for item in items:
            check = checks.get((material, item.key))
            if check is None:
                status = OPEN
            elif check.files != current:
                status = REOPENED
            else:
                status = check.status
            rows.append(ItemState(item, check, status))
        hint = MATERIAL_HINTS.get(material)
        states.append(MaterialState(material, heading(material), own, rows, str(hint or "")))
    return MaterialsReview(states, [f for f in files if f.material not in listed])


def open_for_approval(review: MaterialsReview) -> str:
    """What keeps an approval back, material by material ("" when nothing): a material not
    uploaded, its items not judged (or judged on other files) and those judged 不符合."""
    parts = []
    for m in review.incomplete:
        if m.missing:
            parts.append(_("%(material)s：未上传") % {"material": m.heading})
            continue
        if len(m.open_items) == len(m.items) > 1 and not m.wrong_items:
            parts.append(
                _("%(material)s：%(n)s 项未核对") % {"material": m.heading, "n": len(m.items)}
            )
            continue
        described = [
            _("%(item)s（不符合）") % {"item": i.item.text}
            if i.wrong
            else _("%(item)s（未核对）") % {"item": i.item.text}
            for i in m.open_items
        ]
        parts.append(
            _("%(material)s：%(items)s") % {"material": m.heading, "items": listing(described)}
        )
    return pgettext("list separator", "；").join(parts)


def supplement_lines(review: MaterialsReview, only: Sequence[str] = ()) -> list[str]:
    """The supplement request's items for the checklist's items judged 不符合 (`only`: these
    item ids), one line each, in Chinese whatever the reviewer's language: the applicant
    reads them."""
    with translation.override("zh-hans"):
        return [
            f"{heading(i.item.material)}：{i.item.text}不符合要求"
            + (f"（{i.check.note}）" if i.check and i.check.note else "")
            for i in review.wrong_items
            if not only or i.id in only
        ]


@dataclass
class MaterialsSection:
    """The review screen's materials: the checklist, who may judge it, the supplement's items
    pre-filled from the items judged 不符合 (when the reviewer asked for them)."""

    review: MaterialsReview
    can_check: p.Check
    direction_files_nothing: bool  # direction 3 (免申即享): no 14-1 checklist
    still_open: str = ""  # what keeps an approval back (open_for_approval)
    supplement_prefill: str = ""


def with_file_facts(files: Iterable[MaterialFile]) -> None:
    """What the page shows of each file beside its row: whether it opens in the page, and the
    signatures a PDF carries (read once per file, cached: voucher/documents/signing.py)."""
    for f in files:
        f.previewable = previewable(f.content_type)  # type: ignore[attr-defined]
        f.signatures = file_signatures(f)  # type: ignore[attr-defined]


def file_signatures(f: MaterialFile) -> MaterialSignatures | None:
    """The signatures of an uploaded PDF (None for a picture)."""
    if f.content_type != "application/pdf":
        return None
    return material_signatures(f.sha256, lambda: upload_content(f.sha256))


def materials_section(
    application: Application, user: Any, supplement: str = ""
) -> MaterialsSection:
    """`supplement`: "wrong" fills the supplement request with every item judged 不符合, an item
    id with that item; anything else with nothing."""
    review = materials_review(application)
    with_file_facts(f for m in review.materials for f in m.files)
    with_file_facts(review.other_files)
    only: list[str] = []
    if supplement in ITEMS_BY_ID:
        only = [supplement]
    prefill = "\n".join(supplement_lines(review, only)) if supplement == "wrong" or only else ""
    return MaterialsSection(
        review=review,
        can_check=p.can_check_materials(user, application),
        direction_files_nothing=not checked_materials(application),
        still_open=open_for_approval(review),
        supplement_prefill=prefill,
    )


def material_of(review: MaterialsReview, material: str) -> MaterialState | None:
    return next((m for m in review.materials if m.material == material), None)
