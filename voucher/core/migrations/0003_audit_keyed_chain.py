"""Number the audit log and make room for keyed entries (issue 18 item 4; docs/audit.md).

Entries already written keep their unkeyed hash and are marked version 1 (legacy); they are
numbered 1, 2, 3 … in the order written. New entries are version 2: an HMAC of every column
under a key outside the database. The first keyed entry covers the hash of the last legacy one,
so it pins the legacy part; `voucher audit checkpoint` writes one at once if none exists yet.
"""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def number_existing(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    Head = apps.get_model("core", "AuditChainHead")
    sequence = 0
    for pk in AuditEntry.objects.order_by("id").values_list("pk", flat=True).iterator():
        sequence += 1
        AuditEntry.objects.filter(pk=pk).update(sequence=sequence)
    Head.objects.filter(pk=1).update(last_sequence=sequence)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_hash_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="sequence",
            field=models.BigIntegerField(editable=False, null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="version",
            field=models.PositiveSmallIntegerField(
                default=1, editable=False, verbose_name="哈希版本"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=16, verbose_name="密钥标识"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="last_sequence",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="sequence",
            field=models.BigIntegerField(editable=False, unique=True, verbose_name="序号"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="操作人",
            ),
        ),
    ]
