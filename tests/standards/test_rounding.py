"""GB/T 8170 rounding (standards.md §3.4) and how the IAQI engine applies it (§1.2, §8.4).

Half to even ("四舍六入五成双"), on the decimal the user wrote, and only once:
integers for µg/m³ pollutants, one decimal for CO in mg/m³.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest

from envquality.standards import iaqi, round_half_even, round_half_even_exact

S2012, S2026 = "HJ633-2012", "HJ633-2026"


def dec_round(text: str, decimals: int) -> float:
    """Independent GB/T 8170 reference: Decimal from the decimal text, half to even."""
    return float(Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN))


# --------------------------------------------------------------------------
# round_half_even (floats)

FLOAT_CASES = [
    # (value, decimals, expected, why)
    (34.5, 0, 34.0, "tie -> even below"),
    (35.5, 0, 36.0, "tie -> even above"),
    (0.5, 0, 0.0, "tie at zero"),
    (1.5, 0, 2.0, "tie"),
    (2.5, 0, 2.0, "tie"),
    (-2.5, 0, -2.0, "negative: round the absolute value"),
    (-3.5, 0, -4.0, "negative tie up in magnitude"),
    (34.51, 0, 35.0, "5 followed by non-zero digit rounds up"),
    (34.49, 0, 34.0, "below one half"),
    (34.6, 0, 35.0, "above one half"),
    (1.05, 1, 1.0, "decimal tie, binary slightly above"),
    (1.15, 1, 1.2, "decimal tie stored as 1.1499999..."),
    (1.25, 1, 1.2, "exact binary tie"),
    (1.35, 1, 1.4, "decimal tie"),
    (0.45, 1, 0.4, "CO tie -> even"),
    (0.35, 1, 0.4, "CO tie -> even"),
    (2.25, 1, 2.2, "CO tie -> even"),
    (2.675, 2, 2.68, "the classic round(2.675, 2) == 2.67 trap"),
    (0.285, 2, 0.28, "decimal tie stored below"),
    (80.5, 0, 80.0, "PM2.5 worked example"),
    (800.5, 0, 800.0, "tie at the SO2/O3 special boundary stays in the table"),
]


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [pytest.param(v, d, e, id=f"{v}@{d}:{why}") for v, d, e, why in FLOAT_CASES],
)
def test_round_half_even_cases(value, decimals, expected):
    assert round_half_even([value], decimals).tolist() == [expected]
    assert round_half_even(value, decimals).tolist() == expected  # 0-d in, 0-d out
    # and the independent Decimal reference agrees with the expectation itself
    assert dec_round(repr(value), decimals) == expected


def test_round_half_even_scalar_non_tie():
    # 0-d input without a near-tie takes the plain rint path and works
    assert round_half_even(34.6).tolist() == 35.0
    assert round_half_even(2.2, 1).tolist() == 2.2


# regression: round_half_even once called np.nonzero on a 0-d array for a scalar tie
# (ValueError "Calling nonzero on 0d arrays is not allowed"); fixed in d9f81ac
@pytest.mark.parametrize(("value", "decimals", "expected"), [(34.5, 0, 34.0), (1.15, 1, 1.2), (-2.5, 0, -2.0)])
def test_round_half_even_scalar_tie(value, decimals, expected):
    assert round_half_even(value, decimals).tolist() == expected


def test_round_half_even_docstring_examples_and_types():
    assert round_half_even([34.5, 35.5, 0.5, 1.5, -2.5]).tolist() == [34.0, 36.0, 0.0, 2.0, -2.0]
    out = round_half_even([[1.05, 1.15], [1.25, 2.2]], decimals=1)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert out.tolist() == [[1.0, 1.2], [1.2, 2.2]]


def test_round_half_even_nan_and_inf_pass_through():
    out = round_half_even([math.nan, 1.5], decimals=0)
    assert math.isnan(out[0]) and out[1] == 2.0


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_round_half_even_matches_decimal_on_dense_grid(decimals):
    # every value with (decimals + 1) decimals in [0, 200): all ties and near-ties
    # of a realistic concentration range; the float was parsed from that text
    step = 10 ** (decimals + 1)
    n = np.arange(0, 200 * step)
    x = n / step  # nearest double to the decimal n / step
    got = round_half_even(x, decimals)
    expected = np.array([dec_round(str(Decimal(int(k)).scaleb(-(decimals + 1))), decimals) for k in n])
    bad = np.nonzero(got != expected)[0]
    assert bad.size == 0, [(x[i], got[i], expected[i]) for i in bad[:10]]


# --------------------------------------------------------------------------
# round_half_even_exact (strings / Decimal)

EXACT_CASES = [
    (["2.675"], 2, [2.68]),
    (["1.05", "1.15", "1.25", "1.35"], 1, [1.0, 1.2, 1.2, 1.4]),
    (["34.5", "35.5", "-2.5", " 80.5 "], 0, [34.0, 36.0, -2.0, 80.0]),
    ([Decimal("2.675"), Decimal("0.45")], 1, [2.7, 0.4]),  # round once: 2.675 -> 2.7, not 2.68 -> 2.6
    (["0.4500001"], 1, [0.5]),  # 5 followed by a non-zero digit
]


@pytest.mark.parametrize(("values", "decimals", "expected"), EXACT_CASES, ids=lambda v: str(v))
def test_round_half_even_exact(values, decimals, expected):
    assert round_half_even_exact(values, decimals).tolist() == expected


def test_round_half_even_exact_invalid_text_is_nan():
    out = round_half_even_exact(["", None, "abc", "1.5"], decimals=0)
    assert np.isnan(out[:3]).all() and out[3] == 2.0


def test_round_half_even_exact_bare_string_is_one_value():
    assert round_half_even_exact("2.675", 2).tolist() == [2.68]


# --------------------------------------------------------------------------
# the engine rounds the input once, half to even, before the IAQI

ENGINE_CASES = [
    # (column, concentration, standard, expected IAQI, why)
    ("pm25_24h", 80.5, S2012, 107, "80.5 -> 80 (even) -> 107, not 81 -> 108"),
    ("pm25_24h", 80.5, S2026, 119, "80.5 -> 80 (even) -> 119"),
    ("pm25_24h", 81.5, S2012, 109, "81.5 -> 82 (even) -> ceil(108.75)"),
    ("pm25_24h", 35.45, S2012, 50, "round once: 35.45 -> 35; cascading 35.5 -> 36 would give 52"),
    ("pm25_24h", 35.5, S2012, 52, "35.5 -> 36 (even)"),
    ("pm25_24h", 34.5, S2012, 49, "34.5 -> 34 (even) -> ceil(48.57) = 49; 35 would give 50"),
    ("co_24h", 0.45, S2012, 10, "0.45 -> 0.4 (even) -> 10; 0.5 would give 13"),
    ("co_24h", 0.449, S2012, 10, "round once: 0.449 -> 0.4, not 0.45 -> 0.5"),
    ("co_24h", 0.451, S2012, 13, "0.451 -> 0.5 -> ceil(12.5)"),
    ("co_24h", 0.35, S2012, 10, "0.35 -> 0.4 (even)"),
    ("co_24h", 0.25, S2012, 5, "0.25 -> 0.2 (even)"),
    ("co_24h", 1.05, S2012, 25, "1.05 -> 1.0"),
    ("co_24h", 1.15, S2012, 30, "1.15 -> 1.2 although stored as 1.1499..."),
    ("co_24h", 2.25, S2012, 55, "2.25 -> 2.2 -> 55 exactly"),
    ("co_24h", 2.15, S2012, 55, "2.15 -> 2.2 (even)"),
    ("co_1h", 65.35, S2012, 218, "65.35 -> 65.4 -> exactly 218 (naive float ceil gives 219)"),
    ("so2_1h", 800.5, S2012, 200, "800.5 -> 800: still inside the table"),
    ("so2_1h", 800.6, S2012, math.nan, "800.6 -> 801: above 800, no 1-h IAQI in 2012"),
    ("o3_8h", 800.5, S2026, 300, "800.5 -> 800 -> 300 (node)"),
]




@pytest.mark.parametrize(
    ("column", "conc", "standard", "expected"),
    [pytest.param(c, x, s, e, id=f"{s}-{c}-{x}:{why}") for c, x, s, e, why in ENGINE_CASES],
)
def test_engine_rounds_input_once_half_to_even(column, conc, standard, expected):
    got = iaqi(column, conc, standard=standard)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_rounded_flag_skips_rounding_only():
    # with rounded=True the caller promises integer units; the result is the same there
    x = np.arange(0, 501, dtype=float)
    assert np.array_equal(iaqi("pm25_24h", x), iaqi("pm25_24h", x, rounded=True))
    # tenths of CO given as k/10 floats are recognised as rounded too
    x = np.arange(0, 1501) / 10
    assert np.array_equal(iaqi("co_1h", x), iaqi("co_1h", x, rounded=True))


def test_negative_values_below_half_unit_are_invalid_not_zero():
    # negative concentrations are invalid data: NaN, even those that would round to 0
    out = iaqi("pm25_24h", [-0.4, -0.5, -1.0, -1e-9])
    assert np.isnan(out).all()
    assert iaqi("pm25_24h", 0.4) == 0.0  # rounds to 0 -> IAQI 0
