from django.urls import path

from voucher.api.v1 import api

urlpatterns = [path("", api.urls)]
