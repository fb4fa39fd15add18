"""The materials (附件14-1) as the reviewer reads them: the checklist of each material judged
item by item, each look at a file recorded, and no approval while an item is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ReviewError, lock, require
from voucher.applications.models import (
    CHECK_OK,
    CHECK_WRONG,
    Application,
    MaterialCheck,
    MaterialFile,
)
from voucher.core.audit import audit
from voucher.review.checklist import checked_materials, heading, items_of
from voucher.review.selectors.materials import fingerprint, materials_review, open_for_approval


@dataclass(frozen=True)
class Mark:
    """One item judged: `item` is its key within the material (checklist.Item.key)."""

    item: str
    status: str  # CHECK_OK (符合) or CHECK_WRONG (不符合)
    note: str = ""


def material_check_set(
    *, application: Application, material: str, marks: Iterable[Mark], acting_user: Any
) -> list[MaterialCheck]:
    """Judge items of one material's checklist: 符合, or 不符合 with a note saying what is wrong.
    The judgement is made on the material's files as they are now; the items not marked are
    left as they were. Returns the judgements that changed (none: nothing is written)."""
    marks = list(marks)
    if not marks:
        raise ReviewError(_("请逐项选择“符合”或“不符合”"), field="status")
    with transaction.atomic():
        locked = lock(application)
        require(p.can_check_materials(acting_user, locked))
        if material not in checked_materials(locked):
            raise ReviewError(
                _("“%(material)s”不是本申报需要核对的材料") % {"material": material},
                field="material",
            )
        items = {i.key: i for i in items_of(material, locked.direction)}
        files = fingerprint(MaterialFile.objects.filter(application=locked, material=material))
        seen: set[str] = set()
        for mark in marks:
            item = items.get(mark.item)
            if item is None:
                raise ReviewError(
                    _("“%(item)s”不是“%(material)s”的核对项")
                    % {"item": mark.item, "material": heading(material)},
                    field="item",
                )
            if mark.item in seen:
                raise ReviewError(_("核对项“%(item)s”重复") % {"item": item.text}, field="item")
            seen.add(mark.item)
            if mark.status not in (CHECK_OK, CHECK_WRONG):
                raise ReviewError(
                    _("“%(item)s”：请选择“符合”或“不符合”") % {"item": item.text},
                    field="status",
                )
            if mark.status == CHECK_WRONG and not mark.note.strip():
                raise ReviewError(
                    _("“%(item)s”判为不符合，须说明哪里不符合") % {"item": item.text},
                    field="note",
                )
            if mark.status == CHECK_OK and not files:
                raise ReviewError(
                    _("“%(material)s”尚未上传，不能判为符合；请判为不符合并要求补正")
                    % {"material": heading(material)},
                    field="status",
                )
        existing = {
            c.item: c
            for c in MaterialCheck.objects.select_for_update().filter(
                application=locked, material=material
            )
        }
        now = timezone.now()
        changed = []
        for mark in marks:
            note = mark.note.strip()
            check = existing.get(mark.item)
            if check is not None and (check.status, check.note, check.files) == (
                mark.status,
                note,
                files,
            ):
                continue  # the same judgement on the same files: nothing new
            if check is None:
                check = MaterialCheck(application=locked, material=material, item=mark.item)
            check.status, check.note, check.files = mark.status, note, files
            check.checked_by, check.checked_at = acting_user, now
            check.save()
            changed.append(check)
        if changed:
            audit(
                actor=acting_user,
                action="material_check_set",
                obj=locked,
                data={
                    "material": material,
                    "items": {c.item: {"status": c.status, "note": c.note} for c in changed},
                    "files": files,
                },
            )
    return changed


def materials_open(application: Application) -> str:
    """What of the materials' checklist keeps an approval back, in words; "" when nothing."""
    return open_for_approval(materials_review(application))


def require_materials_checked(application: Application) -> None:
    """The proposal gate of the materials: an approval only once every item of every material
    the direction files is judged 符合 on the files as they are (a rejection needs none)."""
    still_open = materials_open(application)
    if still_open:
        raise ReviewError(_("申报材料尚未核对完毕，不能予以支持：%(open)s") % {"open": still_open})


def material_file_seen(
    *, application: Application, record: MaterialFile, how: str, acting_user: Any, pages: int = 0
) -> None:
    """A staff member opened a material's file in the page (`how` "view", with the pages
    shown) or downloaded it ("download"): recorded, every time."""
    require(p.can_view_application(acting_user, application))
    data: dict[str, Any] = {
        "file": record.pk,
        "material": record.material,
        "name": record.original_name,
        "sha256": record.sha256,
    }
    if how == "view":
        data["pages"] = pages
    with transaction.atomic():
        audit(
            actor=acting_user,
            action="material_view" if how == "view" else "material_download",
            obj=application,
            data=data,
        )
