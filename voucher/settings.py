"""One settings file, driven by the environment (healthchecks style).

DATABASE_URL   e.g. postgres://user@127.0.0.1:5432/voucher; default SQLite in VOUCHER_DATA_DIR
VOUCHER_DATA_DIR  where the SQLite file and uploads live (default ./var)
SECRET_KEY, DEBUG, ALLOWED_HOSTS
VOUCHER_PUBLIC_DEMO  show the application pages without a login (set by `voucher demo`)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("VOUCHER_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("VOUCHER_REQUIRE_SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-change-me"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")

INSTALLED_APPS = [
    "voucher.applications.apps.VoucherAdminConfig",  # django.contrib.admin, one door
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "voucher.core",
    "voucher.applications",
    "voucher.registry",
    "voucher.documents",
    "voucher.platforms",
    "axes",
    "voucher.accounts",
    "voucher.portal",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "voucher.review",
    "voucher.staffapi",
    "voucher.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "voucher.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "voucher.api.middleware.ApiProblemMiddleware",  # 404 and 405 under /api/ as problems
    "voucher.core.middleware.UploadLimitMiddleware",  # 413 before CSRF reads a large body
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): staff TOTP
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "voucher.core.middleware.RefusedPageMiddleware",  # an uncaught refusal: a page, not a 500
    # last, as django-axes asks: it turns a locked-out login into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "voucher.urls"
WSGI_APPLICATION = "voucher.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "voucher.review.typed.typed_form",  # a refused review form comes back filled
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'voucher.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock instead of failing at once ("database is locked"): the
    # portal's live self-check and a form save may arrive together.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # Tests use a database file, not memory: Django shares one in-memory connection between
    # the live server's threads, and two requests at once then corrupt each other's state.
    # One file per test process, so two test runs on one checkout never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-voucher-{os.getpid()}.sqlite3")}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and changed passwords are hashed with it; older hashes are upgraded at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# django-axes first: it counts failed logins and refuses a locked-out one before the password
# is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # model permissions in the admin: the access layer's administrator (applications/admin_site.py)
    "voucher.applications.admin_site.AdministratorBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # a user from one address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# E-mail: printed to the console unless EMAIL_BACKEND (and EMAIL_HOST…) say otherwise.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "算力券申报系统 <noreply@example.cn>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

LOGIN_URL = "admin:login"  # staff pages; the portal sends applicants to accounts:login
LOGIN_REDIRECT_URL = "portal:home"

# Upload limits, MB per file, per kind (docs/uploads.md); each may be set in the environment as
# VOUCHER_MAX_UPLOAD_MB_<KIND>. A request over its view's limit (+1 MB for the form) is answered
# 413 before its body is read (voucher.core.middleware.UploadLimitMiddleware).
VOUCHER_MAX_UPLOAD_MB = {
    kind: float(os.environ.get(f"VOUCHER_MAX_UPLOAD_MB_{kind.upper()}", default))
    for kind, default in {
        "materials": 50,  # one material file of an application (the portal)
        "licence": 20,  # the business licence of an enterprise claim
        "application_import": 5,  # the Excel/CSV import of an application's contracts
        "registry_import": 200,  # one request of the company registry import (review site)
        "list": 50,  # an official or outside list (review site)
        "invoice": 10,  # an e-invoice read to prefill the invoice form
        "consumption": 512,  # a platform's consumption file (API)
        "settlement": 512,  # a platform's settlement file (API)
    }.items()
}
# Uploads of the applicant portal: stored under DATA_DIR/uploads/<sha256>, outside the web root.
VOUCHER_UPLOAD_MAX_APPLICATION_BYTES = int(
    os.environ.get("VOUCHER_UPLOAD_MAX_APPLICATION_BYTES", 200 * 2**20)
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20

# The application pages are for staff; a demo (`voucher demo`, or DEBUG) shows them to anyone.
VOUCHER_PUBLIC_DEMO = _env_bool("VOUCHER_PUBLIC_DEMO", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
