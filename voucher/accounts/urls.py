from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from voucher.accounts import oidc, views
from voucher.accounts.forms import LoginForm

app_name = "accounts"
urlpatterns = [
    path("signup/", views.sign_up, name="sign_up"),
    path(
        "login/",
        views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm),
        name="login",
    ),
    # OpenID Connect: public, the provider's state/nonce/PKCE are the keys (accounts/oidc.py)
    path("oidc/login/", oidc.OIDCLoginView.as_view(), name="oidc_login"),
    path("oidc/callback/", oidc.OIDCCallbackView.as_view(), name="oidc_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("enterprise/new/", views.enterprise_new, name="enterprise_new"),
    path("enterprise/", views.enterprise_members, name="enterprise"),
    path("enterprise/payee/", views.enterprise_payee, name="payee"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path(
        "supplier-invitations/<str:token>/",
        views.supplier_invitation,
        name="supplier_invitation",
    ),
    path("enterprise/claim/", views.enterprise_claim, name="enterprise_claim"),
    path("claims/", views.claims, name="claims"),
    path("claims/<int:claim_id>/", views.claim_decide, name="claim"),
    path("claims/<int:claim_id>/licence/", views.claim_licence, name="claim_licence"),
]
