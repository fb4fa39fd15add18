"""The provider's pages: who you are (a form), and the authorization endpoint."""

from __future__ import annotations

import hashlib
from typing import Any

from csp.decorators import csp_update
from django import forms
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from oauth2_provider.views import AuthorizationView  # type: ignore[import-untyped]

from voucher.idp.validator import identity_fields

SESSION_KEY = "idp_identity"


class IdentityForm(forms.Form):
    uscc = forms.CharField(label="统一社会信用代码", max_length=30, required=False)
    name = forms.CharField(label="单位名称", max_length=100)
    person = forms.CharField(label="经办人姓名", max_length=40, required=False)


# The form's redirects end at the client's callback on another origin (CSP form-action governs
# redirects after a form is sent): the development client's addresses.
@csp_update({"form-action": ["http://localhost:*", "http://127.0.0.1:*"]})
def identity(request: HttpRequest) -> HttpResponse:
    """Say which legal person you are; the identity stays in this provider's session key."""
    form = IdentityForm(request.POST or None)
    following = request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        uscc, name = form.cleaned_data["uscc"].strip(), form.cleaned_data["name"].strip()
        person = " ".join(form.cleaned_data["person"].replace("|", " ").split())
        # the same identity as before a person's name could be given, when none is
        who = f"{uscc}|{name}|{person}" if person else f"{uscc}|{name}"
        digest = hashlib.sha256(who.encode()).hexdigest()[:24]
        user, _created = get_user_model().objects.get_or_create(
            username=f"idp-identity:{digest}",
            defaults={
                "first_name": name,
                "last_name": identity_fields(uscc, person),
                "is_active": True,
            },
        )
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        request.session[SESSION_KEY] = user.pk
        if url_has_allowed_host_and_scheme(following, allowed_hosts={request.get_host()}):
            return redirect(following)
        return redirect("/")
    return render(request, "idp/identity.html", {"form": form, "next": following})


class LegalPersonAuthorizationView(AuthorizationView):
    """The authorization endpoint for the identity of this provider's session (not the
    application's logged-in user)."""

    login_url = "/idp/identity/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        identity_pk = request.session.get(SESSION_KEY)
        if identity_pk is not None:
            request.user = get_user_model().objects.get(pk=identity_pk)
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response
