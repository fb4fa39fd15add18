from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "voucher.demo"
    label = "demo"
    verbose_name = "演示"
