"""IAQI special rules, worked vectors and the AQI assembly (standards.md §1.2–§1.6)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from envquality.standards import AQIResult, aqi_level, daily_aqi, hourly_aqi, iaqi

from .test_iaqi_tables import COLUMNS, S2012, S2026, STANDARDS, ref_iaqi_units, same

DAILY_KEYS = ("so2_24h", "no2_24h", "pm10_24h", "co_24h", "pm25_24h", "o3_1h", "o3_8h")
HOURLY_KEYS = ("so2", "no2", "pm10", "co", "o3", "pm25")


def clean_day(**overrides) -> dict[str, float]:
    """A complete day with every IAQI 0, then the given overrides."""
    day = dict.fromkeys(DAILY_KEYS, 0.0)
    day.update(overrides)
    return day


def clean_hour(**overrides) -> dict[str, float]:
    hour = dict.fromkeys(HOURLY_KEYS, 0.0)
    hour.update(overrides)
    return hour


def so2_24h_for(target: int, standard: str = S2012) -> int:
    """Smallest SO2 24-h concentration whose reference IAQI is ``target``.

    SO2 24-h has a slope <= 1 IAQI per µg/m³ everywhere, so every integer 0..500 is hit.
    """
    for c in range(0, 2621):
        if ref_iaqi_units(standard, "so2_24h", c) == target:
            return c
    raise AssertionError(target)


# --------------------------------------------------------------------------
# worked vectors of §1.2

WORKED = [
    # column, concentration, IAQI 2012, IAQI 2026
    ("pm25_24h", 80, 107, 119),
    ("pm25_24h", 36, 52, 52),
    ("pm10_24h", 151, 101, 112),
    ("o3_8h", 161, 101, 101),
    ("co_24h", 2.1, 53, 53),
    ("co_24h", 2.2, 55, 55),  # naive float: 56
    ("so2_1h", 501, 101, 101),
    ("no2_24h", 41, 52, 52),
]


@pytest.mark.parametrize(
    ("column", "conc", "v2012", "v2026"), [pytest.param(*w, id=f"{w[0]}={w[1]}") for w in WORKED]
)
def test_worked_vectors(column, conc, v2012, v2026):
    assert iaqi(column, conc, standard=S2012) == v2012
    assert iaqi(column, conc, standard=S2026) == v2026


def test_co_2_2_naive_float_really_is_56():
    # documents why exact arithmetic matters (§1.2 floating-point pitfall)
    assert math.ceil((100 - 50) / (4 - 2) * (2.2 - 2) + 50) == 56
    assert iaqi("co_24h", 2.2) == 55


# --------------------------------------------------------------------------
# the 22 CO-1h values where naive float ceil is one too high

CO1H_BP = (0, 5, 10, 35, 60, 90, 120, 150)
NODES = (0, 50, 100, 150, 200, 300, 400, 500)


def _naive_co1h(c: float) -> int:
    # HJ 633 formula (1) in IEEE doubles, then ceil: what a naive implementation does
    for lo in range(7):
        if CO1H_BP[lo] <= c <= CO1H_BP[lo + 1]:
            bl, bh, il, ih = CO1H_BP[lo], CO1H_BP[lo + 1], NODES[lo], NODES[lo + 1]
            return math.ceil((ih - il) / (bh - bl) * (c - bl) + il)
    raise AssertionError(c)


def _exact_co1h(tenths: int) -> int:
    c = Fraction(tenths, 10)
    for lo in range(7):
        if CO1H_BP[lo] <= c <= CO1H_BP[lo + 1]:
            bl, bh, il, ih = CO1H_BP[lo], CO1H_BP[lo + 1], NODES[lo], NODES[lo + 1]
            return math.ceil(Fraction(ih - il, bh - bl) * (c - bl) + il)
    raise AssertionError(tenths)


NAIVE_WRONG_CO1H = [k for k in range(1501) if _naive_co1h(k / 10) != _exact_co1h(k)]


def test_naive_float_gets_exactly_22_co1h_values_wrong():
    # standards.md §1.2 says 22 values (65.4, 66.9, ..., 148.8); all one too high
    values = [k / 10 for k in NAIVE_WRONG_CO1H]
    assert len(values) == 22, values
    assert values[:2] == [65.4, 66.9] and values[-1] == 148.8
    assert all(_naive_co1h(k / 10) == _exact_co1h(k) + 1 for k in NAIVE_WRONG_CO1H)


@pytest.mark.parametrize("tenths", NAIVE_WRONG_CO1H, ids=lambda k: f"co_1h={k / 10}")
def test_engine_exact_on_naive_float_traps(tenths):
    for standard in STANDARDS:
        assert iaqi("co_1h", tenths / 10, standard=standard) == _exact_co1h(tenths)


# --------------------------------------------------------------------------
# special rules of the Table 1 footnotes


@pytest.mark.parametrize("conc", [801, 850.7, 1000, 5000])
def test_so2_1h_above_800(conc):
    # 2012 footnote 2: no 1-h IAQI (the 24-h one decides); 2026: fixed at 200
    assert math.isnan(iaqi("so2_1h", conc, standard=S2012))
    assert iaqi("so2_1h", conc, standard=S2026) == 200


@pytest.mark.parametrize("conc", [801, 900, 1200, 5000])
def test_o3_8h_above_800(conc):
    # 2012 footnote 3: no 8-h IAQI (the 1-h one decides); 2026: fixed at 300
    assert math.isnan(iaqi("o3_8h", conc, standard=S2012))
    assert iaqi("o3_8h", conc, standard=S2026) == 300


def test_special_columns_at_800_are_still_in_the_table():
    for standard in STANDARDS:
        assert iaqi("so2_1h", 800, standard=standard) == 200
        assert iaqi("o3_8h", 800, standard=standard) == 300


def test_hourly_so2_above_800_uses_24h_iaqi_under_2012():
    hour = clean_hour(so2=900.0)
    # 160 µg/m³ 24-h -> ceil(100 + 10 * 50 / 325) = 102
    r = hourly_aqi(hour, standard=S2012, so2_24h=160.0)
    assert r.iaqi["SO2"] == 102 and r.aqi == 102 and bool(r.complete)
    assert r.primary_pollutants() == "SO2"
    # without the 24-h mean the SO2 IAQI is undefined
    r = hourly_aqi(hour, standard=S2012)
    assert math.isnan(r.iaqi["SO2"]) and not bool(r.complete)
    # 2026: 200 whatever the 24-h mean says
    r = hourly_aqi(hour, standard=S2026, so2_24h=160.0)
    assert r.iaqi["SO2"] == 200 and r.aqi == 200


def test_hourly_so2_24h_only_replaces_values_above_800():
    r = hourly_aqi(
        {**clean_hour(), "so2": np.array([500.0, 801.0, 900.0, np.nan])},
        standard=S2012,
        so2_24h=np.array([2000.0, 160.0, np.nan, 160.0]),
    )
    assert same(r.iaqi["SO2"], [100, 102, np.nan, np.nan])


def test_hourly_so2_24h_broadcasts_with_the_mapping():
    r = hourly_aqi(clean_hour(so2=900.0), standard=S2012, so2_24h=[160.0, 10.0])
    assert same(r.iaqi["SO2"], [102, 10])


def test_daily_2012_o3_8h_above_800_uses_o3_1h():
    # O3 8-h 900 has no IAQI in 2012; O3 1-h 500 -> 200 + 100 * 100 / 400 = 225 decides
    r = daily_aqi(clean_day(o3_8h=900.0, o3_1h=500.0), standard=S2012)
    assert math.isnan(r.iaqi["O3_8h"]) and r.iaqi["O3_1h"] == 225
    assert r.aqi == 225 and bool(r.complete)  # not incomplete for that reason alone
    assert r.primary_pollutants() == "O3_1h"
    # 2026: 8-h above 800 is 300 and the 1-h maximum is not part of the daily AQI
    r = daily_aqi(clean_day(o3_8h=900.0, o3_1h=500.0), standard=S2026)
    assert r.iaqi["O3_8h"] == 300 and r.aqi == 300 and "O3_1h" not in r.iaqi


def test_daily_2012_o3_8h_above_800_without_o3_1h_is_incomplete():
    day = clean_day(o3_8h=900.0)
    del day["o3_1h"]
    r = daily_aqi(day, standard=S2012)
    assert not bool(r.complete)


@pytest.mark.parametrize("column", [c for c in COLUMNS if c not in ("so2_1h", "o3_8h")])
@pytest.mark.parametrize("standard", STANDARDS)
def test_above_top_breakpoint_is_500(standard, column):
    assert iaqi(column, 1e6, standard=standard) == 500


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_negative_and_nan_are_nan(standard, column):
    assert np.isnan(iaqi(column, [-1.0, -0.4, -1e6, -math.inf, math.nan], standard=standard)).all()


def test_scalar_in_scalar_out_array_in_array_out():
    assert isinstance(iaqi("pm25_24h", 80), float)
    out = iaqi("pm25_24h", [[35, 80], [75, 600]])
    assert isinstance(out, np.ndarray) and out.shape == (2, 2) and out.dtype == np.float64
    assert out.tolist() == [[50, 107], [100, 500]]
    assert iaqi("pm25_24h", np.array([])).shape == (0,)


# --------------------------------------------------------------------------
# AQI assembly


def test_daily_2012_includes_o3_1h_max_2026_does_not():
    # O3 1-h max 300 -> IAQI 150 would dominate in 2012 only
    day = clean_day(pm25_24h=80.0, o3_1h=300.0, o3_8h=100.0)
    r12, r26 = daily_aqi(day, standard=S2012), daily_aqi(day, standard=S2026)
    assert set(r12.iaqi) == {"SO2", "NO2", "PM10", "CO", "PM2.5", "O3_1h", "O3_8h"}
    assert set(r26.iaqi) == {"SO2", "NO2", "PM10", "CO", "PM2.5", "O3_8h"}
    assert r12.aqi == 150 and r12.primary_pollutants() == "O3_1h"
    assert r12.standard == S2012 and r26.standard == S2026
    assert r26.aqi == 119 and r26.primary_pollutants() == "PM2.5"


def test_daily_docstring_example():
    day = {"so2_24h": 12, "no2_24h": 35, "pm10_24h": 151, "co_24h": 0.9,
           "pm25_24h": 80, "o3_1h": 120, "o3_8h": 95}
    r12, r26 = daily_aqi(day), daily_aqi(day, standard=S2026)
    assert r12.aqi == 107 and r26.aqi == 119
    assert r12.exceeding_pollutants() == "PM10,PM2.5"
    assert r26.exceeding_pollutants() == ""  # the definition was removed in 2026


def test_hourly_uses_1h_columns_and_pm_against_24h_columns():
    # SO2 1-h 501 -> 101 (the 24-h column would give 300+), NO2 1-h 201, CO 1-h 10.1, O3 1-h 201
    r = hourly_aqi({"so2": 501, "no2": 201, "co": 10.1, "o3": 201, "pm10": 151, "pm25": 80})
    assert {k: float(v) for k, v in r.iaqi.items()} == {
        "SO2": 101, "NO2": 101, "PM10": 101, "CO": 101, "PM2.5": 107, "O3": 101,
    }
    assert r.aqi == 107 and r.primary_pollutants() == "PM2.5"
    r = hourly_aqi({"so2": 501, "no2": 201, "co": 10.1, "o3": 201, "pm10": 151, "pm25": 80},
                   standard=S2026)
    assert r.iaqi["PM2.5"] == 119 and r.iaqi["PM10"] == 112 and r.aqi == 119


@pytest.mark.parametrize(
    ("target", "has_primary"),
    [(0, False), (49, False), (50, False), (51, True), (101, True)],
)
def test_primary_pollutant_only_when_aqi_above_50(target, has_primary):
    for standard in STANDARDS:
        r = daily_aqi(clean_day(so2_24h=so2_24h_for(target)), standard=standard)
        assert r.aqi == target
        assert r.primary_pollutants() == ("SO2" if has_primary else "")


def test_primary_pollutant_ties_give_several():
    # PM2.5 80 -> 107 and PM10 164 -> ceil(107.0) = 107 under 2012: both primary
    r = daily_aqi(clean_day(pm25_24h=80.0, pm10_24h=164.0), standard=S2012)
    assert r.iaqi["PM10"] == r.iaqi["PM2.5"] == 107
    assert r.primary_pollutants() == "PM10,PM2.5"
    assert r.primary_pollutants(sep="/") == "PM10/PM2.5"
    # three-way tie including a gas; sep keeps the label order of PRIMARY_LABELS
    r = daily_aqi(clean_day(pm25_24h=80.0, pm10_24h=164.0, so2_24h=so2_24h_for(107)), standard=S2012)
    assert r.primary_pollutants() == "SO2,PM10,PM2.5"


def test_tie_at_50_gives_no_primary():
    r = daily_aqi(clean_day(so2_24h=50.0, pm25_24h=35.0), standard=S2012)
    assert r.aqi == 50 and r.primary_pollutants() == ""


def test_exceeding_pollutants_2012_only_and_strictly_above_100():
    day = clean_day(pm25_24h=75.0, pm10_24h=151.0, no2_24h=90.0, so2_24h=150.0)
    r = daily_aqi(day, standard=S2012)
    # PM2.5 75 / SO2 150 -> exactly 100: not exceeding; PM10 151 -> 101, NO2 90 -> 105: exceeding
    assert r.iaqi["PM2.5"] == 100 and r.iaqi["SO2"] == 100
    assert r.exceeding_pollutants() == "NO2,PM10"
    assert r.primary_pollutants() == "NO2"
    r = daily_aqi(day, standard=S2026)
    assert r.exceeding_pollutants() == "" and int(r.exceeding_mask) == 0


def test_exceeding_pollutants_hourly_2012():
    r = hourly_aqi(clean_hour(pm25=80.0, o3=201.0), standard=S2012)
    assert r.exceeding_pollutants() == "PM2.5,O3"
    assert hourly_aqi(clean_hour(pm25=80.0, o3=201.0), standard=S2026).exceeding_pollutants() == ""


# level boundaries: AQI, level, category zh, category en, colour
LEVEL_CASES = [
    (0, 1, "优", "Excellent", "#00E400"),
    (1, 1, "优", "Excellent", "#00E400"),
    (50, 1, "优", "Excellent", "#00E400"),
    (51, 2, "良", "Good", "#FFFF00"),
    (100, 2, "良", "Good", "#FFFF00"),
    (101, 3, "轻度污染", "Lightly polluted", "#FF7E00"),
    (150, 3, "轻度污染", "Lightly polluted", "#FF7E00"),
    (151, 4, "中度污染", "Moderately polluted", "#FF0000"),
    (200, 4, "中度污染", "Moderately polluted", "#FF0000"),
    (201, 5, "重度污染", "Heavily polluted", "#99004C"),
    (300, 5, "重度污染", "Heavily polluted", "#99004C"),
    (301, 6, "严重污染", "Severely polluted", "#7E0023"),
    (500, 6, "严重污染", "Severely polluted", "#7E0023"),
]


@pytest.mark.parametrize(("aqi", "level", "zh", "en", "colour"), LEVEL_CASES, ids=[f"AQI={c[0]}" for c in LEVEL_CASES])
def test_level_category_colour_at_boundaries(aqi, level, zh, en, colour):
    assert aqi_level(aqi).tolist() == level
    for standard in STANDARDS:
        r = daily_aqi(clean_day(so2_24h=so2_24h_for(aqi, standard)), standard=standard)
        assert r.aqi == aqi
        assert int(r.level) == level
        assert r.category() == zh and r.category("zh") == zh
        assert r.category("en") == en
        assert r.colour() == colour


def test_level_category_colour_vectorized_and_nan():
    aqis = [c[0] for c in LEVEL_CASES] + [math.nan]
    assert aqi_level(aqis).tolist() == [c[1] for c in LEVEL_CASES] + [0]
    r = daily_aqi(clean_day(so2_24h=np.array([so2_24h_for(a) for a in aqis[:-1]] + [math.nan])))
    assert r.colour().tolist() == [c[4] for c in LEVEL_CASES] + [""]
    assert r.category("en").tolist() == [c[3] for c in LEVEL_CASES] + [""]


# --------------------------------------------------------------------------
# HJ 633-2026 §5.3: a missing pollutant


@pytest.mark.parametrize(
    ("pm25", "expected"),
    [(35.0, math.nan), (60.0, math.nan), (61.0, 101.0), (80.0, 119.0)],
    ids=["aqi50-NA", "aqi100-NA", "aqi101-published", "aqi119-published"],
)
def test_2026_missing_pollutant_rule(pm25, expected):
    day = clean_day(pm25_24h=pm25)
    del day["pm10_24h"]  # missing key
    r = daily_aqi(day, standard=S2026)
    assert not bool(r.complete)
    assert same(r.aqi, expected)
    # a NaN value counts as missing just like an absent key
    r = daily_aqi(clean_day(pm25_24h=pm25, pm10_24h=math.nan), standard=S2026)
    assert same(r.aqi, expected) and not bool(r.complete)


def test_2026_missing_rule_no_primary_when_na():
    day = clean_day(pm25_24h=60.0, pm10_24h=math.nan)
    r = daily_aqi(day, standard=S2026)
    assert math.isnan(r.aqi) and r.primary_pollutants() == "" and r.category() == ""
    # the individual IAQIs are still reported
    assert r.iaqi["PM2.5"] == 100


def test_2012_incomplete_follows_the_missing_pollutant_rule():
    # HJ 633-2012 is silent; envquality applies HJ 633-2026 §5.3 to it (docs/standards.md)
    r = daily_aqi(clean_day(pm25_24h=36.0, pm10_24h=math.nan), standard=S2012)
    assert math.isnan(r.aqi) and not bool(r.complete)
    r = daily_aqi(clean_day(pm25_24h=80.0, pm10_24h=math.nan), standard=S2012)
    assert r.aqi == 107 and not bool(r.complete)


def test_2012_o3_present_with_either_daily_indicator():
    assert bool(daily_aqi(clean_day(o3_1h=math.nan), standard=S2012).complete)
    assert bool(daily_aqi(clean_day(o3_8h=math.nan), standard=S2012).complete)
    # MDA8 above 800 without a 1-h maximum: O3 has no IAQI, the day is incomplete
    r = daily_aqi(clean_day(o3_8h=843.0, o3_1h=math.nan), standard=S2012)
    assert not bool(r.complete) and math.isnan(r.aqi)


def test_all_missing_gives_nan_aqi():
    for standard in STANDARDS:
        assert math.isnan(daily_aqi({}, standard=standard).aqi)
        assert math.isnan(hourly_aqi({"so2": math.nan}, standard=standard).aqi)


def test_hourly_2026_missing_rule():
    hour = clean_hour(pm25=50.0)
    del hour["co"]
    r = hourly_aqi(hour, standard=S2026)
    assert math.isnan(r.aqi)  # PM2.5 50 -> 80 <= 100
    hour["pm25"] = 80.0
    assert hourly_aqi(hour, standard=S2026).aqi == 119


# --------------------------------------------------------------------------
# arrays, scalars, broadcasting


def test_scalar_mapping_gives_0d_results():
    r = daily_aqi(clean_day(pm25_24h=80.0))
    assert isinstance(r, AQIResult)
    assert np.shape(r.aqi) == () and float(r.aqi) == 107
    assert str(r.primary_pollutants()) == "PM2.5"
    assert str(r.category("en")) == "Lightly polluted"
    assert bool(r.complete)


def test_array_mapping_equals_elementwise_scalars():
    pm25 = np.array([10.0, 80.0, 36.0, np.nan, 300.0])
    pm10 = np.array([164.0, 164.0, 20.0, 400.0, np.nan])
    r = daily_aqi(clean_day(pm25_24h=pm25, pm10_24h=pm10), standard=S2012)
    assert r.aqi.shape == (5,)
    for i in range(5):
        ri = daily_aqi(clean_day(pm25_24h=pm25[i], pm10_24h=pm10[i]), standard=S2012)
        assert same(r.aqi[i], ri.aqi)
        assert r.primary_pollutants()[i] == ri.primary_pollutants()
        assert r.exceeding_pollutants()[i] == ri.exceeding_pollutants()
        assert r.complete[i] == ri.complete


@pytest.mark.parametrize("standard", STANDARDS)
def test_broadcasting_between_keys(standard):
    # stations x days: PM2.5 (2, 1), PM10 (3,), the rest scalars -> (2, 3)
    pm25 = np.array([[36.0], [80.0]])
    pm10 = np.array([20.0, 151.0, 300.0])
    r = daily_aqi(clean_day(pm25_24h=pm25, pm10_24h=pm10), standard=standard)
    assert r.aqi.shape == (2, 3) and r.complete.shape == (2, 3)
    assert all(v.shape == (2, 3) for v in r.iaqi.values())
    expected = np.maximum(iaqi("pm25_24h", pm25, standard=standard), iaqi("pm10_24h", pm10, standard=standard))
    assert np.array_equal(r.aqi, expected)
    assert r.primary_pollutants().shape == (2, 3)
    h = hourly_aqi(clean_hour(pm25=pm25, pm10=pm10), standard=standard)
    assert np.array_equal(h.aqi, expected)


def test_daily_ignores_extra_keys_for_shape_and_values():
    # o3_1h is not a 2026 indicator: a differently shaped o3_1h must not matter
    day = clean_day(pm25_24h=np.array([36.0, 80.0]), o3_1h=np.zeros(7))
    r = daily_aqi(day, standard=S2026)
    assert r.aqi.tolist() == [52, 119]
