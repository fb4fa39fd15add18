"""Money in whole fen and quantities as decimal text, exact on SQLite and PostgreSQL
(voucher.core.columns, docs/decisions/0015-exact-money-in-storage.md).

Each amount becomes its fen (`YuanToFen`: Django's AlterField would cast the yuan to an integer),
each quantity and unit price its text with six places (`DecimalToText`). The CHECK constraints
that compare two amounts are removed first and added again after, so that no row is checked with
one amount in fen and the other in yuan.
"""

from django.db import migrations, models
from django.db.models import F, Q

from voucher.core import columns

# the constraints comparing two amounts, as the models declare them
DECISION_AT_MOST_APPROVED_MAX = models.CheckConstraint(
    name="decision_amount_at_most_approved_max",
    condition=Q(amount__gte=0, amount__lte=F("approved_max_at_decision")),
)
DECISION_LOWERED_NEEDS_REASON = models.CheckConstraint(
    name="decision_lowered_needs_reason",
    condition=Q(amount=F("approved_max_at_decision"))
    | Q(kind="rejection")
    | ~Q(lowered_reason=""),
)
BAND_MINIMUM_NOT_ABOVE_MAXIMUM = models.CheckConstraint(
    condition=Q(minimum__gte=0) & Q(maximum__gte=F("minimum")),
    name="band_minimum_not_above_maximum",
)
COMPARING = (
    ("decision", DECISION_AT_MOST_APPROVED_MAX),
    ("decision", DECISION_LOWERED_NEEDS_REASON),
    ("unitpriceband", BAND_MINIMUM_NOT_ABOVE_MAXIMUM),
)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0006_move_lifecycle_to_core"),
    ]

    operations = [
        *(
            migrations.RemoveConstraint(model_name=model, name=constraint.name)
            for model, constraint in COMPARING
        ),
        columns.YuanToFen(
            model_name="application",
            name="requested_amount",
            field=columns.MoneyField(blank=True, null=True, verbose_name="申请金额（元）"),
        ),
        columns.YuanToFen(
            model_name="budget",
            name="amount",
            field=columns.MoneyField(verbose_name="预算（元）"),
        ),
        columns.YuanToFen(
            model_name="clawback",
            name="amount",
            field=columns.MoneyField(verbose_name="应退金额（元）"),
        ),
        columns.YuanToFen(
            model_name="clawback",
            name="refunded_amount",
            field=columns.MoneyField(blank=True, null=True, verbose_name="已退金额（元）"),
        ),
        columns.YuanToFen(
            model_name="contract",
            name="total_amount",
            field=columns.MoneyField(verbose_name="合同总额（元）"),
        ),
        columns.YuanToFen(
            model_name="decision",
            name="amount",
            field=columns.MoneyField(verbose_name="核定金额（元）"),
        ),
        columns.YuanToFen(
            model_name="decision",
            name="approved_max_at_decision",
            field=columns.MoneyField(verbose_name="最高可核定（元）"),
        ),
        columns.YuanToFen(
            model_name="delivery",
            name="amount",
            field=columns.MoneyField(verbose_name="金额（元）"),
        ),
        columns.DecimalToText(
            model_name="delivery",
            name="quantity",
            field=columns.QuantityField(verbose_name="数量"),
        ),
        columns.DecimalToText(
            model_name="delivery",
            name="unit_price",
            field=columns.QuantityField(verbose_name="单价（元）"),
        ),
        columns.YuanToFen(
            model_name="invoice",
            name="amount",
            field=columns.MoneyField(verbose_name="金额（元）"),
        ),
        columns.YuanToFen(
            model_name="othersubsidy",
            name="amount",
            field=columns.MoneyField(verbose_name="金额（元）"),
        ),
        columns.YuanToFen(
            model_name="payment",
            name="amount",
            field=columns.MoneyField(verbose_name="金额（元）"),
        ),
        columns.YuanToFen(
            model_name="paymentrecord",
            name="amount",
            field=columns.MoneyField(verbose_name="拨付金额（元）"),
        ),
        columns.YuanToFen(
            model_name="storedevaluation",
            name="approved_max",
            field=columns.MoneyField(verbose_name="最高可核定（元）"),
        ),
        columns.YuanToFen(
            model_name="storedevaluation",
            name="cap",
            field=columns.MoneyField(verbose_name="方向上限（元）"),
        ),
        columns.YuanToFen(
            model_name="storedevaluation",
            name="computed",
            field=columns.MoneyField(verbose_name="测算补贴（元）"),
        ),
        columns.YuanToFen(
            model_name="storedevaluation",
            name="requested",
            field=columns.MoneyField(blank=True, null=True, verbose_name="申请金额（元）"),
        ),
        columns.YuanToFen(
            model_name="unitpriceband",
            name="maximum",
            field=columns.MoneyField(verbose_name="单价上限（元）"),
        ),
        columns.YuanToFen(
            model_name="unitpriceband",
            name="minimum",
            field=columns.MoneyField(verbose_name="单价下限（元）"),
        ),
        *(
            migrations.AddConstraint(model_name=model, constraint=constraint)
            for model, constraint in COMPARING
        ),
    ]
