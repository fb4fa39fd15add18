"""One audit chain per partition, so that writers do not queue on one head row (issue 23 item 3;
docs/decisions/0017-audit-partitions.md). Nothing is rewritten: the entries already written and
the one head row become partition 0, whose chain the next entries of partition 0 continue; the
checkpoints already written pin partition 0."""

from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations, models


def reset_head_ids(apps, schema_editor):
    """Migration 0002 wrote the one head row with id 1 by hand, so PostgreSQL's id sequence never
    moved: the next partition's head would be given id 1 again."""
    Head = apps.get_model("core", "AuditChainHead")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Head]):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_worker_heartbeat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='auditchainhead',
            name='partition',
            field=models.PositiveSmallIntegerField(default=0, unique=True),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='partition',
            field=models.PositiveSmallIntegerField(default=0, editable=False, verbose_name='分区'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='sequence',
            field=models.BigIntegerField(editable=False, verbose_name='序号'),
        ),
        migrations.AddConstraint(
            model_name='auditentry',
            constraint=models.UniqueConstraint(fields=('partition', 'sequence'), name='core_auditentry_partition_sequence'),
        ),
        migrations.RunPython(reset_head_ids, migrations.RunPython.noop),
    ]
