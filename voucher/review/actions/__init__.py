"""Every write of the bureau's side: keyword-only, one transaction, one audit entry each.

Each action locks the application row (SELECT … FOR UPDATE) before it checks anything, so two
people acting on the same application at once are serialised: the second one sees what the first
did and is refused with a conflict message instead of overwriting it. Permission checks are in
permissions.py; e-mails go after commit (notify.py).

One module per topic: assignment (and findings), supplement, decisions, publicity (and
objections), payments (and clawbacks), round (budget, outside lists), records (contact views,
exports), materials (the checklist of 附件14-1, looks at the files, the proposal's gate of the
materials), crossfindings (the cross-application findings as review items, and the proposal's
gate on them); common holds what several share.
"""

from __future__ import annotations

from django.db import IntegrityError

from voucher.applications.lifecycle import ConflictError, ReviewError, application_transition
from voucher.review.actions.assignment import application_assign, finding_resolve
from voucher.review.actions.crossfindings import cross_finding_resolve
from voucher.review.actions.decisions import (
    decision_confirm,
    decision_propose,
    decision_return,
)
from voucher.review.actions.enterprises import (
    enterprise_correction_decide,
    enterprise_correction_propose,
)
from voucher.review.actions.materials import (
    Mark,
    material_check_set,
    material_file_seen,
    materials_open,
    require_materials_checked,
)
from voucher.review.actions.official_lists import OfficialListImport, official_list_import
from voucher.review.actions.payees import payee_check, payee_confirm, payee_reject
from voucher.review.actions.payment_batches import (
    BatchResult,
    batch_create,
    batch_csv,
    batch_result_import,
    batch_xlsx,
    payables,
)
from voucher.review.actions.payments import (
    clawback_refund,
    clawback_request,
    clawbacks_mark_overdue,
    payment_record,
)
from voucher.review.actions.publicity import objection_record, objection_resolve, publicity_publish
from voucher.review.actions.records import contact_view, export_record
from voucher.review.actions.round import (
    NAME_HEADERS,
    USCC_HEADERS,
    ListImport,
    budget_set,
    outside_list_import,
)
from voucher.review.actions.supplement import supplement_request

__all__ = [
    "NAME_HEADERS",
    "USCC_HEADERS",
    "BatchResult",
    "ConflictError",
    "IntegrityError",
    "ListImport",
    "Mark",
    "OfficialListImport",
    "ReviewError",
    "application_assign",
    "application_transition",
    "batch_create",
    "batch_csv",
    "batch_result_import",
    "batch_xlsx",
    "budget_set",
    "clawback_refund",
    "clawback_request",
    "clawbacks_mark_overdue",
    "contact_view",
    "cross_finding_resolve",
    "decision_confirm",
    "decision_propose",
    "decision_return",
    "enterprise_correction_decide",
    "enterprise_correction_propose",
    "export_record",
    "finding_resolve",
    "material_check_set",
    "material_file_seen",
    "materials_open",
    "objection_record",
    "objection_resolve",
    "official_list_import",
    "outside_list_import",
    "payables",
    "payee_check",
    "payee_confirm",
    "payee_reject",
    "payment_record",
    "publicity_publish",
    "require_materials_checked",
    "supplement_request",
]
