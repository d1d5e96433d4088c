"""Property-based checks of the IAQI/AQI engine (hypothesis).

Inputs are decimals with at most 4 places, like real data; the reference rounds
the decimal text half to even (GB/T 8170) and computes the IAQI exactly.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envquality.standards import daily_aqi, hourly_aqi, iaqi

from .test_iaqi_tables import (
    COLUMNS,
    NODES,
    S2012,
    STANDARDS,
    TABLES,
    ref_iaqi_units,
    same,
    top_units,
    units_per,
)

FAST = settings(max_examples=150, deadline=None, database=None)

standards = st.sampled_from(STANDARDS)
columns = st.sampled_from(COLUMNS)


def ref_iaqi_decimal(standard: str, column: str, d: Decimal) -> float:
    """Reference: GB/T 8170 half-even on the decimal, then the exact table."""
    k = units_per(column)
    units = int((d * k).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    return ref_iaqi_units(standard, column, units)


def no_nan_limit(standard: str, column: str) -> float:
    """Upper end of the concentration range with a defined IAQI (2012 SO2-1h/O3-8h stop at 800)."""
    top = TABLES[standard][column][-1]
    if standard == S2012 and column in ("so2_1h", "o3_8h"):
        return top  # above 800 (+0.5 rounding) the IAQI is NaN by design
    return top * 1.2


# --------------------------------------------------------------------------
# monotonicity


@FAST
@given(standard=standards, column=columns, data=st.data())
def test_iaqi_monotonic_non_decreasing(standard, column, data):
    hi = no_nan_limit(standard, column)
    xs = data.draw(st.lists(st.floats(0, hi, allow_nan=False), min_size=2, max_size=50))
    xs = np.sort(np.asarray(xs))
    out = iaqi(column, xs, standard=standard)
    assert not np.isnan(out).any()
    assert (np.diff(out) >= 0).all(), list(zip(xs, out))


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_iaqi_monotonic_over_whole_unit_grid(standard, column):
    # deterministic complement: every unit from 0 to just above the table
    k = units_per(column)
    u = np.arange(top_units(standard, column) + 2)
    out = iaqi(column, u / k, standard=standard)
    finite = out[~np.isnan(out)]
    assert (np.diff(finite) >= 0).all()
    assert out[0] == 0 and np.nanmax(out) <= 500


# --------------------------------------------------------------------------
# continuity at breakpoints

BP_CASES = [
    pytest.param(std, col, i, id=f"{std}-{col}-{bps[i]}")
    for std in STANDARDS
    for col, bps in TABLES[std].items()
    for i in range(len(bps))
]


@pytest.mark.parametrize(("standard", "column", "i"), BP_CASES)
def test_continuity_at_breakpoints(standard, column, i):
    # IAQI at bp and bp +/- one unit differ by at most ceil(slope) of the adjacent segment
    bps, k = TABLES[standard][column], units_per(column)
    b = bps[i] * k
    at = iaqi(column, b / k, standard=standard)
    assert at == NODES[i]
    if i > 0:
        slope = (NODES[i] - NODES[i - 1]) / ((bps[i] - bps[i - 1]) * k)
        below = iaqi(column, (b - 1) / k, standard=standard)
        assert 0 <= at - below <= math.ceil(slope)
    if i < len(bps) - 1:
        slope = (NODES[i + 1] - NODES[i]) / ((bps[i + 1] - bps[i]) * k)
        above = iaqi(column, (b + 1) / k, standard=standard)
        assert 0 <= above - at <= math.ceil(slope)


# --------------------------------------------------------------------------
# AQI == max IAQI

DAILY_RANGES = {
    "so2_24h": 3000, "no2_24h": 1100, "pm10_24h": 700, "co_24h": 70,
    "pm25_24h": 600, "o3_1h": 1400, "o3_8h": 1000,
}
HOURLY_COLUMN = {"so2": "so2_1h", "no2": "no2_1h", "pm10": "pm10_24h",
                 "co": "co_1h", "o3": "o3_1h", "pm25": "pm25_24h"}
HOURLY_RANGES = {"so2": 1000, "no2": 4500, "pm10": 700, "co": 180, "o3": 1400, "pm25": 600}


@FAST
@given(
    standard=standards,
    day=st.fixed_dictionaries({k: st.floats(0, hi) for k, hi in DAILY_RANGES.items()}),
)
def test_daily_aqi_is_max_of_iaqis(standard, day):
    r = daily_aqi(day, standard=standard)
    labels = {"so2_24h": "SO2", "no2_24h": "NO2", "pm10_24h": "PM10", "co_24h": "CO",
              "pm25_24h": "PM2.5", "o3_1h": "O3_1h", "o3_8h": "O3_8h"}
    indicators = [c for c in DAILY_RANGES if standard == S2012 or c != "o3_1h"]
    values = {c: iaqi(c, day[c], standard=standard) for c in indicators}
    assert set(r.iaqi) == {labels[c] for c in indicators}
    assert all(same(r.iaqi[labels[c]], v) for c, v in values.items())
    assert bool(r.complete)  # 2012 O3-8h > 800 is covered by O3-1h
    assert float(r.aqi) == np.nanmax(list(values.values()))
    if r.aqi > 50:
        assert r.primary_pollutants() != ""
    else:
        assert r.primary_pollutants() == ""


@FAST
@given(
    standard=standards,
    hour=st.fixed_dictionaries({k: st.floats(0, hi) for k, hi in HOURLY_RANGES.items()}),
)
def test_hourly_aqi_is_max_of_iaqis(standard, hour):
    r = hourly_aqi(hour, standard=standard, so2_24h=100.0)
    values = [iaqi(HOURLY_COLUMN[k], v, standard=standard) for k, v in hour.items()]
    i_so2 = list(hour).index("so2")  # hypothesis may order the keys differently
    if standard == S2012 and math.isnan(values[i_so2]):
        values[i_so2] = iaqi("so2_24h", 100.0)  # footnote 2: the 24-h mean decides
    assert bool(r.complete)
    assert float(r.aqi) == max(values)


# --------------------------------------------------------------------------
# shape / chunking independence


@FAST
@given(
    standard=standards,
    column=columns,
    xs=st.lists(
        st.one_of(st.floats(-10, 5000), st.just(math.nan), st.integers(0, 800).map(lambda n: n + 0.5)),
        min_size=1,
        max_size=60,
    ),
)
def test_array_equals_elementwise_scalars(standard, column, xs):
    arr = iaqi(column, xs, standard=standard)
    scalars = [iaqi(column, x, standard=standard) for x in xs]
    assert same(arr, scalars)
    # any shape: a 2-D reshape of the same data gives the same values
    if len(xs) % 2 == 0:
        assert same(iaqi(column, np.reshape(xs, (2, -1)), standard=standard).ravel(), arr)
    # non-contiguous input (a strided view) too
    assert same(iaqi(column, np.asarray(xs)[::-1], standard=standard), arr[::-1])


@pytest.mark.parametrize("standard", STANDARDS)
def test_result_independent_of_internal_blocking(standard):
    # larger than several internal blocks (2**15) and not a multiple of one
    rng = np.random.default_rng(20260301)
    x = rng.uniform(-5, 700, size=3 * 2**15 + 1234)
    x[rng.integers(0, x.size, 500)] = np.nan
    x[rng.integers(0, x.size, 500)] = np.round(x[rng.integers(0, x.size, 500)]) + 0.5  # ties
    whole = iaqi("pm25_24h", x, standard=standard)
    pieces = np.concatenate([iaqi("pm25_24h", p, standard=standard) for p in np.array_split(x, 7)])
    assert same(whole, pieces)
    assert same(iaqi("pm25_24h", x.reshape(-1, 1), standard=standard).ravel(), whole)
    sample = rng.integers(0, x.size, 300)
    assert same(whole[sample], [iaqi("pm25_24h", x[i], standard=standard) for i in sample])


# --------------------------------------------------------------------------
# vectorized == exact reference


@settings(max_examples=300, deadline=None, database=None)
@given(standard=standards, column=columns, data=st.data())
def test_vectorized_matches_fraction_reference(standard, column, data):
    hi = TABLES[standard][column][-1] * 1.1
    places = data.draw(st.integers(0, 4))
    scale = 10**places
    ns = data.draw(st.lists(st.integers(0, int(hi * scale)), min_size=1, max_size=40))
    decs = [Decimal(n).scaleb(-places) for n in ns]
    x = np.array([n / scale for n in ns])  # the double nearest to each decimal
    got = iaqi(column, x, standard=standard)
    expected = [ref_iaqi_decimal(standard, column, d) for d in decs]
    assert same(got, expected), [(str(d), g, e) for d, g, e in zip(decs, got, expected) if not same(g, e)]


@FAST
@given(standard=standards, column=columns, n=st.integers(0, 4000))
def test_half_unit_ties_match_reference(standard, column, n):
    # x = n + 0.5 units exactly: GB/T 8170 rounds to the even neighbour
    k = units_per(column)
    d = (Decimal(n) + Decimal("0.5")) / k
    expected = ref_iaqi_decimal(standard, column, d)
    assert same(iaqi(column, float(d), standard=standard), expected), str(d)
