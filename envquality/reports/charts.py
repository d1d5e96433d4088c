"""Inline SVG charts for the printable reports: no scripts, no external URLs, every text escaped.

Two kinds: horizontal bars of the divisions' good-day ratios against the
82 % line (:func:`ratio_bars_svg`) and monthly lines of a concentration this
year against last year (:func:`trend_lines_svg`).
"""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

__all__ = ["ratio_bars_svg", "trend_lines_svg"]

_FONT = "font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif"


def _num(x: float) -> str:
    return f"{x:.1f}"


def ratio_bars_svg(labels: Sequence[str], values: Sequence[float], *, target: float | None = 82.0,
                   title: str = "", unit: str = "%", maximum: float = 100.0) -> str:
    """Horizontal bars (one per label) with a dashed target line; NaN bars are left empty ("—")."""
    row, left, width, top = 22, 150, 420, 34
    height = top + row * len(labels) + 30
    scale = width / maximum
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{left + width + 70}" '
           f'height="{height}" viewBox="0 0 {left + width + 70} {height}" style="{_FONT}">',
           f"<title>{escape(title)}</title>",
           f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * row
        out.append(f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{escape(str(lab))}</text>')
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(f'<text x="{left + 4}" y="{y + 15}" font-size="12">—</text>')
            continue
        w = max(0.0, min(float(v), maximum)) * scale
        colour = "#2e7d32" if target is None or float(v) >= target else "#e65100"
        out.append(f'<rect x="{left}" y="{y + 3}" width="{_num(w)}" height="{row - 6}" fill="{colour}"/>')
        out.append(f'<text x="{_num(left + w + 4)}" y="{y + 15}" font-size="11">{escape(f"{float(v):.1f}")}'
                   f"{escape(unit)}</text>")
    if target is not None:
        x = left + target * scale
        out.append(f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{top + row * len(labels)}" '
                   'stroke="#c62828" stroke-width="1.5" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{_num(x)}" y="{top + row * len(labels) + 16}" font-size="11" fill="#c62828" '
                   f'text-anchor="middle">{escape(f"{target:g}{unit}")}</text>')
    out.append("</svg>")
    return "".join(out)


def trend_lines_svg(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float], str, bool]], *,
                    title: str = "", unit: str = "µg/m³") -> str:
    """Lines over categories (months); ``series`` items are (label, values, colour, dashed)."""
    left, top, width, height = 50, 34, 480, 200
    finite = [float(v) for _, vals, _, _ in series for v in vals if v is not None and not math.isnan(float(v))]
    ymax = max(finite) * 1.15 if finite else 1.0
    ymax = max(ymax, 1.0)
    n = max(len(categories), 1)
    step = width / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + height - (v / ymax) * height

    total_h = top + height + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{left + width + 40}" '
           f'height="{total_h}" viewBox="0 0 {left + width + 40} {total_h}" style="{_FONT}">',
           f"<title>{escape(title)}</title>",
           f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#555"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#555"/>',
           f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">{escape(f"{ymax:.0f}")}</text>',
           f'<text x="{left - 6}" y="{top + height}" font-size="10" text-anchor="end">0</text>',
           f'<text x="{left + 4}" y="{top - 6}" font-size="10">{escape(unit)}</text>']
    for i, c in enumerate(categories):
        x, _ = xy(i, 0.0)
        out.append(f'<text x="{_num(x)}" y="{top + height + 14}" font-size="10" text-anchor="middle">'
                   f"{escape(str(c))}</text>")
    for k, (label, vals, colour, dashed) in enumerate(series):
        pts = [xy(i, float(v)) for i, v in enumerate(vals) if v is not None and not math.isnan(float(v))]
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        if len(pts) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in pts:
            out.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{colour}"/>')
        ly = top + height + 32 + (k // 2) * 14
        lx = left + (k % 2) * 240
        out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 24}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 30}" y="{ly}" font-size="11">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
