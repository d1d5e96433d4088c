"""HJ 633 Table 1, node by node and segment by segment, against an independent copy.

The breakpoint tables (tests/reference_tables.py) are typed in from
/work/shared/reference/standards.md §1.1 and §1.4 on purpose: importing them from ``envquality.standards`` would
only check the engine against itself.  The reference IAQI is computed with
``fractions.Fraction`` and ``math.ceil`` (HJ 633-2012 §6.2 / HJ 633-2026 §4.2.6:
round the IAQI up) on the GB/T 8170-rounded concentration, expressed in whole
"units" (1 µg/m³, or 0.1 mg/m³ for CO).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from envquality.standards import iaqi, iaqi_table
from reference_tables import HJ633_2012 as TABLE_2012  # HJ 633 Table 1 typed from standards.md
from reference_tables import HJ633_2026 as TABLE_2026
from reference_tables import IAQI_NODES as NODES

S2012, S2026 = "HJ633-2012", "HJ633-2026"
STANDARDS = (S2012, S2026)

TABLES = {S2012: TABLE_2012, S2026: TABLE_2026}
COLUMNS = tuple(TABLE_2012)

#: IAQI above the last breakpoint: 500 (practice) except the special rules
#: (standards.md §1.3): 2012 defines none (NaN), 2026 fixes 200 / 300.
ABOVE = {
    S2012: {"so2_1h": math.nan, "o3_8h": math.nan},
    S2026: {"so2_1h": 200.0, "o3_8h": 300.0},
}


def units_per(column: str) -> int:
    """Rounded concentration units per input unit: CO keeps 1 decimal (HJ 633-2026 §4.2.2)."""
    return 10 if column.startswith("co") else 1


def top_units(standard: str, column: str) -> int:
    return TABLES[standard][column][-1] * units_per(column)


def above_value(standard: str, column: str) -> float:
    return ABOVE[standard].get(column, 500.0)


def ref_iaqi_units(standard: str, column: str, units: int) -> float:
    """Exact IAQI of a rounded concentration given in units (µg/m³ or 0.1 mg/m³)."""
    if units < 0:
        return math.nan
    c = Fraction(units, units_per(column))
    bps = TABLES[standard][column]
    if c > bps[-1]:
        return above_value(standard, column)
    for lo in range(len(bps) - 1):
        if bps[lo] <= c <= bps[lo + 1]:
            bl, bh, il, ih = bps[lo], bps[lo + 1], NODES[lo], NODES[lo + 1]
            return float(math.ceil(Fraction(ih - il, bh - bl) * (c - bl) + il))
    raise AssertionError("unreachable")


def as_input(column: str, units: int) -> float:
    """The float a user would pass for ``units``: k/10 is the double nearest to k tenths."""
    return units / units_per(column)


def same(a, b) -> bool:
    """Equality that treats NaN == NaN (NaN means 'no IAQI defined')."""
    return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


# --------------------------------------------------------------------------
# every node

NODE_CASES = [
    pytest.param(std, col, bp, NODES[i], id=f"{std}-{col}-{bp}")
    for std in STANDARDS
    for col, bps in TABLES[std].items()
    for i, bp in enumerate(bps)
]


@pytest.mark.parametrize(("standard", "column", "bp", "node"), NODE_CASES)
def test_iaqi_at_every_breakpoint_equals_node(standard, column, bp, node):
    # HJ 633 formula (1) at C = BP_Lo gives IAQI_Lo exactly; no rounding up of an integer
    assert iaqi(column, bp, standard=standard) == node
    assert iaqi(column, float(bp), standard=standard, rounded=True) == node


def test_node_case_count():
    # 8 full columns x 8 nodes + SO2-1h (5) + O3-8h (6), per version
    assert len(NODE_CASES) == 2 * (8 * 8 + 5 + 6)


# --------------------------------------------------------------------------
# every segment, at interior points

SEGMENT_CASES = [
    pytest.param(std, col, lo, id=f"{std}-{col}-[{bps[lo]},{bps[lo + 1]}]")
    for std in STANDARDS
    for col, bps in TABLES[std].items()
    for lo in range(len(bps) - 1)
]


@pytest.mark.parametrize(("standard", "column", "lo"), SEGMENT_CASES)
def test_iaqi_inside_every_segment(standard, column, lo):
    # first unit above BP_Lo, the midpoint, and the last unit below BP_Hi
    bps, k = TABLES[standard][column], units_per(column)
    a, b = bps[lo] * k, bps[lo + 1] * k
    for u in sorted({a + 1, (a + b) // 2, b - 1}):
        expected = ref_iaqi_units(standard, column, u)
        assert NODES[lo] < expected <= NODES[lo + 1]
        assert iaqi(column, as_input(column, u), standard=standard) == expected, u


# --------------------------------------------------------------------------
# exhaustive sweep of every representable rounded concentration


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_sweep_all_rounded_concentrations_match_fraction_reference(standard, column):
    # 0 .. top in whole units (CO in 0.1 mg/m³ steps): cheap and leaves no gap
    units = np.arange(top_units(standard, column) + 1)
    got = iaqi(column, units / units_per(column), standard=standard)
    expected = np.array([ref_iaqi_units(standard, column, int(u)) for u in units])
    bad = np.nonzero(got != expected)[0]
    assert bad.size == 0, [(u / units_per(column), got[u], expected[u]) for u in bad[:10]]


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_sweep_with_rounded_flag_matches_reference(standard, column):
    # rounded=True skips GB/T 8170 rounding; on already rounded input nothing changes
    units = np.arange(top_units(standard, column) + 1)
    got = iaqi(column, units / units_per(column), standard=standard, rounded=True)
    expected = np.array([ref_iaqi_units(standard, column, int(u)) for u in units])
    assert same(got, expected)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_iaqi_table_is_the_reference_table(standard, column):
    # the public audit table must have exactly one entry per unit 0..top
    expected = [ref_iaqi_units(standard, column, u) for u in range(top_units(standard, column) + 1)]
    assert iaqi_table(column, standard=standard).tolist() == expected


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # +inf, see below
@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_just_above_the_table(standard, column):
    # one unit above the last breakpoint, far above, and +inf
    k = units_per(column)
    x = [(top_units(standard, column) + 1) / k, 10.0 * TABLES[standard][column][-1], 1e12, math.inf]
    assert same(iaqi(column, x, standard=standard), [above_value(standard, column)] * len(x))


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("standard", STANDARDS)
def test_top_breakpoint_rounding_stays_in_table(standard, column):
    # top + 0.4 unit rounds down onto the top breakpoint (still in the table);
    # top + 0.5 unit is a tie that rounds to the even neighbour
    k, top = units_per(column), top_units(standard, column)
    assert iaqi(column, (top + 0.4) / k, standard=standard) == NODES[len(TABLES[standard][column]) - 1]
    tie = (top + 0.5) / k
    even = top if top % 2 == 0 else top + 1
    assert same(iaqi(column, tie, standard=standard), ref_iaqi_units(standard, column, even))


def test_pm_columns_differ_between_versions_only_between_50_and_150():
    # §1.4: only the IAQI-100 node moved (PM10 150->120, PM2.5 75->60)
    for column, lo, hi in (("pm10_24h", 50, 250), ("pm25_24h", 35, 115)):
        c = np.arange(0, 700)
        a, b = iaqi(column, c, standard=S2012), iaqi(column, c, standard=S2026)
        differ = c[a != b]
        assert differ.min() > lo and differ.max() < hi
        assert (b[(c > lo) & (c < hi)] >= a[(c > lo) & (c < hi)]).all()  # 2026 is stricter


def test_other_columns_identical_between_versions():
    for column in COLUMNS:
        if column.startswith("pm"):
            continue
        k = units_per(column)
        c = np.arange(top_units(S2012, column) + 1) / k
        assert same(iaqi(column, c, standard=S2012), iaqi(column, c, standard=S2026)), column


def test_infinite_concentration_emits_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iaqi("pm25_24h", math.inf) == 500
