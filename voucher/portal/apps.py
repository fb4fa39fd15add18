from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "voucher.portal"
    label = "portal"
    verbose_name = "申报门户"

    def ready(self) -> None:
        # The application package (voucher.documents) lists the files uploaded here.
        from voucher.documents.package import register_material_source
        from voucher.portal.selectors import packaged_material_files

        register_material_source(packaged_material_files)

        # A submission's evaluation, counts and receipt e-mail, after the request.
        from voucher.core import jobs
        from voucher.portal.actions import SUBMISSION_EVALUATE, submission_evaluate

        jobs.register(SUBMISSION_EVALUATE, submission_evaluate)
