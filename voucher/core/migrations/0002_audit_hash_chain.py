"""Chain the audit log: every entry carries its predecessor's hash and its own."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

GENESIS = "0" * 64


def _hash(previous, e):
    # Same content and encoding as voucher.core.audit.entry_hash (kept here: migrations are frozen).
    content = json.dumps(
        [
            previous,
            e.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            e.actor_label,
            e.action,
            e.object_type,
            e.object_id,
            e.object_repr,
            e.data,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def chain_existing(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    Head = apps.get_model("core", "AuditChainHead")
    previous, last_id = GENESIS, None
    for e in AuditEntry.objects.order_by("id"):
        e.previous_hash = previous
        e.entry_hash = _hash(previous, e)
        AuditEntry.objects.filter(pk=e.pk).update(
            previous_hash=e.previous_hash, entry_hash=e.entry_hash
        )
        previous, last_id = e.entry_hash, e.pk
    Head.objects.update_or_create(pk=1, defaults={"last_hash": previous, "last_entry_id": last_id})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_entry_id", models.BigIntegerField(null=True)),
                ("last_hash", models.CharField(default=GENESIS, max_length=64)),
            ],
            options={"verbose_name": "操作日志链头", "verbose_name_plural": "操作日志链头"},
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="created_at",
            field=models.DateTimeField(db_index=True, verbose_name="时间"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="上一条哈希"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="本条哈希"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="entry_hash",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="本条哈希"),
        ),
    ]
