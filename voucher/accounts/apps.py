from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "voucher.accounts"
    label = "accounts"
    verbose_name = "账户与企业"
