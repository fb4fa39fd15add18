"""Projects and the shortlist: a platform publishes its open-source projects, the centre's
screener lists or refuses them (a changed screened field puts a project back in the queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from voucher.applications.parameters import current_effective_round
from voucher.applications.states import WITHDRAWN as WITHDRAWN_APPLICATION
from voucher.core import refusals
from voucher.core.audit import audit
from voucher.platforms.actions.common import SCREENED_FIELDS, Refused, _actor, _require_screener
from voucher.platforms.models import ApiToken, Project, ShortlistEntry
from voucher.policy import format as fmt


def project_publish(*, token: ApiToken, data: dict[str, Any]) -> tuple[Project, bool]:
    """Publish or update (by the platform's own project id) an open-source project."""
    applicant = fmt.Applicant.model_validate(data["enterprise"])  # the format's own checks
    values = {
        "enterprise_uscc": applicant.uscc,
        "enterprise": applicant.model_dump(mode="json"),
        "name": data["name"],
        "url": data["url"],
        "scenario": data["scenario"],
        "start_date": data["start_date"],
        "open_source_licence": data["open_source_licence"],
    }
    with transaction.atomic():
        existing = (
            Project.objects.select_for_update()
            .filter(platform=token.platform, external_id=data["external_id"])
            .first()
        )
        if existing is not None and existing.enterprise_uscc != applicant.uscc:
            raise Refused(
                "项目已属于另一家企业 (project belongs to another enterprise)",
                code=refusals.CONFLICT,
                detail="a published project keeps its enterprise; publish a new project id instead",
            )
        reset = _screening_reset_by(existing, values) if existing is not None else None
        project, created = Project.objects.update_or_create(
            platform=token.platform, external_id=data["external_id"], defaults=values
        )
        audit(
            actor=None,
            action="platform_project_publish" if created else "platform_project_update",
            obj=project,
            data={
                **_actor(token),
                "external_id": project.external_id,
                "uscc": applicant.uscc,
                **({"screening_reset": reset} if reset else {}),
            },
        )
    return project, created


def _screening_reset_by(project: Project, values: dict[str, Any]) -> dict[str, Any] | None:
    """A screened project whose screened fields change goes back to the centre's queue: its
    screening is deleted (what it was goes into the audit entry) and it is off the list until
    screened again. Once its direction-3 application exists the project is the application's
    evidence, and a change is refused."""
    entry = ShortlistEntry.objects.select_for_update().filter(project=project).first()
    if entry is None:
        return None
    changed = [f for f in SCREENED_FIELDS if str(getattr(project, f)) != str(values[f])]
    if not changed:
        return None
    built = entry.application
    if built is not None and built.state != WITHDRAWN_APPLICATION:
        raise Refused(
            "项目已筛选并已生成申报，不能再修改 (the project is screened and its application "
            "exists: it can no longer change)",
            code=refusals.CONFLICT,
            detail=f"changed: {', '.join(changed)}; ask the digital-economy centre",
            errors=[{"location": f"body.{f}", "message": "已筛选，不能修改"} for f in changed],
        )
    reset = {
        "changed": changed,
        "decision": entry.decision,
        "reasons": entry.reasons,
        "screened_by": entry.screened_by_id,
        "screened_at": entry.screened_at.isoformat(),
    }
    entry.delete()
    return reset


@dataclass(frozen=True)
class Screening:
    decision: str
    failing: list[str]


def screening_outcome(
    *, platform_code: str, open_source: bool, scenario_aligned: bool, action_plan_aligned: bool
) -> Screening:
    """D3_QUALIFICATION (一（四）方向三) and D3_PLATFORM (二（二）), as RULES.md reads them."""
    failing = []
    if not open_source or not (scenario_aligned or action_plan_aligned):
        failing.append("D3_QUALIFICATION")
    if platform_code not in current_effective_round().policy_round.d3_platforms:
        failing.append("D3_PLATFORM")
    return Screening(ShortlistEntry.REFUSED if failing else ShortlistEntry.LISTED, failing)


def project_screen(
    *,
    project: Project,
    acting_user: Any,
    open_source: bool,
    scenario_aligned: bool,
    action_plan_aligned: bool,
    reasons: str,
) -> ShortlistEntry:
    """The centre's screener lists or refuses a project; the reasons are kept and audited."""
    _require_screener(acting_user)
    if not reasons.strip():
        raise Refused("须写明理由 (reasons are required)", code=refusals.BAD_REQUEST)
    outcome = screening_outcome(
        platform_code=project.platform.code,
        open_source=open_source,
        scenario_aligned=scenario_aligned,
        action_plan_aligned=action_plan_aligned,
    )
    with transaction.atomic():
        current = (
            # of=self: PostgreSQL locks no row of the nullable side of an outer join
            ShortlistEntry.objects.select_for_update(of=("self",))
            .filter(project=project)
            .select_related("application")
            .first()
        )
        built = current.application if current is not None else None
        unchanged = current is not None and current.conclusion == (
            open_source,
            scenario_aligned,
            action_plan_aligned,
            reasons.strip(),
        )
        if current is not None and built is not None and built.state != WITHDRAWN_APPLICATION:
            if unchanged:
                return current  # saved again as it is: nothing to refuse, nothing to record
            # the application stands on this screening: changing it would leave the bureau
            # reviewing (or having paid) an application whose listing no longer holds
            raise Refused(
                f"已据此结论生成申报 {built.reference}，结论不能再改；如须改变，请告知市经信局"
                "审核人员在审查中处理 (an application was built on this screening)",
                code=refusals.CONFLICT,
            )
        entry, _ = ShortlistEntry.objects.update_or_create(
            project=project,
            defaults={
                "decision": outcome.decision,
                "open_source": open_source,
                "scenario_aligned": scenario_aligned,
                "action_plan_aligned": action_plan_aligned,
                "platform_listed": "D3_PLATFORM" not in outcome.failing,
                "reasons": reasons.strip(),
                "screened_by": acting_user,
            },
        )
        audit(
            actor=acting_user,
            action="platform_project_screen",
            obj=entry,
            data={"decision": outcome.decision, "failing": outcome.failing, "reasons": reasons},
        )
    return entry
