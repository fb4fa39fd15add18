"""Every write of the platforms app: keyword-only, one transaction, one audit entry each.

The API (voucher/api) and the staff pages call these and the selectors, nothing else. One
module per topic: tokens, projects (and screening), contracts, batches (and the worker),
settlement, build (the direction-3 application); common holds what several share.
"""

from __future__ import annotations

from voucher.platforms.actions.batches import (
    MAX_ATTEMPTS,
    ROWS_PER_INSERT,
    aggregates_store,
    batch_contract_terms,
    batch_process,
    batch_submit,
    batch_withdraw,
    batch_worker_start,
    batch_worker_stop,
)
from voucher.platforms.actions.build import d3_application_build
from voucher.platforms.actions.common import (
    SCREENED_FIELDS,
    SETTLEMENT_WINDOW,
    Refused,
    batch_name,
    batch_storage,
)
from voucher.platforms.actions.contracts import (
    CONTRACT_ID_MAX,
    EVIDENCE_KINDS,
    contract_add_evidence,
    contract_submit,
    contract_terms_submit,
)
from voucher.platforms.actions.projects import (
    Screening,
    project_publish,
    project_screen,
    screening_outcome,
)
from voucher.platforms.actions.settlement import (
    SETTLEMENT_CLOSED_STATES,
    settlement_submit,
    settlement_target,
)
from voucher.platforms.actions.tokens import (
    TOKEN_PREFIX,
    platform_organisation_set,
    platforms_sync,
    token_authenticate,
    token_issue,
    token_revoke,
)

__all__ = [
    "CONTRACT_ID_MAX",
    "EVIDENCE_KINDS",
    "MAX_ATTEMPTS",
    "ROWS_PER_INSERT",
    "SCREENED_FIELDS",
    "SETTLEMENT_CLOSED_STATES",
    "SETTLEMENT_WINDOW",
    "TOKEN_PREFIX",
    "Refused",
    "Screening",
    "aggregates_store",
    "batch_contract_terms",
    "batch_name",
    "batch_process",
    "batch_storage",
    "batch_submit",
    "batch_withdraw",
    "batch_worker_start",
    "batch_worker_stop",
    "contract_add_evidence",
    "contract_submit",
    "contract_terms_submit",
    "d3_application_build",
    "platform_organisation_set",
    "platforms_sync",
    "project_publish",
    "project_screen",
    "screening_outcome",
    "settlement_submit",
    "settlement_target",
    "token_authenticate",
    "token_issue",
    "token_revoke",
]
