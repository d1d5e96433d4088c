"""Page 1: the province overview map."""

from __future__ import annotations

import math
from typing import Any

import folium
import pandas as pd

from envquality.site.chrome import PageInfo
from envquality.site.figures import DAILY_INDICATORS, PROVINCE_CODE, SiteFigures
from envquality.site.layers import CitySearch, PointLayer, feature
from envquality.site.mapbase import finish, new_map
from envquality.site.text import bi, esc, fmt, fmt_pct

__all__ = ["province_page", "division_popup", "LABELS", "GOOD_DAY_TARGET"]

#: The plan's good-day target [%] (envquality.targets.GOOD_DAY_RATIO_TARGET).
GOOD_DAY_TARGET = 82.0
#: Display labels and units of the daily indicators.
LABELS = {"so2_24h": ("SO₂", "µg/m³"), "no2_24h": ("NO₂", "µg/m³"), "pm10_24h": ("PM10", "µg/m³"),
          "co_24h": ("CO", "mg/m³"), "pm25_24h": ("PM2.5", "µg/m³"), "o3_8h": ("O₃-8h", "µg/m³"),
          "o3_1h": ("O₃-1h", "µg/m³")}
MEETS, MISSES, NODATA = "#2166AC", "#B35806", "#9E9E9E"


def _target() -> float:
    try:
        from envquality.targets import GOOD_DAY_RATIO_TARGET
        return float(GOOD_DAY_RATIO_TARGET)
    except ImportError:  # pragma: no cover - the targets package keeps the constant
        return GOOD_DAY_TARGET


def division_popup(r) -> str:
    """Popup of one division: AQI, category, primary pollutant(s), concentrations, capture, HJ 633 advice."""
    conc = "".join(
        f"<tr><th scope=row>{esc(LABELS[c][0])}</th><td>{fmt(getattr(r, c, float('nan')), 1 if c == 'co_24h' else 0)}"
        f" {esc(LABELS[c][1])}</td></tr>" for c in DAILY_INDICATORS if c != "o3_1h" or pd.notna(getattr(r, c, None)))
    aqi = fmt(r.aqi)
    cat = bi(r.category_zh or "无有效数据", r.category_en or "no valid data")
    prim = esc(str(r.primary_pollutants).replace(",", ", ")) or "—"
    cap = (f"{fmt(r.capture_stations)}/{int(r.assessment_stations)}" if r.assessment_stations else "—")
    advice = (bi(r.effect_zh, r.effect_en) + "<br>" + bi(r.advice_zh, r.advice_en)) if r.level else ""
    return (f'<div class="eq-popup" data-city="{esc(r.city_code)}"><h3>{bi(r.name_zh, r.name_en)}</h3>'
            f'<p>AQI <strong class="eq-aqi-value">{aqi}</strong> '
            f'<span class="eq-cat" style="background:{esc(r.colour)};color:{esc(r.text_colour)}">{cat}</span></p>'
            f"<p>{bi('首要污染物', 'Primary pollutant(s)')}: <span class=eq-primary>{prim}</span></p>"
            f"<table>{conc}</table>"
            f"<p>{bi('数据捕获（有效评价点位）', 'Data capture (valid assessment stations)')}: {cap}</p>"
            f'<p class="eq-advice">{advice}</p>'
            f'<p><a href="division-{esc(r.city_code)}.html">{bi("详情与日历", "Details and calendar")}</a></p></div>')


def _aqi_layer(figs: SiteFigures) -> PointLayer:
    """The 14 divisions as round markers in their HJ 633 colour with the AQI written on them."""
    feats = []
    r: Any
    for r in figs.latest.itertuples():
        label = fmt(r.aqi, missing="–")
        feats.append(feature(r.lat, r.lon, popup=division_popup(r), title=f"{r.name_zh} {r.name_en} AQI {label}",
                             search=esc(f"{r.name_zh} {r.name_en}"), code=str(r.city_code), class_name="eq-division",
                             icon_html=f'<div class="eq-aqi" style="background:{esc(r.colour)};'
                                       f'color:{esc(r.text_colour)}">{label}</div>', icon_size=[34, 34]))
    return PointLayer(feats, bi("今日 AQI", "AQI today"), show=True)


def _station_layer(figs: SiteFigures) -> PointLayer:
    """Active stations with their latest hourly values (text alternative: the division pages' tables)."""
    feats = []
    st = figs.stations[figs.stations["active_on_day"] & figs.stations["lat"].notna()]
    r: Any
    for r in st.itertuples():
        vals = "".join(f"<tr><th scope=row>{esc(lab)}</th><td>{fmt(getattr(r, 'last_' + k, None), 1 if k == 'co' else 0)}"
                       f"</td></tr>" for k, lab in (("pm25", "PM2.5"), ("pm10", "PM10"), ("o3", "O₃"),
                                                    ("no2", "NO₂"), ("so2", "SO₂"), ("co", "CO")))
        when = getattr(r, "last_time", None)
        when_s = esc(pd.Timestamp(when).strftime("%m-%d %H:%M")) if when is not None and pd.notna(when) else "—"
        kind = bi("评价点", "assessment") if r.assessment else bi("非评价点", "not assessment")
        html = (f'<div class="eq-popup eq-station"><h3 class="eq-station-name">{esc(r.name)}</h3>'
                f"<p>{esc(r.code)} · {kind}</p>"
                f"<p>{bi('最新小时值', 'Latest hourly values')} ({when_s})</p><table>{vals}</table></div>")
        feats.append(feature(r.lat, r.lon, popup=html, tooltip=esc(r.name),
                             style={"radius": 5, "color": "#222", "weight": 1, "fillColor": "#4a90d9",
                                    "fillOpacity": 0.9, "className": "eq-station-marker"}))
    return PointLayer(feats, bi("监测站点", "Monitoring stations"), show=False)


def _ytd_popup(r, what: str) -> str:
    per = (f"{pd.Timestamp(r.period_start):%Y-%m-%d} – {pd.Timestamp(r.period_end):%Y-%m-%d}"
           if pd.notna(r.period_start) else "—")
    if what == "good":
        rows = [(bi("优良天数比例", "Good-day ratio"), fmt_pct(r.good_ratio)),
                (bi("目标", "Target"), fmt_pct(_target())),
                (bi("优良天数 / 有效天数", "Good days / valid days"), f"{fmt(r.good_days)} / {fmt(r.valid_days)}"),
                (bi("去年同期", "Same period last year"), fmt_pct(r.good_ratio_prev)),
                (bi("变化（百分点）", "Change (points)"), fmt(r.good_ratio_change_pt, 1))]
    else:
        k = "pm25" if what == "pm25" else "pm10"
        rows = [(bi("年初至今均值", "Mean, year to date"), f"{fmt(getattr(r, k + '_mean'))} µg/m³"),
                (bi("去年同期", "Same period last year"), f"{fmt(getattr(r, k + '_mean_prev'))} µg/m³"),
                (bi("同比变化", "Change on last year"), fmt_pct(getattr(r, k + "_mean_change_pct")))]
    body = "".join(f"<tr><th scope=row>{a}</th><td>{b}</td></tr>" for a, b in rows)
    return (f'<div class="eq-popup"><h3>{bi(r.name_zh, r.name_en)}</h3><p>{esc(per)}</p>'
            f"<table>{body}</table></div>")


def _ytd_rows(figs: SiteFigures) -> pd.DataFrame:
    c = figs.cities[["code", "name_zh", "name_en", "lat", "lon"]].rename(columns={"code": "city_code"})
    return c.merge(figs.ytd, on="city_code", how="left")


def _change_colour(change: float) -> str:
    if change != change:
        return NODATA
    return "#2166AC" if change < 0 else ("#B2182B" if change > 0 else "#666666")


def _ytd_value(r, what: str, target: float) -> tuple[float, str, str]:
    """(value, colour, label text) of one division in a year-to-date layer."""
    if what == "good":
        v = r.good_ratio
        colour = NODATA if v != v else (MEETS if v >= target else MISSES)
        return v, colour, (("✓ " if v >= target else "✗ ") + fmt_pct(v)) if v == v else "—"
    v, ch = getattr(r, f"{what}_mean"), getattr(r, f"{what}_mean_change_pct")
    text = fmt(v) + (f" ({'+' if ch > 0 else ''}{fmt(ch)}%)" if ch == ch else "")
    return v, _change_colour(ch), text


def _ytd_layers(figs: SiteFigures, boundary: dict | None) -> list[PointLayer]:
    """Good-day ratio against 82 % and PM2.5/PM10 with change on last year: choropleth or symbols."""
    rows = _ytd_rows(figs)
    shapes = _boundary_by_code(boundary)
    target = _target()
    specs = (("good", bi(f"优良天数比例（年初至今，目标 {target:g} %）", f"Good-day ratio YTD (target {target:g} %)")),
             ("pm25", bi("PM2.5 年初至今（同比）", "PM2.5 year to date (vs last year)")),
             ("pm10", bi("PM10 年初至今（同比）", "PM10 year to date (vs last year)")))
    layers = []
    for what, name in specs:
        feats = []
        r: Any
        for r in rows.itertuples():
            v, colour, text = _ytd_value(r, what, target)
            popup = _ytd_popup(r, what)
            shape = shapes.get(str(r.city_code))
            if shape is not None:
                feats.append({**shape, "properties": {"popup": popup, "tooltip": esc(f"{r.name_zh} {text}"), "style": {
                    "fillColor": colour, "color": "#333", "weight": 1, "fillOpacity": 0.55}}})
            elif what != "good" and v == v:
                feats.append(feature(r.lat, r.lon, popup=popup, style={
                    "radius": 4 + 1.6 * math.sqrt(max(v, 0.0)), "color": "#222", "weight": 1, "fillColor": colour,
                    "fillOpacity": 0.5}))
            width = 92 if what != "good" else 70
            feats.append(feature(r.lat, r.lon, popup=popup, title=f"{r.name_zh} {r.name_en} {text}",
                                 icon_html=f'<div class="eq-label" style="border-color:{colour}">{esc(text)}</div>',
                                 icon_size=[width, 20], class_name=f"eq-ytd-{what}"))
        layers.append(PointLayer(feats, name, show=False))
    return layers


def _boundary_by_code(boundary: dict | None) -> dict[str, dict]:
    """Features of a boundary GeoJSON by division code (property ``code``, ``adcode`` or ``gb``)."""
    if not boundary:
        return {}
    out = {}
    for f in boundary.get("features", []):
        p = f.get("properties") or {}
        code = p.get("code", p.get("adcode", p.get("gb")))
        if code is not None:
            out[str(code)[:6]] = {"type": "Feature", "geometry": f["geometry"], "properties": {"code": str(code)}}
    return out


def progress_panel(progress: pd.DataFrame | None, entity: str = PROVINCE_CODE) -> str:
    """Target progress at a glance (rows of ``envquality.targets.progress_table`` for ``entity``)."""
    head = bi("目标进度", "Target progress")
    if progress is None or len(progress) == 0:
        body = bi("目标进度暂不可用（未接入目标模块或无数据）", "Target progress is not available (no targets module or no data)")
        return f'<details class="eq-panel eq-collapse-small" id="eq-progress" open><summary>{head}</summary>' \
               f'<div class="eq-body"><p>{body}</p></div></details>'
    rows = progress[progress["entity_code"].astype(str) == entity]
    status = {"met": ("已达标", "met"), "on_track": ("进度正常", "on track"), "at_risk": ("有风险", "at risk"),
              "out_of_reach": ("难以实现", "out of reach"), "no_data": ("无数据", "no data")}
    trs = []
    r: Any
    for r in rows.itertuples():
        st = status.get(str(r.status), (str(r.status), str(r.status)))
        need = "" if pd.isna(r.good_days_needed) else bi(f"尚需优良天 {fmt(r.good_days_needed)} 天",
                                                         f"{fmt(r.good_days_needed)} more good days needed")
        trs.append(f"<tr><th scope=row>{bi(r.title_zh, r.title_en)}</th><td class=num>{fmt(r.value_so_far, 1)}</td>"
                   f"<td class=num>{fmt(r.threshold, 1)}</td><td>{bi(*st)}</td><td>{need}</td></tr>")
    cols = "".join(f"<th scope=col>{c}</th>" for c in (bi("目标", "Target"), bi("当前", "So far"),
                                                      bi("目标值", "Threshold"), bi("状态", "Status"), ""))
    return (f'<details class="eq-panel eq-collapse-small" id="eq-progress" open><summary>{head}</summary>'
            f'<div class="eq-body"><table><thead><tr>{cols}</tr></thead><tbody>{"".join(trs)}</tbody></table>'
            "</div></details>")


def province_page(figs: SiteFigures, info: PageInfo, *, progress: pd.DataFrame | None = None,
                  boundary: dict | None = None, tiles: str = "none", tianditu_key: str | None = None) -> str:
    """The overview map: 14 divisions by latest daily AQI, stations, YTD layers, legend, search, progress."""
    m = new_map(info, current="index.html", tiles=tiles, tianditu_key=tianditu_key,
                title="甘肃省空气质量 · Gansu air quality")
    aqi = _aqi_layer(figs)
    for layer in (aqi, _station_layer(figs), *_ytd_layers(figs, boundary)):
        layer.add_to(m)
    CitySearch(aqi).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    root: Any = m.get_root()
    root.html.add_child(folium.Element(progress_panel(progress)), name="eq_progress")
    return finish(m)
