"""One Leaflet GeoJSON layer per overlay: markers, labels, circles and areas from one data block.

folium creates a Python element, a Jinja compilation and a script block per
marker; a layer of 14 divisions with popups then costs ~60 elements.  Here
each overlay is one element holding a FeatureCollection whose properties say
how to draw each feature (``icon_html`` → a labelled ``L.marker`` that takes
keyboard focus; ``style`` → ``L.circleMarker`` or area style) and carry the
popup HTML, already escaped (:func:`envquality.site.text.esc`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from envquality.site.assets import SEARCH, localize

__all__ = ["PointLayer", "CitySearch", "safe_json", "feature"]

_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def safe_json(data) -> str:
    """JSON for an inline script: ``<``, ``>``, ``&`` as \\u escapes (no ``</script>``), and no Jinja openers.

    folium renders each element's script output a second time as a Jinja
    template; a structural ``{`` in JSON is always followed by ``"`` or ``}``,
    so any ``{{``, ``{%`` or ``{#`` is inside a string and gets its brace
    escaped as ``\\u007b``.

    >>> safe_json({"n": "{{7*7}}</script>"})
    '{"n": "\\\\u007b{7*7}}\\\\u003c/script\\\\u003e"}'
    """
    s = json.dumps(data, ensure_ascii=False, allow_nan=False)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return _JINJA_OPEN.sub(r"\\u007b", s)


def feature(lat: Any, lon: Any, **props: Any) -> dict:
    """A GeoJSON point feature (WGS84, [lon, lat])."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(lon), 6),
                                                                             round(float(lat), 6)]},
            "properties": props}


class PointLayer(Layer):
    """An overlay (listed in the layer control) drawn from one FeatureCollection."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson({{ this.data_js }}, {
  pointToLayer: function (f, latlng) {
    var p = f.properties;
    if (p.icon_html) {
      var s = p.icon_size || [34, 34];
      return L.marker(latlng, {title: p.title || "", alt: p.title || "", keyboard: true, riseOnHover: true,
        icon: L.divIcon({html: p.icon_html, className: "eq-divicon " + (p.class_name || ""), iconSize: s,
                         iconAnchor: [s[0] / 2, s[1] / 2], popupAnchor: [0, -s[1] / 2]})});
    }
    return L.circleMarker(latlng, p.style || {});
  },
  style: function (f) { return f.properties.style || {}; },
  onEachFeature: function (f, layer) {
    if (f.properties.popup) { layer.bindPopup(f.properties.popup, {maxWidth: 340}); }
    if (f.properties.tooltip) { layer.bindTooltip(f.properties.tooltip); }
  }
});
{% endmacro %}
""")

    def __init__(self, features: list[dict], name: str, *, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.data_js = safe_json({"type": "FeatureCollection", "features": features})


class CitySearch(JSCSSMixin, MacroElement):
    """Search by city name over a :class:`PointLayer` (leaflet-search, vendored); opens the popup found."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = new L.Control.Search({
  layer: {{ this.layer.get_name() }}, propertyName: "search", initial: false, zoom: 8, marker: false,
  collapsed: false, position: "topleft", textPlaceholder: "搜索城市 / Search city", hideMarkerOnCollapse: true
});
{{ this.get_name() }}.on("search:locationfound", function (e) { if (e.layer.getPopup()) { e.layer.openPopup(); } });
{{ this._parent.get_name() }}.addControl({{ this.get_name() }});
{% endmacro %}
""")

    def __init__(self, layer: PointLayer):
        super().__init__()
        self._name = "CitySearch"
        self.layer = layer
        localize(self, SEARCH)
