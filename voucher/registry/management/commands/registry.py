"""`voucher registry import DIR` · `voucher registry relation A B [--json]` · `voucher registry sweep ROUND`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voucher.applications.parameters import current_effective_round
from voucher.policy.round import get_round
from voucher.registry.actions import registry_import_directory, registry_sweep_round
from voucher.registry.importer import check_uscc
from voucher.registry.queries import relation


class Command(BaseCommand):
    help = "企业登记信息：导入、关联关系查询、全轮次排查 (company registry)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("import", help="导入目录中的 companies/shareholdings/officers 文件")
        p.add_argument("directory", type=Path, metavar="DIR")
        p = sub.add_parser("relation", help="两家企业之间的持股与任职关联")
        p.add_argument("a", metavar="USCC_A")
        p.add_argument("b", metavar="USCC_B")
        p.add_argument("--json", action="store_true", dest="as_json")
        p.add_argument("--round", help="排除该轮次的国有资产股东（默认：当前轮次）")
        p = sub.add_parser("sweep", help="检查一个轮次的全部（申报单位, 供应商）组合")
        p.add_argument("round_code", metavar="ROUND")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _import(self, directory: Path, **_: Any) -> None:

        if not directory.is_dir():
            raise CommandError(f"{directory}: 不是目录 (not a directory)", returncode=2)
        started = time.perf_counter()
        try:
            run = registry_import_directory(directory=directory)
        except FileNotFoundError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for kind, counts in run.counts.items():
            shown = " ".join(f"{k}={v}" for k, v in counts.items())
            self.stdout.write(f"{kind}: {shown}")
        for e in run.errors:
            self.stderr.write(f"{e['file']}:{e['row']}: {e['column']}: {e['message']}")
        if run.error_count > len(run.errors):
            self.stderr.write(f"… {run.error_count - len(run.errors)} more")
        self.stdout.write(
            f"导入 #{run.pk}：{run.error_count} 行有误，用时 {time.perf_counter() - started:.1f} 秒"
        )
        if run.error_count:
            raise CommandError(
                f"{run.error_count} 行未导入 ({run.error_count} row(s) rejected)", returncode=1
            )

    def _relation(self, a: str, b: str, as_json: bool, round: str | None, **_: Any) -> None:

        try:
            a, b = check_uscc(a, "USCC_A"), check_uscc(b, "USCC_B")
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        policy_round = get_round(round) if round else current_effective_round().policy_round
        rel = relation(a, b, excluded=policy_round.state_asset_holders)
        if as_json:
            self.stdout.write(json.dumps(rel.to_json(), ensure_ascii=False, indent=1))
            return
        labels = {"pass": "通过", "fail": "不通过", "review": "待审核"}
        self.stdout.write(f"{a} ↔ {b}")
        self.stdout.write(f"持股关联 SUPPLIER_EQUITY：{labels[rel.equity]} ({rel.equity})")
        self.stdout.write(f"交叉任职 SUPPLIER_PERSONNEL：{labels[rel.personnel]} ({rel.personnel})")
        for line in rel.lines():
            self.stdout.write(line)

    def _sweep(self, round_code: str, **_: Any) -> None:

        run, gone = registry_sweep_round(round_code=round_code)
        self.stdout.write(
            f"排查 #{run.pk}（{round_code}）：{run.pairs} 个组合，{run.changed} 个有变化，"
            f"{gone} 个不再存在，用时 {run.seconds} 秒"
        )
        for r in run.results.exclude(change="").order_by("id"):
            self.stdout.write(
                f"  [{r.change}] {r.reference} {r.applicant} / {r.supplier}: "
                f"equity={r.equity} personnel={r.personnel} "
                + " | ".join(" → ".join(p) for p in r.paths)
            )
