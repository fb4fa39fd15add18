"""The application and, under /idp/, the test OpenID Connect provider (voucher/idp), in one
live server: the browser reaches the provider at 127.0.0.1 and the application at localhost, so
the two keep separate cookies."""

from django.urls import include, path

from voucher.urls import urlpatterns as application

urlpatterns = [path("idp/", include("voucher.idp.urls")), *application]
