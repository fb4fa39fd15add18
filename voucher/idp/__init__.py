"""A small OpenID Connect provider for the demo and the tests, built with django-oauth-toolkit:
it stands in for the government's unified identity service (统一身份认证). Development only
(voucher/settings_dev.py installs django-oauth-toolkit and makes its RS256 key; tests/idp_urls.py
serves it beside the application; docs/decisions/0024-oidc-login.md).

Its "login" is a form where the tester says which legal person they are (USCC and name, or no
USCC at all): it keeps the identity in its own session key, never logs anyone into the
application, and its ID tokens carry the claims `uscc` and `name`.
"""
