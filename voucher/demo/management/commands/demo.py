"""`voucher demo`: a working system on this machine in one command.

Migrates the database (SQLite in ./var unless VOUCHER_DATA_DIR or DATABASE_URL say otherwise),
loads the examples, evaluates them, prints the address and the logins and serves the site on
127.0.0.1 only. The pages are public read-only while the demo runs.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.demo.examples import (
    DEMO_APPLICANT,
    DEMO_PASSWORD,
    DEMO_SUPPLIER,
    demo_applicant_ensure,
    demo_load,
    demo_supplier_ensure,
)
from voucher.demo.materials import demo_materials_attach
from voucher.demo.platforms import demo_platforms
from voucher.demo.season import season_build
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
        parser.add_argument(
            "--season",
            type=int,
            metavar="N",
            help="只生成一个申报季的数据：N 份申报（各方向、各状态）、30 名审核人员、"
            "十分之一的企业有成员账号（负载基准用，见 voucher/demo/season.py）；不启动服务",
        )

    def handle(
        self,
        *args: Any,
        port: int,
        no_serve: bool,
        round_batch: bool,
        season: int | None = None,
        **options: Any,
    ) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if season is not None:
            self._season(season)
            return
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
        supplier_uscc = demo_supplier_ensure()  # a compute supplier's login (issue 22)
        if supplier_uscc:
            self.stdout.write(
                f"  登录 {DEMO_SUPPLIER} / {DEMO_PASSWORD}  算力供给方 {supplier_uscc}"
                f"（逐行确认合同：{address}portal/supplier/）"
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

    def _season(self, count: int) -> None:
        if count < 20:
            raise CommandError("--season: at least 20 applications (one in every state)")
        started = time.perf_counter()
        try:
            result = season_build(
                count,
                say=lambda step: self.stdout.write(
                    f"[{time.perf_counter() - started:5.0f} s] {step}"
                ),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"申报季: {result.applications} 份申报，{result.contracts} 份合同，"
            f"{result.enterprises} 家企业，{len(result.members)} 家有成员账号；"
            f"审计日志 {result.audit_entries} 条；用时 {seconds:.0f} 秒"
        )
        self.stdout.write(f"  方向 (directions): {dict(sorted(result.directions.items()))}")
        self.stdout.write(f"  状态 (states): {dict(result.states.most_common())}")
        self.stdout.write(f"  结论 (outcomes): {dict(result.outcomes.most_common())}")
        self.stdout.write(f"审核人员 (staff), 密码 {DEMO_PASSWORD}，TOTP 密钥 (base32):")
        for username, role, secret in result.staff:
            self.stdout.write(f"  {username:<10} {role:<14} {secret}")
        self.stdout.write(
            f"企业用户 (portal), 密码 {DEMO_PASSWORD}: {result.members[0]} … {result.members[-1]}"
        )
