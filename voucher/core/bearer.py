"""Bearer tokens of the APIs: `<kind>_<prefix>_<secret>`, of which only a hash is kept.

The prefix is looked up (not secret); the secret is 256 random bits, so a plain SHA-256 cannot
be brute-forced and no slow KDF is needed. Shared by platform tokens (`cvp`) and staff tokens
(`cvb`); each app keeps its own model, scopes and audit. A token that names no token of the
kind (malformed, an unknown prefix, a wrong secret) is audited here, the same for both APIs
(`api_token_refused`: the prefix, the reason, the request and the client's address; never
the secret).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, NamedTuple

from voucher.core.audit import audit

# why a token named no token (api_token_refused's "reason")
MALFORMED, UNKNOWN_PREFIX, WRONG_SECRET = "malformed", "unknown_prefix", "wrong_secret"


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


def client_address(request: Any) -> str:
    """The address the request came from, as the server saw it (REMOTE_ADDR)."""
    return str(getattr(request, "META", {}).get("REMOTE_ADDR", ""))[:64]


def refused(*, kind: str, raw: str, reason: str, method: str, path: str, client: str) -> None:
    """Audit a token that named no token: its prefix (when it has one), never its secret."""
    pieces = raw.split("_", 2)
    prefix = pieces[1] if len(pieces) == 3 else ""
    audit(
        actor=None,
        action="api_token_refused",
        data={
            "kind": kind,
            "sent_kind": pieces[0][:16] if len(pieces) == 3 else "",
            "prefix": prefix[:32],
            "reason": reason,
            "method": method[:16],
            "path": path[:300],
            "client": client,
        },
    )
