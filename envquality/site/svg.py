"""Inline SVG figures: an AQI calendar (in the manner of openair's calendarPlot) and monthly bar charts."""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from envquality.site.levels import text_colour
from envquality.site.text import bi, esc, fmt

__all__ = ["calendar_svg", "bars_svg"]

_MONTHS_EN = [calendar.month_abbr[i] for i in range(1, 13)]
_WEEK_ZH = "一二三四五六日"


def calendar_svg(daily: pd.DataFrame, year: int) -> str:
    """Twelve month panels, weekdays across, each day coloured by its HJ 633 category with the AQI written in.

    ``daily``: one division's rows with ``date``, ``aqi``, ``colour``.
    """
    cell, pad, head = 26, 14, 30
    pw, ph = 7 * cell, 6 * cell + head
    by_day = {pd.Timestamp(d).date(): (a, c) for d, a, c in zip(daily["date"], daily["aqi"], daily["colour"])}
    parts = []
    for mi in range(12):
        ox, oy = (mi % 4) * (pw + pad), (mi // 4) * (ph + pad)
        parts.append(f'<text x="{ox + pw / 2}" y="{oy + 12}" text-anchor="middle" class="m">{mi + 1}月 / '
                     f"{_MONTHS_EN[mi]}</text>")
        for wd in range(7):
            parts.append(f'<text x="{ox + wd * cell + cell / 2}" y="{oy + 26}" text-anchor="middle" class="w">'
                         f"{_WEEK_ZH[wd]}</text>")
        first_wd, ndays = calendar.monthrange(year, mi + 1)
        for dn in range(1, ndays + 1):
            k = first_wd + dn - 1
            x, y = ox + (k % 7) * cell, oy + head + (k // 7) * cell
            aqi, colour = by_day.get(pd.Timestamp(year, mi + 1, dn).date(), (np.nan, None))
            fill = colour if isinstance(colour, str) and aqi == aqi else "#EEEEEE"
            label = fmt(aqi) if aqi == aqi else ""
            tip = f"{year}-{mi + 1:02d}-{dn:02d} AQI {label or '—'}"
            parts.append(f'<g><title>{esc(tip)}</title><rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
                         f'height="{cell - 2}" fill="{esc(fill)}" stroke="#fff"/>'
                         f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" class="v" '
                         f'fill="{text_colour(fill)}">{label}</text></g>')
    w, h = 4 * pw + 3 * pad, 3 * ph + 2 * pad
    return (f'<svg class="eq-calendar" role="img" viewBox="0 0 {w} {h}" width="100%" '
            f'aria-label="{year} AQI calendar" xmlns="http://www.w3.org/2000/svg">'
            "<style>.m{font:600 12px sans-serif}.w{font:10px sans-serif;fill:#555}.v{font:9px sans-serif}</style>"
            + "".join(parts) + "</svg>")


def _nice_step(top: float) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about four intervals up to ``top``."""
    raw = max(top, 1e-9) / 4
    k = 10 ** np.floor(np.log10(raw))
    return float(min((m * k for m in (1, 2, 2.5, 5, 10) if m * k >= raw), default=10 * k))


def bars_svg(series: list[tuple[str, str, list[float], str]], *, ymax: float | None = None,
             ref: float | None = None, ref_label: str = "", unit: str = "") -> str:
    """Grouped monthly bars (Jan–Dec); ``series`` = (label zh, label en, 12 values, colour); optional reference line."""
    W, H, L, B, T = 640, 220, 44, 28, 12
    vals = [v for _, _, s, _ in series for v in s if v == v]
    step = _nice_step(ymax or max(vals + [ref or 0, 1]) * 1.05)
    top = ymax or step * np.ceil(max(vals + [ref or 0, 1]) * 1.05 / step)
    gw = (W - L - 8) / 12
    bw = (gw - 6) / max(len(series), 1)
    sy = (H - B - T) / top
    parts = [f'<line x1="{L}" y1="{H - B}" x2="{W - 4}" y2="{H - B}" stroke="#333"/>']
    for t in np.arange(0, top + step / 2, 25 if ymax == 100 else step):
        y = H - B - t * sy
        parts.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - 4}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{L - 4}" y="{y + 4:.1f}" text-anchor="end" class="a">{t:.0f}</text>')
    for mi in range(12):
        x0 = L + mi * gw + 3
        parts.append(f'<text x="{x0 + gw / 2 - 3:.1f}" y="{H - B + 14}" text-anchor="middle" class="a">{mi + 1}</text>')
        for si, (zh, en, s, colour) in enumerate(series):
            v = s[mi] if mi < len(s) else np.nan
            if v != v:
                continue
            hgt = v * sy
            parts.append(f'<rect x="{x0 + si * bw:.1f}" y="{H - B - hgt:.1f}" width="{bw - 1:.1f}" height="{hgt:.1f}" '
                         f'fill="{esc(colour)}"><title>{esc(en)} {mi + 1}: {fmt(v, 1)}{esc(unit)}</title></rect>')
    if ref is not None:
        y = H - B - ref * sy
        parts.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - 4}" y2="{y:.1f}" stroke="#B2182B" stroke-dasharray="5,3" '
                     f'stroke-width="2"/><text x="{W - 6}" y="{y - 4:.1f}" text-anchor="end" class="r">'
                     f"{esc(ref_label)}</text>")
    key = " ".join(f'<span class="eq-swatch" style="background:{esc(c)}"></span> {bi(zh, en)}' for zh, en, _, c in series)
    return (f'<p class="eq-note">{key}</p><svg role="img" aria-hidden="true" viewBox="0 0 {W} {H}" width="100%" '
            'style="max-width:720px" xmlns="http://www.w3.org/2000/svg">'
            "<style>.a{font:10px sans-serif;fill:#444}.r{font:600 11px sans-serif;fill:#B2182B}</style>"
            + "".join(parts) + "</svg>")
