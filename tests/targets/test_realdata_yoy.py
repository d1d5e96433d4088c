"""Year-on-year changes of PM2.5 and the good-day ratio on the real aqistudy daily tables, 2015 vs 2014.

The reference is computed here, independently of envquality: an own parser of
the archive (no header; SOURCES.md §1), the HJ 633-2012 breakpoints of the six
daily indicators typed again from standards.md §1.1, exact IAQI ceilings with
:class:`fractions.Fraction`, GB/T 8170 rounding with :mod:`decimal`, the
GB 3095 Table 4 annual capture rule (≥ 324 days, ≥ 27 per month, 25 in
February) and HJ 663's ratio over valid days.  The archive holds 2014 for
兰州, 嘉峪关 and 金昌 only (the other 11 cities start on 2014-12-31), so their
2014 mean is not valid and their PM2.5 change must be missing.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from envquality.registry import default_registry
from envquality.reports import annual_report
from envquality.targets.daily import daily_from_tidy

pytestmark = pytest.mark.realdata

CITIES = ("兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉", "酒泉", "庆阳", "定西", "陇南",
          "临夏州", "甘南州")
COLUMNS = {5: "pm25_24h", 6: "pm10_24h", 7: "so2_24h", 8: "co_24h", 9: "no2_24h", 10: "o3_8h"}
NODES = (0, 50, 100, 150, 200, 300, 400, 500)
TABLE = {  # HJ 633-2012 Table 1, daily columns (standards.md §1.1)
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620), "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600), "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "o3_8h": (0, 100, 160, 215, 265, 800), "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}


def rnd(x: Fraction | str, decimals: int) -> Fraction:
    if isinstance(x, str):
        return Fraction(Decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN))
    q = x * 10**decimals
    lo = math.floor(q)
    up = q - lo > Fraction(1, 2) or (q - lo == Fraction(1, 2) and lo % 2)
    return Fraction(lo + up, 10**decimals)


def iaqi(col: str, text: str) -> int | None:
    c = rnd(text, 1 if col == "co_24h" else 0)
    bp = TABLE[col]
    if c > bp[-1]:
        return None if col == "o3_8h" else 500      # O3-8h above 800: no 8-h IAQI (footnote 3)
    i = next(k for k in range(len(bp) - 1) if bp[k] <= c <= bp[k + 1])
    return math.ceil(Fraction(NODES[i + 1] - NODES[i], bp[i + 1] - bp[i]) * (c - bp[i]) + NODES[i])


def parse(path) -> list[tuple[str, dict[str, str]]]:
    rows = []
    for line in path.read_bytes().decode("utf-8-sig").splitlines():
        f = line.split(",")
        if len(f) == 12 and f[1][:4] in ("2014", "2015"):
            rows.append((f[1], {k: f[i] for i, k in COLUMNS.items()}))
    return rows


def year_figures(rows, year: str) -> tuple[Fraction | None, Fraction | None]:
    """(good-day ratio rounded to 1 decimal, PM2.5 annual mean rounded to an integer or None)."""
    days = [(d, v) for d, v in rows if d.startswith(year)]
    valid = good = 0
    for _, v in days:
        present = [x for x in (iaqi(k, t) for k, t in v.items()) if x is not None]
        complete = len(present) == len(v)
        if present and (complete or max(present) > 100):   # missing-pollutant rule (HJ 633-2026 §5.3)
            valid += 1
            good += max(present) <= 100
    ratio = rnd(Fraction(100 * good, valid), 1) if valid else None
    months = pd.Series([int(d[5:7]) for d, _ in days]).value_counts()
    ok = len(days) >= 324 and all(months.get(m, 0) >= (25 if m == 2 else 27) for m in range(1, 13))
    mean = rnd(sum(Fraction(v["pm25_24h"]) for _, v in days) / len(days), 0) if ok else None
    return ratio, mean


@pytest.fixture(scope="module")
def data(realdata):
    folder = realdata / "aqistudy_ShuyaoHong" / "data"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return {c: parse(folder / f"{c}.csv") for c in CITIES}


def test_yoy_changes_match_independent_computation(data):
    tidy = pd.DataFrame([(c, c, d, k, float(t)) for c, rows in data.items() for d, v in rows for k, t in v.items()],
                        columns=["station", "city", "date", "pollutant", "value"])
    tidy["date"] = pd.to_datetime(tidy["date"])
    report = annual_report(daily_from_tidy(tidy, "daily"), 2015, targets=[])
    rank = report.table("ranking")
    rank = rank[rank["dust"] == "included"].set_index("entity_code")
    reg = default_registry()
    checked = 0
    for city, rows in data.items():
        r15, m15 = year_figures(rows, "2015")
        r14, m14 = year_figures(rows, "2014")
        row = rank.loc[reg.city_code(city)]
        assert row["good_ratio"] == float(r15) and row["pm25_mean"] == float(m15)
        assert row["good_ratio_change"] == float(rnd(r15 - r14, 1))
        if m14 is None:
            assert city not in ("兰州", "嘉峪关", "金昌") and pd.isna(row["pm25_mean_change"])
            continue
        checked += 1
        assert row["pm25_mean_change"] == float(m15 - m14)
        assert row["pm25_mean_change_pct"] == float(rnd((m15 - m14) / m14 * 100, 1))
    assert checked == 3
    # every division appears with its name and code, and the province row closes the table
    assert len(rank) == 15 and rank.loc["620000", "entity_name_zh"].startswith("甘肃省")
    assert np.isfinite(rank.drop(index="620000")["good_ratio_change"]).all()
