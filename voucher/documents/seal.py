"""The system's seal drawn on the signed notice and receipt: a picture, not a real seal.

A red ring with the system's name along its top, a star and the words 系统电子签章 / 非实物印章
(it stands for the electronic signature the PDF carries, signing.py, and says so; it imitates no
authority's seal). Drawn as inline SVG, which WeasyPrint renders in the page's layout: each
character of the arc is its own <text> rotated about the centre (no textPath).
"""

from __future__ import annotations

import functools
import math
from xml.sax.saxutils import escape

SEAL_NAME = "北京市算力券申报系统"
SEAL_CENTRE = "系统电子签章"
SEAL_NOTE = "非实物印章"
RED = "#c8102e"
SIZE = 120  # the viewBox; printed 40 mm wide
ARC_DEGREES = 210  # the name spans the ring's top, clear of the centre words


def _star(cx: float, cy: float, outer: float) -> str:
    inner = outer * 0.382
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append(f"{cx + radius * math.cos(angle):.2f},{cy + radius * math.sin(angle):.2f}")
    return f'<polygon points="{" ".join(points)}" fill="{RED}"/>'


@functools.cache
def seal_svg(name: str = SEAL_NAME) -> str:
    c = SIZE / 2
    chars = list(name)
    step = ARC_DEGREES / max(len(chars) - 1, 1)
    arc = []
    for i, ch in enumerate(chars):
        angle = -ARC_DEGREES / 2 + i * step  # 0 is the top
        arc.append(
            f'<text x="{c}" y="21" font-size="12" text-anchor="middle" fill="{RED}" '
            f'transform="rotate({angle:.2f} {c} {c})">{escape(ch)}</text>'
        )
    return (
        f'<svg class="seal" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'width="40mm" height="40mm" role="img" aria-label="{escape(name)}{SEAL_CENTRE}" '
        'font-family="Noto Sans CJK SC, sans-serif" font-weight="bold">'
        f'<circle cx="{c}" cy="{c}" r="{c - 3}" fill="none" stroke="{RED}" stroke-width="3"/>'
        + "".join(arc)
        + _star(c, c - 2, 15)
        + f'<text x="{c}" y="{c + 25}" font-size="10" text-anchor="middle" fill="{RED}">'
        f"{SEAL_CENTRE}</text>"
        f'<text x="{c}" y="{c + 37}" font-size="7" text-anchor="middle" fill="{RED}">'
        f"{SEAL_NOTE}</text>"
        "</svg>"
    )
