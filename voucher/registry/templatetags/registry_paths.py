"""Paths as small diagrams: boxes for companies and persons, arrows with ratios for holdings."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voucher.policy.relations import Holding

register = template.Library()

# a registry check's result in words (the registry's pages and the findings' path diagrams)
LABELS = {
    "pass": gettext_lazy("通过"),
    "fail": gettext_lazy("不通过"),
    "review": gettext_lazy("待审核"),
}


def _percent(ratio: Decimal | str | None) -> str:
    if ratio is None or ratio == "":
        return ""
    value = Decimal(str(ratio)) * 100
    return f"{value.normalize():f}%"


def chain(
    nodes: Sequence[str], ratios: Sequence[Decimal | str | None] | None = None
) -> list[dict[str, Any]]:
    """[{node, person, ratio_in}] from the top holder down; ratio_in is the arrow into the node."""
    ratios = list(ratios or [])
    out = []
    for i, node in enumerate(nodes):
        ratio = ratios[i - 1] if 0 < i <= len(ratios) else None
        out.append({"node": node, "person": node.startswith("P-"), "ratio_in": _percent(ratio)})
    return out


def chain_of(path: Sequence[Holding]) -> list[dict[str, Any]]:
    if not path:
        return []
    return chain([path[0].holder, *(h.held for h in path)], [h.ratio for h in path])


@register.inclusion_tag("registry/_diagram.html")
def path_diagram(steps: list[dict[str, Any]], caption: str = "") -> dict[str, Any]:
    return {"steps": steps, "caption": caption}


@register.inclusion_tag("registry/_finding_paths.html")
def finding_paths(values: dict[str, Any]) -> dict[str, Any]:
    """The chains a SUPPLIER_EQUITY finding names in its values, ready to draw."""
    chains = []
    path = values.get("path")
    if isinstance(path, list) and len(path) > 1:
        chains.append((_("持股路径"), chain(path)))
    for key, label in (
        ("path_to_applicant", _("共同股东 → 申报单位")),
        ("path_to_supplier", _("共同股东 → 供应商")),
    ):
        nodes = values.get(key)
        if isinstance(nodes, list) and len(nodes) > 1:
            chains.append((label, chain(nodes)))
    return {"chains": chains, "effective_ratio": _percent(values.get("effective_ratio"))}


@register.filter
def verdict(status: str) -> str:
    """A registry check's result (pass, fail, review) in the active language."""

    return str(LABELS.get(status, status))
