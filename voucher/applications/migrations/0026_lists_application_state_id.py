# The state index with the id beside it (decision 0054): 我的待办's count reads the index alone.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0025_application_state"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="application",
            name="application_state",
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["state", "id"], name="application_state_id"),
        ),
    ]
