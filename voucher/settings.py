"""One settings file, driven by the environment (healthchecks style); every variable is described
in docs/operations.md.

Production is the default: the settings refuse to start (ImproperlyConfigured, naming the
variable) with DEBUG on, without SECRET_KEY, with a known or weak key, or with the public demo on.
VOUCHER_DEV=1 marks a development machine: the tests (voucher/settings_dev.py), `voucher demo`
and `voucher evaluate` set it; it allows DEBUG and a built-in key and serves plain HTTP.

DATABASE_URL   e.g. postgres://user@127.0.0.1:5432/voucher; default SQLite in VOUCHER_DATA_DIR
VOUCHER_DATA_DIR  where the SQLite file, uploads, batch files and collected static files live
SECRET_KEY, DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS
SECURE_SSL_REDIRECT, SECURE_PROXY_SSL_HEADER, SECURE_HSTS_SECONDS (and _INCLUDE_SUBDOMAINS, _PRELOAD)
VOUCHER_STORAGE_BACKEND, VOUCHER_STORAGE_OPTIONS  where uploads and batch files are stored
VOUCHER_PUBLIC_DEMO  show the application pages without a login (set by `voucher demo`)
VOUCHER_AUDIT_KEY / VOUCHER_AUDIT_KEY_FILE, VOUCHER_AUDIT_CHECKPOINT_DIR, VOUCHER_AUDIT_PARTITIONS
               the audit log (docs/audit.md)
EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD(_FILE), EMAIL_USE_TLS / _SSL,
EMAIL_TIMEOUT, DEFAULT_FROM_EMAIL, SERVER_EMAIL  the SMTP relay
VOUCHER_SIGN_DOCUMENTS, VOUCHER_SIGNING_KEY_FILE, VOUCHER_SIGNING_CERT_FILE,
VOUCHER_SIGNING_KEY_PASSPHRASE, VOUCHER_SIGNING_TRUST_ROOTS  signed documents
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("VOUCHER_DATA_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# A development machine (the tests, the demo): said explicitly, never assumed.
VOUCHER_DEV = _env_bool("VOUCHER_DEV", False)

# The keys anyone can read in this repository or in Django's own template, never to be used.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
KNOWN_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "change-me", "changeme", "secret", "SECRET_KEY"})


def _production_refusal(name: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{name}: {problem}. These are the production settings; on a development machine set "
        "VOUCHER_DEV=1 (docs/operations.md)."
    )


DEBUG = _env_bool("DEBUG", False)
if DEBUG and not VOUCHER_DEV:
    raise _production_refusal("DEBUG", "is on, which shows tracebacks and settings to anyone")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not VOUCHER_DEV:
    if not SECRET_KEY:
        raise _production_refusal(
            "SECRET_KEY",
            "is not set; generate one with `python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`",
        )
    if (
        SECRET_KEY in KNOWN_SECRET_KEYS
        or SECRET_KEY.startswith("django-insecure")
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    ):
        raise _production_refusal(
            "SECRET_KEY",
            "is a known, built-in or weak key (at least 50 characters, 5 different, not published)",
        )
elif not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY
# Django's test client's host only on a development machine
ALLOWED_HOSTS = _env_list(
    "ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" + (",testserver" if VOUCHER_DEV else "")
)
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS: on in production (the defaults pass `voucher check --deploy`), off on a development
# machine. Behind a proxy that terminates TLS, SECURE_PROXY_SSL_HEADER names the header it sets
# (e.g. X-Forwarded-Proto): the proxy must overwrite it on every request.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not VOUCHER_DEV)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's and systemd's plain-HTTP probe
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if VOUCHER_DEV else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not VOUCHER_DEV)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", not VOUCHER_DEV)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", not VOUCHER_DEV)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", not VOUCHER_DEV)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
    "voucher.public",
    "voucher.staffapi",
    "voucher.demo",
    "ninja",  # the API pages' Swagger UI from our own static files (no CDN, no inline script)
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ from STATIC_ROOT (collectstatic)
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below, on every response
    "django.contrib.sessions.middleware.SessionMiddleware",
    "voucher.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "voucher.api.middleware.ApiProblemMiddleware",  # 404 and 405 under /api/ as problems
    "voucher.core.middleware.UploadLimitMiddleware",  # 413 before CSRF reads a large body
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's and django-otp's, the user and the device read with the session (decision 0053)
    "voucher.accounts.door.AuthenticationMiddleware",
    "voucher.accounts.door.OTPMiddleware",  # request.user.is_verified(): staff TOTP
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
                "voucher.core.clock.demo_clock",  # the demo clock's banner (base.html)
                "csp.context_processors.nonce",  # {{ CSP_NONCE }} (no template needs one yet)
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
# An index's INCLUDE columns (the dashboard's covering indexes, decision 0056) serve only
# PostgreSQL's index-only scans; SQLite has none and builds the index on its key columns alone,
# which is all it needs: its warning that it ignores them is silenced, not the feature lost.
# (Not W039: a unique constraint with INCLUDE is not created at all there; none has one.)
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Argon2id first, with OWASP's parameters (19 MiB, t=2, p=1: voucher/accounts/hashers.py, docs/
# operations.md): new and changed passwords are hashed with it; older hashes (Django's 100 MiB
# and 8 lanes, PBKDF2) are upgraded at login.
PASSWORD_HASHERS = [
    "voucher.accounts.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# django-axes first: it counts failed logins and refuses a locked-out one before the password
# is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its user read with the session (accounts/door.py, decision 0053)
    "voucher.accounts.door.ModelBackend",
    # model permissions in the admin: the access layer's administrator (applications/admin_site.py)
    "voucher.applications.admin_site.AdministratorBackend",
]
# Enterprises log in through the government's unified identity service (OpenID Connect,
# mozilla-django-oidc; docs/decisions/0024-oidc-login.md, docs/operations.md "Enterprise login"):
# on when OIDC_RP_CLIENT_ID is set. The ID token's claims name the legal person's USCC and name,
# and the person's own name.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
_oidc_secret_file = os.environ.get("OIDC_RP_CLIENT_SECRET_FILE", "")
try:
    OIDC_RP_CLIENT_SECRET = (
        Path(_oidc_secret_file).read_text().strip()
        if _oidc_secret_file
        else os.environ.get("OIDC_RP_CLIENT_SECRET", "")
    )
except OSError as exc:
    raise ImproperlyConfigured(f"OIDC_RP_CLIENT_SECRET_FILE cannot be read: {exc}") from exc
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
# unused (the claims are the ID token's), but the library asks for it
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid profile")
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
VOUCHER_OIDC_USCC_CLAIM = os.environ.get("VOUCHER_OIDC_USCC_CLAIM", "uscc")
# the enterprise's (legal person's) name; `name` is, as in OpenID Connect, the person's own name,
# which the pages show instead of the synthetic username oidc:<sub>
VOUCHER_OIDC_NAME_CLAIM = os.environ.get("VOUCHER_OIDC_NAME_CLAIM", "enterprise_name")
VOUCHER_OIDC_PERSON_NAME_CLAIM = os.environ.get("VOUCHER_OIDC_PERSON_NAME_CLAIM", "name")
VOUCHER_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if VOUCHER_OIDC_ENABLED:
    _missing = [
        name
        for name in (
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_ISSUER",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"OIDC_RP_CLIENT_ID is set, so {', '.join(_missing)} must be set too"
        )
    _plain = [
        name
        for name in (
            "OIDC_OP_ISSUER",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name].startswith("https://")
    ]
    if _plain and not VOUCHER_DEV:
        raise _production_refusal(", ".join(_plain), "must be https:// addresses")
    AUTHENTICATION_BACKENDS.append("voucher.accounts.oidc.EnterpriseOIDCBackend")
# Password sign-up (an e-mail and a password, then a typed USCC): for the demo and development;
# off in production unless VOUCHER_PASSWORD_SIGNUP=1.
VOUCHER_PASSWORD_SIGNUP = _env_bool("VOUCHER_PASSWORD_SIGNUP", VOUCHER_DEV)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # a user from one address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False


# E-mail: printed to the console unless EMAIL_BACKEND (and EMAIL_HOST…) say otherwise. The SMTP
# relay's address, port, login and encryption (docs/operations.md "E-mail"); the password from a
# file (EMAIL_HOST_PASSWORD_FILE, read by the service user only) rather than the environment.
def _email_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (true or false), not {value!r}")


def _email_number(name: str, default: str) -> int:
    value = os.environ.get(name, default).strip()
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ImproperlyConfigured(f"{name} must be a port or a number of seconds, not {value!r}")
    return int(value)


EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_USE_TLS = _email_flag("EMAIL_USE_TLS")  # STARTTLS, usually on port 587
EMAIL_USE_SSL = _email_flag("EMAIL_USE_SSL")  # TLS from the start, usually on port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL: set one of them, not both")
EMAIL_PORT = _email_number(
    "EMAIL_PORT", "465" if EMAIL_USE_SSL else "587" if EMAIL_USE_TLS else "25"
)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
_email_password_file = os.environ.get("EMAIL_HOST_PASSWORD_FILE", "")
try:
    EMAIL_HOST_PASSWORD = (
        Path(_email_password_file).read_text().strip()
        if _email_password_file
        else os.environ.get("EMAIL_HOST_PASSWORD", "")
    )
except OSError as exc:
    raise ImproperlyConfigured(f"EMAIL_HOST_PASSWORD_FILE cannot be read: {exc}") from exc
EMAIL_TIMEOUT = _email_number("EMAIL_TIMEOUT", "10")  # seconds: a dead relay does not hang a page
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "算力券申报系统 <noreply@example.cn>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # errors mailed to ADMINS

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
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static")).resolve()
# WhiteNoise serves what `voucher collectstatic` put in STATIC_ROOT, compressed and under names
# with their hash (cached for a year). A development machine serves the source files as they are.
WHITENOISE_USE_FINDERS = VOUCHER_DEV
WHITENOISE_AUTOREFRESH = VOUCHER_DEV

# Uploads and platform batch files go through the storage API (STORAGES["default"]): local files
# under VOUCHER_DATA_DIR by default (uploads/<sha256>, platform-batches/<sha256>); several app servers share an S3-compatible store with
# VOUCHER_STORAGE_BACKEND=storages.backends.s3.S3Storage and its OPTIONS as JSON
# (docs/operations.md, `pip install django-storages[s3]`).
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("VOUCHER_STORAGE_BACKEND", "voucher.core.files.DataDirStorage"),
        "OPTIONS": json.loads(os.environ.get("VOUCHER_STORAGE_OPTIONS", "") or "{}"),
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if VOUCHER_DEV
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Sessions in the database (Django's default): any app server reads any session. The cache (the
# API's throttle counters) in the database too in production, shared by every worker and server
# (`voucher createcachetable`, which scripts/serve runs); a development machine keeps it in memory.
# Django's database engine on a table of our own, accounts.Session: the session's row is read
# with its user's, its TOTP device's and the user's groups in one query (voucher/accounts/door.py,
# decision 0053).
SESSION_ENGINE = "voucher.accounts.door"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if os.environ.get("VOUCHER_CACHE", "memory" if VOUCHER_DEV else "database") == "memory"
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "voucher_cache",
    }
}

# Content-Security-Policy on every response (django-csp): scripts and style sheets only from this
# site's own files, nothing inline but style attributes (bar widths, the registry's diagrams);
# no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

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
        "supplier_confirmations": 10,  # a supplier's file of confirmed lines (issue 22)
        "registry_import": 200,  # one request of the company registry import (review site)
        "list": 50,  # an official or outside list (review site)
        "invoice": 10,  # an e-invoice read to prefill the invoice form
        "objection": 10,  # one file sent with a public objection (the publicity page)
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
if VOUCHER_PUBLIC_DEMO and not VOUCHER_DEV:
    raise _production_refusal(
        "VOUCHER_PUBLIC_DEMO", "is on, which shows every application to anyone"
    )

# The demo's clock (voucher/core/clock.py): a file holding how many days "today" runs ahead, so the
# demo and the tests reach the end of a publicity period or a clawback's due date in one sitting
# (`voucher clock advance 8`). Development only: production counts the real date.
VOUCHER_DEMO_CLOCK_FILE = os.environ.get("VOUCHER_DEMO_CLOCK_FILE") or (
    str(DATA_DIR / "demo-clock") if VOUCHER_DEV else ""
)
if VOUCHER_DEMO_CLOCK_FILE and not VOUCHER_DEV:
    raise _production_refusal(
        "VOUCHER_DEMO_CLOCK_FILE", "is set, which moves the date every rule counts with"
    )

# Objections sent through the public publicity page, per address and hour (voucher/public).
VOUCHER_PUBLIC_OBJECTIONS_PER_HOUR = int(os.environ.get("VOUCHER_PUBLIC_OBJECTIONS_PER_HOUR", "5"))

# The platform worker writes a heartbeat each loop; /healthz calls it stale after this long.
VOUCHER_WORKER_STALE_SECONDS = int(os.environ.get("VOUCHER_WORKER_STALE_SECONDS", "120"))

# The consumption worker (docs/workers.md): a batch is held under a lease its heartbeat renews;
# another worker takes a batch whose lease ran out (its worker was killed) within a lease.
VOUCHER_WORKER_LEASE_SECONDS = float(os.environ.get("VOUCHER_WORKER_LEASE_SECONDS", "60"))
VOUCHER_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("VOUCHER_WORKER_HEARTBEAT_SECONDS", "15"))

# The documents (14-2, 14-3, 14-4, the package) are rendered by `voucher documents worker`, each
# render killed after VOUCHER_DOCUMENT_TIMEOUT_SECONDS; VOUCHER_DOCUMENTS_INLINE renders them in
# the request instead (development, the tests and the demo, where no worker runs).
VOUCHER_DOCUMENT_TIMEOUT_SECONDS = float(os.environ.get("VOUCHER_DOCUMENT_TIMEOUT_SECONDS", "60"))
VOUCHER_DOCUMENTS_INLINE = _env_bool("VOUCHER_DOCUMENTS_INLINE", VOUCHER_DEV)

# Work done after the request (voucher/core/jobs.py: a submission's evaluation, its counts and its
# receipt e-mail) is done by `voucher jobs worker`, which takes a job under a lease of
# VOUCHER_JOB_LEASE_SECONDS (a killed worker's job is taken again after it); VOUCHER_JOBS_INLINE
# does it in the request instead (development, the tests and the demo, where no worker runs).
VOUCHER_JOB_LEASE_SECONDS = float(os.environ.get("VOUCHER_JOB_LEASE_SECONDS", "60"))
# The worker lets a rush of requests pass: while a job was queued within the last
# VOUCHER_JOBS_SETTLE_SECONDS it takes only jobs that waited VOUCHER_JOBS_MAX_DEFER_SECONDS.
VOUCHER_JOBS_SETTLE_SECONDS = float(os.environ.get("VOUCHER_JOBS_SETTLE_SECONDS", "1"))
VOUCHER_JOBS_MAX_DEFER_SECONDS = float(os.environ.get("VOUCHER_JOBS_MAX_DEFER_SECONDS", "30"))
VOUCHER_JOBS_INLINE = _env_bool("VOUCHER_JOBS_INLINE", VOUCHER_DEV)

# The audit log (docs/audit.md). Its HMAC keys live outside the database: VOUCHER_AUDIT_KEY, or
# VOUCHER_AUDIT_KEY_FILE (one key a line); the first signs, the others are retired keys still
# accepted by `voucher audit verify`. Without one, development and tests use a key derived from
# SECRET_KEY; production (as for SECRET_KEY above) refuses to start.
_audit_key_file = os.environ.get("VOUCHER_AUDIT_KEY_FILE", "")
try:
    _audit_keys = Path(_audit_key_file).read_text() if _audit_key_file else ""
except OSError as exc:
    raise ImproperlyConfigured(f"VOUCHER_AUDIT_KEY_FILE cannot be read: {exc}") from exc
VOUCHER_AUDIT_KEYS = (_audit_keys or os.environ.get("VOUCHER_AUDIT_KEY", "")).split()
if any(len(key) < 32 for key in VOUCHER_AUDIT_KEYS):
    raise ImproperlyConfigured("an audit key has at least 32 characters (openssl rand -hex 32)")
if not VOUCHER_AUDIT_KEYS and not VOUCHER_DEV:
    raise ImproperlyConfigured("VOUCHER_AUDIT_KEY or VOUCHER_AUDIT_KEY_FILE must be set")
# Signed checkpoints of the log's head, appended outside the database every N entries and by
# `voucher audit checkpoint` (cron or a systemd timer); 0 turns the automatic ones off.
VOUCHER_AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("VOUCHER_AUDIT_CHECKPOINT_DIR", DATA_DIR / "audit-checkpoints")
)
VOUCHER_AUDIT_CHECKPOINT_EVERY = int(os.environ.get("VOUCHER_AUDIT_CHECKPOINT_EVERY", "100"))
# Writers append to one of this many chains, each with its own head row, so that they do not
# queue on one row (docs/decisions/0017-audit-partitions.md). Changing it later is safe.
VOUCHER_AUDIT_PARTITIONS = int(os.environ.get("VOUCHER_AUDIT_PARTITIONS", "16"))

# Signed documents (docs/decisions/0023-signed-documents.md): the decision notice and the
# submission receipt are PAdES-signed PDFs. VOUCHER_SIGNING_KEY_FILE / VOUCHER_SIGNING_CERT_FILE
# (PEM; the certificate file may carry the chain after the signer's certificate), an optional
# VOUCHER_SIGNING_KEY_PASSPHRASE, and VOUCHER_SIGNING_TRUST_ROOTS (PEM; default: the root of the
# signing certificate file) for `voucher documents verify` and the review page. Signing is on
# unless VOUCHER_SIGN_DOCUMENTS=0; production refuses to start while it is on without a key; a
# development machine without one makes its own certificate once in VOUCHER_DATA_DIR/signing/.
VOUCHER_SIGN_DOCUMENTS = _env_bool("VOUCHER_SIGN_DOCUMENTS", True)
VOUCHER_SIGNING_KEY_FILE = os.environ.get("VOUCHER_SIGNING_KEY_FILE", "")
VOUCHER_SIGNING_CERT_FILE = os.environ.get("VOUCHER_SIGNING_CERT_FILE", "")
VOUCHER_SIGNING_KEY_PASSPHRASE = os.environ.get("VOUCHER_SIGNING_KEY_PASSPHRASE", "")
VOUCHER_SIGNING_TRUST_ROOTS = os.environ.get("VOUCHER_SIGNING_TRUST_ROOTS", "")
if bool(VOUCHER_SIGNING_KEY_FILE) != bool(VOUCHER_SIGNING_CERT_FILE):
    raise ImproperlyConfigured(
        "VOUCHER_SIGNING_KEY_FILE and VOUCHER_SIGNING_CERT_FILE are set together or not at all"
    )
for _name in (
    "VOUCHER_SIGNING_KEY_FILE",
    "VOUCHER_SIGNING_CERT_FILE",
    "VOUCHER_SIGNING_TRUST_ROOTS",
):
    _value = globals()[_name]
    if _value and not Path(_value).is_file():
        raise ImproperlyConfigured(f"{_name}: {_value} is not a readable file")
if VOUCHER_SIGN_DOCUMENTS and not VOUCHER_SIGNING_KEY_FILE and not VOUCHER_DEV:
    raise _production_refusal(
        "VOUCHER_SIGNING_KEY_FILE",
        "is not set while VOUCHER_SIGN_DOCUMENTS is on; the decision notice and the receipt are "
        "signed with it (set VOUCHER_SIGNING_KEY_FILE and VOUCHER_SIGNING_CERT_FILE, or "
        "VOUCHER_SIGN_DOCUMENTS=0 to issue them unsigned)",
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
