"""Mounted at the root: the bureau's API at /api/v1/bureau/ and the token page at /bureau-api/."""

from django.urls import include, path, re_path

from voucher.staffapi import api, views

pages = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke, name="revoke"),
]
urlpatterns = [
    path("api/v1/bureau/", api.url_patterns()),  # its own namespace: api-v1-bureau
    re_path(r"^api/v1/bureau/(?P<rest>.*)$", api.not_found),  # a problem, not a page
    path("bureau-api/", include((pages, "staffapi"))),
]
