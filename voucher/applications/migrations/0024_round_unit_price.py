from django.db import migrations, models

import voucher.core.columns


def _triggers(apps, schema_editor):
    """The triggers that keep the counts, and the counts of the rows stored before them."""
    from voucher.applications.unit_prices import install

    install(schema_editor.connection)


def _no_triggers(apps, schema_editor):
    from voucher.applications.unit_prices import drop

    drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0023_supplier_attestation_uscc"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoundUnitPrice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("round_id", models.BigIntegerField(verbose_name="轮次")),
                ("device", models.CharField(max_length=100, verbose_name="设备型号")),
                ("unit", models.CharField(max_length=50, verbose_name="单位")),
                ("unit_price", voucher.core.columns.QuantityField(verbose_name="单价（元）")),
                ("shard", models.SmallIntegerField(verbose_name="分片")),
                ("deliveries", models.IntegerField(verbose_name="交付记录数")),
            ],
            options={
                "verbose_name": "本轮单价样本数",
                "verbose_name_plural": "本轮单价样本数",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("round_id", "device", "unit", "unit_price", "shard"),
                        name="one_count_per_price",
                    )
                ],
            },
        ),
        migrations.RunPython(_triggers, _no_triggers),
    ]
