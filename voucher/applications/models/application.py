"""The application aggregate: a round, an enterprise, its application and everything it declares.

The columns mirror the interchange format `compute-voucher/application@1` one to one, so an
application exported from the database is the document that was imported (see interchange.py).
Money is a Decimal in yuan, kept as whole fen (voucher.core.columns.MoneyField); quantities and
unit prices are Decimals with six places, kept as their text (QuantityField): both exact on
SQLite and PostgreSQL (docs/decisions/0015-exact-money-in-storage.md). Quantities, unit prices
and ratios keep the number of decimals they were written with (`*_places`): "0.20" and "0.2"
are the same number but not the same document.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition

from voucher.applications.states import DRAFT, STATE_CHOICES, TRANSITIONS
from voucher.core.columns import MoneyField, QuantityField
from voucher.policy.format import OVERVIEW_MAX_CHARS, invoice_key
from voucher.policy.money import format_yuan
from voucher.policy.results import OUTCOME_LABELS


def PlacesField(verbose_name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose_name, default=0)


class MatchKeyField(models.CharField):
    """A number as the cross checks compare two records of it (`invoice_key`: spaces at its ends
    and case aside), kept beside the number `source` and indexed, so that the records claiming
    an invoice or a contract are found by the database, not by reading them all
    (voucher.review.crosscheck). Written from `source` whenever the row is written: `save()`,
    `create()` and `bulk_create()` (Django asks each field's `pre_save`); a `save()` naming
    `source` in `update_fields` writes it too (`KeyedModel`). Never edited by hand."""

    # upper() can lengthen a character ("ß" is "SS"): room for three times the number's 100

    def __init__(self, *args: object, source: str, **kwargs: object) -> None:
        self.source = source
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = invoice_key(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class KeyedModel(models.Model):
    """A model with `MatchKeyField`s: `save(update_fields=[source])` writes the key too."""

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            names = set(update_fields)  # type: ignore[call-overload]
            kwargs["update_fields"] = names | {
                f.name
                for f in self._meta.concrete_fields
                if isinstance(f, MatchKeyField) and f.source in names
            }
        super().save(*args, **kwargs)  # type: ignore[arg-type]


QUANTITY_DIGITS, QUANTITY_PLACES = 20, 6
RATIO_DIGITS, RATIO_PLACES = 9, 8
MONEY_DIGITS, MONEY_PLACES = 16, 2

DIRECTION_CHOICES = [(1, "方向一"), (2, "方向二"), (3, "方向三"), (4, "方向四")]
ENTITY_TYPE_CHOICES = [("enterprise", "企业"), ("new_rd_institution", "新型研发机构")]
TOPIC_CHOICES = [
    ("world_model", "世界模型"),
    ("embodied_ai", "具身智能"),
    ("ai_for_science", "AI for Science"),
    ("agent", "Agent"),
    ("other", "其他（须说明）"),
]
FILING_KIND_CHOICES = [("model", "大模型备案"), ("agent", "Agent 备案")]
SERVICE_CHOICES = [
    ("compute", "算力"),
    ("storage", "存储"),
    ("network", "网络"),
    ("security", "安全"),
]
LEVEL_CHOICES = [("national", "国家级"), ("municipal", "市级"), ("district", "区级")]
SUBSIDY_STATUS_CHOICES = [("granted", "已获得"), ("applied", "已申请未拨付")]
ROLE_CHOICES = [
    ("director", "董事"),
    ("supervisor", "监事"),
    ("executive", "高级管理人员"),
    ("legal_representative", "法定代表人"),
]
OUTCOME_CHOICES = list(OUTCOME_LABELS.items())


class PolicyRoundRecord(models.Model):
    """A round as the database knows it; the parameters themselves stay in rounds/<code>.toml."""

    code = models.CharField("轮次代码", max_length=50, unique=True)
    title = models.CharField("名称", max_length=200)
    jurisdiction = models.CharField("地区", max_length=100)
    window_start = models.DateField("补贴期开始")
    window_end = models.DateField("补贴期结束")
    source_sha256 = models.CharField("参数文件 SHA-256", max_length=64)
    synced_at = models.DateTimeField("同步时间", auto_now=True)
    # Administrative dates (set in the admin, not in the round file): applications are accepted
    # from opens_on to closes_on, both days included; unset means not announced, so not open.
    opens_on = models.DateField("申报开始日期", null=True, blank=True)
    closes_on = models.DateField("申报截止日期", null=True, blank=True)

    class Meta:
        verbose_name = "政策轮次"
        verbose_name_plural = "政策轮次"
        ordering = ("-window_start",)

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Enterprise(models.Model):
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=200)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


def reference_of(round_code: str, pk: int | None) -> str:
    """Application.reference from its round's code and its id, for the lists that read values
    rather than instances."""
    return f"{round_code}-{pk:05d}" if pk else f"{round_code}-?"


def _state_fields() -> tuple[Any, ...]:
    global _STATE_FIELDS
    if _STATE_FIELDS is None:
        _STATE_FIELDS = tuple(f for f in Application._meta.fields if isinstance(f, FSMFieldMixin))
    return _STATE_FIELDS


_STATE_FIELDS: tuple[Any, ...] | None = None


class Application(ConcurrentTransitionMixin, models.Model):
    round = models.ForeignKey(
        PolicyRoundRecord,
        verbose_name="轮次",
        on_delete=models.PROTECT,
        related_name="applications",
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="申报单位", on_delete=models.PROTECT, related_name="applications"
    )
    direction = models.PositiveSmallIntegerField("申报方向", choices=DIRECTION_CHOICES)
    submitted_on = models.DateField("提交日期", null=True, blank=True)
    requested_amount = MoneyField("申请金额（元）", null=True, blank=True)

    # applicant (the enterprise's USCC is enterprise.uscc)
    applicant_name = models.CharField("申报单位名称", max_length=200)
    registered_address = models.CharField("注册地址", max_length=300)
    business_address = models.CharField("经营地址", max_length=300)
    entity_type = models.CharField("单位类型", max_length=30, choices=ENTITY_TYPE_CHOICES)
    independent_legal_person = models.BooleanField("具备独立法人资格")
    industry = models.CharField("所属行业门类", max_length=1)
    ai_new_rd_institution = models.BooleanField("北京市人工智能领域新型研发机构")
    contact_name = models.CharField("联系人", max_length=100)
    contact_mobile = models.CharField("联系人手机", max_length=11)
    contact_address = models.CharField("联系地址", max_length=300)
    contact_email = models.CharField("联系人邮箱", max_length=254)

    # project
    project_name = models.CharField("项目名称", max_length=300)
    # NULL only in a draft whose project step is not filled yet
    project_start_date = models.DateField("项目开始日期", null=True, blank=True)
    project_overview = models.TextField("项目概述", blank=True, max_length=OVERVIEW_MAX_CHARS)
    ai_field = models.BooleanField("属于人工智能产业方向")
    topic = models.CharField(  # noqa: DJ001
        "研究方向（方向一）", max_length=30, choices=TOPIC_CHOICES, null=True, blank=True
    )
    # what the topic `other` is (the format's project.topic_note); NULL when not given
    topic_note = models.TextField("其他研究方向说明", null=True, blank=True)  # noqa: DJ001
    miit_2025_list = models.BooleanField("入围工信部2025年揭榜名单", default=False)
    action_plan_aligned = models.BooleanField("符合2025年行动方案支持方向", default=False)
    # project.open_source: all three NULL = not declared (NULL, not "", is the format's null)
    open_source_platform = models.CharField(  # noqa: DJ001
        "开源平台", max_length=100, null=True, blank=True
    )
    open_source_url = models.CharField(  # noqa: DJ001
        "开源地址", max_length=500, null=True, blank=True
    )
    open_source_scenario_aligned = models.BooleanField("符合开源场景", null=True, blank=True)
    # project.model_filing: all three null = not declared
    model_filing_number = models.CharField(  # noqa: DJ001
        "备案编号", max_length=100, null=True, blank=True
    )
    model_filing_date = models.DateField("备案日期", null=True, blank=True)
    model_filing_kind = models.CharField(  # noqa: DJ001
        "备案类型", max_length=10, choices=FILING_KIND_CHOICES, null=True, blank=True
    )

    # declarations
    other_municipal_compute_support = models.BooleanField("已获其他市级算力资金支持")
    dishonest_entity = models.BooleanField("被列为失信联合惩戒对象", default=False)

    # registry: whether the document carried an inline extract at all (an empty one is not none)
    has_registry = models.BooleanField("附带工商登记摘录", default=False)
    # registry.companies: the USCCs the inline extract covers; NULL when it names none
    registry_companies = models.JSONField("登记摘录覆盖的企业", null=True, blank=True)
    # the file's inline official lists (`lists`, RULES.md v2), as the format writes them
    inline_lists = models.JSONField("申报文件所附官方名单", null=True, blank=True)
    materials = models.JSONField("已提交材料", null=True, blank=True)

    # provenance of the import
    source_name = models.CharField("导入来源", max_length=500, blank=True)
    source_sha256 = models.CharField(
        "导入文件摘要 SHA-256", max_length=64, blank=True, db_index=True
    )
    # workflow: see states.py; the portal bumps `version` on every save (optimistic locking)
    state = FSMField("状态", default=DRAFT, choices=STATE_CHOICES, protected=True)
    version = models.PositiveIntegerField("版本", default=0)
    # Submitted, its evaluation not stored yet (the jobs' worker evaluates it after the request,
    # docs/decisions/0027-deferred-evaluation.md): until then it has no evaluation the bureau
    # judges by (selectors.latest_evaluation answers None), so no step that needs one is taken.
    evaluation_pending = models.BooleanField("评估中", default=False)

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "申报"
        verbose_name_plural = "申报"
        ordering = ("round_id", "submitted_on", "id")
        constraints = (
            models.CheckConstraint(
                name="application_direction_1_to_4", condition=Q(direction__gte=1, direction__lte=4)
            ),
            models.CheckConstraint(
                name="application_project_overview_length",
                condition=LessThanOrEqual(Length("project_overview"), OVERVIEW_MAX_CHARS),
            ),
            models.CheckConstraint(
                name="application_open_source_all_or_none",
                condition=Q(
                    open_source_platform__isnull=True,
                    open_source_url__isnull=True,
                    open_source_scenario_aligned__isnull=True,
                )
                | Q(
                    open_source_platform__isnull=False,
                    open_source_url__isnull=False,
                    open_source_scenario_aligned__isnull=False,
                ),
            ),
            models.CheckConstraint(
                name="application_model_filing_all_or_none",
                condition=Q(
                    model_filing_number__isnull=True,
                    model_filing_date__isnull=True,
                    model_filing_kind__isnull=True,
                )
                | Q(
                    model_filing_number__isnull=False,
                    model_filing_date__isnull=False,
                    model_filing_kind__isnull=False,
                ),
            ),
        )
        # the lists filter on the state (the proposals to confirm: those in review); without an
        # index each such filter reads the state past the row's texts and JSON, row by row,
        # over the whole round (7 ms of 8 in a season of 5,000). With the id beside it (decision
        # 0054), 我的待办's count of the bureau's states and their review cases reads the index
        # alone, not the table (4.5 → 1.0 ms in a season of 5,000, vacuumed)
        indexes = (
            models.Index(fields=("state", "id"), name="application_state_id"),
            # The dashboard's figures, its simulation and its monthly sums read a round's
            # applications (their direction, state, id, requested amount, applicant's name):
            # from the table, each read is of every row's 37 columns (483 pages at a season of
            # 5,000, ~3 ms, four times a page); from this index alone (PostgreSQL's index-only
            # scan: the columns INCLUDEd ride in the index, 65 pages) ~0.8 ms. SQLite keeps
            # the key columns only (no INCLUDE; models.W040 silenced in the settings).
            models.Index(
                fields=("round", "direction", "state"),
                include=("id", "requested_amount", "applicant_name"),
                name="application_dashboard",
            ),
        )

    def __str__(self) -> str:
        return f"{self.reference} {self.applicant_name}（{self.get_direction_display()}）"

    @property
    def state_fields(self) -> tuple[Any, ...]:
        """django-fsm's state fields (the lock on `state` of ConcurrentTransitionMixin), found
        once: django-fsm looks through the model's fields again for every instance made, 44
        calls a row, a fifth of making a list page's applications."""
        return _state_fields()

    @property
    def reference(self) -> str:
        """The number people quote: round code and id."""
        return reference_of(self.round.code, self.pk)

    @transition(
        field=state,
        source=list(TRANSITIONS["submit"].source),
        target=TRANSITIONS["submit"].target,
    )
    def submit(self) -> None:
        """Draft -> submitted; the action application_submit freezes and evaluates it."""

    @transition(
        field=state,
        source=list(TRANSITIONS["accept"].source),
        target=TRANSITIONS["accept"].target,
    )
    def accept(self) -> None:
        """Submitted -> formal check (voucher.review.actions.application_transition)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["pass_formal_check"].source),
        target=TRANSITIONS["pass_formal_check"].target,
    )
    def pass_formal_check(self) -> None:
        """Formal check -> in review."""

    @transition(
        field=state,
        source=list(TRANSITIONS["request_supplement"].source),
        target=TRANSITIONS["request_supplement"].target,
    )
    def request_supplement(self) -> None:
        """Formal check or in review -> supplement requested (supplement_request)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["resubmit"].source),
        target=TRANSITIONS["resubmit"].target,
    )
    def resubmit(self) -> None:
        """Supplement requested -> resubmitted (supplement_answer, by the applicant)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["resume_review"].source),
        target=TRANSITIONS["resume_review"].target,
    )
    def resume_review(self) -> None:
        """Resubmitted -> in review."""

    @transition(
        field=state,
        source=list(TRANSITIONS["approve"].source),
        target=TRANSITIONS["approve"].target,
    )
    def approve(self) -> None:
        """In review -> approved (decision_confirm: a second person confirms)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["reject"].source),
        target=TRANSITIONS["reject"].target,
    )
    def reject(self) -> None:
        """In review -> rejected (decision_confirm)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["publicize"].source),
        target=TRANSITIONS["publicize"].target,
    )
    def publicize(self) -> None:
        """Approved -> publicized (publicity_publish)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["pay"].source),
        target=TRANSITIONS["pay"].target,
    )
    def pay(self) -> None:
        """Publicized -> paid (payment_record)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["request_clawback"].source),
        target=TRANSITIONS["request_clawback"].target,
    )
    def request_clawback(self) -> None:
        """Paid -> clawback requested (clawback_request)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["record_refund"].source),
        target=TRANSITIONS["record_refund"].target,
    )
    def record_refund(self) -> None:
        """Clawback requested -> refunded (clawback_refund)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["mark_overdue"].source),
        target=TRANSITIONS["mark_overdue"].target,
    )
    def mark_overdue(self) -> None:
        """Clawback requested -> overdue (the refund due date has passed)."""

    @transition(
        field=state,
        source=list(TRANSITIONS["withdraw"].source),
        target=TRANSITIONS["withdraw"].target,
    )
    def withdraw(self) -> None:
        """Before a decision -> withdrawn, by the applicant."""


class Contract(KeyedModel):
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="contracts"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    contract_id = models.CharField("合同编号", max_length=100)
    contract_key = MatchKeyField("合同编号（比对用）", max_length=300, source="contract_id")
    supplier_name = models.CharField("算力供应方", max_length=200)
    supplier_uscc = models.CharField("供应方统一社会信用代码", max_length=18)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    valid_from = models.DateField("有效期开始")
    valid_to = models.DateField("有效期结束")
    total_amount = MoneyField("合同总额（元）")
    revenue_or_risk_sharing = models.BooleanField("存在收益或风险分担协议")
    hierarchy = models.BooleanField("存在上下级关系")
    # The supplier's word on the contract as a whole (confirmed, disputed, unconfirmed), kept so
    # the supplier's list filters and pages in SQL; recomputed by applications.supplier
    # `supplier_state_refresh` whenever a line or a word on it changes. `supplier.lines_of` stays
    # the truth (the approval's gate, the pages).
    supplier_state = models.CharField(
        "供给方确认状态", max_length=12, default="unconfirmed", db_index=True
    )

    class Meta:
        verbose_name = "算力合同"
        verbose_name_plural = "算力合同"
        ordering = ("position", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["application", "contract_id"], name="contract_id_unique_per_application"
            ),
        )
        # the same contract claimed twice (DUPLICATE_CONTRACT); the supplier alone too
        indexes = (
            models.Index(fields=["supplier_uscc", "contract_key"], name="contract_supplier_key"),
        )

    def __str__(self) -> str:
        return f"{self.contract_id} {self.supplier_name}"


class Delivery(models.Model):
    contract = models.ForeignKey(
        Contract, verbose_name="合同", on_delete=models.CASCADE, related_name="deliveries"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    start = models.DateField("开始日期")
    end = models.DateField("结束日期")
    service = models.CharField("服务类型", max_length=20, choices=SERVICE_CHOICES)
    # NULL, not "": the format tells an undeclared device from an empty one.
    device = models.CharField("设备型号", max_length=100, null=True, blank=True)  # noqa: DJ001
    quantity = QuantityField("数量")
    quantity_places = PlacesField("数量小数位数")
    unit = models.CharField("单位", max_length=50)
    unit_price = QuantityField("单价（元）")
    unit_price_places = PlacesField("单价小数位数")
    amount = MoneyField("金额（元）")

    class Meta:
        verbose_name = "交付记录"
        verbose_name_plural = "交付记录"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.start}–{self.end} {self.get_service_display()} {self.amount}"


class RoundUnitPrice(models.Model):
    """How many delivery rows of a round's active applications (neither draft nor withdrawn)
    name a device (not empty), a unit and a unit price (the price's stored text): the samples of
    the round's unit-price statistics (voucher.review.crosscheck), so that the review screen
    reads a device's few prices and not its thousands of rows.

    Written by the database alone: triggers on the deliveries, the contracts and the
    applications (voucher.applications.unit_prices) count every write, whatever path of the
    code made it (a save, a queryset's update, a bulk create, a delete); no code writes it."""

    round_id = models.BigIntegerField("轮次")  # no foreign key: only the triggers write it
    device = models.CharField("设备型号", max_length=100)
    unit = models.CharField("单位", max_length=50)
    unit_price = QuantityField("单价（元）")
    # a price's count is kept in several rows, by application: unit_prices.SHARDS says why
    shard = models.SmallIntegerField("分片")
    deliveries = models.IntegerField(
        "交付记录数"
    )  # no CHECK ≥ 0: SQLite checks a removal's -1 first

    class Meta:
        verbose_name = "本轮单价样本数"
        verbose_name_plural = "本轮单价样本数"
        constraints = (
            models.UniqueConstraint(
                fields=["round_id", "device", "unit", "unit_price", "shard"],
                name="one_count_per_price",
            ),
        )

    def __str__(self) -> str:
        return f"{self.device} {self.unit_price}/{self.unit} ×{self.deliveries}"


class Invoice(KeyedModel):
    contract = models.ForeignKey(
        Contract, verbose_name="合同", on_delete=models.CASCADE, related_name="invoices"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    number = models.CharField("发票号码", max_length=100)
    # the same invoice claimed twice (DUPLICATE_INVOICE)
    number_key = MatchKeyField("发票号码（比对用）", max_length=300, source="number", db_index=True)
    date = models.DateField("开票日期")
    amount = MoneyField("金额（元）")

    class Meta:
        verbose_name = "发票"
        verbose_name_plural = "发票"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.number} {self.amount}"


class Payment(models.Model):
    contract = models.ForeignKey(
        Contract, verbose_name="合同", on_delete=models.CASCADE, related_name="payments"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    date = models.DateField("支付日期")
    amount = MoneyField("金额（元）")

    class Meta:
        verbose_name = "付款凭证"
        verbose_name_plural = "付款凭证"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


class OtherSubsidy(models.Model):
    contract = models.ForeignKey(
        Contract, verbose_name="合同", on_delete=models.CASCADE, related_name="other_subsidies"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    level = models.CharField("级别", max_length=20, choices=LEVEL_CHOICES)
    policy = models.CharField("政策名称", max_length=300)
    amount = MoneyField("金额（元）")
    status = models.CharField("状态", max_length=20, choices=SUBSIDY_STATUS_CHOICES)

    class Meta:
        verbose_name = "其他财政补贴"
        verbose_name_plural = "其他财政补贴"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.policy} {self.amount}"


class RegistryShareholding(models.Model):
    """A row of the registry extract the application carried (`registry.shareholdings`)."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="shareholdings"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    holder = models.CharField("股东（代码或人员编号）", max_length=100)
    held = models.CharField("被持股企业", max_length=18)
    ratio = models.DecimalField("持股比例", max_digits=RATIO_DIGITS, decimal_places=RATIO_PLACES)
    ratio_places = PlacesField("比例小数位数")

    class Meta:
        verbose_name = "股权关系（登记摘录）"
        verbose_name_plural = "股权关系（登记摘录）"
        ordering = ("position", "id")
        constraints = (
            models.CheckConstraint(
                name="shareholding_ratio_in_0_1", condition=Q(ratio__gt=0, ratio__lte=1)
            ),
        )

    def __str__(self) -> str:
        return f"{self.holder} → {self.held} {self.ratio}"


class RegistryOfficer(models.Model):
    """A row of the registry extract the application carried (`registry.officers`)."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="officers"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    person = models.CharField("人员编号", max_length=100)
    company = models.CharField("任职企业", max_length=18)
    role = models.CharField("职务", max_length=30, choices=ROLE_CHOICES)

    class Meta:
        verbose_name = "任职关系（登记摘录）"
        verbose_name_plural = "任职关系（登记摘录）"
        ordering = ("position", "id")

    def __str__(self) -> str:
        return f"{self.person} {self.get_role_display()} @ {self.company}"


class StoredEvaluationQuerySet(models.QuerySet["StoredEvaluation"]):
    def seen_by_bureau(self) -> StoredEvaluationQuerySet:
        """Without the evaluations of corrections in progress (`correction_in_progress`)."""
        return self.filter(correction_in_progress=False)


class StoredEvaluation(models.Model):
    """What the engine said about one application, kept as it said it (Evaluation.to_json())."""

    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.CASCADE, related_name="evaluations"
    )
    round_code = models.CharField("轮次代码", max_length=50)
    engine_version = models.CharField("规则引擎版本", max_length=20)
    outcome = models.CharField("结论", max_length=20, choices=OUTCOME_CHOICES)
    computed = MoneyField("测算补贴（元）")
    cap = MoneyField("方向上限（元）")
    requested = MoneyField("申请金额（元）", null=True, blank=True)
    approved_max = MoneyField("最高可核定（元）")
    findings = models.JSONField("审查意见", default=list)
    contracts = models.JSONField("合同测算", default=list)
    missing_materials = models.JSONField("缺少的材料", default=list)
    document_sha256 = models.CharField("所评估文档 SHA-256", max_length=64)
    # Fingerprint of the administrator's parameters over the round file (review/parameters.py);
    # empty when the round file alone was used.
    parameters_sha256 = models.CharField("管理员参数指纹", max_length=64, blank=True, default="")
    # Evaluated while the application was returned for 补正 and not yet resubmitted: the version
    # evaluated is the applicant's, half-corrected (their self-checks, or the bureau evaluating
    # the round again meanwhile). The bureau judges the versions it was given, so its pages,
    # decisions and documents leave these out (seen_by_bureau). The evaluation made at
    # resubmission is the bureau's.
    correction_in_progress = models.BooleanField("补正中（未重新提交）版本的评估", default=False)
    # Kept for the bureau's lists, so they filter, sort and count in the database instead of
    # reading every evaluation's findings (docs/decisions/0020-season-pages.md): whether this is
    # the application's latest evaluation seen by the bureau (one per application, moved when
    # the next one is stored), and how many of its `review` findings have no resolution yet
    # (the count of its review findings when stored, lowered as a reviewer answers each).
    bureau_latest = models.BooleanField("审核所据的最新评估", default=False)
    review_open = models.PositiveIntegerField("未处理的待审核项", default=0)
    created_at = models.DateTimeField("评估时间", auto_now_add=True)

    objects = StoredEvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = "评估结果"
        verbose_name_plural = "评估结果"
        ordering = ("-created_at", "-id")
        get_latest_by = ("created_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(bureau_latest=True),
                name="one_bureau_latest_evaluation",
            ),
        )
        # The dashboard's figures and simulation read the latest evaluation's approved_max of
        # every application of a round: from this index alone (PostgreSQL's index-only scan,
        # the amount INCLUDEd, 21 pages at a season of 5,000) instead of the table (1,478
        # pages of findings and contracts, 2–6 ms, twice a page). Not the unique constraint's
        # index given an INCLUDE: where INCLUDE is unknown (SQLite) Django then creates no
        # constraint at all; an index it creates on the key alone (models.W040 silenced).
        indexes = (
            models.Index(
                fields=["application"],
                include=["approved_max"],
                condition=Q(bureau_latest=True),
                name="latest_evaluation_allowed",
            ),
        )

    def __str__(self) -> str:
        return f"{self.application_id} {self.get_outcome_display()} {self.approved_max}"

    def to_json(self) -> dict[str, object]:
        """The stored evaluation in the shape of Evaluation.to_json()."""

        return {
            "outcome": self.outcome,
            "findings": self.findings,
            "contracts": self.contracts,
            "subsidy": {
                "computed": format_yuan(self.computed),
                "cap": format_yuan(self.cap),
                "requested": None if self.requested is None else format_yuan(self.requested),
                "approved_max": format_yuan(self.approved_max),
            },
        }
