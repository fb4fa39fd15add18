"""Bearer tokens of the APIs: `<kind>_<prefix>_<secret>`, of which only a hash is kept.

The prefix is looked up (not secret); the secret is 256 random bits, so a plain SHA-256 cannot
be brute-forced and no slow KDF is needed. Shared by platform tokens (`cvp`) and staff tokens
(`cvb`); each app keeps its own model, scopes and audit.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import NamedTuple


class Parts(NamedTuple):
    prefix: str
    secret: str


def new_parts() -> Parts:
    return Parts(secrets.token_hex(6), secrets.token_urlsafe(32))


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def text(kind: str, parts: Parts) -> str:
    """The token as the client sends it; shown once, never stored."""
    return f"{kind}_{parts.prefix}_{parts.secret}"


def parse(raw: str, kind: str) -> Parts | None:
    pieces = raw.split("_", 2)
    if len(pieces) != 3 or pieces[0] != kind:
        return None
    return Parts(pieces[1], pieces[2])


def matches(stored_sha256: str, secret: str) -> bool:
    return secrets.compare_digest(stored_sha256, secret_sha256(secret))
