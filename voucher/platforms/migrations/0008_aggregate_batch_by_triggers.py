"""The aggregates' batch kept by triggers instead of a foreign-key constraint (decision 0039)."""

import django.db.models.deletion
from django.db import migrations, models


def _triggers(apps, schema_editor):
    from voucher.platforms.aggregate_batch import install

    install(schema_editor.connection)


def _no_triggers(apps, schema_editor):
    from voucher.platforms.aggregate_batch import drop

    drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("platforms", "0007_batch_lease"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consumptionaggregate",
            name="batch",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="aggregates",
                to="platforms.consumptionbatch",
            ),
        ),
        migrations.RunPython(_triggers, _no_triggers),
    ]
