"""Reads of the bureau's side: plain data for the pages, the exports and the portal.

One module per topic: queue (the queue and a staff member's own work), screen (the review
screen and the difference between versions), dashboard (figures and the budget simulation),
publicity (publicity, overdue clawbacks, failed notifications), materials (the checklist of
附件14-1 and the files it is judged on); common holds what several share.
"""

from __future__ import annotations

from voucher.review.selectors.common import STATE_LABELS
from voucher.review.selectors.dashboard import (
    DirectionFigures,
    RoundSums,
    SimulationRow,
    budget_simulation_page,
    dashboard,
    monthly_series,
    round_budgets,
    round_sums,
)
from voucher.review.selectors.materials import (
    MaterialsReview,
    MaterialsSection,
    MaterialState,
    material_of,
    materials_review,
    materials_section,
    with_file_facts,
)
from voucher.review.selectors.publicity import (
    OverdueRow,
    failed_notifications,
    open_clawbacks,
    overdue_report,
    publicity_candidates,
    publicity_rows,
)
from voucher.review.selectors.queue import (
    FILTERS,
    PAGE_SIZE,
    SORTS,
    MyWork,
    PendingDecision,
    QueuePage,
    QueueRow,
    my_work,
    queue_queryset,
    review_page,
    review_rows,
)
from voucher.review.selectors.screen import (
    MISSING,
    SITE_TRANSITIONS,
    DiffLine,
    ReviewScreen,
    VersionDiff,
    assignable_staff,
    json_diff,
    latest_diff,
    review_screen,
)

__all__ = [
    "FILTERS",
    "MISSING",
    "PAGE_SIZE",
    "SITE_TRANSITIONS",
    "SORTS",
    "STATE_LABELS",
    "DiffLine",
    "DirectionFigures",
    "MaterialState",
    "MaterialsReview",
    "MaterialsSection",
    "MyWork",
    "OverdueRow",
    "PendingDecision",
    "QueuePage",
    "QueueRow",
    "ReviewScreen",
    "RoundSums",
    "SimulationRow",
    "VersionDiff",
    "assignable_staff",
    "budget_simulation_page",
    "dashboard",
    "failed_notifications",
    "json_diff",
    "latest_diff",
    "material_of",
    "materials_review",
    "materials_section",
    "monthly_series",
    "my_work",
    "open_clawbacks",
    "overdue_report",
    "publicity_candidates",
    "publicity_rows",
    "queue_queryset",
    "review_page",
    "review_rows",
    "review_screen",
    "round_budgets",
    "round_sums",
    "with_file_facts",
]
