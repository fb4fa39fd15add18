from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "voucher.review"
    label = "review"
    verbose_name = "审核、决定与拨付"
    default_auto_field = "django.db.models.BigAutoField"
