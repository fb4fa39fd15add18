"""Where an enterprise is registered, from its unified social credit code (GB 32100-2015): the
characters 3 to 8 are the administrative division code (GB/T 2260) of the registering authority.
Beijing's sixteen districts by their codes; anything else is shown by its code."""

from __future__ import annotations

from typing import Final

BEIJING_DISTRICTS: Final = {
    "110101": "东城区",
    "110102": "西城区",
    "110105": "朝阳区",
    "110106": "丰台区",
    "110107": "石景山区",
    "110108": "海淀区",
    "110109": "门头沟区",
    "110111": "房山区",
    "110112": "通州区",
    "110113": "顺义区",
    "110114": "昌平区",
    "110115": "大兴区",
    "110116": "怀柔区",
    "110117": "平谷区",
    "110118": "密云区",
    "110119": "延庆区",
    "110000": "北京市（市级登记）",
    "110100": "北京市（市辖区）",
}


def district_code(uscc: str) -> str:
    return (uscc or "")[2:8]


def district_name(code: str) -> str:
    """The district of a division code: a Beijing district, or 京外 with the code."""
    if code in BEIJING_DISTRICTS:
        return BEIJING_DISTRICTS[code]
    if code.startswith("11"):
        return f"北京市（代码 {code}）"
    return f"京外（代码 {code or '—'}）"
