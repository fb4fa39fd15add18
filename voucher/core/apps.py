from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "voucher.core"
    label = "core"
    verbose_name = "核心"
