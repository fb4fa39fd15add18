"""The provider's claims: the legal person's USCC and name, in the ID token."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator  # type: ignore[import-untyped]


class LegalPersonValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below goes into the ID token

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        claims = {"name": user.first_name}
        if user.last_name:  # the USCC; a tester may log in without one
            claims["uscc"] = user.last_name
        return claims
