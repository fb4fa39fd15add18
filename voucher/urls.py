from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from voucher.core.views import healthz


class _Favicon(RedirectView):
    """The address asked when the request comes, not at import: in production it has the file's
    hash in it, which the static files' manifest (written by collectstatic) knows."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("voucher/favicon.svg")


urlpatterns = [
    path("healthz", healthz, name="healthz"),  # no login, no session: docs/operations.md
    path("admin/", admin.site.urls),
    # browsers ask for /favicon.ico whatever the page says: each asking logged a 404
    path("favicon.ico", _Favicon.as_view()),
    path("", include("voucher.staffapi.urls")),  # /api/v1/bureau/ and the token page
    path("api/v1/", include("voucher.api.urls")),
    path("platforms/", include("voucher.platforms.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("voucher.accounts.urls")),
    path("portal/", include("voucher.portal.urls")),
    path("review/", include("voucher.review.urls")),
    path("publicity/", include("voucher.public.urls")),  # 公示: public, no login
    path("", include("voucher.documents.urls")),
    path("registry/", include("voucher.registry.urls")),
    path("", include("voucher.applications.urls")),
]
