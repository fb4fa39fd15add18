"""Calendar-month arithmetic: "six months later" as a person counts it (承诺书 第7条).

31 August + 6 months is 28 (or 29) February: the day is clamped to the end of the target month.
"""

from __future__ import annotations

from voucher.policy.dates import add_months

__all__ = ["REFUND_MONTHS", "add_months"]


REFUND_MONTHS = 6  # 附件14-4 第7条：在收到通知之日起 6 个月内退回
