"""The review screen's 办理记录: what was done to an application, with whom and when, read from
the audit log, including what was done to the records it stands on (its 公示 list, and for
direction 3 the centre's screening), each named in words rather than by its audit code."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import pgettext

from voucher.applications.absent_rows import has_none
from voucher.applications.states import TRANSITIONS
from voucher.core import precompiled
from voucher.core.models import AuditEntry

# Audit actions that name an application, its 公示 list or its screening, and are not a
# transition (a transition is named by the state machine's own label). Translated with the
# context "history": the buttons say the same words as commands.
ACTION_LABELS = {
    "application_import": "导入申报",
    "application_create": "创建申报",
    "application_update": "修改申报",
    "application_evaluate": "规则引擎评估",
    "application_submit": "提交申报",
    "declarations_save": "保存声明事项",
    "implementation_report_save": "保存实施情况报告",
    "commitment_acknowledge": "确认承诺书",
    "material_file_add": "上传申报材料",
    "material_file_delete": "删除申报材料",
    "contract_save": "保存合同",
    "contract_row_add": "添加合同明细",
    "contract_row_delete": "删除合同明细",
    "contract_delete": "删除合同",
    "contract_rows_import": "导入合同明细",
    "invoice_add": "添加发票",
    "application_assign": "分配承办人",
    "finding_resolve": "处理待审核项",
    "cross_finding_resolve": "处理跨申报核查项",
    "supplement_request": "要求补正",
    "supplement_answer": "答复补正",
    "material_view": "查阅申报材料",
    "material_download": "下载申报材料",
    "material_check_set": "核对申报材料",
    "supplier_line_confirmed": "算力供给方确认合同内容",
    "supplier_line_disputed": "算力供给方对合同内容提出异议",
    "supplier_attestation": "算力供给方作出声明（附件14-1 三）",
    "supplier_notified": "通知算力供给方",
    "supplement_resubmit": "提交补正材料",
    "decision_propose": "拟定审核意见",
    "decision_confirm": "复核确认",
    "decision_return": "退回拟定意见",
    "publicity_publish": "发布公示名单",
    "objection_record": "登记异议",
    "objection_resolve": "处理异议",
    "payment_record": "登记拨付",
    "clawback_request": "通知退还资金",
    "clawback_refund": "登记退还",
    "contact_view": "查看联系人",
    "export": "导出",
    "platform_project_screen": "开源项目筛选（市数字经济中心）",
    "platform_d3_reconcile": "平台数据核对",
    "platform_d3_submit": "平台代为提交方向三申报",
}


def history_entries(application: Any) -> list[AuditEntry]:
    """The audit entries of history_query(application), with their actors, oldest first. Those
    of the application alone (most: on no 公示 list, built from no screening) by a query whose
    SQL is written once per process (decision 0057), the ORM's at each screen before."""
    publicity, screenings = _related_ids(application)
    if publicity or screenings:
        return list(
            AuditEntry.objects.filter(_history_q(application.pk, publicity, screenings))
            .select_related("actor")
            .order_by("created_at", "id")
        )
    return precompiled.rows(
        "review.history",
        AuditEntry,
        lambda object_id: (
            AuditEntry.objects.filter(_history_q(object_id, [], []))
            .select_related("actor")
            .order_by("created_at", "id")
        ),
        object_id=application.pk,
    )


def history_query(application: Any) -> Q:
    """The audit entries of `application`, of the 公示 lists it is on, and of the screening its
    direction-3 application was built from."""
    return _history_q(application.pk, *_related_ids(application))


def _history_q(pk: int, publicity: list[str], screenings: list[str]) -> Q:
    query = Q(object_type="applications.application", object_id=str(pk))
    if publicity:
        # entries written before the lists moved into the domain core (applications 0006) kept
        # their old type
        query |= Q(
            object_type__in=("applications.publicitylist", "review.publicitylist"),
            object_id__in=publicity,
        )
    if screenings:
        query |= Q(object_type="platforms.shortlistentry", object_id__in=screenings)
    return query


def _related_ids(application: Any) -> tuple[list[str], list[str]]:
    """The ids (as text) of the 公示 lists `application` is on and of the screenings it was
    built from."""
    # (none read when note_absent_rows found none: the review screen asks it first)
    publicity = (
        []
        if has_none(application, "publicity_lists")
        else [str(pk) for pk in application.publicity_lists.values_list("pk", flat=True)]
    )
    screenings = (
        []
        if has_none(application, "shortlist_entries")
        else [
            str(pk)
            # the platforms app's screening, by its reverse relation: review does not import it
            for pk in application.shortlist_entries.values_list("pk", flat=True)
        ]
    )
    return publicity, screenings


def history_label(entry: Any) -> str:
    """An audit entry in words, in the active language; its code when none is known."""
    transition = (entry.data or {}).get("transition") if isinstance(entry.data, dict) else None
    if entry.action in ACTION_LABELS:
        return pgettext("history", ACTION_LABELS[entry.action])
    if transition in TRANSITIONS:
        return pgettext("action", TRANSITIONS[transition].label)
    return str(entry.action)
