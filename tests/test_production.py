"""Production (issue 18 items 1 and 2): the settings refuse to start when unsafe, pass
`check --deploy` when configured, send HTTPS headers, secure cookies and a Content-Security-Policy;
/healthz answers for the database and the platform worker's heartbeat.

The settings module is read in a child process with the environment of a production machine
(no VOUCHER_DEV, which the tests' own settings set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from voucher.core.heartbeat import PLATFORMS_WORKER, WorkerHeartbeat, beat
from voucher.documents.signing import make_self_signed

from .conftest import ROOT

GOOD_KEY = "k7Qw-p2vXz9LmN4rT8yB1cD6fG3hJ5sA0eR_uI2oP7lK9jH4gF1dS6aZ3xC8vB5n"
PRODUCTION_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


def _production_env(tmp_path, **overrides: str) -> dict[str, str]:
    signing_pem = tmp_path / "signing.pem"  # key and certificate in one file
    if not signing_pem.exists():
        make_self_signed(signing_pem, "production test")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VOUCHER_DEV", "DEBUG", "SECRET_KEY", "VOUCHER_PUBLIC_DEMO", "DATABASE_URL"}
        and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="voucher.settings",
        VOUCHER_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
        SECRET_KEY=GOOD_KEY,
        VOUCHER_AUDIT_KEY="audit-" + GOOD_KEY,  # docs/audit.md: production needs one too
        VOUCHER_SIGNING_KEY_FILE=str(signing_pem),  # and a signing key (signed documents)
        VOUCHER_SIGNING_CERT_FILE=str(signing_pem),
        ALLOWED_HOSTS="voucher.example.cn",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def _load_settings(tmp_path, **overrides: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{k: getattr(settings, k) for k in {PRODUCTION_SETTINGS!r}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env=_production_env(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "overrides"),
    [
        ("DEBUG", {"DEBUG": "1"}),
        ("SECRET_KEY", {"SECRET_KEY": "<unset>"}),
        ("SECRET_KEY", {"SECRET_KEY": ""}),
        ("SECRET_KEY", {"SECRET_KEY": "dev-only-insecure-key-change-me"}),  # the built-in one
        ("SECRET_KEY", {"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}),  # startproject's
        ("SECRET_KEY", {"SECRET_KEY": "short-but-secret"}),
        ("VOUCHER_PUBLIC_DEMO", {"VOUCHER_PUBLIC_DEMO": "1"}),
        (
            "VOUCHER_SIGNING_KEY_FILE",
            {"VOUCHER_SIGNING_KEY_FILE": "<unset>", "VOUCHER_SIGNING_CERT_FILE": "<unset>"},
        ),
    ],
    ids=[
        "debug",
        "no-key",
        "empty-key",
        "built-in-key",
        "insecure-key",
        "short-key",
        "demo",
        "no-signing-key",
    ],
)
def test_production_settings_refuse_to_start_when_unsafe(tmp_path, variable, overrides):
    result = _load_settings(tmp_path, **overrides)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert f"ImproperlyConfigured: {variable}:" in result.stderr  # names the variable
    assert "VOUCHER_DEV=1" in result.stderr  # and says how a development machine runs


def test_production_is_the_default_and_secure(tmp_path):
    result = _load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True


def test_production_may_issue_unsigned_documents_when_told_so(tmp_path):
    """Signed documents (docs/decisions/0023-signed-documents.md): on unless switched off."""
    unset = {"VOUCHER_SIGNING_KEY_FILE": "<unset>", "VOUCHER_SIGNING_CERT_FILE": "<unset>"}
    result = _load_settings(tmp_path, VOUCHER_SIGN_DOCUMENTS="0", **unset)
    assert result.returncode == 0, result.stderr
    half = _load_settings(tmp_path, VOUCHER_SIGNING_CERT_FILE="<unset>")
    assert "VOUCHER_SIGNING_KEY_FILE and VOUCHER_SIGNING_CERT_FILE are set together" in half.stderr
    missing = _load_settings(tmp_path, VOUCHER_SIGNING_KEY_FILE=str(tmp_path / "nope.pem"))
    assert (
        "VOUCHER_SIGNING_KEY_FILE: " in missing.stderr and "not a readable file" in missing.stderr
    )


def test_a_development_machine_says_so(tmp_path):
    result = _load_settings(tmp_path, VOUCHER_DEV="1", SECRET_KEY="<unset>", DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SESSION_COOKIE_SECURE"] is False


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    """What .ci/run checks too: not one warning of `check --deploy`."""
    result = subprocess.run(
        [sys.executable, "-m", "voucher", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_serve_refuses_a_database_other_than_postgresql(tmp_path):
    env = _production_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "serve"), "--check-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


# --- the headers, under the production values -------------------------------------------------


@pytest.fixture
def production(tmp_path, settings):
    """The production values of the HTTPS settings (read from the settings module in a child
    process), applied to this process's settings."""
    result = _load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    for name, value in json.loads(result.stdout).items():
        setattr(settings, name, value)
    return settings


@pytest.mark.django_db
def test_hsts_and_secure_cookies_under_the_production_settings(client, production):
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] is True
    # plain HTTP is sent to HTTPS, but for the probe
    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_session_cookie_is_secure_under_the_production_settings(client, production, admin_user):
    client.force_login(admin_user)
    response = client.get("/portal/", secure=True)
    assert response.cookies.get("sessionid") is None or response.cookies["sessionid"]["secure"]
    from django.conf import settings

    assert settings.SESSION_COOKIE_SECURE is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/review/login/", "/accounts/signup/", "/api/v1/docs"]
)
def test_every_html_page_has_a_content_security_policy(client, path):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_no_template_has_an_inline_script_or_handler():
    """What the policy would block, found before a browser does: inline <script> with code and
    on…= handlers in the templates of pages (the PDF templates are WeasyPrint's, not a browser's)."""
    import re

    offenders = []
    for template in (ROOT / "voucher").rglob("templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
            offenders.append(f"{template}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{template}: on…= handler")
    assert offenders == []


# --- /healthz -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_without_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "database": "ok",
        "worker": "none",
        "worker_seen_at": None,
        "documents_worker": "none",
        "documents_worker_seen_at": None,
        "jobs_worker": "none",
        "jobs_worker_seen_at": None,
    }
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


@pytest.mark.django_db
def test_healthz_reports_the_worker_heartbeat(client, settings):
    settings.VOUCHER_WORKER_STALE_SECONDS = 120
    beat(PLATFORMS_WORKER)
    body = client.get("/healthz").json()
    assert body["worker"] == "ok" and body["worker_seen_at"]
    WorkerHeartbeat.objects.filter(name=PLATFORMS_WORKER).update(
        seen_at=timezone.now() - timedelta(minutes=5)
    )
    response = client.get("/healthz")
    assert response.status_code == 200  # the web server is fine; the worker is reported
    assert response.json()["worker"] == "stale"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    from django.db import connection

    def broken(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


@pytest.mark.django_db
def test_the_platform_worker_beats(settings, tmp_path):
    settings.VOUCHER_PLATFORM_BATCH_DIR = str(tmp_path / "batches")
    before = timezone.now()
    call_command("platforms", "worker", "--once")
    heartbeat = WorkerHeartbeat.objects.get(name=PLATFORMS_WORKER)
    assert heartbeat.seen_at >= before


@override_settings(SECURE_SSL_REDIRECT=True)
@pytest.mark.django_db
def test_healthz_answers_plain_http_behind_the_redirect(client):
    assert client.get("/healthz").status_code == 200
