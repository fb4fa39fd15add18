"""The direction-3 application: built from a listed project, its screening, contracts and
consumption, imported, evaluated and submitted for the enterprise (免申即享).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from voucher.applications.actions import application_evaluate
from voucher.applications.interchange import application_import
from voucher.applications.lifecycle import application_transition, lock
from voucher.applications.models import Application, StoredEvaluation
from voucher.applications.parameters import current_effective_round
from voucher.applications.states import UNDECIDED_STATES, WITHDRAWABLE_STATES
from voucher.core import clock, refusals
from voucher.core.audit import audit
from voucher.platforms import selectors
from voucher.platforms.actions.common import Refused, _require_screener, _screened
from voucher.platforms.models import (
    ContractReconciliation,
    PlatformContract,
    Project,
    ShortlistEntry,
)
from voucher.platforms.selectors import delivery_lines_of
from voucher.policy import format as fmt


def _document(data: dict[str, Any]) -> fmt.Application:
    """The built document, or the refusal naming what in the platform's data the format refuses
    (a compute line without a device from a batch processed before devices were required, say):
    the platform withdraws the batch and sends it again, the screener cannot correct it."""
    try:
        return fmt.parse_application(data)
    except fmt.FormatError as error:
        contracts = data.get("contracts") or []

        def where(path: str) -> str:
            index = path.removeprefix("contracts[").partition("]")[0]
            if index.isdigit() and int(index) < len(contracts):
                return f"合同 {contracts[int(index)].get('id')} {path}"
            return path

        raise Refused(
            "平台数据不能生成申报 (the platform's data cannot make the application): "
            + "；".join(f"{where(path)}: {what}" for path, what in error.problems),
            code=refusals.CONFLICT,
            detail="the platform withdraws the batch or contract concerned and sends it again",
            errors=[{"location": path, "message": what} for path, what in error.problems],
        ) from None


def _cut_to_other_terms(
    stored: PlatformContract, lines: list[dict[str, str]], window: tuple[date, date]
) -> list[str]:
    """The delivery lines of `stored` outside its claim period as it is now, each described.

    A processed batch cuts every row to the claim period by the second, so its lines lie inside
    it; a line outside was cut to other terms (the contract's validity changed since), and the
    engine would pro-rate it by days, which platform rows never are (RULES.md, Money)."""
    first = max(window[0], date.fromisoformat(stored.document["valid_from"]))
    last = min(window[1], date.fromisoformat(stored.document["valid_to"]))
    period = f"{first}–{last}" if first <= last else "无 (none)"
    return [
        f"合同 {stored.contract_id} 的交付记录 {line['start']}–{line['end']} 不在其补贴期 "
        f"{period} 内"
        for line in lines
        if not first <= date.fromisoformat(line["start"]) <= date.fromisoformat(line["end"]) <= last
    ]


def d3_application_build(*, entry: ShortlistEntry, acting_user: Any) -> StoredEvaluation:
    """The application the enterprise never files: project, screening, contracts, consumption.

    Imported through `application_import`, evaluated by the same engine and submitted: the
    platform files it for the enterprise (免申即享), so it goes straight to the bureau's queue.
    Re-building stores a new application; the previous one stays, with its evaluation, for the
    record, withdrawn if no decision was taken on it yet (after a decision re-building is
    refused). The reconciliation of each contract is stored with it, differences flagged.
    """

    _require_screener(acting_user)
    project = entry.project
    if entry.decision != ShortlistEntry.LISTED:
        raise Refused("项目未列入名单 (project not listed)", code=refusals.CONFLICT)
    previous = entry.application
    if previous is not None and previous.state not in UNDECIDED_STATES:
        raise Refused(
            "已作出审核决定的申报不能重新生成 (the built application has a decision)",
            code=refusals.CONFLICT,
            detail=f"application {previous.reference} is {previous.state}",
        )
    policy_round = current_effective_round().policy_round
    window = (policy_round.window_start, policy_round.window_end)
    contracts = []
    reconciliations = []
    stray: list[str] = []
    for stored in PlatformContract.objects.filter(
        platform=project.platform, enterprise_uscc=project.enterprise_uscc
    ).order_by("contract_id"):
        deliveries = delivery_lines_of(
            platform=project.platform, uscc=project.enterprise_uscc, contract_id=stored.contract_id
        )
        stray += _cut_to_other_terms(stored, deliveries, window)
        contracts.append({**stored.document, "deliveries": deliveries})
        # flagged for the reviewer, never corrected: the deliveries stay the platform's figures
        reconciliations.append(
            selectors.d3_reconciliation(stored=stored)
        )  # module lookup: tests patch it
    if stray:
        raise Refused(
            "消费明细是按合同此前的有效期或补贴期折算的，请平台撤回并重新提交消费批次 (the "
            "consumption was cut to other terms than the contract's: the platform withdraws "
            "and sends the batches again): " + "；".join(stray),
            code=refusals.CONFLICT,
            detail="a delivery line outside its contract's claim period would be pro-rated by "
            "days; the rows are pro-rated by the second when processed (RULES.md, Money)",
        )
    document = _document(
        {
            "format": fmt.FORMAT_ID,
            "round": policy_round.id,
            "submitted_on": clock.today().isoformat(),
            "direction": 3,
            "applicant": project.enterprise,
            "project": {
                "name": project.name,
                "start_date": project.start_date.isoformat(),
                "overview": project.scenario,
                "ai_field": True,
                "action_plan_aligned": entry.action_plan_aligned,
                "open_source": (
                    {
                        "platform": project.platform.code,
                        "url": project.url,
                        "scenario_aligned": entry.scenario_aligned,
                    }
                    if entry.open_source
                    else None
                ),
            },
            "declarations": {"other_municipal_compute_support": False},
            "contracts": contracts,
        }
    )
    with transaction.atomic():
        # Two screeners building at once, or a reviewer deciding meanwhile: the shortlist entry
        # and the previous build are locked and the previous one's state is checked again.
        locked_entry = ShortlistEntry.objects.select_for_update().filter(pk=entry.pk).first()
        # the document was built from what was read before the lock: the screening (saved again,
        # or deleted by the platform changing its project) and the project must still be those
        if (
            locked_entry is None
            or locked_entry.conclusion != entry.conclusion
            or _screened(Project.objects.get(pk=project.pk)) != _screened(project)
        ):
            raise Refused(
                "筛选结论或项目在生成期间有变化，请刷新后重新生成 (the screening or the project "
                "changed meanwhile: reload and build again)",
                code=refusals.CONFLICT,
            )
        entry = locked_entry
        replaced = None
        if entry.application_id is not None:
            previous = Application.objects.select_for_update().get(pk=entry.application_id)
            if previous.state not in UNDECIDED_STATES:
                raise Refused(
                    "已作出审核决定的申报不能重新生成 (the built application has a decision)",
                    code=refusals.CONFLICT,
                    detail=f"application {previous.reference} is {previous.state}",
                )
            if previous.state in WITHDRAWABLE_STATES:
                # withdrawn before the new one is evaluated: it no longer counts for ONE_DIRECTION
                # the centre's step, not the enterprise's: its audit entry, and no e-mail that
                # would tell the enterprise it withdrew
                before = previous.state
                previous = application_transition(
                    application=previous,
                    transition="withdraw",
                    acting_user=acting_user,
                    record=False,
                )
                replaced = previous.pk
                audit(
                    actor=acting_user,
                    action="application_withdraw",
                    obj=previous,
                    data={
                        "transition": "withdraw",
                        "from": before,
                        "to": previous.state,
                        "reason": "rebuilt from the platform's data (重新生成)",
                    },
                )
        application: Application = application_import(
            document=document,
            acting_user=acting_user,
            source_name=f"platform:{project.platform.code}:{project.external_id}",
        )
        application = lock(application)  # evaluated, then submitted, as this one locked row
        entry.application = application
        entry.save(update_fields=["application"])
        for result in reconciliations:
            ContractReconciliation.objects.create(
                application=application,
                contract_id=result.contract_id,
                result=result.as_json(),
                differences=len(result.differences),
            )
        audit(
            actor=acting_user,
            action="platform_d3_reconcile",
            obj=application,
            data={
                "project": project.pk,
                "differences": {
                    r.contract_id: [c.kind for c in r.differences] for r in reconciliations
                },
            },
        )
        stored_evaluation = application_evaluate(application=application, acting_user=acting_user)
        application_transition(
            application=application, transition="submit", acting_user=acting_user, record=False
        )
        audit(
            actor=acting_user,
            action="platform_d3_submit",
            obj=application,
            data={"project": project.pk, "replaces": replaced},
        )
    return stored_evaluation
