from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "voucher.applications"
    label = "applications"
    verbose_name = "申报"
