"""A staff member's token for the bureau's API `/api/v1/bureau/`.

Only the SHA-256 of the secret is stored; the secret is shown once, when issued. The token acts
as its user: every permission is that user's roles at the moment of the request.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_noop

READ, DECIDE = "read", "decide"
SCOPES = (READ, DECIDE)
SCOPE_LABELS = {
    READ: gettext_noop("查阅（队列、评估、联系人）"),
    DECIDE: gettext_noop("拟定、复核、退回审核意见"),
}
MAX_DAYS = 90
DEFAULT_DAYS = 30


class StaffApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.CASCADE,
        related_name="staff_api_tokens",
    )
    label = models.CharField("用途", max_length=100)
    prefix = models.CharField(max_length=16, unique=True)  # looked up; not secret
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = "审核接口令牌"
        verbose_name_plural = "审核接口令牌"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.user.get_username()}:{self.prefix} ({self.label})"

    @property
    def is_live(self) -> bool:
        return self.live_at(timezone.now())

    def live_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now` (one reading of the clock for a whole decision)."""
        return self.revoked_at is None and self.expires_at > now
