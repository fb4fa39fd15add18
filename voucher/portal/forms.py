"""The wizard's forms. Money is Decimal from text (never float); 万元 where form 14-2 uses it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from voucher.accounts.uscc import clean_uscc
from voucher.applications import models as m
from voucher.core.fields import DayField, LineField, WanField, YuanField, number_text
from voucher.core.form_html import WRITTEN_RENDERER
from voucher.documents.report_sections import REPORT_MAX_CHARS, SECTIONS
from voucher.policy.format import OVERVIEW_MAX_CHARS
from voucher.policy.round import PolicyRound
from voucher.portal.steps import DIRECTION_PROJECT_FIELDS, PORTAL_DIRECTIONS

YES_NO = [("1", _("是")), ("0", _("否"))]


def translated(choices: list[tuple[Any, str]]) -> list[tuple[Any, Any]]:
    """Choices stored in Chinese, shown in the reader's language (their msgids are in the
    catalogue: voucher.applications.wording.CHOICE_LABELS)."""
    return [(value, _(label)) for value, label in choices]


INDUSTRIES = [
    ("I", "I 信息传输、软件和信息技术服务业"),
    ("C", "C 制造业"),
    ("M", "M 科学研究和技术服务业"),
    ("A", "A 农、林、牧、渔业"),
    ("B", "B 采矿业"),
    ("D", "D 电力、热力、燃气及水生产和供应业"),
    ("E", "E 建筑业"),
    ("F", "F 批发和零售业"),
    ("G", "G 交通运输、仓储和邮政业"),
    ("H", "H 住宿和餐饮业"),
    ("J", "J 金融业"),
    ("K", "K 房地产业"),
    ("L", "L 租赁和商务服务业"),
    ("N", "N 水利、环境和公共设施管理业"),
    ("O", "O 居民服务、修理和其他服务业"),
    ("P", "P 教育"),
    ("Q", "Q 卫生和社会工作"),
    ("R", "R 文化、体育和娱乐业"),
    ("S", "S 公共管理、社会保障和社会组织"),
    ("T", "T 国际组织"),
]
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")  # after NFKC: no other script's digits


class DecimalText(forms.CharField):
    """A quantity or unit price: keeps the decimals it was typed with."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = number_text(value)
        if not text:
            return None
        if not _NUMBER.fullmatch(text):
            raise ValidationError(_("请输入数字"))
        number = Decimal(text)
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if (
            -exponent > m.QUANTITY_PLACES
            or len(text.split(".")[0]) > m.QUANTITY_DIGITS - m.QUANTITY_PLACES
        ):
            raise ValidationError(_("数字过大或小数位过多（最多6位小数）"))
        return number


def too_long_message(label: Any) -> Any:
    """The refusal of a text over its max_length, naming the field and the limit (Django fills
    in limit_value and show_value)."""
    return format_lazy(
        _("“{label}”最多 %(limit_value)d 个字符，现为 %(show_value)d 个。"), label=label
    )


def DATE_WIDGET() -> forms.DateInput:
    """A native date picker: its value must be ISO, whatever the language of the page."""
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def yes_no(label: Any, **kwargs: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        **kwargs,
    )


def _initial_bool(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


class VersionedForm(forms.Form):
    # the fields' HTML written in Python, the same as Django's templates write it (decision 0052)
    default_renderer = WRITTEN_RENDERER
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class DirectionForm(forms.Form):
    """The directions an enterprise may choose itself: not 3 (免申即享, filed by the centre)."""

    default_renderer = WRITTEN_RENDERER

    direction = forms.TypedChoiceField(
        label=_("申报方向"),
        choices=translated(
            [(n, label) for n, label in m.DIRECTION_CHOICES if n in PORTAL_DIRECTIONS]
        ),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _(
                "请选择方向一、二或四。方向三试行“免申即享”，由发布平台提供数据、"
                "市数字经济中心代为申报，企业无需在此新建申报。"
            ),
            "required": _("请选择申报方向。"),
        },
    )


class DirectionChangeForm(VersionedForm, DirectionForm):
    """A draft's direction changed on the direction step."""


class DeleteDraftForm(VersionedForm):
    confirm = forms.BooleanField(
        label=_("我确认删除这份申报草稿及其全部内容和上传的文件，删除后不能恢复"),
        error_messages={"required": _("请勾选确认后再删除。")},
    )


class RowDeleteForm(VersionedForm):
    confirm = forms.BooleanField(
        label=_("我确认删除这一行"), error_messages={"required": _("请勾选确认后再删除。")}
    )


class ContractDeleteForm(VersionedForm):
    confirm = forms.BooleanField(
        label=_("我确认删除这份合同及其全部交付记录、发票、付款和其他补贴，删除后不能恢复"),
        error_messages={"required": _("请勾选确认后再删除。")},
    )


class ApplicantForm(VersionedForm):
    applicant_name = LineField(label=_("企业名称"), max_length=200)
    registered_address = LineField(
        label=_("注册地址"), max_length=300, help_text=_("与营业执照一致，如“北京市海淀区……”")
    )
    business_address = LineField(label=_("生产经营地址"), max_length=300)
    entity_type = forms.ChoiceField(
        label=_("单位类型"), choices=translated(m.ENTITY_TYPE_CHOICES), widget=forms.RadioSelect
    )
    independent_legal_person = yes_no(_("具备独立法人资格"))
    industry = forms.ChoiceField(
        label=_("所属行业门类（GB/T 4754）"), choices=[("", "——"), *translated(INDUSTRIES)]
    )
    ai_new_rd_institution = yes_no(
        _("属于北京市人工智能领域新型研发机构"), help_text=_("方向一的申报条件")
    )
    contact_name = LineField(label=_("项目申报联系人"), max_length=100)
    contact_mobile = forms.CharField(
        label=_("联系人手机"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_address = LineField(label=_("联系人通讯地址"), max_length=300)
    contact_email = forms.EmailField(label=_("联系人电子邮箱"), max_length=254)

    def clean_contact_mobile(self) -> str:
        digits = re.sub(r"[\s-]", "", number_text(self.cleaned_data["contact_mobile"]))
        digits = digits.removeprefix("+86")
        if not re.fullmatch(r"1[3-9]\d{9}", digits):
            raise ValidationError(_("请填写11位中国大陆手机号"))
        return digits

    @staticmethod
    def initial_from(a: m.Application) -> dict[str, Any]:
        return {
            "version": a.version,
            "applicant_name": a.applicant_name,
            "registered_address": a.registered_address,
            "business_address": a.business_address,
            "entity_type": a.entity_type or None,
            "independent_legal_person": _initial_bool(a.independent_legal_person)
            if a.entity_type
            else None,
            "industry": a.industry,
            "ai_new_rd_institution": _initial_bool(a.ai_new_rd_institution)
            if a.entity_type
            else None,
            "contact_name": a.contact_name,
            "contact_mobile": a.contact_mobile,
            "contact_address": a.contact_address,
            "contact_email": a.contact_email,
        }


class ProjectForm(VersionedForm):
    project_name = LineField(label=_("用算项目名称"), max_length=300)
    project_start_date = DayField(label=_("项目开始日期"), widget=DATE_WIDGET())
    requested_amount = WanField(
        label=_("对应申请金额（万元）"),
        required=False,
        help_text=_("可不填：不填时按测算结果和方向上限核定。"),
    )
    ai_field = yes_no(_("项目属于人工智能产业发展方向"))
    project_overview = forms.CharField(
        label=_("项目概述"),
        max_length=OVERVIEW_MAX_CHARS,
        error_messages={"max_length": too_long_message(_("项目概述"))},
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "（简要描述申报项目所属的行业领域，提供能够明确算力应用领域或目的的相关材料，"
            "如应用案例、应用场景说明等，以确认算力应用领域、场景符合对应方向支持要求）"
        ),
    )
    # direction 1
    topic = forms.ChoiceField(label=_("研究方向"), choices=m.TOPIC_CHOICES, required=False)
    # direction 2 (and 3: action plans)
    miit_2025_list = forms.BooleanField(
        label=_("入围工信部2025年人工智能产业及赋能新型工业化创新任务揭榜名单"), required=False
    )
    action_plan_aligned = forms.BooleanField(
        label=_("参照北京市2025年两个人工智能行动方案所支持方向进行研发落地"), required=False
    )
    # direction 3
    open_source_platform = forms.ChoiceField(label=_("发布平台"), required=False)
    open_source_url = LineField(label=_("项目发布地址"), max_length=500, required=False)
    open_source_scenario_aligned = forms.BooleanField(
        label=_("符合《北京市开源生态体系建设实施方案（2026—2028年）》所提及的开源场景"),
        required=False,
    )
    # direction 4
    model_filing_number = LineField(label=_("备案编号"), max_length=100, required=False)
    model_filing_date = DayField(label=_("备案日期"), required=False, widget=DATE_WIDGET())
    model_filing_kind = forms.ChoiceField(
        label=_("备案类型"), choices=[("", "——"), *m.FILING_KIND_CHOICES], required=False
    )

    DIRECTION_FIELDS: ClassVar[Mapping[int, tuple[str, ...]]] = DIRECTION_PROJECT_FIELDS
    ALL_DIRECTION_FIELDS = (
        "topic", "miit_2025_list", "action_plan_aligned", "open_source_platform",
        "open_source_url", "open_source_scenario_aligned", "model_filing_number",
        "model_filing_date", "model_filing_kind",
    )  # fmt: skip

    def __init__(self, *args: Any, direction: int, policy_round: PolicyRound, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.direction = direction
        platforms = self.fields["open_source_platform"]
        assert isinstance(platforms, forms.ChoiceField)
        platforms.choices = [("", "——"), *policy_round.d3_platforms.items()]
        keep = set(self.DIRECTION_FIELDS[direction])
        for name in self.ALL_DIRECTION_FIELDS:
            if name not in keep:
                del self.fields[name]
        if direction == 1:
            self.fields["topic"].required = True
        if direction == 3:
            self.fields["open_source_platform"].required = True
            self.fields["open_source_url"].required = True
        if direction == 4:
            for name in ("model_filing_number", "model_filing_date", "model_filing_kind"):
                self.fields[name].required = True

    def changes(self) -> dict[str, Any]:
        """The Application columns this form sets; other directions' fields are cleared."""
        d = self.cleaned_data
        out: dict[str, Any] = {
            "project_name": d.get("project_name"),
            "project_start_date": d.get("project_start_date"),
            "requested_amount": d.get("requested_amount"),
            "ai_field": d.get("ai_field"),
            "project_overview": d.get("project_overview"),
            "topic": d.get("topic") or None,
            "miit_2025_list": bool(d.get("miit_2025_list")),
            "action_plan_aligned": bool(d.get("action_plan_aligned")),
            "open_source_platform": None,
            "open_source_url": None,
            "open_source_scenario_aligned": None,
            "model_filing_number": None,
            "model_filing_date": None,
            "model_filing_kind": None,
        }
        if self.direction == 3:
            out["open_source_platform"] = d.get("open_source_platform")
            out["open_source_url"] = d.get("open_source_url")
            out["open_source_scenario_aligned"] = bool(d.get("open_source_scenario_aligned"))
        if self.direction == 4:
            out["model_filing_number"] = d.get("model_filing_number")
            out["model_filing_date"] = d.get("model_filing_date")
            out["model_filing_kind"] = d.get("model_filing_kind")
        return out

    def valid_changes(self) -> dict[str, Any]:
        """After is_valid() failed: the columns of the fields that are valid (a field-level
        save), and the other directions' fields, which are cleared whatever was typed."""
        return {
            k: v
            for k, v in self.changes().items()
            if k in self.cleaned_data or k not in self.fields
        }

    @staticmethod
    def initial_from(a: m.Application) -> dict[str, Any]:
        return {
            "version": a.version,
            "project_name": a.project_name,
            "project_start_date": a.project_start_date,
            "requested_amount": a.requested_amount,
            "ai_field": _initial_bool(a.ai_field) if a.project_name else None,
            "project_overview": a.project_overview,
            "topic": a.topic,
            "miit_2025_list": a.miit_2025_list,
            "action_plan_aligned": a.action_plan_aligned,
            "open_source_platform": a.open_source_platform,
            "open_source_url": a.open_source_url,
            "open_source_scenario_aligned": a.open_source_scenario_aligned,
            "model_filing_number": a.model_filing_number,
            "model_filing_date": a.model_filing_date,
            "model_filing_kind": a.model_filing_kind,
        }


class ContractForm(VersionedForm):
    contract_id = LineField(label=_("合同编号"), max_length=100)
    supplier_name = LineField(label=_("算力供给方名称"), max_length=200)
    supplier_uscc = forms.CharField(label=_("供给方统一社会信用代码"), max_length=40)
    signed_on = DayField(label=_("签订日期"), widget=DATE_WIDGET())
    valid_from = DayField(label=_("合同有效期开始"), widget=DATE_WIDGET())
    valid_to = DayField(label=_("合同有效期结束"), widget=DATE_WIDGET())
    total_amount = YuanField(label=_("合同总额（元）"))

    uscc_warnings: list[str]

    def clean_contract_id(self) -> str:
        return unicodedata.normalize("NFKC", self.cleaned_data["contract_id"]).strip()

    def clean_supplier_uscc(self) -> str:
        code, self.uscc_warnings = clean_uscc(self.cleaned_data["supplier_uscc"], applicant=False)
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("有效期结束早于开始"))
        return data

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}

    @staticmethod
    def initial_from(c: m.Contract, version: int) -> dict[str, Any]:
        return {
            "version": version,
            "contract_id": c.contract_id,
            "supplier_name": c.supplier_name,
            "supplier_uscc": c.supplier_uscc,
            "signed_on": c.signed_on,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "total_amount": c.total_amount,
        }


class _Dated(VersionedForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("结束日期早于开始日期"))
        return data


class DeliveryForm(_Dated):
    start = DayField(label=_("开始日期"), widget=DATE_WIDGET())
    end = DayField(label=_("结束日期"), widget=DATE_WIDGET())
    service = forms.ChoiceField(label=_("服务类型"), choices=m.SERVICE_CHOICES)
    device = LineField(label=_("设备型号"), max_length=100, required=False)
    quantity = DecimalText(label=_("数量"))
    unit = LineField(label=_("单位"), max_length=50, help_text=_("如 card-hour（卡时）"))
    unit_price = DecimalText(label=_("单价（元）"))
    amount = YuanField(label=_("金额（元）"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # RULES.md, Fail closed: a compute row without its device model is an input error
        device = unicodedata.normalize("NFKC", data.get("device") or "").strip()
        if data.get("service") == "compute" and not device:
            self.add_error("device", _("算力交付须填写设备型号"))
        return data

    def values(self) -> dict[str, Any]:
        d = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        d["device"] = d.get("device") or None
        for key in ("quantity", "unit_price"):
            exponent = d[key].as_tuple().exponent
            d[f"{key}_places"] = max(0, -exponent)
        return d


class InvoiceForm(VersionedForm):
    number = LineField(label=_("发票号码"), max_length=100)
    date = DayField(label=_("开票日期"), widget=DATE_WIDGET())
    amount = YuanField(label=_("金额（元）"))

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PaymentForm(VersionedForm):
    date = DayField(label=_("支付日期"), widget=DATE_WIDGET())
    amount = YuanField(label=_("金额（元）"))

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class OtherSubsidyForm(VersionedForm):
    level = forms.ChoiceField(label=_("级别"), choices=m.LEVEL_CHOICES)
    policy = LineField(label=_("政策名称"), max_length=300)
    amount = YuanField(label=_("金额（元）"))
    status = forms.ChoiceField(label=_("状态"), choices=m.SUBSIDY_STATUS_CHOICES)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


ROW_FORMS: dict[str, type[VersionedForm]] = {
    "deliveries": DeliveryForm,
    "invoices": InvoiceForm,
    "payments": PaymentForm,
    "other_subsidies": OtherSubsidyForm,
}


class ImportForm(VersionedForm):
    file = forms.FileField(label=_("Excel（.xlsx）或 CSV 文件"))


class ReportForm(VersionedForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for section in SECTIONS:
            low, high = section.suggested_chars
            self.fields[section.field] = forms.CharField(
                label=section.heading,
                required=False,
                max_length=REPORT_MAX_CHARS,
                error_messages={"max_length": too_long_message(section.heading)},
                help_text=section.hint,
                widget=forms.Textarea(
                    attrs={"rows": 8, "data-suggested": f"{low}-{high}", "class": "counted"}
                ),
            )


class DeclarationsForm(VersionedForm):
    other_municipal_compute_support = yes_no(
        _("申报期内是否已获得其他市级财政资金的相关智能算力支持")
    )
    dishonest_entity = yes_no(
        _("是否因违法失信行为被行政机关实施联合惩戒，或被司法部门采取失信惩戒措施")
    )

    def __init__(self, *args: Any, contracts: list[m.Contract], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.contracts = contracts
        for c in contracts:
            self.fields[f"sharing_{c.pk}"] = yes_no(
                _("与“%(s)s”（合同 %(id)s）存在收益分成、风险共担等协议")
                % {"s": c.supplier_name, "id": c.contract_id}
            )
            self.fields[f"hierarchy_{c.pk}"] = yes_no(
                _("与“%(s)s”存在行政或业务上的上下级关系") % {"s": c.supplier_name}
            )

    def relationships(self) -> dict[int, tuple[bool | None, bool | None]]:
        """Per contract (sharing, hierarchy); None where not answered (after is_valid() failed,
        for a field-level save)."""
        d = self.cleaned_data
        return {
            c.pk: (d.get(f"sharing_{c.pk}"), d.get(f"hierarchy_{c.pk}")) for c in self.contracts
        }

    def answered(self) -> int:
        return sum(1 for k, v in self.cleaned_data.items() if k != "version" and v is not None)


class CommitmentForm(VersionedForm):
    acknowledged = forms.BooleanField(
        label=_(
            "我已阅读上述承诺书全文，本单位将按此承诺，并将法定代表人签字、加盖公章的承诺书扫描件作为申报材料上传。"
        ),
        required=True,
    )


class MaterialUploadForm(VersionedForm):
    material = forms.CharField(widget=forms.HiddenInput)


class SubmitForm(VersionedForm):
    confirm = forms.BooleanField(
        label=_("我确认以上内容真实、准确，提交后不能再修改。"), required=True
    )


class SupplementForm(VersionedForm):
    """One answer per item of the bureau's supplement request (补正), then resubmit."""

    def __init__(self, *args: Any, items: list[tuple[int, int, str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.items = items
        for item_id, position, text, answer in items:
            self.fields[f"answer_{item_id}"] = forms.CharField(
                label=_("第 %(n)d 项答复") % {"n": position},
                # the reviewer's words as text: a form prints its help text unescaped
                help_text=escape(text),
                initial=answer,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"required": _("请答复这一项补正要求。")},
            )
        self.fields["confirm"] = forms.BooleanField(
            label=_("我已按补正要求修改申报内容，确认以上答复真实、准确。"),
            required=True,
            error_messages={"required": _("请勾选确认后再重新提交。")},
        )

    def answers(self) -> dict[int, str]:
        return {item_id: self.cleaned_data[f"answer_{item_id}"] for item_id, *_rest in self.items}

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[f"answer_{item_id}"] for item_id, *_rest in self.items]
