from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "voucher.review"
    label = "review"
    verbose_name = "审核、决定与拨付"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from voucher.applications.ports import plug_evaluations_stored
        from voucher.review.crosscheck import cross_counts_after_evaluation, cross_counts_missing

        plug_evaluations_stored(cross_counts_after_evaluation)
        post_migrate.connect(cross_counts_missing, sender=self)
