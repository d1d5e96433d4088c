"""Every class boundary of every parameter (GB 3838-2002 Table 1/2, GB/T 14848-2017 Table 1)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from envquality.water import classify_groundwater, classify_samples, classify_surface
from envquality.water import gb3838_2002 as gb
from reference_tables import (
    GB3838_MAX,
    GB3838_REFERENCE_ITEMS,
    GB3838_TABLE2,
    GBT14848_MAX,
    class_of_max,
)

# Expected classes come from tests/reference_tables.py (typed from the standards), never
# from envquality's own tables.
_expected_max = class_of_max

#: The class-forming "≤" items of GB 3838 Table 1 (the reference items are assessed apart).
MAX_ITEMS = [k for k in GB3838_MAX if k not in GB3838_REFERENCE_ITEMS]


def _cases(table_items, limits_of):
    out = []
    for k in table_items:
        lims = limits_of(k)
        for L in sorted(set(lims)):
            if math.isinf(L):
                continue
            for v in (L, np.nextafter(L, np.inf) * (1 + 1e-8) if L else 1e-12, L * 0.999):
                out.append((k, float(v)))
    return out


@pytest.mark.parametrize("key,value", _cases(MAX_ITEMS, lambda k: GB3838_MAX[k]))
def test_surface_max_items_every_boundary(key, value):
    expected = _expected_max(GB3838_MAX[key], value)
    r = classify_surface({key: value}, include_cod=True)
    assert r.classes[key] == expected
    assert r.water_class == expected


@pytest.mark.parametrize("value,expected", [
    (7.5, 1), (7.4999, 2), (6.0, 2), (5.9999, 3), (5.0, 3), (4.9999, 4), (3.0, 4), (2.9999, 5),
    (2.0, 5), (1.9999, 6), (12.0, 1), (0.0, 6)])
def test_do_higher_is_better(value, expected):
    assert classify_surface({"do": value}).water_class == expected


@pytest.mark.parametrize("value,river,lake", [
    (0.01, 1, 1), (0.011, 1, 2), (0.02, 1, 2), (0.025, 2, 2), (0.026, 2, 3), (0.05, 2, 3),
    (0.051, 2, 4), (0.1, 2, 4), (0.11, 3, 5), (0.2, 3, 5), (0.21, 4, 6), (0.3, 4, 6), (0.4, 5, 6), (0.41, 6, 6)])
def test_tp_river_vs_lake(value, river, lake):
    assert classify_surface({"tp": value}).water_class == river
    assert classify_surface({"tp": value}, water_body="lake").water_class == lake
    assert classify_surface({"tp": value}, water_body="水库").water_class == lake


@pytest.mark.parametrize("ph,expected", [(6.0, 1), (9.0, 1), (7.5, 1), (5.99, 6), (9.01, 6), (3.0, 6)])
def test_surface_ph_range(ph, expected):
    r = classify_surface({"ph": ph})
    assert r.water_class == expected
    assert "ph" not in r.exceedances  # no multiple for pH


def test_exclusions_of_2011_method():
    base = {"nh3n": 0.3}  # Class II
    worse = {**base, "temp": 35.0, "fecal_coliform": 1e6}
    r = classify_surface(worse)
    assert r.water_class == 2 and r.reference == {"fecal_coliform": 6}
    assert "temp" in r.unused
    # TN: lakes report it as reference, rivers ignore it
    lake = classify_surface({**base, "tn": 5.0}, water_body="lake")
    assert lake.water_class == 2 and lake.reference == {"tn": 6}
    river = classify_surface({**base, "tn": 5.0})
    assert river.water_class == 2 and river.reference == {} and "tn" in river.unused


def test_cod_option():
    assert classify_surface({"cod": 35.0}).water_class == 0  # not class-forming by default
    assert "cod" in classify_surface({"cod": 35.0}).unused
    assert classify_surface({"cod": 35.0}, include_cod=True).water_class == 5
    assert classify_surface({"cod": 15.0}, include_cod=True).water_class == 1  # I = II = 15 → the better class


@pytest.mark.parametrize("key", list(GB3838_TABLE2))
def test_table2_pass_fail(key):
    L = GB3838_TABLE2[key]
    ok = classify_surface({"nh3n": 0.1, key: L})
    assert ok.table2 == {key: True} and ok.table2_pass and ok.compliant and ok.water_class == 1
    bad = classify_surface({"nh3n": 0.1, key: L * 1.2})
    assert bad.table2 == {key: False} and not bad.table2_pass and not bad.compliant
    assert bad.water_class == 1  # Table 2 never changes the class
    assert bad.exceedances[key] == pytest.approx(0.2)


def test_exceedance_multiple_and_deciding():
    r = classify_surface({"nh3n": 1.5, "tp": 0.3, "codmn": 3.0, "do": 2.5, "ph": 9.5})
    assert r.water_class == 6 and r.label == "劣V"
    assert set(r.deciding) == {"ph"}
    r = classify_surface({"nh3n": 1.5, "tp": 0.3, "codmn": 3.0, "do": 2.5})
    assert r.water_class == 5 and r.deciding == ("do",)
    assert r.exceedances == pytest.approx({"nh3n": 0.5, "tp": 0.5})  # (C − III)/III, none for DO
    r = classify_surface({"nh3n": 1.5, "tp": 0.3})
    assert r.water_class == 4 and set(r.deciding) == {"nh3n", "tp"}


def test_shared_limits_take_better_class():
    assert classify_surface({"cu": 1.0}).water_class == 2  # II = III = IV = V = 1.0
    assert classify_surface({"fluoride": 1.0}).water_class == 1
    assert classify_surface({"se": 0.01}).water_class == 1
    assert classify_surface({"hg": 0.00005}).water_class == 1


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError, match="nh3"):
        classify_surface({"nh3": 1.0})
    with pytest.raises(ValueError):
        classify_surface({"nh3n": 1.0}, water_body="groundwater")


# --------------------------------------------------------------------------- groundwater
GW_MAX = list(GBT14848_MAX)


@pytest.mark.parametrize("key,value", _cases(GW_MAX, lambda k: GBT14848_MAX[k]))
def test_groundwater_every_boundary(key, value):
    expected = _expected_max(GBT14848_MAX[key], value)
    r = classify_groundwater({key: value})
    assert r.classes[key] == expected and r.water_class == expected
    assert r.water_class <= 5


@pytest.mark.parametrize("ph,expected", [
    (6.5, 1), (8.5, 1), (7.0, 1), (6.49, 4), (5.5, 4), (8.51, 4), (9.0, 4), (5.49, 5), (9.01, 5), (2.0, 5)])
def test_groundwater_ph_bands(ph, expected):
    assert classify_groundwater({"ph": ph}).water_class == expected


def test_groundwater_las_not_detected_is_class_one():
    assert classify_groundwater({"las": "ND"}).water_class == 1
    assert classify_groundwater({"las": "<0.05"}).water_class == 1
    assert classify_groundwater({"las": 0.05}).water_class == 2
    assert classify_groundwater({"las": 0.3}).water_class == 3
    assert classify_groundwater({"las": 0.31}).water_class == 5


def test_groundwater_radioactivity_caps_at_class_four():
    assert classify_groundwater({"gross_alpha": 0.6}).water_class == 4
    assert classify_groundwater({"gross_alpha": 50.0}).water_class == 4
    assert classify_groundwater({"gross_beta": 1.0}).water_class == 2


def test_groundwater_not_1993_values():
    assert classify_groundwater({"total_hardness": 600}).water_class == 4  # 1993: V (IV ≤ 550)
    assert classify_groundwater({"fe": 1.8}).water_class == 4             # 1993: V (IV ≤ 1.5)
    assert classify_groundwater({"hg": 0.0001}).water_class == 1           # 1993: I ≤ 0.00005


def test_groundwater_set_option_and_compliance():
    r = classify_groundwater({"total_hardness": 500, "nitrate": 3.0}, groundwater_set=["nitrate"])
    assert r.water_class == 2 and "total_hardness" in r.unused and r.compliant
    r = classify_groundwater({"total_coliforms": 3.0})
    assert r.water_class == 1 and r.compliant
    r = classify_groundwater({"total_coliforms": 4.0})
    assert r.water_class == 4 and not r.compliant


# --------------------------------------------------------------------------- frame API
def test_frame_api_matches_scalar_api_on_random_samples():
    rng = np.random.default_rng(7)
    keys = list(gb.ASSESSED_DRINKING) + list(gb.TABLE2)
    n = 300
    typical = {k: (gb.TABLE1.get(k) or gb.TABLE2[k]) for k in keys}
    data = {}
    for k in keys:
        lim = typical[k]
        if lim.kind == "range":
            data[k] = rng.uniform(5.5, 9.5, n)
        else:
            data[k] = rng.uniform(0, 1.3, n) * max(lim.limits)
    wide = pd.DataFrame(data)
    wide.insert(0, "sampling", range(n))
    for body in ("river", "lake"):
        out = classify_samples(wide, source_type=body)
        scalar = [classify_surface({k: data[k][i] for k in keys}, water_body=body) for i in range(n)]
        assert out["water_class"].astype(int).tolist() == [s.water_class for s in scalar]
        assert out["compliant"].tolist() == [s.compliant for s in scalar]
        assert [set(d.split("|")) for d in out["deciding"]] == [set(s.deciding) for s in scalar]


def test_long_frame_mixed_types_and_missing_values():
    long = pd.DataFrame({
        "source": ["r", "r", "g", "g", "l", "x"],
        "sampled_at": pd.to_datetime(["2020-01-05"] * 6).tz_localize("Asia/Shanghai"),
        "parameter": ["nh3n", "tp", "nitrate", "benzene", "tp", "nh3n"],
        "value": [0.4, 0.15, 25.0, 0.001, 0.04, np.nan],
        "source_type": ["river", "river", "groundwater", "groundwater", "lake", "river"],
    })
    out = classify_samples(long)
    got = dict(zip(out["source"], out["class_label"]))
    assert got == {"r": "III", "g": "IV", "l": "III", "x": ""}
    assert out.attrs["ignored_parameters"] == ["benzene"]
    assert pd.isna(out.set_index("source").loc["x", "water_class"])
    assert not out.set_index("source").loc["x", "compliant"]


def test_source_type_required():
    with pytest.raises(ValueError, match="source type"):
        classify_samples(pd.DataFrame({"nh3n": [0.1]}))
