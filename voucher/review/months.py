"""Calendar-month arithmetic: "six months later" as a person counts it (承诺书 第7条).

31 August + 6 months is 28 (or 29) February: the day is clamped to the end of the target month.
"""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


REFUND_MONTHS = 6  # 附件14-4 第7条：在收到通知之日起 6 个月内退回
