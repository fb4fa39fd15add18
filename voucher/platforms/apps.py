from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "voucher.platforms"
    verbose_name = "方向三 · 开源平台"
    # `voucher backup` (voucher/core/backup.py): the uploaded consumption files
    backup_file_areas = (("platform-batches", "voucher.platforms.actions.common.batch_dir"),)
    backup_file_references = (("platform-batches", "platforms.ConsumptionBatch", "file_sha256"),)

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from voucher.platforms.aggregate_batch import installed_after_migrate

        # the triggers that keep the aggregates' batch (a migration remaking a table drops them)
        post_migrate.connect(installed_after_migrate, sender=self)
        # a decision on a direction-3 application waits for the platform's data as they are
        from voucher.applications.ports import plug_platform_data_check
        from voucher.platforms.selectors import platform_data_changed, platform_data_changed_of

        plug_platform_data_check(platform_data_changed, platform_data_changed_of)
