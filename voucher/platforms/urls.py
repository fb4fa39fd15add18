from django.urls import path

from voucher.platforms import views

app_name = "platforms"
urlpatterns = [path("screening/", views.screening_page, name="screening")]
