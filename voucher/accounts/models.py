"""Who acts for an enterprise: its members (the first is the administrator) and invitations.

A user is the Django user whose username is the e-mail address, lower-cased. A user belongs to
one enterprise; the enterprise itself (USCC, name) is applications.Enterprise.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.applications.models import Enterprise


class Invitation(models.Model):
    """An administrator invites a colleague by e-mail; only the token's hash is stored."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField("邮箱")
    token_sha256 = models.CharField("令牌摘要", max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="邀请人",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("邀请时间", auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    accepted_at = models.DateTimeField("接受时间", null=True, blank=True)

    class Meta:
        verbose_name = "成员邀请"
        verbose_name_plural = "成员邀请"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.email} → {self.enterprise.name}"


PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
CLAIM_STATUS_CHOICES = [(PENDING, "待审核"), (APPROVED, "已通过"), (REFUSED, "未通过")]


class EnterpriseClaim(models.Model):
    """A request to become the administrator of an enterprise that has no members yet.

    Such an enterprise exists before anyone signs up for it (a registry import, an interchange
    file); the claimant uploads the business licence and a declaration, and a staff
    administrator approves or refuses with a reason. The licence bytes live in
    uploads/<sha256>, like the application materials.
    """

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="claims"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        on_delete=models.CASCADE,
        related_name="enterprise_claims",
    )
    claimant_name = models.CharField("申请人姓名", max_length=100)
    claimant_position = models.CharField("职务", max_length=100)
    declaration = models.TextField("声明")
    licence_name = models.CharField("营业执照文件名", max_length=200)
    licence_size = models.PositiveBigIntegerField("大小（字节）")
    licence_sha256 = models.CharField("SHA-256", max_length=64)
    licence_content_type = models.CharField("类型", max_length=100)
    status = models.CharField("状态", max_length=10, choices=CLAIM_STATUS_CHOICES, default=PENDING)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    reason = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "企业认领申请"
        verbose_name_plural = "企业认领申请"
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["claimant"],
                condition=models.Q(status="pending"),
                name="one_pending_claim_per_user",
            ),
            models.CheckConstraint(
                name="refused_claim_has_reason",
                condition=~models.Q(status="refused") | ~models.Q(reason=""),
            ),
        )

    def __str__(self) -> str:
        return f"{self.claimant} → {self.enterprise.name}（{self.get_status_display()}）"


class TotpEnrolment(models.Model):
    """A one-time link with which a staff member binds their authenticator (TOTP).

    Issued by an administrator (e-mailed to the member, or handed over from the staff page);
    only the token's hash is stored. It expires, serves once (`used_at`) and is bound to its
    user; a newer link revokes the older ones (`revoked_at`). Without one, a password alone
    never shows a TOTP secret.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.CASCADE,
        related_name="totp_enrolments",
    )
    token_sha256 = models.CharField("令牌摘要", max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签发人",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)

    class Meta:
        verbose_name = "验证器绑定链接"
        verbose_name_plural = "验证器绑定链接"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"


class Session(AbstractBaseSession):
    """Django's database session, with the ids of its user and its TOTP device beside the data
    (written from the data at each save, voucher/accounts/door.py): a request's session row comes
    back with its user's row, the device's and the user's groups in one query (issue 23,
    decision 0053). No constraint on either id: a user or a device deleted leaves the session
    as Django's would be (the join finds nothing; Django then answers as if the id were
    unknown), and deleting either writes nothing here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    totp_device = models.ForeignKey(
        TOTPDevice,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )

    class Meta:
        db_table = "accounts_session"
        verbose_name = "session"
        verbose_name_plural = "sessions"

    @classmethod
    def get_session_store_class(cls) -> type:
        from voucher.accounts.door import SessionStore

        return SessionStore
