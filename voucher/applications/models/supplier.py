"""The supplier's side (issue 22): who speaks for a compute supplier (算力供给方), identified by
its USCC, and what it said about each line of a contract that names it.

A confirmation or dispute is kept with the content hash of the line it was given on: when the
applicant changes the line, the hash no longer matches and the line is unconfirmed again
(voucher/applications/supplier.py reads them; docs/policy/supplier-confirmation.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models.application import Contract

LINE_CONFIRMED, LINE_DISPUTED = "confirmed", "disputed"
LINE_STATE_CHOICES = ((LINE_CONFIRMED, "已确认"), (LINE_DISPUTED, "有异议"))


class SupplierMember(models.Model):
    """A user who acts for the supplier with this USCC; joined by the bureau's invitation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="supplier_member",
    )
    uscc = models.CharField("供给方统一社会信用代码", max_length=18, db_index=True)
    created_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "算力供给方成员"
        verbose_name_plural = "算力供给方成员"

    def __str__(self) -> str:
        return f"{self.uscc} {self.user}"


class SupplierInvitation(models.Model):
    """The bureau invites a supplier's contact by e-mail; only the token's hash is stored."""

    uscc = models.CharField("供给方统一社会信用代码", max_length=18)
    email = models.EmailField("邮箱")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "算力供给方邀请"
        verbose_name_plural = "算力供给方邀请"

    def __str__(self) -> str:
        return f"{self.uscc} {self.email}"


class LineConfirmation(models.Model):
    """The supplier's word on one line of a contract: `line` is "contract" (signing date,
    validity, total) or "delivery:<pk>"; valid only while `content_hash` matches the line."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="supplier_confirmations"
    )
    line = models.CharField(max_length=40)
    content_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=LINE_STATE_CHOICES)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = "供给方逐行确认"
        verbose_name_plural = "供给方逐行确认"
        constraints = (
            models.UniqueConstraint(fields=["contract", "line"], name="one_word_per_line"),
        )

    def __str__(self) -> str:
        return f"{self.contract_id} {self.line} {self.state}"


class SupplierAttestation(models.Model):
    """附件14-1 三 online (issue 22): the supplier declares, per contract, that the compute is
    compliant intelligent compute and whether it has a revenue- or risk-sharing agreement or an
    administrative or business hierarchy with the applicant (附件14 一（五）注1); who and when."""

    contract = models.OneToOneField(
        Contract, on_delete=models.CASCADE, related_name="supplier_attestation"
    )
    # the supplier that declared: the declaration counts only while the contract names it
    supplier_uscc = models.CharField("供给方统一社会信用代码", max_length=18, default="")
    compliant = models.BooleanField("属于合规的智算资源")
    no_sharing = models.BooleanField("不存在收益分成、风险共担等协议")
    no_hierarchy = models.BooleanField("不存在行政/业务上下级关系")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        verbose_name = "算力供给方声明"
        verbose_name_plural = "算力供给方声明"

    def __str__(self) -> str:
        return f"{self.contract_id} {self.at}"
