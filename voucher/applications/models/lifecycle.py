"""The bureau's records around an application: review, supplement, decision, publicity, payment.

The application's state lives on Application.state (one transition table, applications/states.py);
these tables hold what each step decided and who decided it. Money is Decimal yuan, two places.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from voucher.applications.models.application import (
    DIRECTION_CHOICES,
    Application,
    MoneyField,
    PolicyRoundRecord,
    StoredEvaluation,
)

USER = settings.AUTH_USER_MODEL


class ReviewCase(models.Model):
    """Who is working on an application (the queue's assignment)."""

    application = models.OneToOneField(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="review_case"
    )
    assignee = models.ForeignKey(
        USER,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_at = models.DateTimeField("分配时间", null=True, blank=True)

    class Meta:
        db_table = "review_reviewcase"  # moved here; the table kept its name
        verbose_name = "审核任务"
        verbose_name_plural = "审核任务"

    def __str__(self) -> str:
        return f"{self.application_id} → {self.assignee or '-'}"


class Snapshot(models.Model):
    """The interchange JSON of the application as it stood at a transition (for the diff)."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="snapshots"
    )
    transition = models.CharField("流转", max_length=40)
    document = models.JSONField("申报文档")
    sha256 = models.CharField("SHA-256", max_length=64)
    evaluation = models.ForeignKey(
        StoredEvaluation,
        verbose_name="评估",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        db_table = "review_snapshot"  # moved here; the table kept its name
        verbose_name = "申报版本"
        verbose_name_plural = "申报版本"
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.application_id} {self.transition} {self.sha256[:12]}"


RESOLUTION_CHOICES = [("accept", "认可（视为通过）"), ("reject", "不认可（视为不通过）")]


class FindingResolution(models.Model):
    """A reviewer's answer to one `review` finding of one stored evaluation, with the reason."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="resolutions"
    )
    evaluation = models.ForeignKey(
        StoredEvaluation, verbose_name="评估", on_delete=models.CASCADE, related_name="+"
    )
    rule = models.CharField("规则", max_length=50)
    contract = models.CharField("合同编号", max_length=100, blank=True)
    resolution = models.CharField("处理", max_length=10, choices=RESOLUTION_CHOICES)
    reason = models.TextField("理由")
    resolved_by = models.ForeignKey(
        USER, verbose_name="审核人", on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        db_table = "review_findingresolution"  # moved here; the table kept its name
        verbose_name = "待审核项处理"
        verbose_name_plural = "待审核项处理"
        ordering = ("resolved_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["evaluation", "rule", "contract"], name="one_resolution_per_finding"
            ),
            models.CheckConstraint(name="resolution_has_reason", condition=~Q(reason="")),
        )

    def __str__(self) -> str:
        return f"{self.rule} {self.contract} {self.get_resolution_display()}"


class CrossFindingResolution(models.Model):
    """A reviewer's answer to one cross-application finding of an application (RULES.md "Fail
    closed": no decision is proposed while one is unresolved), with the reason.

    Keyed to the finding's identity, not to an evaluation: the check, what it is about (the
    invoice number, the supplier's contract, the enterprise, the device and price) and the
    other applications involved (`voucher.review.crosscheck`). When that changes (a ninth
    application claims the same invoice), it is another finding, unresolved."""

    application = models.ForeignKey(
        Application,
        verbose_name="申报",
        on_delete=models.CASCADE,
        related_name="cross_resolutions",
    )
    rule = models.CharField("核查项", max_length=50)
    key = models.CharField("标识摘要", max_length=64)  # SHA-256 of `identity`
    identity = models.TextField("标识")
    message = models.TextField("核查结果")  # as the reviewer saw it
    resolution = models.CharField("处理", max_length=10, choices=RESOLUTION_CHOICES)
    reason = models.TextField("理由")
    resolved_by = models.ForeignKey(
        USER, verbose_name="审核人", on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField("时间", auto_now=True)

    class Meta:
        verbose_name = "跨申报核查项处理"
        verbose_name_plural = "跨申报核查项处理"
        ordering = ("resolved_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["application", "key"], name="one_resolution_per_cross_finding"
            ),
            models.CheckConstraint(name="cross_resolution_has_reason", condition=~Q(reason="")),
        )

    def __str__(self) -> str:
        return f"{self.rule} {self.get_resolution_display()}"


class CrossFindingCount(models.Model):
    """How many cross-application findings of an application are unresolved, kept for the
    bureau's lists (voucher.review.crosscheck works them out and writes this; the review screen
    and the round's checks page write it again each time they compute them)."""

    application = models.OneToOneField(
        Application,
        verbose_name="申报",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="cross_count",
    )
    open = models.PositiveIntegerField("未处理的跨申报核查项", default=0)
    counted_at = models.DateTimeField("计算时间", auto_now=True)

    class Meta:
        verbose_name = "跨申报核查项计数"
        verbose_name_plural = "跨申报核查项计数"

    def __str__(self) -> str:
        return f"{self.application_id} {self.open}"


class SupplementRequest(models.Model):
    """补正：the reviewer's itemised list; the applicant answers each item and resubmits."""

    application = models.ForeignKey(
        Application,
        verbose_name="申报",
        on_delete=models.CASCADE,
        related_name="supplement_requests",
    )
    requested_by = models.ForeignKey(
        USER, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("发起时间", auto_now_add=True)
    due_on = models.DateField("补正截止日期")
    note = models.TextField("说明", blank=True)
    answered_at = models.DateTimeField("补正提交时间", null=True, blank=True)

    class Meta:
        db_table = "review_supplementrequest"  # moved here; the table kept its name
        verbose_name = "补正通知"
        verbose_name_plural = "补正通知"
        ordering = ("-requested_at", "-id")

    def __str__(self) -> str:
        return f"{self.application_id} 补正 {self.requested_at:%Y-%m-%d}"


class SupplementItem(models.Model):
    request = models.ForeignKey(
        SupplementRequest, verbose_name="补正通知", on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveIntegerField("序号")
    text = models.TextField("需补正的内容")
    answer = models.TextField("申报单位答复", blank=True)

    class Meta:
        db_table = "review_supplementitem"  # moved here; the table kept its name
        verbose_name = "补正事项"
        verbose_name_plural = "补正事项"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.position}. {self.text[:40]}"


DECISION_KIND_CHOICES = [("approval", "予以支持"), ("rejection", "不予支持")]
PROPOSED, CONFIRMED, WITHDRAWN = "proposed", "confirmed", "withdrawn"
DECISION_STATUS_CHOICES = [(PROPOSED, "待复核"), (CONFIRMED, "已确认"), (WITHDRAWN, "已撤回")]


class Decision(models.Model):
    """Four eyes: a reviewer proposes, a different approver confirms.

    The amount can only be lowered from what the engine allowed (`approved_max_at_decision`,
    the latest stored evaluation's approved_max when proposed); the database refuses anything
    above it and a confirmation by the proposer, whatever path the write takes.
    """

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="decisions"
    )
    evaluation = models.ForeignKey(
        StoredEvaluation, verbose_name="所依据的评估", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("决定", max_length=10, choices=DECISION_KIND_CHOICES)
    status = models.CharField(
        "状态", max_length=10, choices=DECISION_STATUS_CHOICES, default=PROPOSED
    )
    amount = MoneyField("核定金额（元）")
    approved_max_at_decision = MoneyField("最高可核定（元）")
    lowered_reason = models.TextField("调减理由", blank=True)
    reasons = models.JSONField("理由（不予支持时为未通过的规则）", default=list, blank=True)
    proposed_by = models.ForeignKey(
        USER, verbose_name="拟定人", on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField("拟定时间", auto_now_add=True)
    confirmed_by = models.ForeignKey(
        USER,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        db_table = "review_decision"  # moved here; the table kept its name
        verbose_name = "审核决定"
        verbose_name_plural = "审核决定"
        ordering = ("-proposed_at", "-id")
        constraints = (
            models.CheckConstraint(
                name="decision_amount_at_most_approved_max",
                condition=Q(amount__gte=0, amount__lte=F("approved_max_at_decision")),
            ),
            models.CheckConstraint(
                name="decision_rejection_is_zero", condition=Q(kind="approval") | Q(amount=0)
            ),
            models.CheckConstraint(
                name="decision_lowered_needs_reason",
                condition=Q(amount=F("approved_max_at_decision"))
                | Q(kind="rejection")
                | ~Q(lowered_reason=""),
            ),
            models.CheckConstraint(
                name="decision_four_eyes",
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("proposed_by")),
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="proposed"),
                name="one_open_proposal_per_application",
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_kind_display()} {self.amount}（{self.get_status_display()}）"


class Budget(models.Model):
    round = models.ForeignKey(
        PolicyRoundRecord, verbose_name="轮次", on_delete=models.CASCADE, related_name="budgets"
    )
    direction = models.PositiveSmallIntegerField("方向", choices=DIRECTION_CHOICES)
    amount = MoneyField("预算（元）")

    class Meta:
        db_table = "review_budget"  # moved here; the table kept its name
        verbose_name = "预算"
        verbose_name_plural = "预算"
        ordering = ("round_id", "direction")
        constraints = (
            models.UniqueConstraint(fields=["round", "direction"], name="one_budget_per_direction"),
            models.CheckConstraint(name="budget_not_negative", condition=Q(amount__gte=0)),
        )

    def __str__(self) -> str:
        return f"{self.round.code} 方向{self.direction} {self.amount}"


class PublicityList(models.Model):
    """公示：the list the bureau publishes, and its period."""

    round = models.ForeignKey(
        PolicyRoundRecord, verbose_name="轮次", on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField("公示开始")
    ends_on = models.DateField("公示结束")
    published_by = models.ForeignKey(
        USER, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", auto_now_add=True)
    applications = models.ManyToManyField(
        Application, verbose_name="公示的申报", related_name="publicity_lists"
    )

    class Meta:
        db_table = "review_publicitylist"  # moved here; the table kept its name
        verbose_name = "公示名单"
        verbose_name_plural = "公示名单"
        ordering = ("-published_at", "-id")
        constraints = (
            models.CheckConstraint(
                name="publicity_period_ordered", condition=Q(ends_on__gte=F("starts_on"))
            ),
        )

    def __str__(self) -> str:
        return f"公示 {self.starts_on}–{self.ends_on}"


OBJECTION_SOURCES = [("staff", "工作人员登记"), ("public", "公示页面提交")]


class Objection(models.Model):
    """公示异议: typed in by staff (received by letter or phone), or sent by anyone through the
    public publicity page (voucher/public) with the objector's name and contact."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="objections"
    )
    received_on = models.DateField("收到日期")
    text = models.TextField("异议内容")
    recorded_by = models.ForeignKey(
        USER,
        verbose_name="登记人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # none for an objection sent through the public page
    )
    source = models.CharField("来源", max_length=10, choices=OBJECTION_SOURCES, default="staff")
    objector_name = models.CharField("异议人", max_length=50, blank=True)
    objector_contact = models.CharField("联系方式", max_length=100, blank=True)
    resolution = models.TextField("处理结果", blank=True)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        db_table = "review_objection"  # moved here; the table kept its name
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ("received_on", "id")

    def __str__(self) -> str:
        return f"{self.application_id} 异议 {self.received_on}"


class ObjectionAttachment(models.Model):
    """A file sent with a public objection: checked as every upload is (applications.uploads),
    stored under its SHA-256 like the materials."""

    objection = models.ForeignKey(
        Objection, verbose_name="异议", on_delete=models.CASCADE, related_name="attachments"
    )
    original_name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    content_type = models.CharField("类型", max_length=100)

    class Meta:
        verbose_name = "异议附件"
        verbose_name_plural = "异议附件"
        ordering = ("id",)

    def __str__(self) -> str:
        return self.original_name


class PaymentRecord(models.Model):
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="payment_records"
    )
    paid_on = models.DateField("拨付日期")
    amount = MoneyField("拨付金额（元）")
    reference = models.CharField("凭证号", max_length=100)
    recorded_by = models.ForeignKey(
        USER, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        db_table = "review_paymentrecord"  # moved here; the table kept its name
        verbose_name = "拨付记录"
        verbose_name_plural = "拨付记录"
        ordering = ("paid_on", "id")
        constraints = (models.CheckConstraint(name="payment_positive", condition=Q(amount__gt=0)),)

    def __str__(self) -> str:
        return f"{self.application_id} {self.paid_on} {self.amount}"


class Clawback(models.Model):
    """退还：notice date, due date six calendar months later (承诺书 第7条), and the refund."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="clawbacks"
    )
    notice_date = models.DateField("通知日期")
    due_date = models.DateField("退还期限")
    amount = MoneyField("应退金额（元）")
    reason = models.TextField("原因")
    requested_by = models.ForeignKey(
        USER, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    refunded_on = models.DateField("退还日期", null=True, blank=True)
    refunded_amount = MoneyField("已退金额（元）", null=True, blank=True)

    class Meta:
        db_table = "review_clawback"  # moved here; the table kept its name
        verbose_name = "退还资金"
        verbose_name_plural = "退还资金"
        ordering = ("due_date", "id")
        constraints = (
            models.CheckConstraint(
                name="clawback_due_after_notice", condition=Q(due_date__gt=F("notice_date"))
            ),
            models.CheckConstraint(name="clawback_positive", condition=Q(amount__gt=0)),
        )

    def __str__(self) -> str:
        return f"{self.application_id} 退还 {self.amount} 限 {self.due_date}"


LIST_KIND_CHOICES = [
    ("municipal_support", "已获其他市级算力资金支持名单"),
    ("dishonest", "失信联合惩戒对象名单"),
]


class ListedEnterprise(models.Model):
    """A row of an imported outside list; feeds NO_OTHER_MUNICIPAL_SUPPORT and CREDIT_RECORD."""

    kind = models.CharField("名单", max_length=20, choices=LIST_KIND_CHOICES)
    uscc = models.CharField("统一社会信用代码", max_length=18)
    name = models.CharField("名称", max_length=200, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    source_name = models.CharField("来源文件", max_length=300)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        db_table = "review_listedenterprise"  # moved here; the table kept its name
        verbose_name = "外部名单企业"
        verbose_name_plural = "外部名单企业"
        ordering = ("kind", "uscc")
        constraints = (
            models.UniqueConstraint(fields=["kind", "uscc"], name="listed_once_per_list"),
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.uscc} {self.name}"


class Notification(models.Model):
    """Every e-mail the workflow sends, with whether it went: administrators see the failures."""

    application = models.ForeignKey(
        Application,
        verbose_name="申报",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recipients = models.JSONField("收件人", default=list)
    subject = models.CharField("主题", max_length=300)
    body = models.TextField("正文")
    event = models.CharField("事件", max_length=50)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    error = models.TextField("发送失败原因", blank=True)

    class Meta:
        db_table = "review_notification"  # moved here; the table kept its name
        verbose_name = "通知邮件"
        verbose_name_plural = "通知邮件"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.event} → {', '.join(self.recipients)}"

    @property
    def failed(self) -> bool:
        return bool(self.error)


class UnitPriceBand(models.Model):
    """An administrator's market band for one device and unit (`UNIT_PRICE`, 14-1 一).

    The round file may ship bands; rows here add to them or replace one for the same device and
    unit. A unit price outside [minimum, maximum] becomes a `review` finding, never a failure.
    """

    round = models.ForeignKey(
        PolicyRoundRecord, verbose_name="轮次", on_delete=models.PROTECT, related_name="price_bands"
    )
    device = models.CharField("设备型号", max_length=100)
    device_key = models.CharField(max_length=100, editable=False)  # policy.round.device_key
    unit = models.CharField("计量单位", max_length=50)
    minimum = MoneyField("单价下限（元）")
    maximum = MoneyField("单价上限（元）")
    note = models.CharField("依据", max_length=300)
    created_by = models.ForeignKey(
        USER, verbose_name="设定人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("设定时间", auto_now_add=True)

    class Meta:
        db_table = "review_unitpriceband"  # moved here; the table kept its name
        verbose_name = "单价区间"
        verbose_name_plural = "单价区间"
        ordering = ("round", "device_key", "unit")
        constraints = (
            models.UniqueConstraint(
                fields=["round", "device_key", "unit"], name="one_band_per_device_unit"
            ),
            models.CheckConstraint(
                condition=Q(minimum__gte=0) & Q(maximum__gte=F("minimum")),
                name="band_minimum_not_above_maximum",
            ),
        )

    def __str__(self) -> str:
        return f"{self.device} {self.unit}: {self.minimum}–{self.maximum}"


class FlaggedDevice(models.Model):
    """A device a national authority has flagged (二（五）): its cost is not supported."""

    round = models.ForeignKey(
        PolicyRoundRecord,
        verbose_name="轮次",
        on_delete=models.PROTECT,
        related_name="flagged_devices",
    )
    model = models.CharField("设备型号", max_length=100)
    device_key = models.CharField(max_length=100, editable=False)
    notice = models.CharField("通报文件", max_length=300)
    created_by = models.ForeignKey(
        USER, verbose_name="设定人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("设定时间", auto_now_add=True)

    class Meta:
        db_table = "review_flaggeddevice"  # moved here; the table kept its name
        verbose_name = "通报设备"
        verbose_name_plural = "通报设备"
        ordering = ("round", "device_key")
        constraints = (
            models.UniqueConstraint(fields=["round", "device_key"], name="device_flagged_once"),
        )

    def __str__(self) -> str:
        return f"{self.model}（{self.notice}）"
