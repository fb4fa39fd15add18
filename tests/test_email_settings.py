"""The SMTP relay's settings come from the environment (docs/operations.md "E-mail"), the
password from a file if one is named, and a bad value is refused naming its variable."""

from __future__ import annotations

import json
import subprocess
import sys

PRINT = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
    "for k in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', "
    "'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_TIMEOUT', "
    "'DEFAULT_FROM_EMAIL', 'SERVER_EMAIL')}))"
)


def _settings(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"VOUCHER_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "VOUCHER_DEV": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = "
            f"'voucher.settings'; django.setup(); {PRINT}",
        ],
        capture_output=True,
        text=True,
        env={**base, **env},
        check=False,
    )


def test_the_smtp_settings_are_read_from_the_environment(tmp_path):
    password = tmp_path / "smtp.password"
    password.write_text("s3cret-from-file\n")
    done = _settings(
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.cn",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="voucher@example.cn",
        EMAIL_HOST_PASSWORD="ignored: the file wins",
        EMAIL_HOST_PASSWORD_FILE=str(password),
        EMAIL_USE_TLS="1",
        EMAIL_TIMEOUT="5",
        DEFAULT_FROM_EMAIL="算力券 <noreply@voucher.example.cn>",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.cn",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "voucher@example.cn",
        "EMAIL_HOST_PASSWORD": "s3cret-from-file",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 5,
        "DEFAULT_FROM_EMAIL": "算力券 <noreply@voucher.example.cn>",
        "SERVER_EMAIL": "算力券 <noreply@voucher.example.cn>",
    }


def test_the_password_from_the_environment_and_the_port_from_the_encryption(tmp_path):
    done = _settings(tmp_path, EMAIL_HOST_PASSWORD="from-env", EMAIL_USE_SSL="true")
    read = json.loads(done.stdout)
    assert read["EMAIL_HOST_PASSWORD"] == "from-env"
    assert (read["EMAIL_PORT"], read["EMAIL_USE_SSL"], read["EMAIL_USE_TLS"]) == (465, True, False)
    assert json.loads(_settings(tmp_path).stdout)["EMAIL_PORT"] == 25


def test_bad_smtp_settings_are_refused_naming_the_variable(tmp_path):
    for env, named in (
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
        ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_SSL"),
        ({"EMAIL_HOST_PASSWORD_FILE": str(tmp_path / "absent")}, "EMAIL_HOST_PASSWORD_FILE"),
    ):
        done = _settings(tmp_path, **env)
        assert done.returncode != 0 and named in done.stderr, (env, done.stderr[-300:])
        assert "ImproperlyConfigured" in done.stderr
