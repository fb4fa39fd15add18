"""`{% review_nav as nav %}`: which of the review site's pages the user may open, so that the
navigation offers no link that answers 403 (the pages check the same permissions).

`{% review_nav_links %}`: the navigation itself (review/base.html), written here: as a
template its 22 `{% url %}`, 25 `{% trans %}` and 7 `{% if %}` were about 0.65 ms of every
review page (decision 0054); tests/test_review_lists_tags.py compares it with that template."""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from voucher.applications import permissions as p
from voucher.applications.templatetags.voucher_format import person, variable_html

register = template.Library()


@register.simple_tag(takes_context=True)
def review_nav(context: Any) -> dict[str, bool]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "notifications": bool(p.can_see_notifications(user)),
        "screening": bool(p.can_screen(user)),
        "registry_import": bool(p.can_import_registry(user)),
        "staff": bool(p.can_manage_users(user)),
        "claims": bool(p.can_decide_enterprise_claim(user)),
        "payees": bool(p.can_check_payee(user)),
    }


# the navigation's links in their order: the review_nav flag that offers it (None: always),
# the URL's name, its label (translated as it is written)
NAV_LINKS = (
    (None, "review:queue", gettext_noop("审核队列")),
    (None, "review:mine", gettext_noop("我的待办")),
    (None, "review:publicity", gettext_noop("公示")),
    (None, "review:dashboard", gettext_noop("预算与统计")),
    (None, "review:statistics", gettext_noop("分类统计")),
    (None, "review:checks", gettext_noop("跨申报核查")),
    (None, "review:payment_batches", gettext_noop("拨付")),
    ("payees", "review:payees", gettext_noop("收款账户")),
    (None, "review:supervision", gettext_noop("跟踪管理")),
    (None, "review:clawbacks", gettext_noop("退还")),
    (None, "review:lists", gettext_noop("外部名单")),
    (None, "review:official_lists", gettext_noop("官方名单")),
    (None, "review:parameters", gettext_noop("轮次参数")),
    ("notifications", "review:notifications", gettext_noop("通知")),
    ("screening", "platforms:screening", gettext_noop("开源项目筛选")),
    (None, "registry:relation", gettext_noop("关联关系查询")),
    (None, "registry:sweeps", gettext_noop("全轮次关联排查")),
    ("registry_import", "registry:import", gettext_noop("导入登记信息")),
    ("staff", "review:staff", gettext_noop("系统管理")),
    (None, "review:enterprises", gettext_noop("企业信息")),
    ("claims", "accounts:claims", gettext_noop("企业认领")),
    (None, "staffapi:tokens", gettext_noop("接口令牌")),
)


# the navigation's addresses, reversed once per URLconf (its resolver, which Django makes anew
# when its URL caches are cleared) and script prefix: reverse depends on nothing else for a
# name without arguments (no language prefix, no current app asked), and its 23 calls were
# ~0.5 ms of every review page (decision 0058). Addresses, not data: nothing a request reads
# or writes is kept.
_ADDRESSES: dict[int, tuple[Any, dict[str, dict[str, str]]]] = {}
_KEPT = 8  # resolvers or prefixes kept at most (a test may make many): then all forgotten


def _addresses() -> dict[str, str]:
    """Each navigation name's (and the sign-out's) address, as reverse(name) gives it now."""
    resolver = get_resolver(get_urlconf())
    prefix = get_script_prefix()
    kept = _ADDRESSES.get(id(resolver))
    if kept is None or kept[0] is not resolver:  # an id reused by another resolver
        if len(_ADDRESSES) >= _KEPT:
            _ADDRESSES.clear()
        kept = _ADDRESSES[id(resolver)] = (resolver, {})
    by_prefix = kept[1]
    addresses = by_prefix.get(prefix)
    if addresses is None:
        if len(by_prefix) >= _KEPT:
            by_prefix.clear()
        names = [name for _flag, name, _label in NAV_LINKS] + ["review:logout"]
        addresses = by_prefix[prefix] = {name: reverse(name) for name in names}
    return addresses


@register.simple_tag(takes_context=True)
def review_nav_links(context: Any) -> str:
    """The review site's navigation: the links the user may open, who they are, and the
    button that signs out; each value escaped as `{% url %}`, `{% trans %}` and `{{ }}` do."""
    nav = review_nav(context)
    escape = context.autoescape

    def text(value: str) -> str:
        return html.escape(value) if escape else value

    address = _addresses()
    links = "".join(
        "\n  "
        + (f'<a href="{text(address[name])}">{text(_(label))}</a>' if not flag or nav[flag] else "")
        for flag, name, label in NAV_LINKS
    )
    return mark_safe(  # every value above escaped
        f'<nav class="review-nav" aria-label="{text(_("审核"))}">{links}\n'
        f'  <span class="who">{variable_html(person(context.get("user")), context)}</span>\n'
        f'  <form method="post" action="{text(address["review:logout"])}" class="inline">'
        f"{CsrfTokenNode().render(context)}"
        f'<button type="submit" class="link">{text(_("退出"))}</button></form>\n'
        "</nav>"
    )
