"""The provider's claims: the legal person's USCC and name, in the ID token."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator  # type: ignore[import-untyped]


class LegalPersonValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below goes into the ID token

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        # the legal person's name (VOUCHER_OIDC_NAME_CLAIM's default); `name`, the person's own
        # name in OpenID Connect, this provider does not know: the pages then say 经办人
        claims = {"enterprise_name": user.first_name}
        if user.last_name:  # the USCC; a tester may log in without one
            claims["uscc"] = user.last_name
        return claims
