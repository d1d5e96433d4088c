"""The main job end to end on a real SQLite store: simulate -> gate -> store -> figures.

Also what `make demo` runs (``envquality demo``): re-running changes nothing.
"""

from __future__ import annotations

import functools
import sqlite3

import pandas as pd
import pytest

from envquality.cli import main
from envquality.iotools.readings import read_readings
from envquality.pipeline import daily_figures, ingest, period_figures, simulated_inputs
from envquality.store import make_engine, upgrade_to_head

START, END = "2026-02-20", "2026-03-10"  # straddles the 2026-03-01 switch


@pytest.fixture()
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVQUALITY_SITE_DIR", str(tmp_path / "site"))
    return tmp_path / "site"


def test_pipeline_stores_gated_readings_and_figures(tmp_path, site):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    upgrade_to_head(engine)
    inputs = simulated_inputs(START, END, seed=7, bad_fraction=0.002)
    assert [i.name[-21:] for i in inputs] == ["20260220_20260228.csv", "20260301_20260310.csv"]
    reader = functools.partial(read_readings, strict=False)
    summary = ingest(engine, "simulate", inputs, reader, archive_root=tmp_path / "raw")
    assert summary.ok == 2 and summary.rows_quarantined > 0  # injected bad values caught
    assert summary.gate_status in ("pass", "warning")
    assert (site / "operator" / "data_docs" / "index.html").exists()
    daily = daily_figures(engine, START, END)
    assert daily.city.sizes == {"city": 14, "date": 19}
    # the daily AQI switches rule set with the date
    std = pd.Series(daily.aqi["standard"].values, index=pd.DatetimeIndex(daily.aqi["date"].values))
    assert std["2026-02-28"] == "HJ633-2012" and std["2026-03-01"] == "HJ633-2026"
    stats = period_figures(engine, daily, START, END, label="test")
    assert {"included", "excluded"} == set(stats["dust"])
    assert "620000" in set(stats["entity"])
    with sqlite3.connect(tmp_path / "p.sqlite") as c:
        n_daily = c.execute("select count(*) from daily_stat where entity_kind='city'").fetchone()[0]
        n_period = c.execute("select count(*) from period_stat where period='test'").fetchone()[0]
        rulesets = {r[0] for r in c.execute("select distinct ruleset from period_stat where period='test'")}
    assert n_daily == 14 * 19 * 9 and n_period > 0 and rulesets == {"2012+2026"}
    # re-running every step changes nothing
    again = ingest(engine, "simulate", simulated_inputs(START, END, seed=7, bad_fraction=0.002), reader,
                   archive_root=tmp_path / "raw")
    assert again.noop == 2 and again.ok == 0
    stats2 = period_figures(engine, daily_figures(engine, START, END), START, END, label="test")
    pd.testing.assert_frame_equal(stats, stats2)
    with sqlite3.connect(tmp_path / "p.sqlite") as c:
        assert c.execute("select count(*) from daily_stat where entity_kind='city'").fetchone()[0] == n_daily


def test_demo_command_prints_figures_and_where_outputs_are(tmp_path, site, capsys):
    out = tmp_path / "demo"
    rc = main(["demo", "--start", "2025-12-25", "--end", "2026-01-05", "--out", str(out), "--no-progress",
               "--lang", "en"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "Gansu (mean of cities)" in text and "Lanzhou" in text
    assert f"figures (CSV):      {out.resolve()}/" in text
    assert "public map pages:" in text.splitlines()[-1]
    assert (out / "statistics_2026_ytd.csv").exists() and (out / "envquality.sqlite").exists()
    # --out holds everything: operator Data Docs and public data too, none in the default site
    assert (out / "site" / "operator" / "data_docs" / "index.html").exists()
    assert (out / "site" / "public").exists() and not site.exists()
    header = (out / "city_daily_aqi.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["date", "city", "city_name"]
    iaqi = [c for c in header if c.startswith("iaqi_")]
    assert iaqi == sorted(iaqi)
    stats = (out / "statistics_2026_ytd.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert stats[:2] == ["entity", "entity_name"]
