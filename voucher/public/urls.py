from django.urls import path

from voucher.public import views

app_name = "public"

urlpatterns = [
    path("", views.publicity, name="publicity"),
    path("<int:application_id>/objection/", views.objection, name="objection"),
]
