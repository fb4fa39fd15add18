"""The consumption aggregates' amounts in whole fen and quantity as decimal text, exact on SQLite
and PostgreSQL (voucher.core.columns, docs/decisions/0015-exact-money-in-storage.md)."""

from django.db import migrations

from voucher.core import columns


class Migration(migrations.Migration):
    dependencies = [
        ("platforms", "0005_shortlist_entries_of_application"),
    ]

    operations = [
        columns.YuanToFen(
            model_name="consumptionaggregate",
            name="amount",
            field=columns.MoneyField(verbose_name="期内金额"),
        ),
        columns.YuanToFen(
            model_name="consumptionaggregate",
            name="outside_amount",
            field=columns.MoneyField(verbose_name="期外金额"),
        ),
        columns.DecimalToText(
            model_name="consumptionaggregate",
            name="quantity",
            field=columns.QuantityField(verbose_name="期内数量"),
        ),
    ]
