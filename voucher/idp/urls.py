"""The provider's URLs, served under /idp/ by tests/idp_urls.py (never by voucher/urls.py)."""

from django.urls import include, path, re_path
from oauth2_provider import views as oauth  # type: ignore[import-untyped]

from voucher.idp import views

provider = (
    [
        path("authorize/", views.LegalPersonAuthorizationView.as_view(), name="authorize"),
        path("token/", oauth.TokenView.as_view(), name="token"),
        re_path(
            r"^\.well-known/openid-configuration/?$",
            oauth.ConnectDiscoveryInfoView.as_view(),
            name="oidc-connect-discovery-info",
        ),
        path(".well-known/jwks.json", oauth.JwksInfoView.as_view(), name="jwks-info"),
        path("userinfo/", oauth.UserInfoView.as_view(), name="user-info"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("identity/", views.identity, name="idp_identity"),
    path("o/", include(provider)),
]
