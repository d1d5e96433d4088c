"""``envquality publish``: builds from the store through the gate; a blocked publish exits 3 and changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from envquality.cli import main

from .conftest import DAY


def _with_complete_day(engine, path) -> str:
    """A copy of the site store plus every assessment station's 24 hours of DAY, delivered through the gate."""
    import sqlite3

    from envquality.registry import default_registry
    from envquality.store import make_engine
    from envquality.store import schema as S
    from envquality.store.bulk import upsert_readings

    with sqlite3.connect(engine.url.database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)  # WAL-safe copy
    copy = make_engine(f"sqlite:///{path}")
    stations = default_registry().stations["code"].astype(str)
    hours = pd.date_range(pd.Timestamp(DAY).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=1), periods=24, freq="h")
    values = {"so2": 9.0, "no2": 30.0, "pm10": 61.0, "pm25": 33.0, "co": 0.6, "o3": 70.0}
    frame = pd.MultiIndex.from_product([stations, hours, list(values)], names=["station", "time", "pollutant"])
    frame = frame.to_frame(index=False)
    frame["value"] = frame["pollutant"].map(values)
    with copy.begin() as conn:
        iid = conn.execute(S.ingest_log.insert().values(
            source="test", file_or_url="complete-day", status="ok", started_at=S.utcnow(), gate_status="pass",
            period_start=hours[0], period_end=hours[-1]).returning(S.ingest_log.c.id)).scalar_one()
        upsert_readings(conn, frame, iid)
    copy.dispose()
    return f"sqlite:///{path}"


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_assets_ship_with_the_package():
    import tomllib
    from pathlib import Path

    from envquality.site.assets import ASSET_ROOT

    assert (ASSET_ROOT / "vendor" / "leaflet-1.9.4" / "dist" / "leaflet.js").is_file()
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "site/_assets/**/*" in pyproject["tool"]["setuptools"]["package-data"]["envquality"]


def test_blocked_publish_exits_3_and_keeps_the_site(site_store, tmp_path, monkeypatch, capsys):
    from envquality.site import SiteConfig, build_site
    from envquality.store import schema as S

    engine, reg, _ = site_store
    monkeypatch.setenv("ENVQUALITY_ALERTS_DIR", str(tmp_path / "alerts"))
    good = build_site(engine, DAY, site_root=tmp_path, config=SiteConfig(registry=reg, gate=False)).resolve()
    t = pd.Timestamp(DAY).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=3)
    with engine.begin() as conn:
        iid = conn.execute(S.ingest_log.insert().values(source="test", file_or_url="bad\x1b[31m.csv", status="ok",
                                                         started_at=S.utcnow(), gate_status="critical",
                                                         period_start=t, period_end=t)
                           .returning(S.ingest_log.c.id)).scalar_one()
    try:
        rc = main(["publish", "--db", _url(engine), "--site", str(tmp_path), "--date", str(DAY)])
    finally:
        with engine.begin() as conn:
            conn.execute(S.ingest_log.delete().where(S.ingest_log.c.id == iid))
    err = capsys.readouterr().err
    assert rc == 3 and "BLOCKED" in err and "\x1b" not in err
    assert (tmp_path / "public").resolve() == good


def test_bad_date_is_one_line(site_store, tmp_path, capsys):
    engine, _, _ = site_store
    rc = main(["publish", "--db", _url(engine), "--site", str(tmp_path), "--date", "2026-13-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "bad date" in err


@pytest.mark.slow
def test_publish_through_the_gate(site_store, tmp_path, monkeypatch, capsys):
    engine, _, _ = site_store
    monkeypatch.setenv("ENVQUALITY_ALERTS_DIR", str(tmp_path / "alerts"))
    # the guard judges the day's stored readings: a copy of the store gets a complete, gated day
    url = _with_complete_day(engine, tmp_path / "store.sqlite")
    rc = main(["publish", "--db", url, "--site", str(tmp_path)])  # latest day, default registry
    out = capsys.readouterr().out
    assert rc == 0 and f"public site for {DAY}" in out
    assert (tmp_path / "public" / "index.html").is_file() and (tmp_path / "public").is_symlink()
    try:
        from envquality.targets import progress_table  # noqa: F401
    except ImportError:
        assert "not available" in out  # without the targets package the progress panel says so
