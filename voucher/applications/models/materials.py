"""The materials uploaded for an application (附件14-1): the evidence a reviewer reads, and the
reviewer's checklist of each material (voucher/review/checklist.py names the items).

The bytes live in uploads/<sha256> (applications/uploads.py); this row says what they are.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models.application import Application
from voucher.applications.ports import SCAN_CLEAN, SCAN_NOT_READ, SCAN_UNREADABLE
from voucher.policy.engine import MATERIAL_NAMES

MATERIAL_CHOICES = list(MATERIAL_NAMES.items())
# What the scan for classification marks found when the file was uploaded (uploads.py); files
# stored before the scan's result was kept have "" (未检查).
CLASSIFIED_SCAN_CHOICES = [
    ("", "未检查"),
    (SCAN_CLEAN, "未发现密级标志"),
    (SCAN_NOT_READ, "此类文件不读取文字，未检查"),
    (SCAN_UNREADABLE, "文字无法读取，未检查"),
]


class MaterialFile(models.Model):
    """One uploaded file of one material slot (附件14-1); the bytes live in uploads/<sha256>."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="material_files"
    )
    material = models.CharField("材料", max_length=40, choices=MATERIAL_CHOICES)
    original_name = models.CharField("文件名", max_length=200)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    content_type = models.CharField("类型", max_length=100)
    classified_scan = models.CharField(
        "密级标志检查", max_length=16, choices=CLASSIFIED_SCAN_CHOICES, blank=True, default=""
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        db_table = "portal_materialfile"  # moved here; the table kept its name
        verbose_name = "申报材料文件"
        verbose_name_plural = "申报材料文件"
        ordering = ("material", "uploaded_at", "id")

    def __str__(self) -> str:
        return f"{self.get_material_display()}: {self.original_name}"


CHECK_OK = "ok"
CHECK_WRONG = "wrong"
CHECK_STATUS_CHOICES = [(CHECK_OK, "符合"), (CHECK_WRONG, "不符合")]


class MaterialCheck(models.Model):
    """A reviewer's judgement of one checklist item of one material (附件14-1): 符合, or 不符合
    with a note. `files` are the material's files it was made on ([pk, sha256], by pk): when
    they are no longer the material's files (a new upload, a file deleted, as in a 补正), the
    judgement no longer counts and the item is open again."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="material_checks"
    )
    material = models.CharField("材料", max_length=40, choices=MATERIAL_CHOICES)
    item = models.CharField("核对项", max_length=60)
    status = models.CharField("核对结果", max_length=8, choices=CHECK_STATUS_CHOICES)
    note = models.TextField("说明", blank=True)
    files = models.JSONField("核对时的文件", default=list)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核对人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField("核对时间")

    class Meta:
        verbose_name = "申报材料核对"
        verbose_name_plural = "申报材料核对"
        ordering = ("application", "material", "item")
        constraints = (
            models.UniqueConstraint(
                fields=["application", "material", "item"], name="material_check_once"
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id} {self.material}.{self.item}: {self.status}"
