"""The official lists of a round that declarations are matched against (RULES.md v2, fail closed).

The administrator imports each kind per round from the file the issuing body publishes (CSV or
Excel) with its source and as-of date; a new import of a kind replaces the round's list of that
kind. The evaluation reads them through `voucher.applications.selectors.official_lists_for`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models.application import PolicyRoundRecord

OFFICIAL_LIST_KINDS = [
    ("ai_new_rd_institutions", "北京市人工智能领域新型研发机构名单"),
    ("miit_2025_list", "工信部2025年人工智能揭榜名单"),
    ("model_filings", "模型（含Agent）备案登记名单"),
]


class OfficialList(models.Model):
    round = models.ForeignKey(
        PolicyRoundRecord,
        verbose_name="轮次",
        on_delete=models.PROTECT,
        related_name="official_lists",
    )
    kind = models.CharField("名单", max_length=30, choices=OFFICIAL_LIST_KINDS)
    source = models.CharField("来源", max_length=300)
    as_of = models.DateField("截至日期")
    file_name = models.CharField("导入文件", max_length=300)
    sha256 = models.CharField("文件 SHA-256", max_length=64)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "官方名单"
        verbose_name_plural = "官方名单"
        ordering = ("round", "kind")
        constraints = (
            models.UniqueConstraint(fields=["round", "kind"], name="one_official_list_per_kind"),
        )

    def __str__(self) -> str:
        return f"{self.round} {self.get_kind_display()}（{self.source}，截至 {self.as_of}）"


class OfficialListEntry(models.Model):
    """One row of an official list: an enterprise (USCC) or a filing (number and date)."""

    official_list = models.ForeignKey(
        OfficialList, verbose_name="名单", on_delete=models.CASCADE, related_name="entries"
    )
    row = models.PositiveIntegerField("行号")
    # what a declaration is matched on: the USCC, or voucher.policy.lists.filing_key(number)
    key = models.CharField("匹配键", max_length=200)
    code = models.CharField("统一社会信用代码或备案号", max_length=200)
    name = models.CharField("名称", max_length=300, blank=True)
    filed_on = models.DateField("备案日期", null=True, blank=True)

    class Meta:
        verbose_name = "官方名单条目"
        verbose_name_plural = "官方名单条目"
        ordering = ("official_list", "row")
        constraints = (
            models.UniqueConstraint(fields=["official_list", "key"], name="listed_once"),
        )

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
