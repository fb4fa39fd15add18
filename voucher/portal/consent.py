"""意愿确认 of a direction-3 application (免申即享).

Under 免申即享 the platform supplies the data and the centre builds the application: the enterprise
files nothing. It must still say that it wants the subsidy, accept the commitments of 附件14-4
(the same eight the other directions sign) and give the account to pay into; without that no
approval is proposed (review/actions/decisions.py) and nothing is paid. One action of the
enterprise's administrator, audited, with the hash of the commitments' text it accepted.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.models import Application, Direction3Consent
from voucher.applications.payees import payee_in_force, payee_waiting
from voucher.core.audit import audit
from voucher.core.refusals import CONFLICT, FORBIDDEN, INVALID, Refused
from voucher.documents.source_text import COMMITMENT_INTRO, COMMITMENTS

# Before a decision the consent can still be given; after one it is too late (or not needed).
CONSENT_STATES = ("submitted", "in_review", "supplement_requested")


def commitments_text() -> str:
    return "\n".join([COMMITMENT_INTRO, *(f"{i}.{t}" for i, t in enumerate(COMMITMENTS, 1))])


def commitments_sha256() -> str:
    return hashlib.sha256(commitments_text().encode("utf-8")).hexdigest()


def consent_problem(application: Application) -> str:
    """Why the enterprise cannot confirm now ('' when it can)."""
    if application.direction != 3:
        return _("只有方向三（免申即享）的申报需要意愿确认")
    if hasattr(application, "d3_consent"):
        return _("已确认，无需重复确认")
    if application.state not in CONSENT_STATES:
        return _("申报当前不在审核中，不能确认")
    return ""


def d3_consent_give(
    *, application: Application, accept_commitments: bool, acting_user: Any
) -> Direction3Consent:
    check = p.can_enter_payee(acting_user, application.enterprise)  # the administrator's word
    if not check:
        raise Refused(
            _("意愿确认只能由企业管理员作出")
            if check.code == p.NOT_ADMINISTRATOR
            else check.reason,
            code=FORBIDDEN,
        )
    problem = consent_problem(application)
    if problem:
        raise Refused(problem, code=CONFLICT)
    if not accept_commitments:
        raise Refused(
            _("请阅读并勾选接受承诺书（附件14-4）的各项承诺"), code=INVALID, field="accept"
        )
    if payee_in_force(application.enterprise_id) is None and (
        payee_waiting(application.enterprise_id) is None
    ):
        raise Refused(
            _("请先填报收款账户：补贴拨付到企业本身的银行账户"), code=INVALID, field="payee"
        )
    try:
        with transaction.atomic():
            locked = Application.objects.select_for_update().get(pk=application.pk)
            consent = Direction3Consent.objects.create(
                application=locked,
                confirmed_by=acting_user,
                commitments_sha256=commitments_sha256(),
            )
            audit(
                actor=acting_user,
                action="d3_consent",
                obj=locked,
                data={"commitments_sha256": consent.commitments_sha256},
            )
    except IntegrityError:
        raise Refused(_("已确认，无需重复确认"), code=CONFLICT) from None
    return consent
