"""2015 daily city values of the 14 Gansu cities (aqistudy archive) through the engine.

The reference is computed here, independently of envquality: an own parser,
the HJ 633-2012 table typed again in ``tests/stats/__init__.py``, GB/T 8170
half-to-even rounding with ``decimal`` and the IAQI ceiling with
``fractions.Fraction``.

The archive has no O3 1-h maximum, so the 2012 daily AQI here uses the six
available indicators (PM2.5, PM10, SO2, NO2, CO, O3-8h).  One day
(甘南州 2015-06-04) has O3 "8-h" = 843 > 800: HJ 633-2012 footnote 3 gives
no 8-h IAQI there and the 1-h value that should decide is absent, so O3
has no IAQI that day.  The missing-pollutant rule (HJ 633-2026 §5.3, which
envquality applies to 2012 data too) then publishes the AQI only if the
other indicators already exceed 100; otherwise the day is not valid.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from envquality.assess import assess_readings
from envquality.registry import default_registry
from envquality.stats.datasets import PROVINCE

from . import iaqi as exact_iaqi
from . import round_half_even as exact_round

pytestmark = pytest.mark.realdata

CITIES = ("兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉", "酒泉", "庆阳", "定西", "陇南",
          "临夏州", "甘南州")
#: column number in the file -> daily indicator (no header; see shared/realdata/SOURCES.md §1)
COLUMNS = {5: "pm25_24h", 6: "pm10_24h", 7: "so2_24h", 8: "co_24h", 9: "no2_24h", 10: "o3_8h"}


def parse(path: Path, year: str = "2015") -> list[tuple[str, str, dict[str, str]]]:
    """(city, date, {indicator: decimal text}) for every row of ``year``."""
    rows = []
    text = path.read_bytes().decode("utf-8-sig")  # BOM on the first line
    for line in text.splitlines():
        if not line.strip():
            continue
        f = line.split(",")
        assert len(f) == 12, (path.name, line)
        if f[1].startswith(year + "-"):
            rows.append((f[0], f[1], {k: f[i] for i, k in COLUMNS.items()}))
    return rows


@pytest.fixture(scope="module")
def data(realdata) -> dict[str, list]:
    folder = realdata / "aqistudy_ShuyaoHong" / "data"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return {c: parse(folder / f"{c}.csv") for c in CITIES}


@pytest.fixture(scope="module")
def engine(data) -> pd.DataFrame:
    tidy = pd.DataFrame(
        [(city, city, date, k, float(v)) for rows in data.values() for city, date, vals in rows
         for k, v in vals.items()],
        columns=["station", "city", "date", "pollutant", "value"],
    )
    tidy["date"] = pd.to_datetime(tidy["date"])
    return assess_readings(tidy, "daily", start="2015-01-01", end="2015-12-31")


def reference(rows) -> tuple[int, int, int]:
    """(valid days, good days, PM2.5 annual mean rounded half-even) computed exactly."""
    good = valid = 0
    for _, _, vals in rows:
        iaqis = [exact_iaqi(k, v, "2012") for k, v in vals.items()]
        present = [i for i in iaqis if i is not None]
        complete = len(present) == len(iaqis)
        if present and (complete or max(present) > 100):
            valid += 1
            good += max(present) <= 100
    pm25 = sum(Fraction(v["pm25_24h"]) for _, _, v in rows) / len(rows)
    return valid, good, int(exact_round(pm25))


def test_input_complete(data):
    assert set(data) == set(CITIES)
    for city, rows in data.items():
        dates = [d for _, d, _ in rows]
        assert len(rows) == 365 and len(set(dates)) == 365, city
        assert dates[0] == "2015-01-01" and dates[-1] == "2015-12-31"


def test_engine_sees_14_cities_with_365_valid_days(engine):
    reg = default_registry()
    cities = engine[(engine["entity"] != PROVINCE) & (engine["dust"] == "included")]
    assert sorted(cities["entity"]) == sorted(reg.city_code(c) for c in CITIES)
    assert len(cities) == 14
    assert (cities["calendar_days"] == 365).all()
    # all days valid but 甘南州 2015-06-04 (O3 843 with no 1-h value, others <= 100)
    gannan = cities["entity"] == reg.city_code("甘南州")
    assert (cities.loc[~gannan, "valid_days"] == 365).all() and (cities.loc[gannan, "valid_days"] == 364).all()
    assert (cities["rulesets"] == "HJ633-2012/GB3095-2012/HJ663-2013").all()
    # every annual item meets the capture rule (365 of 365 days)
    assert (cities["pm25_mean_n"] == 365).all() and (cities["pm25_mean_reason"] == "").all()


@pytest.mark.parametrize("city", CITIES)
def test_good_days_and_pm25_mean_match_exact_reference(engine, data, city):
    valid, good, pm25 = reference(data[city])
    row = engine[engine["entity"] == default_registry().city_code(city)].iloc[0]
    assert valid == (364 if city == "甘南州" else 365)
    assert (int(row["valid_days"]), int(row["good_days"]), row["pm25_mean"]) == (valid, good, pm25)
    assert row["good_ratio"] == float(exact_round(Fraction(100 * good, valid), 1))


def test_o3_above_800_day_handled_like_the_reference(data):
    rows = {d: v for _, d, v in data["甘南州"]}
    day = rows["2015-06-04"]
    assert Fraction(day["o3_8h"]) > 800
    assert exact_iaqi("o3_8h", day["o3_8h"], "2012") is None
