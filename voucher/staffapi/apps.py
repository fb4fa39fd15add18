from django.apps import AppConfig


class StaffApiConfig(AppConfig):
    name = "voucher.staffapi"
    label = "staffapi"
    verbose_name = "审核接口令牌 (bureau API tokens)"
    default_auto_field = "django.db.models.BigAutoField"
