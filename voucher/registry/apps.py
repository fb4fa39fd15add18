from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "voucher.registry"
    label = "registry"
    verbose_name = "企业登记信息"
