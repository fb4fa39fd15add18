"""The company registry: companies, shareholdings and officers, as a data provider delivers them.

Parties are plain identifiers, not foreign keys: a holder is a company's USCC or a person id
`P-…` given by the data provider, and references are checked when a file is imported
(importer.py). Ratios are exact decimals in (0, 1] with at most ten decimal places. A national
ID number is never stored; the importer turns one into `P-H…`, a keyed hash (see persons.py).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

KEY_ROLES = ("director", "supervisor", "executive", "legal_representative")
ROLE_CHOICES = [
    ("director", "董事"),
    ("supervisor", "监事"),
    ("executive", "高级管理人员"),
    ("legal_representative", "法定代表人"),
    ("other", "其他（非关键岗位）"),
]
RATIO_DIGITS, RATIO_PLACES = 11, 10
EQUITY_CHOICES = [("pass", "通过"), ("fail", "不通过"), ("review", "待审核")]
PERSONNEL_CHOICES = [("pass", "通过"), ("fail", "不通过")]


class Company(models.Model):
    uscc = models.CharField("统一社会信用代码", max_length=18, primary_key=True)
    name = models.CharField("名称", max_length=200)
    status = models.CharField("登记状态", max_length=30, blank=True, default="")

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class Shareholding(models.Model):
    holder = models.CharField("股东（代码或人员编号）", max_length=80)
    held = models.CharField("被持股企业", max_length=18)
    ratio = models.DecimalField("持股比例", max_digits=RATIO_DIGITS, decimal_places=RATIO_PLACES)
    source = models.CharField("来源", max_length=100, blank=True, default="")
    as_of = models.DateField("数据日期", null=True, blank=True)

    class Meta:
        verbose_name = "股权关系"
        verbose_name_plural = "股权关系"
        constraints = (
            models.UniqueConstraint(fields=["holder", "held"], name="registry_holding_unique"),
            models.CheckConstraint(
                name="registry_holding_ratio_in_0_1", condition=Q(ratio__gt=0, ratio__lte=1)
            ),
        )
        # (holder, held) above serves "what does X hold"; this one "who holds X", and it
        # covers the columns the upward search reads, so the search never touches the table.
        indexes = (models.Index(fields=["held", "holder", "ratio"], name="registry_holding_held"),)

    def __str__(self) -> str:
        return f"{self.holder} → {self.held} {self.ratio}"


class Officer(models.Model):
    person = models.CharField("人员编号", max_length=80)
    company = models.CharField("任职企业", max_length=18)
    role = models.CharField("职务", max_length=30, choices=ROLE_CHOICES)

    class Meta:
        verbose_name = "任职关系"
        verbose_name_plural = "任职关系"
        constraints = (
            models.UniqueConstraint(
                fields=["company", "person", "role"], name="registry_officer_unique"
            ),
        )
        indexes = (models.Index(fields=["person"], name="registry_officer_person"),)

    def __str__(self) -> str:
        return f"{self.person} {self.get_role_display()} @ {self.company}"


class ImportRun(models.Model):
    """One import of a set of files, with its counts and its per-row error report."""

    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    user = models.CharField("操作人", max_length=150, blank=True, default="")
    files = models.JSONField("文件", default=list)
    counts = models.JSONField("计数", default=dict)
    error_count = models.PositiveIntegerField("错误行数", default=0)
    errors = models.JSONField("错误（前 1000 条）", default=list)

    class Meta:
        verbose_name = "登记信息导入"
        verbose_name_plural = "登记信息导入"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.counts}"


class SweepRun(models.Model):
    """One check of every (applicant, supplier) pair of a round against the stored registry."""

    round_code = models.CharField("轮次代码", max_length=50)
    created_at = models.DateTimeField("检查时间", auto_now_add=True)
    pairs = models.PositiveIntegerField("检查的组合数", default=0)
    changed = models.PositiveIntegerField("变化的组合数", default=0)
    seconds = models.DecimalField("用时（秒）", max_digits=10, decimal_places=3, default=0)

    class Meta:
        verbose_name = "关联关系排查"
        verbose_name_plural = "关联关系排查"
        ordering = ("-created_at", "-id")
        get_latest_by = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.round_code} {self.created_at:%Y-%m-%d %H:%M}"


class SweepResult(models.Model):
    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="results")
    application_id = models.BigIntegerField("申报编号", null=True, blank=True)
    reference = models.CharField("申报", max_length=60, blank=True, default="")
    applicant = models.CharField("申报单位", max_length=18)
    supplier = models.CharField("供应商", max_length=18)
    equity = models.CharField("持股关联", max_length=10, choices=EQUITY_CHOICES)
    personnel = models.CharField("交叉任职", max_length=10, choices=PERSONNEL_CHOICES)
    paths = models.JSONField("路径", default=list)
    persons = models.JSONField("交叉任职人员", default=list)
    change = models.CharField("与上次相比", max_length=10, blank=True, default="")

    class Meta:
        verbose_name = "排查结果"
        verbose_name_plural = "排查结果"
        ordering = ("run", "id")
        indexes = (models.Index(fields=["run", "change"], name="registry_sweep_change"),)

    def __str__(self) -> str:
        return f"{self.applicant} / {self.supplier}: {self.equity} {self.personnel}"
