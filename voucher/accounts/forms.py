from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from voucher.accounts.uscc import clean_uscc


class SignUpForm(forms.Form):
    email = forms.EmailField(label=_("电子邮箱"), max_length=150)
    password = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不要使用常见密码。"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("电子邮箱或用户名"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def clean_username(self) -> str:
        value: str = self.cleaned_data["username"].strip()
        return value.lower() if "@" in value else value


class EnterpriseForm(forms.Form):
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,
        help_text=_("18位，见营业执照。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("单位名称（与营业执照一致）"), max_length=200)

    uscc_warnings: list[str]

    def clean_uscc(self) -> str:
        code, self.uscc_warnings = clean_uscc(self.cleaned_data["uscc"], applicant=True)
        return code


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("同事的电子邮箱"), max_length=150)
