"""Tests of envquality.stats, envquality.assess and ``envquality assess``.

This file also holds the *independent* exact reference used by the tests:
the HJ 633 IAQI breakpoint tables of ``tests/reference_tables.py`` (typed
from standards.md §1.1/§1.4, not imported from envquality), GB/T 8170 half-to-even rounding with
:mod:`decimal` and ceilings with :class:`fractions.Fraction`.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from reference_tables import HJ633_2012 as BP_2012
from reference_tables import HJ633_2026 as BP_2026
from reference_tables import IAQI_NODES as NODES


def round_half_even(value, decimals: int = 0) -> Fraction:
    """GB/T 8170 rounding of a decimal string / int / Fraction, exactly."""
    if isinstance(value, Fraction):
        q = Fraction(1, 10**decimals)
        n = value / q
        lo = math.floor(n)
        rest = n - lo
        if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and lo % 2 == 1):
            lo += 1
        return lo * q
    d = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return Fraction(d)


def iaqi(column: str, conc, standard: str = "2012") -> int | None:
    """IAQI (ceiling) of one concentration; None where the table defines none.

    The concentration is rounded first (integers; CO 1 decimal) as HJ 633-2026
    §4.2.2 prescribes and envquality applies to both generations.
    """
    table = (BP_2012 if standard == "2012" else BP_2026)[column]
    c = round_half_even(conc, 1 if column.startswith("co") else 0)
    bps = [Fraction(str(b)) for b in table]
    if c < 0:
        return None
    if c > bps[-1]:
        if column == "o3_8h":
            return 300 if standard == "2026" else None
        if column == "so2_1h":
            return 200 if standard == "2026" else None
        return 500
    for i in range(len(bps) - 1):
        if bps[i] <= c <= bps[i + 1]:
            value = Fraction(NODES[i + 1] - NODES[i]) / (bps[i + 1] - bps[i]) * (c - bps[i]) + NODES[i]
            return math.ceil(value)
    raise AssertionError("unreachable")


def daily_aqi(day: dict, standard: str = "2012") -> int | None:
    """Daily AQI = max IAQI over the indicators present (None values skipped)."""
    cols = ["so2_24h", "no2_24h", "pm10_24h", "co_24h", "pm25_24h", "o3_8h"]
    if standard == "2012":
        cols.append("o3_1h")
    vals = [iaqi(c, day[c], standard) for c in cols if day.get(c) is not None]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def percentile(values, p) -> Fraction:
    """HJ 663 Annex A: k = 1 + (n-1)p/100, linear between order statistics (exact)."""
    x = sorted(Fraction(str(v)) for v in values)
    n = len(x)
    k = 1 + Fraction(n - 1) * Fraction(str(p)) / 100
    s = math.floor(k)
    if s >= n:
        return x[-1]
    return x[s - 1] + (x[s] - x[s - 1]) * (k - s)
