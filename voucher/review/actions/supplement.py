"""补正: asking the applicant to supplement, item by item, by a deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import (
    CONFLICT,
    ConflictError,
    ReviewError,
    application_transition,
    lock,
    record_transition,
    require,
)
from voucher.applications.models import Application, SupplementItem, SupplementRequest
from voucher.core import clock
from voucher.policy.dates import iso_date


def supplement_request(
    *,
    application: Application,
    items: Sequence[str],
    due_on: date,
    acting_user: Any,
    note: str = "",
) -> SupplementRequest:
    """补正: the list of what is missing or wrong, item by item, and the deadline."""
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise ReviewError(_("请逐项列出需要补正的内容"))
    if due_on <= clock.today():
        raise ReviewError(_("补正截止日期须晚于今天"))
    with transaction.atomic():
        locked = lock(application)
        require(p.can_request_supplement(acting_user, locked))
        if SupplementRequest.objects.filter(application=locked, answered_at__isnull=True).exists():
            raise ConflictError(CONFLICT)
        request = SupplementRequest.objects.create(
            application=locked, requested_by=acting_user, due_on=due_on, note=note
        )
        SupplementItem.objects.bulk_create(
            SupplementItem(request=request, position=n, text=text)
            for n, text in enumerate(items, start=1)
        )
        before = locked.state
        application_transition(
            application=locked,
            transition="request_supplement",
            acting_user=acting_user,
            record=False,
        )
        listing = "\n".join(f"{n}. {t}" for n, t in enumerate(items, start=1))
        record_transition(
            locked,
            "request_supplement",
            before,
            acting_user,
            action="supplement_request",
            data={"items": items, "due_on": due_on},
            note=f"请于 {iso_date(due_on)} 前逐项补正：\n{listing}\n{note}",
        )
    return request
