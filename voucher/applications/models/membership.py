"""Who acts for an enterprise: a user belongs to one enterprise, as its administrator or a member.

The user is the Django user whose username is the e-mail address, lower-cased. Membership is the
domain core's (the access layer asks it for every applicant); invitations and claims are accounts'.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.applications.models.application import Enterprise

ADMIN, MEMBER = "admin", "member"
MEMBERSHIP_ROLE_CHOICES = [(ADMIN, "管理员"), (MEMBER, "成员")]


class Membership(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="membership",
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("角色", max_length=10, choices=MEMBERSHIP_ROLE_CHOICES, default=MEMBER)
    created_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        db_table = "accounts_membership"  # moved here; the table kept its name
        verbose_name = "企业成员"
        verbose_name_plural = "企业成员"
        ordering = ("enterprise_id", "created_at", "id")

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise.name}（{self.get_role_display()}）"

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN
