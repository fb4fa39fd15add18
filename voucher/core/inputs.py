"""The messages of the one parse of money and of days (voucher.policy.money, .dates), for the
catalogue.

The policy package stays free of Django, and makemessages skips it (`-i "policy/*"`, see
voucher/locale/en/LC_MESSAGES/django.po): its messages are listed here, as written there, so that
the catalogue keeps their English. A page or a form shows a refusal as `error.message(gettext)`;
tests/test_policy_money.py and test_policy_dates.py check that this list is the policy's.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

MESSAGES = (
    gettext_noop("金额"),
    gettext_noop("%(label)s“%(value)s”不是有效金额，应如 1234.50"),
    gettext_noop("%(label)s“%(value)s”不是有效金额，请填以万元为单位的数字，如 400 或 85.5"),
    gettext_noop('%(label)s须写作十进制数字或字符串，如 "1234.50"，不能是浮点数'),
    gettext_noop("%(label)s不能为负数: %(value)s"),
    gettext_noop("%(label)s最多两位小数（精确到分）: %(value)s"),
    gettext_noop("%(label)s精确到分即可：万元最多六位小数: %(value)s"),
    gettext_noop("%(label)s过大，整数部分最多 %(digits)s 位: %(value)s"),
    gettext_noop("日期"),
    gettext_noop("%(label)s“%(value)s”格式应为 YYYY-MM-DD"),
    gettext_noop("%(label)s“%(value)s”是不存在的日期"),
)
