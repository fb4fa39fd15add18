from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ApplicationsConfig(AppConfig):
    default = True
    name = "voucher.applications"
    label = "applications"
    verbose_name = "申报"
    # `voucher backup` (voucher/core/backup.py): the uploads' store and the rows naming its files
    backup_file_areas = (("uploads", "voucher.applications.uploads.upload_dir"),)
    backup_file_references = (("uploads", "applications.MaterialFile", "sha256"),)

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from voucher.applications.unit_prices import installed_after_migrate

        post_migrate.connect(installed_after_migrate, sender=self)


class VoucherAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with its site behind the one door (admin_site.py)."""

    default = False
    default_site = "voucher.applications.admin_site.AdministratorsAdminSite"
