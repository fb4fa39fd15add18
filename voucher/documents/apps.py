from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "voucher.documents"
    verbose_name = "申报文书"

    def ready(self) -> None:
        # every upload (applications/uploads.py, below this app) is scanned for classification marks
        from voucher.applications.ports import plug_classified_scan
        from voucher.documents.classified import upload_scan

        plug_classified_scan(upload_scan)
