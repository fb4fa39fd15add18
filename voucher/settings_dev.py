"""The settings of a development machine: the tests (pyproject.toml's pytest and mypy sections)
and anything else that names this module. The production settings with VOUCHER_DEV=1, which the
processes they start inherit too."""

import os

os.environ["VOUCHER_DEV"] = "1"

from voucher.settings import *  # noqa: F403


def _idp_key() -> str:
    """The test provider's RS256 key: made once per data folder, then reused (voucher/idp)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = DATA_DIR / "idp-rs256.pem"  # noqa: F405
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
    return path.read_text()


# The demo's and the tests' own OpenID Connect provider (voucher/idp; tests/idp_urls.py serves it)
INSTALLED_APPS = [*INSTALLED_APPS, "oauth2_provider", "voucher.idp"]  # noqa: F405
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _idp_key(),
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "voucher.idp.validator.LegalPersonValidator",
    "SCOPES": {"openid": "OpenID Connect", "profile": "the legal person's USCC and name"},
}
