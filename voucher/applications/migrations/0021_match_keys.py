# The invoice and contract numbers as the cross checks compare them, kept and indexed
# (voucher.applications.models.application.MatchKeyField), filled for the rows stored before.

from django.db import migrations, models

import voucher.applications.models.application


def _key(number):
    """voucher.policy.format.invoice_key as it is today (a migration keeps its own copy)."""
    return str(number).strip().upper()


def fill(apps, schema_editor):
    for model, source, key in (
        ("Invoice", "number", "number_key"),
        ("Contract", "contract_id", "contract_key"),
    ):
        Model = apps.get_model("applications", model)
        batch = []
        for pk, number in Model.objects.order_by("pk").values_list("pk", source).iterator():
            batch.append(Model(pk=pk, **{key: _key(number)}))
            if len(batch) >= 2000:
                Model.objects.bulk_update(batch, [key])
                batch = []
        if batch:
            Model.objects.bulk_update(batch, [key])


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0020_contract_supplier_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="contract",
            name="contract_key",
            field=voucher.applications.models.application.MatchKeyField(
                default="",
                max_length=300,
                source="contract_id",
                verbose_name="合同编号（比对用）",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invoice",
            name="number_key",
            field=voucher.applications.models.application.MatchKeyField(
                db_index=True,
                default="",
                max_length=300,
                source="number",
                verbose_name="发票号码（比对用）",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["supplier_uscc", "contract_key"], name="contract_supplier_key"),
        ),
    ]
