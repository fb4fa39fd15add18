"""Settlement data for directions 1, 2 and 4 (14-1 五): a platform attaches a settlement file
(the consumption format) to the contract an applicant declared with it as supplier.
"""

from __future__ import annotations

from typing import IO, Any

from voucher.applications.models import Application, Contract
from voucher.applications.parameters import current_effective_round
from voucher.core import refusals
from voucher.platforms.actions.batches import _batch_create
from voucher.platforms.actions.common import Refused
from voucher.platforms.models import ApiToken, ConsumptionBatch

SETTLEMENT_CLOSED_STATES = ("draft", "withdrawn")


def settlement_target(*, token: ApiToken, uscc: str, contract_id: str) -> tuple[Application, Any]:
    """The applicant's contract a settlement batch attaches to, or the refusal naming the field.

    The latest submitted (not draft, not withdrawn) application of the round, direction 1, 2 or
    4, of the enterprise `uscc`, with a contract `contract_id`; only the platform whose
    organisation (Platform.uscc) is that contract's supplier may attach settlement data.
    """

    if not token.platform.uscc:
        raise Refused(
            "平台未登记运营单位 (the platform's organisation is not registered)",
            code=refusals.FORBIDDEN,
            detail="an administrator records the USCC of the organisation running the platform",
            errors=[{"location": "platform.uscc", "message": "not registered"}],
        )
    # Only contracts this platform's organisation supplies are looked at, and every miss gets
    # the same answer: a platform must not learn who applied, in which direction, or which
    # contracts someone else declared (confidential until the publicity list).
    contract = (
        Contract.objects.filter(
            application__round__code=current_effective_round().policy_round.id,
            application__enterprise__uscc=uscc,
            contract_id=contract_id,
            supplier_uscc=token.platform.uscc,
        )
        .exclude(application__state__in=SETTLEMENT_CLOSED_STATES)
        .exclude(application__direction=3)  # direction 3 sends consumption-batches instead
        .select_related("application")
        .order_by("-application__pk")
        .first()
    )
    if contract is None:
        raise Refused(
            "没有由本平台供应的该合同 (no such contract supplied by this platform)",
            code=refusals.NOT_FOUND,
            detail="no submitted direction-1, 2 or 4 application of this enterprise declares this "
            "contract with the platform's organisation as its supplier",
            errors=[{"location": "path.contract_id", "message": "no such contract of yours"}],
        )
    return contract.application, contract


def settlement_submit(
    *,
    token: ApiToken,
    uscc: str,
    contract_id: str,
    upload: IO[bytes],
    file_name: str,
    idempotency_key: str,
) -> tuple[ConsumptionBatch, bool]:
    """Queue a settlement file (the consumption format) as evidence for an applicant's contract."""
    application, contract = settlement_target(token=token, uscc=uscc, contract_id=contract_id)
    return _batch_create(
        token=token,
        uscc=uscc,
        upload=upload,
        file_name=file_name,
        idempotency_key=idempotency_key,
        settles=(application, contract.contract_id),
    )
