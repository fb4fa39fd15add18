"""Mounted at the root: the bureau's API at /api/v1/bureau/ and the token page at /bureau-api/."""

from django.urls import include, path

from voucher.staffapi import views
from voucher.staffapi.api import api

pages = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke, name="revoke"),
]
urlpatterns = [
    path("api/v1/bureau/", api.urls),  # its own namespace: api-v1-bureau
    path("bureau-api/", include((pages, "staffapi"))),
]
