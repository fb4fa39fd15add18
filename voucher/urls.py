from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("voucher.staffapi.urls")),  # /api/v1/bureau/ and the token page
    path("api/v1/", include("voucher.api.urls")),
    path("platforms/", include("voucher.platforms.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("voucher.accounts.urls")),
    path("portal/", include("voucher.portal.urls")),
    path("review/", include("voucher.review.urls")),
    path("", include("voucher.documents.urls")),
    path("registry/", include("voucher.registry.urls")),
    path("", include("voucher.applications.urls")),
]
