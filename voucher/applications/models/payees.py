"""Where the subsidy is paid, and the payments handed to the finance system.

A payee account (收款账户) is the enterprise's bank account, entered by its administrator and
confirmed by two members of staff before its first use (four eyes: one checks it against the
enterprise's documents, another confirms); a changed account is a new record that waits for the
same two steps, while the old one stays in force. A payment batch (拨付批次) is the list of
payments exported for the finance system in one file; each line (拨付指令) comes back from the
bank's result file as paid or returned; a returned line can go into a later batch (retry).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from voucher.applications.models.application import (
    Application,
    Enterprise,
    MoneyField,
    PolicyRoundRecord,
)

USER = settings.AUTH_USER_MODEL

PAYEE_PENDING, PAYEE_CHECKED, PAYEE_CONFIRMED = "pending", "checked", "confirmed"
PAYEE_REJECTED, PAYEE_SUPERSEDED = "rejected", "superseded"
PAYEE_STATES = [
    (PAYEE_PENDING, "待核验"),
    (PAYEE_CHECKED, "已核验，待确认"),
    (PAYEE_CONFIRMED, "已确认"),
    (PAYEE_REJECTED, "未通过"),
    (PAYEE_SUPERSEDED, "已被新账户替代"),
]


class PayeeAccount(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="payee_accounts"
    )
    account_name = models.CharField("户名", max_length=200)
    bank = models.CharField("开户银行", max_length=100)
    branch = models.CharField("开户网点", max_length=100)
    account_number = models.CharField("银行账号", max_length=32)
    state = models.CharField("状态", max_length=12, choices=PAYEE_STATES, default=PAYEE_PENDING)
    entered_by = models.ForeignKey(
        USER, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("填报时间", auto_now_add=True)
    checked_by = models.ForeignKey(
        USER,
        verbose_name="核验人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    checked_at = models.DateTimeField("核验时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        USER,
        verbose_name="确认人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    rejection_reason = models.TextField("未通过原因", blank=True)

    class Meta:
        verbose_name = "收款账户"
        verbose_name_plural = "收款账户"
        ordering = ("enterprise_id", "-entered_at", "-id")
        constraints = (
            # one account in force per enterprise: the confirmed one
            models.UniqueConstraint(
                fields=("enterprise",),
                condition=Q(state="confirmed"),
                name="payee_one_confirmed_per_enterprise",
            ),
            models.CheckConstraint(
                name="payee_four_eyes",
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=models.F("checked_by")),
            ),
        )

    def __str__(self) -> str:
        return f"{self.account_name} {self.bank} ****{self.account_number[-4:]}"

    @property
    def masked_number(self) -> str:
        """The account as shown beside a name: its last four digits only."""
        return f"**** {self.account_number[-4:]}"


BATCH_EXPORTED, BATCH_SETTLED = "exported", "settled"
BATCH_STATES = [(BATCH_EXPORTED, "已导出，待银行结果"), (BATCH_SETTLED, "已读入银行结果")]


class PaymentBatch(models.Model):
    round = models.ForeignKey(
        PolicyRoundRecord, verbose_name="轮次", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField("状态", max_length=10, choices=BATCH_STATES, default=BATCH_EXPORTED)
    count = models.PositiveIntegerField("笔数")
    total = MoneyField("合计金额（元）")
    csv_sha256 = models.CharField("CSV 文件 SHA-256", max_length=64)
    created_by = models.ForeignKey(
        USER, verbose_name="生成人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    result_sha256 = models.CharField("结果文件 SHA-256", max_length=64, blank=True)
    settled_by = models.ForeignKey(
        USER,
        verbose_name="读入人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    settled_at = models.DateTimeField("读入时间", null=True, blank=True)

    class Meta:
        verbose_name = "拨付批次"
        verbose_name_plural = "拨付批次"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"拨付批次 {self.pk}"


LINE_EXPORTED, LINE_PAID, LINE_RETURNED = "exported", "paid", "returned"
LINE_STATES = [(LINE_EXPORTED, "拨付中"), (LINE_PAID, "已拨付"), (LINE_RETURNED, "被退回")]


class PaymentInstruction(models.Model):
    batch = models.ForeignKey(
        PaymentBatch, verbose_name="批次", on_delete=models.PROTECT, related_name="lines"
    )
    position = models.PositiveIntegerField("序号")
    application = models.ForeignKey(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="payment_lines"
    )
    payee = models.ForeignKey(
        PayeeAccount, verbose_name="收款账户", on_delete=models.PROTECT, related_name="+"
    )
    amount = MoneyField("金额（元）")
    state = models.CharField("状态", max_length=10, choices=LINE_STATES, default=LINE_EXPORTED)
    result_reason = models.CharField("退回原因", max_length=300, blank=True)
    bank_reference = models.CharField("银行流水号", max_length=100, blank=True)
    settled_on = models.DateField("银行处理日期", null=True, blank=True)

    class Meta:
        verbose_name = "拨付指令"
        verbose_name_plural = "拨付指令"
        ordering = ("batch_id", "position")
        constraints = (
            models.UniqueConstraint(fields=("batch", "position"), name="payment_line_position"),
            # an application is in at most one batch at a time, and is paid once
            models.UniqueConstraint(
                fields=("application",),
                condition=Q(state="exported") | Q(state="paid"),
                name="payment_line_one_open_per_application",
            ),
            models.CheckConstraint(name="payment_line_positive", condition=Q(amount__gt=0)),
        )

    def __str__(self) -> str:
        return f"{self.batch_id}-{self.position}"


class Direction3Consent(models.Model):
    """意愿确认 of a direction-3 application (免申即享): the platform and the centre build it, so the
    enterprise itself confirms that it wants the subsidy and accepts the commitments of 附件14-4
    (the text it accepted is kept by its hash), with a payee account given. No approval without it."""

    application = models.OneToOneField(
        Application, verbose_name="申报", on_delete=models.PROTECT, related_name="d3_consent"
    )
    confirmed_by = models.ForeignKey(
        USER, verbose_name="确认人", on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", auto_now_add=True)
    commitments_sha256 = models.CharField("所接受承诺书文本的 SHA-256", max_length=64)

    class Meta:
        verbose_name = "方向三意愿确认"
        verbose_name_plural = "方向三意愿确认"

    def __str__(self) -> str:
        return f"{self.application_id} 意愿确认"
