"""The stand-in provider served alone, beside `voucher demo` (`scripts/demo-idp`): the development
settings with its own SQLite file, its own cookies (the demo's are on the same host) and only
the provider's URLs."""

import os

os.environ["VOUCHER_DEV"] = "1"

from voucher.settings_dev import *  # noqa: F403

ROOT_URLCONF = "voucher.idp.alone_urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "idp.sqlite3"),  # noqa: F405
    }
}
SESSION_COOKIE_NAME = "idp_sessionid"
CSRF_COOKIE_NAME = "idp_csrftoken"
