"""A folium map with the site's chrome, local assets and configured tiles."""

from __future__ import annotations

from typing import Any

import folium

from envquality.site.assets import LEAFLET, SITE, localize
from envquality.site.chrome import PageInfo, header_html, legend_html, status_html

__all__ = ["new_map", "TILES", "tile_prefixes", "add_tiles", "finish"]

#: Gansu's extent (WGS84) for the initial view.
GANSU_CENTRE = (37.3, 101.2)

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TDT_URL = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
           "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=")
TDT_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
TILES = ("none", "osm", "tianditu")


def tile_prefixes(tiles: str) -> tuple[str, ...]:
    """URL prefixes the configured tile layer may load (and link to); the off-site check allows only these."""
    if tiles == "osm":
        return ("https://tile.openstreetmap.org/", "https://www.openstreetmap.org/")
    if tiles == "tianditu":
        return ("https://t{s}.tianditu.gov.cn/", "https://www.tianditu.gov.cn/") + tuple(
            f"https://t{i}.tianditu.gov.cn/" for i in range(8))
    return ()


def add_tiles(m: folium.Map, tiles: str, tianditu_key: str | None) -> None:
    """Base layers: none (default), OpenStreetMap (development), or Tianditu vec_w + cva_w (WGS84, no shift)."""
    if tiles == "osm":
        folium.TileLayer(OSM_URL, attr=OSM_ATTR, name="OpenStreetMap", max_zoom=18).add_to(m)
    elif tiles == "tianditu":
        if not tianditu_key:
            raise ValueError("tiles 'tianditu' need a key: set ENVQUALITY_TIANDITU_KEY")
        sub = "01234567"
        folium.TileLayer(TDT_URL.replace("{layer}", "vec") + tianditu_key, attr=TDT_ATTR, name="天地图 Tianditu",
                         subdomains=sub, max_zoom=18).add_to(m)
        folium.TileLayer(TDT_URL.replace("{layer}", "cva") + tianditu_key, attr=TDT_ATTR, name="注记 Labels",
                         subdomains=sub, overlay=True, control=False, max_zoom=18).add_to(m)
    elif tiles != "none":
        raise ValueError(f"unknown tiles {tiles!r}; expected one of {TILES}")


def new_map(info: PageInfo, *, current: str, tiles: str = "none", tianditu_key: str | None = None,
            title: str = "", aqi_legend: bool = True) -> folium.Map:
    """A Leaflet map (WGS84 / Web Mercator) with header, status line and legend; assets from the site."""
    m = folium.Map(location=GANSU_CENTRE, zoom_start=6, tiles=None, control_scale=True, min_zoom=4, max_zoom=12)
    localize(m, {"js": LEAFLET["js"] + SITE["js"], "css": LEAFLET["css"] + SITE["css"]})
    add_tiles(m, tiles, tianditu_key)
    root: Any = m.get_root()
    root.header.add_child(folium.Element('<meta name="viewport" content="width=device-width, initial-scale=1">'
                                         f"<title>{title}</title>"), name="eq_meta")
    chrome = folium.Element(header_html(current) + status_html(info) + '<div id="eq-main"></div>')
    root.html.add_child(chrome, name="eq_chrome")
    root.html._children.move_to_end("eq_chrome", last=False)  # header first in the reading order
    if aqi_legend:
        root.html.add_child(folium.Element(legend_html()), name="eq_legend")
    return m


def finish(m: folium.Map) -> str:
    """The page's HTML; the map object is exposed as ``window.eqMap`` (tests and benchmarks wait on it)."""
    root: Any = m.get_root()
    root.script.add_child(folium.Element(f"window.eqMap = {m.get_name()};"), name="eq_expose")
    html = root.render()
    return html.replace("<html>", '<html lang="zh-CN" data-lang="zh">', 1)
