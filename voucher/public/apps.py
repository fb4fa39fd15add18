from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "voucher.public"
    label = "public"
    verbose_name = "公示（公开页面）"
