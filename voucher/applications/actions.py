"""Every write of the applications app: keyword-only, one transaction, one audit entry each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from voucher.applications import parameters, ports, supplier
from voucher.applications import permissions as p
from voucher.applications.interchange import (
    application_export,
    application_import,
    document_sha256,
)
from voucher.applications.models import Application, PolicyRoundRecord, StoredEvaluation
from voucher.applications.parameters import ParameterError, effective_round
from voucher.applications.selectors import official_lists_for, outside_lists
from voucher.applications.states import SUPPLEMENT_STATES
from voucher.core.audit import audit
from voucher.policy import format as fmt
from voucher.policy.context import EvaluationContext, OtherSubmission
from voucher.policy.engine import evaluate
from voucher.policy.results import Evaluation

__all__ = [
    "application_evaluate",
    "application_import",
    "applications_evaluate_batch",
    "round_evaluate_all",
]


def _stored_row(
    application: Application,
    evaluation: Evaluation,
    sha256: str,
    parameters_sha256: str,
    *,
    correction_in_progress: bool,
) -> StoredEvaluation:
    data = evaluation.to_json()
    subsidy = evaluation.subsidy
    return StoredEvaluation(
        application=application,
        round_code=evaluation.round,
        engine_version=evaluation.engine_version,
        outcome=evaluation.outcome,
        computed=subsidy.computed,
        cap=subsidy.cap,
        requested=subsidy.requested,
        approved_max=subsidy.approved_max,
        findings=data["findings"],
        contracts=data["contracts"],
        missing_materials=list(evaluation.missing_materials),
        document_sha256=sha256,
        parameters_sha256=parameters_sha256,
        correction_in_progress=correction_in_progress,
        bureau_latest=not correction_in_progress,  # the bureau's latest from now on
        review_open=sum(1 for f in data["findings"] if f["status"] == "review"),
    )


def _store_all(rows: list[StoredEvaluation]) -> list[StoredEvaluation]:
    """Store the evaluations of a batch (one per application) in two queries: the bureau's
    latest mark taken off the earlier evaluations of those that take it (one per
    application), then the rows inserted together."""
    taking = [row.application_id for row in rows if row.bureau_latest]
    if len(set(taking)) != len(taking):
        raise ValueError("an application is evaluated once in a batch")
    if taking:
        StoredEvaluation.objects.filter(application_id__in=taking, bureau_latest=True).update(
            bureau_latest=False
        )
    if len(rows) == 1:
        rows[0].save()
        return rows
    return StoredEvaluation.objects.bulk_create(rows, batch_size=500)


def _evaluate(
    applications: Sequence[Application],
    *,
    judge_against_rest_of_round: bool,
    documents: Sequence[fmt.Application] | None = None,
) -> list[StoredEvaluation]:
    """Evaluate `applications` (one round) as one batch and store each result.

    `documents`: the applications' interchange documents when the caller has them already
    (what `application_export` of each gives back: the import is lossless), instead of
    reading each application's contracts again."""
    if not applications:
        return []
    round_ids = {a.round_id for a in applications}
    if len(round_ids) != 1:
        raise ValueError("a batch holds applications of one round only")
    record = applications[0].round
    # the state as the content is read, not as the batch was loaded: a round evaluated while
    # the bureau returns one of its applications for 补正 reads what the applicant then edits
    states = dict(
        Application.objects.filter(pk__in=[a.pk for a in applications]).values_list("pk", "state")
    )
    if documents is None:
        documents = [application_export(a) for a in applications]
    elif len(documents) != len(applications):
        raise ValueError("one document per application")
    others: list[OtherSubmission] = []
    if judge_against_rest_of_round:
        # ONE_DIRECTION reads only the other applications of the batch's enterprises: reading
        # the rest of the round would cost every submission a pass over the whole round
        rest = (
            Application.objects.filter(
                round=record, enterprise__uscc__in={d.applicant.uscc for d in documents}
            )
            .exclude(pk__in=[a.pk for a in applications])
            .exclude(state="withdrawn")  # withdrawn: no longer an application of the round
            .select_related("enterprise", "round")
        )
        others = [
            OtherSubmission(
                uscc=o.enterprise.uscc, submitted_on=o.submitted_on, reference=o.reference
            )
            for o in rest
        ]
    # The bureau's data: imported outside lists (CREDIT_RECORD, NO_OTHER_MUNICIPAL_SUPPORT), the
    # round's official lists (D1_INSTITUTION, D2_QUALIFICATION, D4_MODEL_FILING) and
    # the administrator's unit-price bands and flagged devices over the round file; the
    # suppliers' declarations and confirmations of directions 1, 2 and 4 (issue 22).
    municipal, dishonest = outside_lists()
    context = EvaluationContext(
        registry=ports.stored_registry(),
        other_submissions=tuple(others),
        municipal_support_usccs=municipal,
        dishonest_usccs=dishonest,
        official_lists=official_lists_for(record, documents),
        supplier_words=supplier.supplier_words_for(applications),
    )
    current = effective_round(record)
    evaluations = evaluate(documents, current.policy_round, context)
    stored = _store_all(
        [
            _stored_row(
                application,
                evaluation,
                document_sha256(document),
                current.fingerprint,
                correction_in_progress=states.get(application.pk, application.state)
                in SUPPLEMENT_STATES,
            )
            for application, evaluation, document in zip(
                applications, evaluations, documents, strict=True
            )
        ]
    )
    ports.evaluations_stored(applications)
    return stored


def _summary(stored: StoredEvaluation) -> dict[str, Any]:
    return {
        "application": stored.application_id,
        "evaluation": stored.pk,
        "outcome": stored.outcome,
        "approved_max": str(stored.approved_max),
    }


def application_evaluate(
    *,
    application: Application,
    acting_user: Any = None,
    document: fmt.Application | None = None,
) -> StoredEvaluation:
    """Evaluate one application; the round's other applications count for ONE_DIRECTION.

    `document`: the version to evaluate when it is not the application as stored now (a
    submission's frozen document, evaluated after the request)."""
    with transaction.atomic():
        (stored,) = _evaluate(
            [application],
            judge_against_rest_of_round=True,
            documents=None if document is None else [document],
        )
        audit(
            actor=acting_user,
            action="application_evaluate",
            obj=application,
            data={
                **_summary(stored),
                "round": stored.round_code,
                "engine_version": stored.engine_version,
                "sha256": stored.document_sha256,
            },
        )
    return stored


def applications_evaluate_batch(
    *,
    applications: Sequence[Application],
    acting_user: Any = None,
    judge_against_rest_of_round: bool = True,
    documents: Sequence[fmt.Application] | None = None,
) -> list[StoredEvaluation]:
    """Evaluate several applications of one round as one batch (ONE_DIRECTION across them).

    With `judge_against_rest_of_round=False` the rest of the round is left out: the demo
    evaluates each example folder on its own, as examples/README.md prescribes. `documents`:
    the applications' documents, when the caller holds them (`voucher demo --season`).
    """
    applications = list(applications)
    with transaction.atomic():
        stored = _evaluate(
            applications,
            judge_against_rest_of_round=judge_against_rest_of_round,
            documents=documents,
        )
        audit(
            actor=acting_user,
            action="applications_evaluate_batch",
            obj=applications[0].round if applications else None,
            data={
                "judge_against_rest_of_round": judge_against_rest_of_round,
                "evaluations": [_summary(s) for s in stored],
            },
        )
    return stored


def round_evaluate_all(*, round_code: str, acting_user: Any = None) -> list[StoredEvaluation]:
    """Evaluate every application of a round as one batch."""
    record = PolicyRoundRecord.objects.get(code=round_code)
    with transaction.atomic():
        applications = list(
            Application.objects.filter(round=record).select_related("round", "enterprise")
        )
        stored = _evaluate(applications, judge_against_rest_of_round=False)
        audit(
            actor=acting_user,
            action="round_evaluate_all",
            obj=record,
            data={"round": round_code, "evaluations": [_summary(s) for s in stored]},
        )
    return stored


def round_reevaluate_undecided(*, record: PolicyRoundRecord, acting_user: Any) -> int:
    """After a parameter change: evaluate again every application not yet decided.

    Decided applications keep the evaluation their decision was made on (the decision notice
    cites it); proposals still waiting for a second pair of eyes must be proposed again, which
    decision_confirm enforces by refusing a proposal made on an older evaluation.
    """
    ParameterError.unless(p.can_manage_round(acting_user))
    applications = list(
        Application.objects.filter(
            round=record, state__in=parameters.UNDECIDED_STATES
        ).select_related("round", "enterprise")
    )
    if applications:
        applications_evaluate_batch(applications=applications, acting_user=acting_user)
    return len(applications)
