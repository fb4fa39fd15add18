"""公示: publishing the publicity list, and the objections received during it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voucher.applications import permissions as p
from voucher.applications.lifecycle import (
    ReviewError,
    application_transition,
    lock,
    notify_transition,
    require,
    take_snapshot,
)
from voucher.applications.models import Application, Objection, PolicyRoundRecord, PublicityList
from voucher.core import clock
from voucher.core.audit import audit
from voucher.policy.dates import iso_date


def publicity_publish(
    *,
    round: PolicyRoundRecord,
    applications: Sequence[Application],
    starts_on: date,
    ends_on: date,
    acting_user: Any,
) -> PublicityList:
    """公示: every listed application goes to `publicized`; the period is recorded."""
    require(p.can_publish_publicity(acting_user))
    if ends_on < starts_on:
        raise ReviewError(_("公示结束日期不能早于开始日期"))
    if starts_on < clock.today():
        # a period already over when published would let the payment follow at once: the
        # public never had the days to object that 公示 exists for
        raise ReviewError(_("公示开始日期不能早于今天"))
    if not applications:
        raise ReviewError(_("没有可公示的申报"))
    with transaction.atomic():
        publicity = PublicityList.objects.create(
            round=round, starts_on=starts_on, ends_on=ends_on, published_by=acting_user
        )
        moved = []
        for application in sorted(applications, key=lambda a: a.pk):
            locked = lock(application)
            if locked.round_id != round.pk:
                raise ReviewError(_("%(reference)s 不属于本轮") % {"reference": locked.reference})
            application_transition(
                application=locked, transition="publicize", acting_user=acting_user, record=False
            )
            take_snapshot(locked, "publicize")
            publicity.applications.add(locked)
            moved.append(locked.reference)
            notify_transition(
                locked, "publicize", f"公示期：{iso_date(starts_on)} 至 {iso_date(ends_on)}。"
            )
        audit(
            actor=acting_user,
            action="publicity_publish",
            obj=publicity,
            data={
                "transition": "publicize",
                "from": "approved",
                "to": "publicized",
                "applications": moved,
                "starts_on": starts_on,
                "ends_on": ends_on,
            },
        )
    return publicity


def objection_record(
    *, application: Application, received_on: date, text: str, acting_user: Any
) -> Objection:
    require(p.can_record_objection(acting_user))
    if not text.strip():
        raise ReviewError(_("请填写异议内容"))
    with transaction.atomic():
        locked = lock(application)
        objection = Objection.objects.create(
            application=locked, received_on=received_on, text=text.strip(), recorded_by=acting_user
        )
        audit(
            actor=acting_user,
            action="objection_record",
            obj=locked,
            data={"objection": objection.pk, "received_on": received_on, "text": objection.text},
        )
    return objection


def objection_resolve(*, objection: Objection, resolution: str, acting_user: Any) -> Objection:
    require(p.can_record_objection(acting_user))
    if not resolution.strip():
        raise ReviewError(_("请填写处理结果"))
    with transaction.atomic():
        current = Objection.objects.select_for_update().get(pk=objection.pk)
        current.resolution = resolution.strip()
        current.resolved_at = timezone.now()
        current.save(update_fields=["resolution", "resolved_at"])
        audit(
            actor=acting_user,
            action="objection_resolve",
            obj=current.application,
            data={"objection": current.pk, "resolution": current.resolution},
        )
    return current
