"""A signing key, ID tokens and the settings of an OIDC client for the tests (tests/test_oidc_*)."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from voucher.policy.uscc import expected_check_character

ISSUER = "https://idp.test"
CLIENT_ID = "voucher-test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "test-key"


def uscc(body17: str) -> str:
    """A USCC with the right check character."""
    return body17 + expected_check_character(body17)


def jwks() -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
    return {"keys": [jwk]}


def id_token(**claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "subject-1", "iat": now, "exp": now + 300}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": KID})


def configure(settings: Any, base: str = ISSUER) -> None:
    """The client's settings for a provider at `base` (the test provider's URL layout)."""
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "test-secret"
    settings.OIDC_OP_ISSUER = base if base == ISSUER else f"{base}/idp/o"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/idp/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/idp/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/idp/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/idp/o/.well-known/jwks.json"
    settings.VOUCHER_OIDC_ENABLED = True
    backend = "voucher.accounts.oidc.EnterpriseOIDCBackend"
    if backend not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, backend]
