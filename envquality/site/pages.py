"""Pages 3–5: one page per division, drinking-water sources, the text table and the downloads."""

from __future__ import annotations

from typing import Any

import folium
import numpy as np
import pandas as pd

from envquality.site.chrome import PageInfo, shell
from envquality.site.figures import SiteFigures
from envquality.site.layers import PointLayer, feature
from envquality.site.mapbase import finish, new_map
from envquality.site.province import _target
from envquality.site.svg import bars_svg, calendar_svg
from envquality.site.text import bi, esc, fmt, fmt_pct

__all__ = ["division_page", "water_page", "table_page", "downloads_page", "WATER_TARGET", "WATER_COLOURS"]

#: Drinking-water target [%] (envquality.targets.DRINKING_WATER_TARGET).
WATER_TARGET = 96.85
#: Colours of water classes I … 劣V (a common blue-to-red scale of Chinese water bulletins; not from a standard).
WATER_COLOURS = {1: "#1E90FF", 2: "#00BFFF", 3: "#32CD32", 4: "#FFD700", 5: "#FF8C00", 6: "#DC143C"}
_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ", 5: "Ⅴ", 6: "劣Ⅴ"}


def _water_target() -> float:
    try:
        from envquality.targets import DRINKING_WATER_TARGET
        return float(DRINKING_WATER_TARGET)
    except ImportError:  # pragma: no cover
        return WATER_TARGET


def _table(caption: str, cols: list[str], rows: list[list[str]], num: Any = frozenset()) -> str:
    head = "".join(f"<th scope=col>{c}</th>" for c in cols)
    body = "".join("<tr>" + "".join(
        (f"<th scope=row>{v}</th>" if i == 0 else f'<td{" class=num" if i in num else ""}>{v}</td>')
        for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="eq-table"><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _monthly_grid(mon: pd.DataFrame, years: tuple[int, int]) -> dict[tuple[int, str], list[float]]:
    """(year, column) -> 12 monthly values (NaN where none), built once per division."""
    out = {}
    for y in years:
        part = mon[mon["year"] == y].set_index("month_no").reindex(range(1, 13))
        for col in ("good_ratio", "pm25_mean", "pm10_mean"):
            out[(y, col)] = part[col].astype(float).tolist() if col in part else [np.nan] * 12
    return out


def _good_days_needed(progress: pd.DataFrame | None, code: str) -> str:
    if progress is None or len(progress) == 0:
        return bi("目标进度暂不可用（未接入目标模块或无数据）。", "Target progress is not available (no targets module or no data).")
    rows = progress[(progress["entity_code"].astype(str) == code) & progress["good_days_needed"].notna()]
    if rows.empty:
        return bi("本市州无优良天数目标。", "No good-day target for this division.")
    out = []
    r: Any
    for r in rows.itertuples():
        out.append(bi(f"{r.title_zh}：今年尚需优良天 {fmt(r.good_days_needed)} 天（剩余 {fmt(r.days_left)} 天）。",
                      f"{r.title_en}: {fmt(r.good_days_needed)} more good days needed this year "
                      f"({fmt(r.days_left)} days left)."))
    return "<br>".join(out)


def division_page(figs: SiteFigures, code: str, info: PageInfo, progress: pd.DataFrame | None = None) -> str:
    """Calendar of daily AQI, monthly good-day ratio vs 82 %, monthly PM vs last year, good days needed, stations."""
    city = figs.cities.set_index("code").loc[code]
    year = figs.day.year
    daily = figs.daily[(figs.daily["city_code"] == code) & (figs.daily["date"].dt.year == year)]
    grid = _monthly_grid(figs.monthly[figs.monthly["city_code"] == code], (year - 1, year))
    target = _target()
    parts = [f"<h2>{bi(f'{year} 年逐日 AQI 日历', f'Daily AQI calendar {year}')}</h2>", calendar_svg(daily, year),
             f'<p class="eq-note">{bi("颜色与类别按 HJ 633；格内数字为 AQI。", "Colours and categories per HJ 633; the number is the AQI.")}</p>']
    parts.append(f"<h2>{bi(f'月优良天数比例（目标 {target:g} %）', f'Monthly good-day ratio (target {target:g} %)')}</h2>")
    parts.append(bars_svg([(f"{year - 1} 年", f"{year - 1}", grid[(year - 1, "good_ratio")], "#9ecae1"),
                           (f"{year} 年", f"{year}", grid[(year, "good_ratio")], "#2166AC")],
                          ymax=100, ref=target, ref_label=f"{target:g} %", unit=" %"))
    for k, lab in (("pm25", "PM2.5"), ("pm10", "PM10")):
        parts.append(f"<h2>{bi(f'{lab} 月均浓度与去年同月', f'Monthly {lab} against last year')}</h2>")
        parts.append(bars_svg([(f"{year - 1} 年", f"{year - 1}", grid[(year - 1, f"{k}_mean")], "#bdbdbd"),
                               (f"{year} 年", f"{year}", grid[(year, f"{k}_mean")], "#B35806")],
                              unit=" µg/m³"))
    rows = [[bi(f"{m}月", f"Month {m}"), fmt_pct(grid[(year, "good_ratio")][m - 1]),
             fmt_pct(grid[(year - 1, "good_ratio")][m - 1]),
             fmt(grid[(year, "pm25_mean")][m - 1]), fmt(grid[(year - 1, "pm25_mean")][m - 1]),
             fmt(grid[(year, "pm10_mean")][m - 1]), fmt(grid[(year - 1, "pm10_mean")][m - 1])]
            for m in range(1, 13)]
    parts.append(_table(bi("月度数据", "Monthly figures"),
                        ["", bi(f"优良比例 {year}", f"Good ratio {year}"), bi(f"{year - 1}", f"{year - 1}"),
                         f"PM2.5 {year}", f"PM2.5 {year - 1}", f"PM10 {year}", f"PM10 {year - 1}"], rows,
                        num={1, 2, 3, 4, 5, 6}))
    parts.append(f"<h2>{bi('今年尚需优良天数', 'Good days still needed this year')}</h2>"
                 f'<p id="eq-needed">{_good_days_needed(progress, code)}</p>')
    parts.append(_stations_table(figs, code))
    return shell(f"{city['name_zh']} 空气质量", f"{city['name_en']} air quality",
                 "".join(parts), current="", info=info)


def _stations_table(figs: SiteFigures, code: str) -> str:
    st = figs.stations[(figs.stations["city_code"] == code) & figs.stations["active_on_day"]]
    keys = (("pm25", "PM2.5"), ("pm10", "PM10"), ("o3", "O₃"), ("no2", "NO₂"), ("so2", "SO₂"), ("co", "CO"))
    rows = [[f'<span class="eq-station-name">{esc(r.name)}</span>', esc(r.code),
             bi("是", "yes") if r.assessment else bi("否", "no")]
            + [fmt(getattr(r, "last_" + k, None), 1 if k == "co" else 0) for k, _ in keys] for r in st.itertuples()]
    return (f"<h2>{bi('监测站点最新小时值', 'Stations: latest hourly values')}</h2>"
            + _table(bi("µg/m³（CO 为 mg/m³）", "µg/m³ (CO mg/m³)"),
                     [bi("站点", "Station"), bi("编码", "Code"), bi("评价点", "Assessment")] + [esc(b) for _, b in keys],
                     rows, num={3, 4, 5, 6, 7, 8}))


def water_page(figs: SiteFigures, info: PageInfo, *, tiles: str = "none", tianditu_key: str | None = None) -> str:
    """Every drinking-water source coloured by its latest class; compliance per division vs 96.85 %."""
    m = new_map(info, current="water.html", tiles=tiles, tianditu_key=tianditu_key,
                title="饮用水水源地 · Drinking-water sources", aqi_legend=False)
    feats = []
    ws = figs.water_sources
    r: Any
    for r in ws.itertuples() if len(ws) else []:
        if r.lat == r.lat and r.lon == r.lon:
            feats.append(feature(r.lat, r.lon, popup=_water_popup(r), tooltip=esc(r.name), style={
                "radius": 6, "color": "#222", "weight": 1, "fillColor": _water_colour(r), "fillOpacity": 0.9,
                "className": "eq-water-source"}))
    PointLayer(feats, bi("水源地（最新类别）", "Sources (latest class)"), show=True).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    legend = "".join(f'<li><span class="eq-swatch" style="background:{c}"></span>{_ROMAN[k]} {bi("类", "class")}</li>'
                     for k, c in WATER_COLOURS.items())
    panel = (f'<details class="eq-panel eq-collapse-small" id="eq-water-panel" open><summary>{bi("水源地达标率", "Source compliance")}'
             f'</summary><div class="eq-body">{_water_compliance_table(figs)}<ul>{legend}</ul></div></details>')
    root: Any = m.get_root()
    root.html.add_child(folium.Element(panel), name="eq_water_panel")
    return finish(m)


def _water_class(r) -> int | None:
    cls = getattr(r, "water_class", None)
    return int(cls) if cls is not None and pd.notna(cls) else None


def _water_colour(r) -> str:
    c = _water_class(r)
    return WATER_COLOURS.get(c, "#9E9E9E") if c else "#9E9E9E"


def _water_popup(r) -> str:
    """Name, division, type, latest class with its date, deciding parameters, Class III compliance."""
    c = _water_class(r)
    dec = esc(str(getattr(r, "deciding", "") or "").replace("|", ", ")) or "—"
    when = getattr(r, "sampled_at", None)
    when_s = esc(pd.Timestamp(when).strftime("%Y-%m-%d")) if when is not None and pd.notna(when) else "—"
    comp = getattr(r, "compliant", None)
    comp_s = "—" if comp is None or pd.isna(comp) else (bi("达标", "compliant") if comp else bi("不达标", "not compliant"))
    return (f'<div class="eq-popup eq-water"><h3>{esc(r.name)}</h3><p>{esc(r.city)} · {esc(r.source_type)}</p>'
            f"<p>{bi('最新类别', 'Latest class')}: <strong class=eq-class>{_ROMAN.get(c, '—') if c else '—'}</strong>"
            f" ({when_s})</p><p>{bi('定类指标', 'Deciding parameters')}: <span class=eq-deciding>{dec}</span></p>"
            f"<p>{bi('Ⅲ类达标', 'Class III compliance')}: {comp_s}</p></div>")


def _water_compliance_table(figs: SiteFigures) -> str:
    wc = figs.water_compliance
    target = _water_target()
    if wc is None or len(wc) == 0:
        return f"<p>{bi('本年尚无水质数据。', 'No water samplings this year yet.')}</p>"
    t = wc[wc["method"] == "sources"]
    rows = [[esc(r.city), fmt_pct(r.ratio_pct, 2), f"{fmt(r.numerator)} / {fmt(r.denominator)}",
             bi("达标", "meets") if r.meets_target else bi("未达", "below")] for r in t.itertuples()]
    return _table(bi(f"按水源地个数，目标 {target:g} %（{t['period'].iloc[0]}）", f"By sources, target {target:g} %"),
                  [bi("市州", "Division"), bi("达标率", "Ratio"), bi("达标/评价", "Compliant/assessed"),
                   bi("目标", "Target")], rows, num={1, 2})


def table_page(figs: SiteFigures, info: PageInfo) -> str:
    """Text alternative of the maps: every division with today's AQI and the year-to-date figures."""
    y = figs.ytd.set_index("city_code")
    rows = []
    r: Any
    for r in figs.latest.itertuples():
        yt = y.loc[r.city_code] if r.city_code in y.index else pd.Series(dtype=float)
        g = yt.get
        rows.append([f'<a href="division-{esc(r.city_code)}.html">{bi(r.name_zh, r.name_en)}</a>', fmt(r.aqi),
                     bi(r.category_zh or "无有效数据", r.category_en or "no valid data"),
                     esc(str(r.primary_pollutants).replace(",", ", ")) or "—",
                     fmt(r.pm25_24h), fmt(r.pm10_24h), fmt(r.o3_8h),
                     fmt_pct(g("good_ratio")), fmt(g("pm25_mean")), fmt_pct(g("pm25_mean_change_pct")),
                     fmt(g("pm10_mean")), fmt_pct(g("pm10_mean_change_pct"))])
    cols = [bi("市州", "Division"), "AQI", bi("类别", "Category"), bi("首要污染物", "Primary"),
            "PM2.5", "PM10", "O₃-8h", bi("优良比例（年初至今）", "Good-day ratio YTD"),
            bi("PM2.5 年初至今", "PM2.5 YTD"), bi("同比", "vs last year"), bi("PM10 年初至今", "PM10 YTD"),
            bi("同比", "vs last year")]
    cap = bi(f"{figs.day:%Y-%m-%d} 各市州空气质量（浓度 µg/m³）", f"Air quality by division, {figs.day:%Y-%m-%d} (µg/m³)")
    body = (f'<p class="eq-note">{bi("本表与地图内容相同，便于键盘和读屏软件使用。", "This table holds what the maps show, for keyboard and screen-reader use.")}</p>'
            + _table(cap, cols, rows, num=set(range(1, 12)) - {2, 3}))
    return shell("各市州一览", "Divisions at a glance", body, current="table.html", info=info)


def downloads_page(files: list[tuple[str, str, str]], info: PageInfo) -> str:
    """Every data file behind the pages (``files``: (path, zh, en)), CSV and GeoJSON."""
    rows = [[bi(zh, en), f'<a href="{esc(p)}" download>{esc(p.split("/")[-1])}</a>'] for p, zh, en in files]
    body = (f'<p class="eq-note">{bi("每张图表背后的数据，CSV 与 GeoJSON（WGS84）。空气数据为实时数据，未经审核时可能修订。", "The data behind every figure, as CSV and GeoJSON (WGS84). Real-time air data may change until audited.")}</p>'
            + _table(bi("数据文件", "Data files"), [bi("内容", "Content"), bi("文件", "File")], rows))
    return shell("数据下载", "Downloads", body, current="downloads.html", info=info)
