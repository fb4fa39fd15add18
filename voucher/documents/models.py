"""What the applicant writes for form 14-3 (算力项目实施情况报告).

The applicant portal edits these sections; the documents of this app print them. Headings,
hints and suggested lengths of each section are in `report_sections.py`.
"""

from __future__ import annotations

from django.conf import settings
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


class DocumentJob(models.Model):
    """One rendering of one document of one application from one state of its data.

    `data_hash` is the SHA-256 of exactly what the document is rendered from and of the
    templates and code that render it (voucher/documents/render.py): a request whose hash is
    rendered already is served the stored file at once; otherwise a job is queued and a worker
    (`voucher documents worker`) renders it under a time limit (docs/operations.md).
    """

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATES = (
        (QUEUED, "排队中"),
        (RUNNING, "生成中"),
        (DONE, "已生成"),
        (FAILED, "生成失败"),
    )

    application = models.ForeignKey(
        Application,
        verbose_name="申报",
        on_delete=models.CASCADE,
        related_name="document_jobs",
    )
    document = models.CharField("文书", max_length=40)
    extension = models.CharField("格式", max_length=10)
    data_hash = models.CharField("数据摘要", max_length=64)
    state = models.CharField("状态", max_length=10, choices=STATES, default=QUEUED)
    file = models.CharField("存储文件", max_length=200, blank=True)
    size = models.PositiveBigIntegerField("字节数", null=True, blank=True)
    TIMEOUT = "timeout"
    ERROR = "error"
    ABANDONED = "abandoned"
    FAILURES = (
        (TIMEOUT, "超过时限"),
        (ERROR, "生成出错"),
        (ABANDONED, "工作进程多次中断"),
    )
    failure = models.CharField("失败类型", max_length=10, choices=FAILURES, blank=True)
    error = models.TextField("失败原因", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="请求人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("请求时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    leased_until = models.DateTimeField("租约到期", null=True, blank=True)
    leased_by = models.CharField("工作进程", max_length=100, blank=True)

    class Meta:
        verbose_name = "文书生成任务"
        verbose_name_plural = "文书生成任务"
        constraints = (
            models.UniqueConstraint(
                fields=("application", "document", "extension", "data_hash"),
                name="document_job_once_per_data",
            ),
        )
        indexes = (models.Index(fields=("state", "id"), name="document_job_queue"),)

    def __str__(self) -> str:
        return f"{self.application_id} {self.document}.{self.extension} {self.state}"

    @property
    def seconds(self) -> float | None:
        """How long the rendering took, once finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
