"""Direction 3 (免申即享): platforms, their API tokens, projects, the centre's shortlist, the
contracts and consumption batches platforms submit, and the aggregates those batches make.

The consumption batch table is also the job queue: `status` is the job's state and
`voucher platforms worker` takes queued batches (docs/decisions/0004-consumption-ingest.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from voucher.core.columns import MoneyField, QuantityField


class Platform(models.Model):
    """A platform of 二（二）; `code` is its id in the round file (`modelscope`, …)."""

    code = models.SlugField("平台代码", max_length=40, unique=True)
    name = models.CharField("平台名称", max_length=100)
    # The organisation running the platform: settlement data (14-1 五) for an applicant's
    # contract is accepted only from the platform whose organisation is that contract's supplier.
    uscc = models.CharField("运营单位统一社会信用代码", max_length=18, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "开源平台"
        verbose_name_plural = "开源平台"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ApiToken(models.Model):
    """A platform's API token. Only the SHA-256 of the secret is kept; it is shown once."""

    SCOPES = ("projects", "shortlist", "contracts", "consumption", "settlement")

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField("用途", max_length=100)
    prefix = models.CharField(max_length=16, unique=True)  # looked up; not secret
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("到期时间")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.platform.code}:{self.prefix} ({self.label})"


class Project(models.Model):
    """An open-source project a platform publishes; updated by the platform's own id."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="projects")
    external_id = models.CharField("平台项目编号", max_length=64)
    enterprise_uscc = models.CharField("统一社会信用代码", max_length=18, db_index=True)
    enterprise = models.JSONField(
        "企业信息"
    )  # name, addresses, industry, contact (format Applicant)
    name = models.CharField("项目名称", max_length=200)
    url = models.URLField("代码或模型地址", max_length=500)
    scenario = models.TextField("应用场景")
    start_date = models.DateField("项目开始日期")
    open_source_licence = models.CharField("开源许可证", max_length=64)
    published_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "开源项目"
        verbose_name_plural = "开源项目"
        constraints = (
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="platforms_project_external_id"
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.enterprise_uscc})"


class ShortlistEntry(models.Model):
    """The centre's screening of one project against D3_QUALIFICATION and D3_PLATFORM."""

    LISTED, REFUSED = "listed", "refused"
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="screening")
    decision = models.CharField(
        "结论", max_length=10, choices=[(LISTED, "列入名单"), (REFUSED, "不予列入")]
    )
    open_source = models.BooleanField("开源项目")
    scenario_aligned = models.BooleanField("符合开源计划场景")
    action_plan_aligned = models.BooleanField("符合行动计划")
    platform_listed = models.BooleanField("发布于所列平台")
    reasons = models.TextField("理由")
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField(auto_now=True)
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        # the review's 办理记录 finds the screening an application was built from by it
        related_name="shortlist_entries",
    )

    class Meta:
        verbose_name = "筛选名单"
        verbose_name_plural = "筛选名单"

    def __str__(self) -> str:
        return f"{self.project} → {self.decision}"

    @property
    def conclusion(self) -> tuple[bool, bool, bool, str]:
        """What the screener ticked and wrote (the decision follows from it): the build and a
        second save compare it with what they were given."""
        return (self.open_source, self.scenario_aligned, self.action_plan_aligned, self.reasons)


class PlatformContract(models.Model):
    """A listed enterprise's compute contract as the platform submitted it.

    `document` is an interchange-format contract (compute-voucher/application@1) without
    deliveries: those come from the consumption batches.
    """

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="contracts")
    enterprise_uscc = models.CharField(max_length=18)
    contract_id = models.CharField(max_length=64)
    document = models.JSONField()
    # The contract's scale and unit price per device and unit (14-1 一: "明确算力交付规模和支付
    # 金额，或明确算力单价"): [{device, unit, quantity, unit_price}], reconciled with consumption.
    terms = models.JSONField("合同约定规模与单价", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "平台提交的合同"
        verbose_name_plural = "平台提交的合同"
        constraints = (
            models.UniqueConstraint(
                fields=["platform", "enterprise_uscc", "contract_id"],
                name="platforms_contract_unique",
            ),
        )

    def __str__(self) -> str:
        return f"{self.enterprise_uscc}/{self.contract_id}"


class ConsumptionBatch(models.Model):
    """One uploaded consumption file, and the job that processes it."""

    QUEUED, RUNNING, DONE, REFUSED, FAILED = "queued", "running", "done", "refused", "failed"
    WITHDRAWN = "withdrawn"  # by its platform: its aggregates stay, for the record, uncounted
    STATUSES = (
        (QUEUED, "排队中"),
        (RUNNING, "处理中"),
        (DONE, "已处理"),
        (REFUSED, "整批拒收"),
        (FAILED, "处理失败"),
        (WITHDRAWN, "已撤回"),
    )

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="batches")
    enterprise_uscc = models.CharField(max_length=18)
    # Settlement data (directions 1, 2, 4): the applicant's contract the batch is evidence for.
    # Empty for a direction-3 consumption batch. The contract is named by application and id
    # (the applicant's contract rows may be re-created when a supplement is answered).
    settles_application = models.ForeignKey(
        "applications.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="settlement_batches",
    )
    settles_contract_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100)
    file_sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200)
    file_size = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED, db_index=True)
    # The worker's lease (voucher/platforms/lease.py): `attempts` is the fencing token, the
    # attempt that may store the result; `locked_at` when it was claimed; `leased_until` when
    # another worker may take it, renewed by the holder's heartbeat; `leased_by` host:pid.
    attempts = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=100, blank=True)
    summary = models.JSONField(default=dict)
    refusal = models.TextField(blank=True)
    error_report = models.TextField(blank=True)  # CSV: row, line, column, message
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "消费明细批次"
        verbose_name_plural = "消费明细批次"
        constraints = (
            models.UniqueConstraint(
                fields=["platform", "idempotency_key"], name="platforms_batch_idempotency"
            ),
        )

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.status})"


class ConsumptionAggregate(models.Model):
    """The rows of one batch with one (enterprise, contract, month, type, device, unit).

    Traceability: re-reading the stored file (`file_sha256`) with `consumption.trace_rows`
    lists the rows; their count, first, last and Σ row numbers are stored to check it.
    """

    # No database constraint: triggers keep the reference (voucher/platforms/aggregate_batch.py,
    # decision 0039); the constraint checked a batch's aggregates one by one.
    batch = models.ForeignKey(
        ConsumptionBatch,
        on_delete=models.CASCADE,
        related_name="aggregates",
        db_constraint=False,
    )
    enterprise_uscc = models.CharField(max_length=18)
    contract_id = models.CharField(max_length=64)
    month = models.CharField(max_length=7)  # YYYY-MM, Beijing
    resource_type = models.CharField(max_length=10)
    device = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=64)
    amount = MoneyField("期内金额")
    quantity = QuantityField("期内数量")
    outside_amount = MoneyField("期外金额")
    row_count = models.BigIntegerField()
    prorated_rows = models.BigIntegerField()
    first_row = models.BigIntegerField()
    last_row = models.BigIntegerField()
    row_sum = models.BigIntegerField()
    first_second = models.BigIntegerField(null=True)
    last_second = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = "消费汇总"
        verbose_name_plural = "消费汇总"
        indexes = (models.Index(fields=["enterprise_uscc", "contract_id"]),)

    def __str__(self) -> str:
        return f"{self.enterprise_uscc}/{self.contract_id}/{self.month}"


class ContractReconciliation(models.Model):
    """The reconciliation (voucher.platforms.reconcile) a direction-3 application was built with:
    one per contract of the application, stored with it so the reviewer sees what the build saw.
    """

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="reconciliations"
    )
    contract_id = models.CharField(max_length=64)
    result = models.JSONField()  # Reconciliation.as_json()
    differences = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "合同核对"
        verbose_name_plural = "合同核对"
        constraints = (
            models.UniqueConstraint(
                fields=["application", "contract_id"], name="platforms_reconciliation_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id}/{self.contract_id}: {self.differences}"
