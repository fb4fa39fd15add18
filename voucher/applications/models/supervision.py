"""After payment (承诺书 第6条: accept the supervision; the funds' rules: 项目跟踪管理和绩效评价): the
yearly follow-up report of each funded application, and the bureau's spot checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models.application import Application

USER = settings.AUTH_USER_MODEL


class FollowUpReport(models.Model):
    """The report of year `year` after the payment (due a year after it, then yearly); the row
    exists once a reminder went out or the enterprise filed it."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="follow_ups"
    )
    year = models.PositiveSmallIntegerField("年度（拨付后第几年）")
    due_on = models.DateField("报送期限")
    compute_used = models.TextField("算力使用情况", blank=True)
    outcomes = models.TextField("项目成效", blank=True)
    problems = models.TextField("存在问题", blank=True)
    submitted_by = models.ForeignKey(
        USER,
        verbose_name="报送人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    reminded_at = models.DateTimeField("提醒时间", null=True, blank=True)

    class Meta:
        verbose_name = "跟踪报告"
        verbose_name_plural = "跟踪报告"
        ordering = ("application_id", "year")
        constraints = (
            models.UniqueConstraint(fields=("application", "year"), name="follow_up_once_a_year"),
        )

    def __str__(self) -> str:
        return f"{self.application_id} 第{self.year}年跟踪报告"


class SpotCheck(models.Model):
    """抽查: who checked, when, what they found; a problem found may start a clawback."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="spot_checks"
    )
    checked_on = models.DateField("抽查日期")
    checked_by = models.ForeignKey(
        USER, verbose_name="抽查人", on_delete=models.PROTECT, related_name="+"
    )
    finding = models.TextField("抽查发现")
    problem = models.BooleanField("发现问题", default=False)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "抽查记录"
        verbose_name_plural = "抽查记录"
        ordering = ("-checked_on", "-id")

    def __str__(self) -> str:
        return f"{self.application_id} 抽查 {self.checked_on}"
