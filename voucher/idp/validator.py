"""The provider's claims: the legal person's USCC and name, in the ID token."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator  # type: ignore[import-untyped]


def identity_fields(uscc: str, person: str) -> str:
    """The identity user's last_name: the USCC and the person's name (a test provider's
    whole record: first_name holds the unit's name); the validator reads them back."""
    return f"{uscc}|{person}" if person else uscc


def identity_of(last_name: str) -> tuple[str, str]:
    uscc, _bar, person = last_name.partition("|")
    return uscc, person


class LegalPersonValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below goes into the ID token

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        uscc, person = identity_of(user.last_name)
        # the legal person's name (VOUCHER_OIDC_NAME_CLAIM's default), and `name`, the person's
        # own name as OpenID Connect means it (VOUCHER_OIDC_PERSON_NAME_CLAIM), when given
        claims = {"enterprise_name": user.first_name}
        if uscc:  # a tester may log in without one
            claims["uscc"] = uscc
        if person:
            claims["name"] = person
        return claims
