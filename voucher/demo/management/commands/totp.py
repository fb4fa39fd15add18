"""`voucher totp USERNAME`: the current six-digit code of a staff login (for the demo and tests)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from voucher.demo.staff import totp_now


class Command(BaseCommand):
    help = "显示工作人员当前的动态验证码（演示用）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} 没有已绑定的验证器")
        self.stdout.write(totp_now(device))
