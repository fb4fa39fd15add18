from django.urls import path

from voucher.registry import views

app_name = "registry"
urlpatterns = [
    path("relation/", views.relation_page, name="relation"),
    path("import/", views.import_page, name="import"),
    path("sweeps/", views.sweeps_page, name="sweeps"),
    path("sweeps/<int:run_id>/", views.sweep_page, name="sweep"),
]
