from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "voucher.platforms"
    verbose_name = "方向三 · 开源平台"
