"""Excel of the review lists and of the publicity list (openpyxl); the views audit each export."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from voucher.core.spreadsheets import row as safe_row
from voucher.review.selectors import QueueRow


def workbook_bytes(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(safe_row(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row("" if v is None else v for v in row))  # never a formula
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(sheet.columns, start=1):
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, width * 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


QUEUE_HEADERS = (
    "申报编号",
    "申报单位",
    "方向",
    "状态",
    "提交日期",
    "评估结论",
    "申请金额（元）",
    "最高可核定（元）",
    "拟定金额（元）",
    "核定金额（元）",
    "未处理待审核项",
    "承办人",
)


def queue_workbook(rows: Sequence[QueueRow]) -> bytes:
    return workbook_bytes(
        "审核列表",
        QUEUE_HEADERS,
        [
            (
                r.reference,
                r.applicant_name,
                f"方向{r.direction}",
                r.state_label,
                r.submitted_on,
                r.outcome_label,
                r.requested,
                r.approved_max,
                r.proposed,
                r.decided,
                r.review_open,
                r.assignee,
            )
            for r in rows
        ],
    )


def publicity_workbook(rows: Sequence[dict[str, Any]]) -> bytes:
    headers = list(rows[0]) if rows else ["序号"]
    return workbook_bytes("公示名单", headers, [list(r.values()) for r in rows])


STATISTICS_HEADERS = ("分组", "申报数", "申请金额（元）", "已核定（元）", "已拨付（元）")


def statistics_workbook(tables: Sequence[Any], suppliers: Sequence[Any]) -> bytes:
    """One sheet per table of the statistics page (and the suppliers'), with a total row."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in tables:
        sheet = book.create_sheet(table.slug)
        sheet.append(safe_row([table.title]))
        sheet.append(safe_row(STATISTICS_HEADERS))
        for r in [*table.rows, table.totals]:
            sheet.append(safe_row([r.label, r.count, r.requested, r.approved, r.paid]))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
    sheet = book.create_sheet("supplier")
    sheet.append(
        safe_row(["供给方统一社会信用代码", "供给方", "申报数", "合同数", "合同总额（元）"])
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for s in suppliers:
        sheet.append(safe_row([s.uscc, s.name, s.applications, s.contracts, s.total]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
