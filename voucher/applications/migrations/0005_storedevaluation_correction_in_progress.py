"""StoredEvaluation.correction_in_progress, and the evaluations already stored that it describes.

Of those, only the ones that could show as an application's latest to the bureau matter: those of
an application now returned for 补正, made since the bureau's latest request. (An evaluation made
during an earlier 补正 is followed by the one made at resubmission, which stays the latest. One of
an application withdrawn during 补正 stays unmarked: the bureau no longer judges it.)
"""

from django.db import migrations, models


def mark_corrections_in_progress(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    StoredEvaluation = apps.get_model("applications", "StoredEvaluation")
    Snapshot = apps.get_model("review", "Snapshot")
    SupplementRequest = apps.get_model("review", "SupplementRequest")
    returned = Application.objects.filter(state="supplement_requested").values_list("pk", flat=True)
    for application_id in returned:
        # the request's own record, and the snapshot taken at its transition: the earlier
        times = [
            Snapshot.objects.filter(application_id=application_id, transition="request_supplement")
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first(),
            SupplementRequest.objects.filter(application_id=application_id)
            .order_by("-requested_at")
            .values_list("requested_at", flat=True)
            .first(),
        ]
        known = [t for t in times if t is not None]
        if known:
            StoredEvaluation.objects.filter(
                application_id=application_id, created_at__gt=min(known)
            ).update(correction_in_progress=True)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0004_storedevaluation_parameters_sha256"),
        ("review", "0002_flaggeddevice_unitpriceband"),
    ]

    operations = [
        migrations.AddField(
            model_name="storedevaluation",
            name="correction_in_progress",
            field=models.BooleanField(default=False, verbose_name="补正中（未重新提交）版本的评估"),
        ),
        migrations.RunPython(mark_corrections_in_progress, migrations.RunPython.noop),
    ]
