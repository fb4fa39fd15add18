"""`voucher totp_link USERNAME [--reset] [--base-url URL]`: a one-time link with which a staff
member binds the authenticator, printed (and e-mailed) by the server's operator.

The staff page's administrators issue these links; this command is for the first administrator
(created by `voucher createsuperuser`, with nobody yet to issue one) and for a locked-out desk.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from voucher.accounts.enrolment import ENROLMENT_HOURS, EnrolmentError, enrolment_issue
from voucher.applications.roles import SYSTEM_ACTOR


class Command(BaseCommand):
    help = "签发验证器绑定链接 (a one-time TOTP enrolment link for a staff login)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reset", action="store_true", help="先删除该账号现有的验证器（手机丢失）"
        )
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="the site's address"
        )

    def handle(self, *args: Any, username: str, reset: bool, base_url: str, **_: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        base = base_url.rstrip("/")
        try:
            link = enrolment_issue(
                user=user,
                acting_user=SYSTEM_ACTOR,  # the operator of the server (audited as the system)
                link_for=lambda token: base + reverse("review:otp_enrol", args=[token]),
                reset=reset,
                checked=True,
            )
        except EnrolmentError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(link)
        self.stderr.write(f"valid for {ENROLMENT_HOURS} hours, once, for {username} only")
