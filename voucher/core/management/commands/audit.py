"""`voucher audit verify`: check that the audit log is exactly what was written.
`voucher audit checkpoint`: append a signed checkpoint of its head outside the database (run it
from cron or a systemd timer; docs/audit.md)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voucher.core.audit import AuditLogError, checkpoint, checkpoint_path, verify_log


class Command(BaseCommand):
    help = "校验操作日志哈希链，或写入检查点 (verify the audit log, or checkpoint its head)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["verify", "checkpoint"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "checkpoint":
            self._checkpoint()
        else:
            self._verify()

    def _checkpoint(self) -> None:
        try:
            record = checkpoint()
        except (AuditLogError, OSError) as exc:
            self.stderr.write(f"检查点未写入：{exc}")
            sys.exit(1)
        # printed too: cron mail or the journal keep a second copy, off the data directory
        heads = record["heads"]
        pinned = "，".join(
            (f"分区 {p} " if p != "0" else "") + f"第 {seq} 条" for p, (seq, _) in heads.items()
        )
        self.stdout.write(f"检查点已写入 {checkpoint_path()}：{pinned or '第 0 条'}")
        self.stdout.write(json.dumps(record, sort_keys=True))

    def _verify(self) -> None:
        result = verify_log()
        for note in result.notes:
            self.stdout.write(f"注意：{note}")
        if result.problems:
            for p in result.problems:
                where = f"第 {p.sequence} 条" if p.sequence is not None else "(日志)"
                if p.partition and p.sequence is not None:
                    where = f"分区 {p.partition} {where}"
                if p.entry_id is not None:
                    where += f" #{p.entry_id}"
                self.stderr.write(f"{where}: {p.what}")
            first = result.first_bad
            if first is not None:
                partition, sequence = first
                where = f"分区 {partition} " if partition else ""
                english = f" in partition {partition}" if partition else ""
                self.stderr.write(
                    f"第一处问题在{where}第 {sequence} 条 (first bad sequence: {sequence}"
                    f"{english})。"
                )
            self.stderr.write(
                f"操作日志校验失败：{len(result.problems)} 处问题，共 {result.entries} 条记录，"
                f"{result.checkpoints} 个检查点。"
            )
            sys.exit(1)
        self.stdout.write(
            f"操作日志完整：{result.entries} 条记录（{result.partitions} 个分区），哈希链无断裂，"
            f"与 {result.checkpoints} 个检查点相符。"
        )
