"""Correcting an enterprise's identity (USCC, name) with four eyes (issue 21 item 3).

An enterprise registered with a wrong USCC or name (a typo at sign-up, a code with a wrong check
character, a name that changed at the registry) is corrected by the bureau: a staff member
proposes the new values with a reason; a second, different staff member approves or rejects the
proposal; only an approval changes the enterprise (review/actions/enterprises.py). The old and
new values stay here and in the audit log. At most one proposal per enterprise is pending.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from voucher.applications.models.application import Enterprise

CORRECTION_PENDING, CORRECTION_APPROVED, CORRECTION_REJECTED = "pending", "approved", "rejected"
CORRECTION_STATUS_CHOICES = [
    (CORRECTION_PENDING, "待复核"),
    (CORRECTION_APPROVED, "已批准"),
    (CORRECTION_REJECTED, "已驳回"),
]


class EnterpriseCorrection(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="corrections"
    )
    old_uscc = models.CharField("原统一社会信用代码", max_length=18)
    old_name = models.CharField("原名称", max_length=200)
    new_uscc = models.CharField("更正后统一社会信用代码", max_length=18)
    new_name = models.CharField("更正后名称", max_length=200)
    reason = models.TextField("更正理由")
    status = models.CharField(
        "状态", max_length=10, choices=CORRECTION_STATUS_CHOICES, default=CORRECTION_PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提出人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField("提出时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.TextField("复核意见", blank=True)

    class Meta:
        verbose_name = "企业信息更正"
        verbose_name_plural = "企业信息更正"
        ordering = ("-proposed_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(status="pending"),
                name="one_pending_correction_per_enterprise",
            ),
            models.CheckConstraint(name="correction_has_reason", condition=~Q(reason="")),
            models.CheckConstraint(
                name="correction_changes_something",
                condition=~Q(new_uscc=F("old_uscc"), new_name=F("old_name")),
            ),
            # four eyes: the one who decides is never the one who proposed
            models.CheckConstraint(
                name="correction_decided_by_another",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
            ),
            models.CheckConstraint(
                name="correction_decided_when_not_pending",
                condition=Q(status="pending", decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="rejected_correction_has_note",
                condition=~Q(status="rejected") | ~Q(decision_note=""),
            ),
        )

    def __str__(self) -> str:
        return f"{self.old_name}（{self.old_uscc}）→ {self.new_name}（{self.new_uscc}）"

    @property
    def is_pending(self) -> bool:
        return self.status == CORRECTION_PENDING

    @property
    def changes_uscc(self) -> bool:
        return self.new_uscc != self.old_uscc

    @property
    def changes_name(self) -> bool:
        return self.new_name != self.old_name
