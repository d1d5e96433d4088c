"""The real quirks of ../shared/realdata: duplicates, the frozen station, NaN rows, a dust storm."""

from __future__ import annotations

import pandas as pd
import pytest

from envquality.quality import run_gate

from .conftest import REAL

pytestmark = pytest.mark.realdata

PM25IN = REAL / "pm25in_station_hourly_zzy95" / "data" / "兰州.csv"
CNEMC = REAL / "cnemc_live_HeQinWill" / "Archive" / "2023-03-22" / "2023-03-22T12.gansu_rows.csv"


@pytest.fixture(scope="module")
def lanzhou():
    if not PM25IN.exists():
        pytest.skip("shared/realdata not available")
    from envquality.iotools.pm25in import read_pm25in

    return read_pm25in(PM25IN)


def test_frozen_station_and_nan_rows(lanzhou):
    res = run_gate(lanzhou.data, build_docs=False, file=str(PM25IN), source="pm25in")
    q = res.quarantined
    frozen = lanzhou.data.loc[q["row"][q["expectations"].str.contains("hourly.stuck")], "station"]
    assert any("教育港（20181115启用）" in s for s in frozen.unique())
    # the decommissioned 职工医院 (1475A) is NaN in every hour: not quarantined, but completeness warns
    assert "1475A" not in set(lanzhou.data.loc[q["row"], "station"])
    names = {f.name for f in res.warnings}
    assert "hourly.station_completeness" in names
    assert res.publish_allowed


def test_duplicate_hours_of_the_raw_crawl(lanzhou):
    """pm25.in crawled whole hours twice; the reader collapses them — fed raw, the gate catches them."""
    raw = pd.read_csv(PM25IN, dtype=str, keep_default_na=False)
    raw = raw[raw["WatchPoint"] == "兰炼宾馆"]
    t = pd.to_datetime(raw["Date"] + raw["Hour"], format="%Y%m%d%H").dt.tz_localize("Asia/Shanghai")
    tidy = pd.DataFrame({"station": "1476A", "time": t.to_numpy(), "pollutant": "pm10",
                         "value": pd.to_numeric(raw["PM10"], errors="coerce").to_numpy()})
    n_dup = int(tidy.duplicated(["station", "time", "pollutant"]).sum())
    assert n_dup > 0
    res = run_gate(tidy, build_docs=False)
    q = res.quarantined
    dup_rows = q[q["expectations"].str.contains("hourly.key_unique")]
    assert len(dup_rows) == n_dup  # identical copies: every copy after the first
    assert tidy.drop(index=dup_rows["row"]).duplicated(["station", "time", "pollutant"]).sum() == 0


def test_dust_storm_passes_and_is_flagged():
    if not CNEMC.exists():
        pytest.skip("shared/realdata not available")
    from envquality.iotools.cnemc import read_cnemc_live

    r = read_cnemc_live(CNEMC)
    d = r.data
    assert (d.loc[d["pollutant"] == "pm10", "value"] > 600).any()
    res = run_gate(d, build_docs=False, file=str(CNEMC))
    assert res.publish_allowed, [f.message() for f in res.critical]
    assert len(res.quarantined) == 0
    p = res.passed
    dusty = p[(p["pollutant"] == "pm10") & (p["value"] >= 600)]
    assert len(dusty) and dusty["likely_dust"].all()
    assert not p.loc[(p["pollutant"] == "pm10") & (p["value"] < 100), "likely_dust"].any()
    # PM10 above 1,000 µg/m³ (the 24-h moving mean of 3242A is 1,105) is kept
    assert (p.loc[p["pollutant"] == "pm10_24h", "value"] > 1000).any()
    # a synthetic hourly PM10 of 1,500 µg/m³ inside the storm passes too
    st = dusty["station"].iloc[0]
    big = d.copy()
    big.loc[(big["station"] == st) & (big["pollutant"] == "pm10"), "value"] = 1500.0
    res = run_gate(big, build_docs=False)
    assert res.publish_allowed and len(res.quarantined) == 0
    assert res.passed.loc[(res.passed["station"] == st) & (res.passed["pollutant"] == "pm10"), "likely_dust"].all()


def test_quarantined_rows_keep_physical_line_and_raw_text(lanzhou):
    """All gate-quarantined rows of the real 兰州.csv carry their input line and its exact text (issue 9)."""
    res = run_gate(lanzhou.data, build_docs=False, file=str(PM25IN), source="pm25in")
    q = res.quarantined
    assert len(q) > 1000
    assert q["line"].notna().all()
    physical = PM25IN.read_text(encoding="utf-8-sig").split("\n")
    expected = [physical[int(n) - 1].rstrip("\r") for n in q["line"]]
    assert q["raw"].tolist() == expected
    assert not q["raw"].str.contains("station=").any()  # not a rebuilt col=value text
    assert "line" in res.passed and res.passed["line"].notna().all()
