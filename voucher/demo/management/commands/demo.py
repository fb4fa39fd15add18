"""`voucher demo`: a working system on this machine in one command.

Migrates the database (SQLite in ./var unless VOUCHER_DATA_DIR or DATABASE_URL say otherwise),
loads the examples, evaluates them, prints the address and the logins and serves the site on
127.0.0.1 only. The pages are public read-only while the demo runs.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from voucher.demo.examples import (
    DEMO_APPLICANT,
    DEMO_PASSWORD,
    demo_applicant_ensure,
    demo_load,
)
from voucher.demo.materials import demo_materials_attach
from voucher.demo.platforms import demo_platforms
from voucher.demo.staff import demo_examples_submit, demo_staff_ensure


class Command(BaseCommand):
    help = "建库、导入示例申报并评估，然后在 http://127.0.0.1:PORT/ 启动演示站点"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="只准备数据，不启动服务")
        parser.add_argument(
            "--round-batch",
            action="store_true",
            help="整个轮次作为一批评估（示例共用同一企业，多数会因“同一企业多个方向”不通过）",
        )

    def handle(
        self, *args: Any, port: int, no_serve: bool, round_batch: bool, **options: Any
    ) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        result = demo_load(round_batch=round_batch)
        demo_applicant_ensure()  # the portal's login, its draft, the round open around today

        staff = demo_staff_ensure(password=DEMO_PASSWORD)
        demo_examples_submit()  # the bureau's queue starts with the examples, submitted
        demo_materials_attach()  # a sample file per material (附件14-1) to open and check

        self.stdout.write(
            f"示例申报: 新导入 {len(result.imported)} 份，已存在 {len(result.existing)} 份；"
            f"本次评估 {len(result.evaluated)} 份"
        )
        self.stdout.write(f"数据库: {database['NAME']}")
        address = f"http://127.0.0.1:{port}/"
        self.stdout.write("")
        self.stdout.write(f"演示地址 (demo): {address}")
        self.stdout.write(
            f"管理后台 (admin, administrators after the TOTP login): {address}admin/  登录 guanli"
        )
        self.stdout.write(f"审核系统 (bureau review, TOTP): {address}review/")
        for username, role, secret in staff:
            self.stdout.write(f"  登录 {username} / {DEMO_PASSWORD}  {role}  TOTP 密钥 {secret}")
        self.stdout.write("  当前验证码 (current code): .venv/bin/voucher totp USERNAME")
        self.stdout.write(f"企业申报 (applicant portal): {address}portal/")
        self.stdout.write(
            f"  登录 {DEMO_APPLICANT} / {DEMO_PASSWORD}  申报企业（已有一份方向二草稿）"
        )
        demo_platforms(self.stdout.write, address)  # direction 3 and settlement walkthrough
        if no_serve:
            return
        self.stdout.write("申报页面在演示期间公开只读。按 Ctrl-C 停止。")
        settings.VOUCHER_PUBLIC_DEMO = True
        call_command(
            "runserver",
            f"127.0.0.1:{port}",
            use_reloader=False,
            insecure_serving=True,
        )
