from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from voucher.accounts.uscc import clean_uscc
from voucher.core.fields import LineField
from voucher.policy.uscc import expected_check_character, has_valid_check_character


class SignUpForm(forms.Form):
    email = forms.EmailField(label=_("电子邮箱"), max_length=150)
    # what the pages call the person (applications/people.py); the e-mail address when left out
    person_name = LineField(label=_("您的姓名"), max_length=150, required=False)
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
    name = LineField(label=_("单位名称（与营业执照一致）"), max_length=200)
    # shown only after a code whose check character does not compute (issue 21 item 3): the
    # enterprise is created with such a code only when the user confirms it is the licence's
    confirm_check_character = forms.BooleanField(
        label=_("我已与营业执照核对，执照上的代码就是这样"),
        required=False,
        widget=forms.HiddenInput,
    )

    uscc_warnings: list[str]

    def clean_uscc(self) -> str:
        code, self.uscc_warnings = clean_uscc(self.cleaned_data["uscc"], applicant=True)
        return code

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        code = cleaned.get("uscc")
        if code and not has_valid_check_character(code):
            if not cleaned.get("confirm_check_character"):
                self.fields["confirm_check_character"].widget = forms.CheckboxInput()
                self.add_error(
                    "uscc",
                    _(
                        "校验位与国家标准 GB 32100-2015 的计算结果（%(expected)s）不一致，"
                        "请与营业执照核对后改正；如执照上就是此代码，请勾选下面的确认后再登记。"
                    )
                    % {"expected": expected_check_character(code)},
                )
            else:
                self.fields["confirm_check_character"].widget = forms.CheckboxInput()
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("同事的电子邮箱"), max_length=150)


CLAIM_DECLARATION = _(
    "本人声明：本人是该单位的工作人员，已获单位授权在北京市算力券申报系统中代表单位办理申报事务；"
    "所上传的营业执照真实、有效。如有虚假，愿承担相应责任。"
)


class ClaimForm(forms.Form):
    """Claim an enterprise that exists in the system without members."""

    uscc = forms.CharField(widget=forms.HiddenInput)
    claimant_name = LineField(
        label=_("您的姓名"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    claimant_position = LineField(
        label=_("您在该单位的职务"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    licence = forms.FileField(
        label=_("营业执照（扫描件或照片）"),
        help_text=_("PDF、JPG、PNG 或 OFD，按文件内容检查类型。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.ofd"}),
        error_messages={"required": _("请上传营业执照。")},
    )
    declaration = forms.BooleanField(
        label=CLAIM_DECLARATION,
        required=True,
        error_messages={"required": _("请阅读并勾选声明。")},
    )


APPROVE, REFUSE = "approve", "refuse"


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[(APPROVE, _("通过：申请人成为该单位管理员")), (REFUSE, _("不予通过"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("不予通过时必填，将通过邮件告知申请人。"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == REFUSE and not (data.get("reason") or "").strip():
            self.add_error("reason", _("不予通过时请填写理由。"))
        return data
