"""A small hand-made store and one site built from it, shared by the site tests.

The figures are typed here (they are the test's input); expected AQI values
are computed in the test from the HJ 633-2026 breakpoints written out below,
not from the package's tables.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: Station name that must show as text on every page (HTML, a JS template literal and a Jinja expression).
EVIL = "<script>alert(1)</script>{{7*7}}${alert(2)}<img src=x onerror=alert(3)>"
DAY = dt.date(2026, 3, 31)
#: HJ 633-2026 Table 1, PM2.5 24-h column (µg/m³) and IAQI nodes, typed from the standard.
PM25_2026 = (0, 35, 60, 115, 150, 250, 350, 500)
NODES = (0, 50, 100, 150, 200, 300, 400, 500)


def iaqi_pm25_2026(c: float) -> int:
    """Independent IAQI of a PM2.5 daily mean (HJ 633-2026 §4.2, ceiling of the linear interpolation)."""
    for i in range(1, len(PM25_2026)):
        if c <= PM25_2026[i]:
            lo, hi = PM25_2026[i - 1], PM25_2026[i]
            return math.ceil((NODES[i] - NODES[i - 1]) / (hi - lo) * (c - lo) + NODES[i - 1] - 1e-9)
    return 500


def _registry():
    from envquality.registry import Registry, load_cities, load_stations

    st = load_stations()
    i = st.index[(st["city_code"].astype(str) == "620100") & st["assessment"] & (st["status"] == "active")][0]
    st.loc[i, "name"] = EVIL
    return Registry(load_cities(), st), str(st.loc[i, "code"])


def _daily_rows(cities: list[str]) -> pd.DataFrame:
    """March of 2025 and 2026 for every division: PM2.5 varies by city and day, the rest stays low."""
    rows = []
    for year in (2025, 2026):
        for d in pd.date_range(f"{year}-03-01", f"{year}-03-31"):
            for k, code in enumerate(cities):
                pm25 = float(20 + ((k * 37 + d.day * 23) % 130))  # colours change from day to day
                if code == "620100" and d.date() == DAY:
                    pm25 = 80.0
                conc = {"so2_24h": 10.0, "no2_24h": 20.0, "pm10_24h": 40.0, "co_24h": 0.5, "o3_8h": 60.0,
                        "o3_1h": 80.0, "pm25_24h": pm25}
                # others stay below IAQI 50 (PM10 40 -> 40), so PM2.5 decides above 50
                aqi = max(iaqi_pm25_2026(pm25), 40)
                rs = "HJ633-2026" if year == 2026 else "HJ633-2012"
                for ind, v in {**conc, "aqi": float(aqi)}.items():
                    rows.append({"entity_kind": "city", "entity": code, "date": d.date(), "indicator": ind,
                                 "ruleset": rs, "value": v, "n": 3, "valid": True})
    return pd.DataFrame(rows)


def _period_rows(cities: list[str]) -> pd.DataFrame:
    rows = []
    for year, end, good, pm25, pm10 in ((2026, DAY, 90.0, 40.0, 70.0), (2025, dt.date(2025, 3, 31), 85.0, 50.0, 70.0)):
        for code in [*cities, "620000"]:
            g = 80.0 if (code == "620100" and year == 2026) else good
            for ind, v in (("good_ratio", g), ("valid_days", 90.0), ("good_days", round(g * 0.9)),
                           ("pm25_mean", pm25), ("pm10_mean", pm10)):
                rows.append({"entity_kind": "province" if code == "620000" else "city", "entity": code,
                             "period": f"{year}-YTD", "indicator": ind, "ruleset": "2012+2026",
                             "period_start": dt.date(year, 1, 1), "period_end": end, "value": v, "n": 90,
                             "valid": True})
    return pd.DataFrame(rows)


WATER = pd.DataFrame({
    "id": ["W1", "W2", "W3"], "name": ["兰州水源一号", EVIL, "天水水源"], "city_code": ["620100", "620100", "620500"],
    "source_type": ["river", "groundwater", "lake"], "level": ["prefecture"] * 3,
    "lat": [36.10, 36.02, 34.60], "lon": [103.80, 103.90, 105.70], "supply_m3_per_day": [1e5, 5e4, 2e4],
    "simulated": [True] * 3,
})


def _water(engine) -> None:
    from envquality.store.water import store_classes, sync_water_sources

    sync_water_sources(engine, WATER)
    t = pd.Timestamp("2026-03-10 09:00", tz="Asia/Shanghai")
    store_classes(engine, pd.DataFrame({
        "source": ["W1", "W2", "W3"], "sampled_at": [t, t, t], "water_class": [2, 4, 3],
        "compliant": [True, False, True], "deciding": ["", "nh3n|fluoride", "cod_mn"],
        "max_multiple": [np.nan, 0.4, np.nan]}))


def _readings(engine, station: str) -> None:
    from envquality.store import schema as S
    from envquality.store.bulk import upsert_readings

    t = pd.Timestamp("2026-04-01 00:00", tz="Asia/Shanghai")
    with engine.begin() as conn:
        iid = conn.execute(S.ingest_log.insert().values(
            source="test", file_or_url="hand-made", status="ok", started_at=S.utcnow(), gate_status="pass",
            period_start=t, period_end=t).returning(S.ingest_log.c.id)).scalar_one()
        upsert_readings(conn, pd.DataFrame({"station": station, "time": t, "pollutant": ["pm25", "pm10", "o3"],
                                            "value": [33.0, 61.0, 70.0]}), iid)


@pytest.fixture(scope="session")
def site_store(tmp_path_factory):
    """(engine, registry, evil station code) of a migrated SQLite store holding the hand-made figures."""
    from envquality.store import make_engine, upgrade_to_head
    from envquality.store.bulk import upsert_stats

    path = tmp_path_factory.mktemp("site-store") / "store.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    reg, evil_code = _registry()
    cities = [str(c) for c in reg.cities["code"]]
    with engine.begin() as conn:
        upsert_stats(conn, "daily_stat", _daily_rows(cities))
        upsert_stats(conn, "period_stat", _period_rows(cities))
    _water(engine)
    _readings(engine, evil_code)
    yield engine, reg, evil_code
    engine.dispose()


PROGRESS = pd.DataFrame([{
    "target_id": "good_days_2026", "title_zh": "优良天数比例", "title_en": "Good-day ratio", "entity_code": code,
    "entity_name": code, "metric": "good_ratio", "value_so_far": 90.0, "value_so_far_dust_excluded": 91.0,
    "threshold": 82.0, "needed_rest_of_year": 80.5, "good_days_needed": 210.0 if code == "620100" else 200.0,
    "days_left": 275, "reachable": True, "projection_p10": 84.0, "projection_p50": 87.0, "projection_p90": 90.0,
    "projection_note": "", "status": "on_track"} for code in ("620000", "620100")])


@pytest.fixture(scope="session")
def built_site(site_store, tmp_path_factory):
    """The site of DAY built once (quality gate off: these tests are about the pages) -> (root, public)."""
    from envquality.site import SiteConfig, build_site

    engine, reg, _ = site_store
    root = tmp_path_factory.mktemp("site")
    public = build_site(engine, DAY, site_root=root, progress=PROGRESS, config=SiteConfig(registry=reg, gate=False))
    return root, public


def artifacts_dir() -> Path:
    """Screenshots go to var/test-artifacts/site (ignored by git)."""
    p = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "website"
    p.mkdir(parents=True, exist_ok=True)
    return p
