from django.urls import path

from voucher.applications import views

app_name = "applications"
urlpatterns = [
    path("", views.application_list, name="list"),
    path("applications/<int:application_id>/", views.application_detail, name="detail"),
]
