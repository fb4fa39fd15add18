from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "voucher.portal"
    label = "portal"
    verbose_name = "申报门户"
