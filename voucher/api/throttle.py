"""Throttling per API token, shared by the platform API and the bureau API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.throttling import AuthRateThrottle


class TokenThrottle(AuthRateThrottle):
    """Per token: the cache key is the token's prefix (looked up, not secret); `namespace` keeps
    the two APIs' counters apart. Without a token (refused anyway) the client's address counts."""

    def __init__(self, rate: str, namespace: str = "") -> None:
        super().__init__(rate)
        self.namespace = namespace

    def get_cache_key(self, request: HttpRequest) -> str:
        prefix = getattr(getattr(request, "auth", None), "prefix", None)
        ident = prefix if isinstance(prefix, str) and prefix else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": f"{self.namespace}{ident}"}
