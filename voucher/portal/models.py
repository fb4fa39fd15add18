"""What the portal keeps beside the application aggregate: wizard progress, uploads, receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models import Application, StoredEvaluation


class DraftProgress(models.Model):
    """Which wizard steps the applicant has saved, and the acknowledgement of letter 14-4."""

    application = models.OneToOneField(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="portal_progress"
    )
    steps_done = models.JSONField("已保存的步骤", default=list, blank=True)
    # contracts (pks) whose relationship to the supplier (一（五）注1) was declared by an
    # imported spreadsheet's columns: the declarations step shows the answers read
    relationships_declared = models.JSONField(
        "已在导入表格中声明关系的合同", default=list, blank=True
    )
    # the declarations answered while others were not (a field-level save: the step is not
    # done yet): the step shows these answers again
    declarations_answered = models.JSONField("已作答的声明事项", default=list, blank=True)
    commitment_acknowledged_at = models.DateTimeField("确认承诺书时间", null=True, blank=True)
    commitment_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "填报进度"
        verbose_name_plural = "填报进度"

    def __str__(self) -> str:
        return f"{self.application_id}: {', '.join(self.steps_done)}"


class Submission(models.Model):
    """A submitted version, frozen: the canonical interchange JSON, its hash and evaluation."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="submissions"
    )
    receipt_number = models.CharField("回执编号", max_length=40, unique=True)
    document_json = models.TextField("提交的申报文档")
    document_sha256 = models.CharField("文档 SHA-256", max_length=64)
    # NULL until the jobs' worker has evaluated the frozen document (after the request,
    # docs/decisions/0027-deferred-evaluation.md); the application is `evaluation_pending` meanwhile
    evaluation = models.ForeignKey(
        StoredEvaluation,
        verbose_name="提交时的评估",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    round_code = models.CharField("轮次代码", max_length=50)
    engine_version = models.CharField("规则引擎版本", max_length=20)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "提交回执"
        verbose_name_plural = "提交回执"
        ordering = ("-submitted_at", "-id")

    def __str__(self) -> str:
        return self.receipt_number
