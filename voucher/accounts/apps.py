from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "voucher.accounts"
    label = "accounts"
    verbose_name = "账户与企业"
    # `voucher backup`: an enterprise claim's licence is kept in the uploads' store
    backup_file_references = (("uploads", "accounts.EnterpriseClaim", "licence_sha256"),)
