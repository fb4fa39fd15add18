"""What the applicant writes for form 14-3 (算力项目实施情况报告).

The applicant portal edits these sections; the documents of this app print them. Headings,
hints and suggested lengths of each section are in `report_sections.py`.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from voucher.applications.models import Application
from voucher.documents.report_sections import REPORT_MAX_CHARS, SECTIONS


class ImplementationReport(models.Model):
    application = models.OneToOneField(
        Application,
        verbose_name="申报",
        on_delete=models.CASCADE,
        related_name="implementation_report",
    )
    enterprise_overview = models.TextField(
        "1.1 申请企业情况", blank=True, max_length=REPORT_MAX_CHARS
    )
    background_goals = models.TextField(
        "2.1 项目背景和目标", blank=True, max_length=REPORT_MAX_CHARS
    )
    content = models.TextField("2.2 项目内容", blank=True, max_length=REPORT_MAX_CHARS)
    progress = models.TextField("3.1 完成情况", blank=True, max_length=REPORT_MAX_CHARS)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "算力项目实施情况报告"
        verbose_name_plural = "算力项目实施情况报告"
        constraints = tuple(
            models.CheckConstraint(
                name=f"implementation_report_{section.field}_length",
                condition=LessThanOrEqual(Length(section.field), REPORT_MAX_CHARS),
            )
            for section in SECTIONS
        )

    def __str__(self) -> str:
        return f"{self.application_id} 实施情况报告"
