from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "voucher.platforms"
    verbose_name = "方向三 · 开源平台"

    def ready(self) -> None:
        # a decision on a direction-3 application waits for the platform's data as they are
        from voucher.applications.ports import plug_platform_data_check
        from voucher.platforms.selectors import platform_data_changed

        plug_platform_data_check(platform_data_changed)
