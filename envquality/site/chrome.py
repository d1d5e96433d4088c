"""What every page shares: header with navigation and language switch, status line, legend, shell."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from envquality.site.levels import level_table
from envquality.site.text import bi, esc

__all__ = ["PageInfo", "header_html", "status_html", "legend_html", "shell", "NAV"]

#: (file, zh, en) of the navigation, in order.
NAV: tuple[tuple[str, str, str], ...] = (
    ("index.html", "今日空气", "Air today"),
    ("time.html", "逐日回放", "Day by day"),
    ("water.html", "饮用水水源地", "Drinking water"),
    ("table.html", "市州一览（表格）", "Divisions (table)"),
    ("downloads.html", "数据下载", "Downloads"),
)


@dataclass
class PageInfo:
    """Facts every page states: data day, build time, audit state."""

    day: dt.date
    built_at: dt.datetime  # tz-aware
    audited: bool
    tz: str = "Asia/Shanghai"


def header_html(current: str) -> str:
    links = "".join(
        f'<a href="{f}"{" aria-current=page" if f == current else ""}>{bi(zh, en)}</a>' for f, zh, en in NAV)
    return ('<a class="eq-skip" href="#eq-main">' + bi("跳到正文", "Skip to content") + "</a>"
            '<header class="eq-header"><a class="eq-brand" href="index.html">'
            + bi("甘肃省环境质量", "Gansu environmental quality")
            + f'</a><nav aria-label="站点导航 / Site">{links}</nav>'
            '<button id="eq-lang" type="button">English</button></header>')


def status_html(info: PageInfo) -> str:
    """"Updated at", the data's age (refreshed by site.js) and the provisional/audited label."""
    import pandas as pd

    end = pd.Timestamp(info.day).tz_localize(info.tz) + pd.Timedelta(days=1)
    built = pd.Timestamp(info.built_at).tz_convert(info.tz)
    age_h = max(0, round((built - end).total_seconds() / 3600))
    label = (bi("已审核数据", "Audited data") if info.audited
             else bi("实时数据，未经审核，可能修订", "Provisional: real-time data, not audited, may change"))
    return ('<div class="eq-status" role="status">'
            + bi(f"数据日期 {info.day:%Y-%m-%d}", f"Data for {info.day:%Y-%m-%d}")
            + "<span>" + bi(f"更新于 {built:%Y-%m-%d %H:%M}（北京时间）", f"Updated {built:%Y-%m-%d %H:%M} (CST)")
            + f'</span><span id="eq-age" data-end="{end.isoformat()}">'
            + bi(f"{age_h} 小时前", f"{age_h} h ago") + "</span>"
            + f'<span class="eq-badge{" audited" if info.audited else ""}">{label}</span></div>')


def legend_html() -> str:
    """The six HJ 633 categories as an HTML list (collapses on a phone; never covers the controls)."""
    items = []
    r: Any
    for r in level_table().itertuples():
        rng = f"{r.lower}–{int(r.upper)}" if r.upper == r.upper and r.upper is not None else f"> {r.lower - 1}"
        items.append(f'<li><span class="eq-swatch" style="background:{esc(r.colour)}"></span>'
                     f"<span>{esc(rng)}</span> {bi(r.category_zh, r.category_en)}</li>")
    items.append('<li><span class="eq-swatch" style="background:#9E9E9E"></span>'
                 + bi("无有效数据", "no valid data") + "</li>")
    return ('<details class="eq-legend eq-collapse-small" open><summary>'
            + bi("空气质量指数 AQI（HJ 633）", "Air quality index (HJ 633)")
            + f'</summary><ul>{"".join(items)}</ul></details>')


def shell(title_zh: str, title_en: str, body: str, *, current: str, info: PageInfo) -> str:
    """A complete non-map page (division, water table, text table, downloads)."""
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\" data-lang=\"zh\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title_zh)} · {esc(title_en)}</title>"
            '<link rel="stylesheet" href="assets/site/site.css">'
            '<script src="assets/site/site.js"></script></head><body>'
            + header_html(current) + status_html(info)
            + f'<main id="eq-main" class="eq-page"><h1>{bi(title_zh, title_en)}</h1>{body}</main></body></html>\n')
