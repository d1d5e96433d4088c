"""Tests of envquality.targets and envquality.reports: helpers to build daily frames and stores.

Expected values in these tests are worked out by hand in the tests (or by an
independent computation written in the test), never read from the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

DIVISIONS = ("620100", "620200", "620300", "620400", "620500", "620600", "620700", "620800", "620900",
             "621000", "621100", "621200", "622900", "623000")
INDICATORS = ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h")


def constant_days(entity: str, start: str, end: str, **values) -> pd.DataFrame:
    """Daily rows of one division with the same indicator values every day (low defaults)."""
    base = {"so2_24h": 10.0, "no2_24h": 10.0, "pm10_24h": 40.0, "pm25_24h": 20.0, "co_24h": 0.5,
            "o3_1h": 60.0, "o3_8h": 50.0}
    base.update(values)
    dates = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame({"entity": entity, "date": dates, **{k: float(v) for k, v in base.items()}})
    frame["dust"] = False
    return frame


def aqi_days(entity: str, start: str, aqi, dust=None) -> pd.DataFrame:
    """Daily rows carrying only an AQI (NaN = invalid day) and dust flags."""
    aqi = np.asarray(aqi, dtype=float)
    dates = pd.date_range(start, periods=len(aqi), freq="D")
    return pd.DataFrame({"entity": entity, "date": dates, "aqi": aqi,
                         "pm25_24h": np.where(np.isnan(aqi), np.nan, 30.0), "pm10_24h": np.nan,
                         "dust": np.zeros(len(aqi), bool) if dust is None else np.asarray(dust, bool)})


def synthetic_daily(start: str, end: str, seed: int = 7, divisions=DIVISIONS) -> pd.DataFrame:
    """Seeded daily values of all divisions with a winter peak (integers; CO 1 decimal), a few dust days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    n, e = len(dates), len(divisions)
    season = 1.0 + 0.5 * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 15) / 365.25)
    level = rng.gamma(6.0, 1.0 / 6.0, size=(e, n)) * season * rng.uniform(0.8, 1.2, size=(e, 1))
    out = pd.DataFrame({
        "entity": np.repeat(list(divisions), n), "date": np.tile(dates.values, e),
        "pm25_24h": np.round(40 * level).ravel(), "pm10_24h": np.round(85 * level).ravel(),
        "so2_24h": np.round(18 * level).ravel(), "no2_24h": np.round(25 * level).ravel(),
        "co_24h": np.round(0.9 * level, 1).ravel(), "o3_1h": np.round(rng.gamma(8, 14, e * n)),
    })
    out["o3_8h"] = np.round(out["o3_1h"] * 0.85)
    out["dust"] = rng.random(e * n) < 0.01
    gone = rng.random(e * n) < 0.02  # missing days
    out.loc[gone, list(INDICATORS)] = np.nan
    return out


def store_daily(engine: sa.Engine, frame: pd.DataFrame) -> int:
    """Write a wide daily frame to ``daily_stat`` as the pipeline does (AQI by each day's rule set, dust rows)."""
    from envquality.store.bulk import upsert_stats
    from envquality.targets.daily import with_aqi

    f = with_aqi(frame)
    std = np.where(pd.to_datetime(f["date"]) >= pd.Timestamp("2026-03-01"), "HJ633-2026", "HJ633-2012")
    parts = []
    for ind in (*INDICATORS, "aqi", "dust"):
        v = f[ind].astype(float).to_numpy() if ind != "dust" else np.where(f["dust"], 1.0, np.nan)
        keep = ~np.isnan(v) if ind == "dust" else np.ones(len(v), bool)
        parts.append(pd.DataFrame({"entity_kind": "city", "entity": f["entity"].astype(str)[keep],
                                   "date": pd.to_datetime(f["date"])[keep], "indicator": ind,
                                   "ruleset": std[keep], "value": v[keep], "n": 1, "valid": ~np.isnan(v[keep])}))
    rows = pd.concat(parts, ignore_index=True)
    with engine.begin() as conn:
        return upsert_stats(conn, "daily_stat", rows)
