"""Property: worsening any single parameter never improves the class (surface and groundwater)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from envquality.water import classify_groundwater, classify_surface
from envquality.water import gb3838_2002 as gb
from envquality.water import gbt14848_2017 as gw

SURF = {k: (gb.TABLE1.get(k) or gb.TABLE2[k]) for k in (*gb.ASSESSED_2011, *gb.TABLE2)}
GW = dict(gw.TABLE)


def _value(lim, draw_frac: float) -> float:
    if lim.kind == "range":
        return 6.0 + 3.0 * draw_frac
    if lim.kind == "ph_gw":
        return 6.5 + 2.0 * draw_frac
    top = max(x for x in lim.limits if x != float("inf"))
    return top * 1.5 * draw_frac


def _worse(lim, v: float, step: float) -> float:
    """A value no better than v for this item."""
    if lim.kind == "min":
        return max(v - step * v, 0.0)
    if lim.kind in ("range", "ph_gw"):
        mid = 7.5 if lim.kind == "range" else 7.5
        return v + step * 5 if v >= mid else v - step * 5
    return v + step * max(v, 1e-6) * 3


fracs = st.floats(0, 1, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(SURF)), fracs, min_size=1, max_size=12),
       st.data(), st.sampled_from(["river", "lake"]), st.booleans())
def test_surface_monotone(fr, data, body, cod):
    values = {k: _value(SURF[k], f) for k, f in fr.items()}
    key = data.draw(st.sampled_from(sorted(values)))
    step = data.draw(st.floats(0, 1, allow_nan=False))
    before = classify_surface(values, water_body=body, include_cod=cod)
    after = classify_surface({**values, key: _worse(SURF[key], values[key], step)}, water_body=body, include_cod=cod)
    assert after.water_class >= before.water_class
    assert not (after.compliant and not before.compliant)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GW)), fracs, min_size=1, max_size=12), st.data())
def test_groundwater_monotone(fr, data):
    values = {k: _value(GW[k], f) for k, f in fr.items()}
    key = data.draw(st.sampled_from(sorted(values)))
    step = data.draw(st.floats(0, 1, allow_nan=False))
    before = classify_groundwater(values)
    after = classify_groundwater({**values, key: _worse(GW[key], values[key], step)})
    assert after.water_class >= before.water_class
    assert 1 <= after.water_class <= 5
