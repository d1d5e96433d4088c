"""Page 2: a day slider over the period's daily AQI (folium TimestampedGeoJson)."""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd
from folium.plugins import TimestampedGeoJson

from envquality.site.assets import TIMEDIMENSION, localize
from envquality.site.chrome import PageInfo
from envquality.site.figures import SiteFigures
from envquality.site.mapbase import finish, new_map
from envquality.site.text import esc, fmt

__all__ = ["time_page", "time_features"]


def time_features(figs: SiteFigures) -> list[dict]:
    """One point per division and day of this year with a valid AQI, coloured by HJ 633 category."""
    d = pd.Timestamp(figs.day)
    x = figs.daily[(figs.daily["date"] >= pd.Timestamp(d.year, 1, 1)) & (figs.daily["date"] <= d)
                   & figs.daily["aqi"].notna()]
    c = figs.cities.set_index("code")
    x = x[x["city_code"].isin(c.index)]
    lat, lon = c.loc[x["city_code"], "lat"].to_numpy(), c.loc[x["city_code"], "lon"].to_numpy()
    label = {k: esc(f"{r.name_zh} {r.name_en}") for k, r in c.iterrows()}  # escaped once per division
    cats = {(z, e): f"{esc(z)} / {esc(e)}" for z, e in zip(x["category_zh"], x["category_en"])}
    feats = []
    for i, (code, day, aqi, colour, cz, ce) in enumerate(zip(
            x["city_code"], x["date"].dt.strftime("%Y-%m-%d"), x["aqi"], x["colour"], x["category_zh"],
            x["category_en"])):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                      "properties": {"times": [day], "icon": "circle",
                                     "popup": f"{label[code]}<br>{day} AQI {fmt(aqi)} {cats[(cz, ce)]}",
                                     "iconstyle": {"fillColor": colour, "color": "#222", "weight": 1,
                                                   "fillOpacity": 0.9, "radius": 11}}})
    return feats


def time_page(figs: SiteFigures, info: PageInfo, *, tiles: str = "none", tianditu_key: str | None = None) -> str:
    """Daily AQI of every division through the year to date, one day at a time."""
    m = new_map(info, current="time.html", tiles=tiles, tianditu_key=tianditu_key,
                title="逐日空气质量 · Daily air quality")
    t = TimestampedGeoJson({"type": "FeatureCollection", "features": time_features(figs)}, period="P1D",
                           duration="PT1H", add_last_point=False, auto_play=False, loop=False,
                           date_options="YYYY-MM-DD", time_slider_drag_update=True, speed_slider=False)
    localize(t, TIMEDIMENSION)
    t.options["position"] = "topright"  # the legend sits bottom left
    t.add_to(m)
    # open on the latest day, not the first
    root: Any = m.get_root()
    root.script.add_child(folium.Element(
        "window.addEventListener('load', function () { var td = " + m.get_name() + ".timeDimension;"
        " var t = td.getAvailableTimes(); if (t.length) { td.setCurrentTime(t[t.length - 1]); } });"),
        name="eq_last_day")
    return finish(m)
