"""A USCC typed into a form: normalised, refused when malformed, warned about when doubtful.

Malformed (length, alphabet) is an input error. A wrong check character (GB 32100-2015) is
accepted with a warning, because some codes issued before 2016 are wrong: the engine's
APPLICANT_USCC finding puts it before a reviewer. An applicant's code not issued in the round's
region (Beijing: division code starting with 11, from the round file) is accepted with a warning
too: APPLICANT_BEIJING asks for a review then. A supplier may be registered anywhere, so its code
gets no region warning.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from voucher.policy import uscc as codes
from voucher.policy.round import PolicyRound, get_rounds


def _latest_round() -> PolicyRound:
    """Enterprises register for the round now open: the one whose window starts last."""
    return max(get_rounds().values(), key=lambda r: r.window_start)


def normalise_uscc(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def clean_uscc(value: str, *, applicant: bool) -> tuple[str, list[str]]:
    """(code, warnings); ValidationError when the code is not well formed."""
    code = normalise_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，现为%(n)d位。") % {"n": len(code)}, code="length"
        )
    if not codes.is_well_formed(code):
        bad = "".join(sorted({ch for ch in code if ch not in codes.ALPHABET}))
        raise ValidationError(
            _("统一社会信用代码含不允许的字符“%(bad)s”（代码中不使用 I、O、Z、S、V）。")
            % {"bad": bad},
            code="alphabet",
        )
    warnings = []
    if not codes.has_valid_check_character(code):
        warnings.append(
            _(
                "校验位与国家标准 GB 32100-2015 的计算结果（%(expected)s）不一致。请与营业执照核对；"
                "如执照上就是此代码（部分2016年以前的代码如此），可以继续，审核人员将人工核实。"
            )
            % {"expected": codes.expected_check_character(code)}
        )
    region = _latest_round()
    if applicant and not codes.division_code(code).startswith(region.uscc_division_prefix):
        warnings.append(
            _(
                "登记管理机关行政区划码（第3–8位）%(division)s 不是%(region)s（%(prefix)s开头）。"
                "算力券面向在%(region)s注册的单位，审核人员将人工核实注册地。"
            )
            % {
                "division": codes.division_code(code),
                "region": region.region_name,
                "prefix": region.uscc_division_prefix,
            }
        )
    return code, warnings
