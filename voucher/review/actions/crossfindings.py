"""The cross-application findings of an application (voucher.review.crosscheck) as its `review`
items (RULES.md v2, "Fail closed"): a reviewer resolves each with a reason, and no decision is
proposed while one is unresolved.

A resolution is keyed to the finding's identity (its check, what it is about, the other
applications involved), so a finding that changes after it was resolved (a ninth application
claims the same invoice, the enterprise files once more) is unresolved again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from voucher.applications import permissions as p
from voucher.applications.lifecycle import ReviewError, lock, require
from voucher.applications.models import Application, CrossFindingResolution
from voucher.core.audit import audit
from voucher.core.refusals import NOT_FOUND
from voucher.review.crosscheck import CrossItem, cross_count_store, cross_items


def _named(item: CrossItem) -> str:
    return f"{item.finding.check}（{item.finding.message}）"


def cross_finding_resolve(
    *,
    application: Application,
    key: str,
    resolution: str,
    reason: str,
    acting_user: Any,
) -> CrossFindingResolution:
    """Answer one cross finding of the application as it stands now (`key`: its
    CrossItem.key), with the reason on record; answering it again replaces the answer."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("请填写处理理由"), field="reason")
    if resolution not in ("accept", "reject"):
        raise ReviewError(_("处理结果只能是认可或不认可"), field="resolution")
    with transaction.atomic():
        locked = lock(application)
        require(p.can_resolve_finding(acting_user, locked))
        items = cross_items(locked)
        item = next((i for i in items if i.key == key), None)
        if item is None:
            raise ReviewError(
                _("该申报当前没有这一跨申报核查项（可能已有变化），请刷新页面后再处理"),
                code=NOT_FOUND,
                field="key",
            )
        resolved, created = CrossFindingResolution.objects.update_or_create(
            application=locked,
            key=key,
            defaults={
                "rule": item.finding.check,
                "identity": item.identity,
                "message": item.finding.message,
                "resolution": resolution,
                "reason": reason,
                "resolved_by": acting_user,
            },
        )
        # the count the lists show, with this one answered
        cross_count_store(
            locked, [replace(i, resolution=resolved) if i.key == key else i for i in items]
        )
        audit(
            actor=acting_user,
            action="cross_finding_resolve",
            obj=locked,
            data={
                "rule": item.finding.check,
                "identity": item.identity,
                "key": key,
                "applications": list(item.finding.references),
                "message": item.finding.message,
                "resolution": resolution,
                "reason": reason,
                "changed": not created,
            },
        )
    return resolved


def cross_findings_gate(application: Application) -> list[dict[str, str]]:
    """Before any decision is proposed (approval or rejection): refused while a cross finding
    of the application is unresolved, naming each (and, for a program, one `errors` entry per
    finding, located by its key). Otherwise the reasons for rejection of those a reviewer did
    not accept, as decision_propose lists the engine's."""
    items = cross_items(application)
    unresolved = [i for i in items if i.unresolved]
    if unresolved:
        raise ReviewError(
            _("还有跨申报核查项未处理：%(items)s")
            % {"items": pgettext("list separator", "、").join(_named(i) for i in unresolved)},
            errors=[
                {"location": f"cross_findings.{i.key}", "message": _named(i)} for i in unresolved
            ],
        )
    return [
        {
            "rule": i.finding.check,
            "clause": i.finding.clause,
            "text": f"{i.finding.message}（{i.resolution.reason}）",
        }
        for i in items
        if i.resolution is not None and i.resolution.resolution == "reject"
    ]
