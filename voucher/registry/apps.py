from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "voucher.registry"
    label = "registry"
    verbose_name = "企业登记信息"

    def ready(self) -> None:
        # the evaluation (applications, below this app) searches the stored registry
        from voucher.applications.ports import plug_registry
        from voucher.registry.store import StoredRegistry

        plug_registry(StoredRegistry)
