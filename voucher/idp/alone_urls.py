"""The provider alone (voucher/idp/settings.py)."""

from django.urls import include, path

urlpatterns = [path("idp/", include("voucher.idp.urls"))]
