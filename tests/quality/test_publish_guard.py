"""The publication guard decides from the stored data of the day (issue 9, "The publication guard").

Regressions: a day whose every row was quarantined published (its ingest has
no period, so the old metadata check never matched), and a ``--no-gate``
day published Lanzhou at AQI 500.  Both backends: SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.iotools.readings import read_readings
from envquality.publish import critical_ingests, publish_site_data
from envquality.quality.entry import ingest_gate
from envquality.quality.publish_guard import Override, PublishBlocked, check_day, require_publishable
from envquality.store import schema as S
from envquality.store.ingest import RawInput, run_ingest
from envquality.store.registry_sync import sync_registry

from tests.store import new_store

DAY = dt.date(2026, 3, 2)
READER = functools.partial(read_readings, strict=False)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    url = os.environ.get("ENVQUALITY_TEST_PG_URL")
    if request.param == "postgres" and not url:
        pytest.skip("ENVQUALITY_TEST_PG_URL not set")
    with new_store(request.param, tmp_path, url) as eng:
        sync_registry(eng)
        yield eng


@pytest.fixture(scope="module")
def day_frame():
    """One clean simulated day of the registry's stations (hour-ending D 01:00 … D+1 00:00)."""
    from envquality.registry import default_registry
    from envquality.simulate import simulate_tidy

    st = default_registry().stations
    codes = st["code"].astype(str).tolist()
    df = simulate_tidy(codes, DAY, DAY, seed=3, gap_fraction=0.0, bad_fraction=0.0, dust_events=False,
                       city_of=dict(zip(codes, st["city_code"].astype(str))))
    return df


def _csv(df: pd.DataFrame, name: str) -> RawInput:
    out = df.assign(time=df["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
    return RawInput(name, out.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def _ingest(engine, df, name, tmp_path, *, gated: bool):
    gate = ingest_gate(build_docs=False) if gated else None  # gated=False is `ingest --no-gate`
    return run_ingest(engine, "tidy", [_csv(df, name)], READER, progress=False,
                      archive_root=tmp_path / "raw", gate=gate)


def _lanzhou(df: pd.DataFrame) -> pd.Series:
    from envquality.registry import default_registry

    st = default_registry().stations
    lz = set(st.loc[st["city_code"].astype(str) == "620100", "code"].astype(str))
    return df["station"].isin(lz)


def test_clean_gated_day_is_publishable(engine, day_frame, tmp_path):
    _ingest(engine, day_frame, "clean.csv", tmp_path, gated=True)
    d = check_day(engine, DAY)
    assert d.allowed, d.reasons
    assert d.coverage > 0.95
    assert [x["gate_status"] for x in d.deliveries] == ["pass"] or all(
        x["gate_status"] in ("pass", "warning") for x in d.deliveries)


def test_day_whose_every_row_was_quarantined_is_blocked(engine, day_frame, tmp_path):
    bad = day_frame.assign(value=-5.0)
    s = _ingest(engine, bad, "all_negative.csv", tmp_path, gated=True)
    assert s.ok == 1 and s.rows_written == 0
    with engine.connect() as c:
        row = c.execute(sa.select(S.ingest_log.c.period_start, S.ingest_log.c.gate_status)).one()
    assert row.period_start is None  # the metadata the old guard relied on is absent ...
    lo, hi = dt.datetime(2026, 3, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))), \
        dt.datetime(2026, 3, 3, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert critical_ingests(engine, lo, hi) == []  # ... so it never matched
    d = check_day(engine, DAY)
    assert not d.allowed and d.coverage == 0.0
    assert any("coverage" in r for r in d.reasons)
    with pytest.raises(PublishBlocked) as exc:
        require_publishable(engine, DAY, alerts_dir=tmp_path / "alerts")
    assert exc.value.decision.reasons == d.reasons
    alert = json.loads(exc.value.alert_path.read_text(encoding="utf-8"))
    assert alert["day"] == str(DAY) and alert["reasons"] == d.reasons


def test_no_gate_day_is_blocked_and_implausible_values_are_never_published(engine, day_frame, tmp_path):
    hostile = day_frame.copy()
    lz = _lanzhou(hostile)
    hostile.loc[lz & (hostile["pollutant"] == "pm25"), "value"] = 900.0
    hostile.loc[lz & (hostile["pollutant"] == "so2"), "value"] = -5.0
    s = _ingest(engine, hostile, "nogate.csv", tmp_path, gated=False)
    assert s.ok == 1 and s.rows_quarantined == 0  # stored as delivered: nothing checked them
    d = check_day(engine, DAY)
    assert not d.allowed
    assert any("did not go through the quality gate" in r for r in d.reasons)
    assert any("implausible stored so2" in r for r in d.reasons)
    # an override lifts the ungated rule only: negative concentrations still block
    d2 = check_day(engine, DAY, override=Override("duty officer", "feed verified by phone"))
    assert not d2.allowed and d2.lifted and all("quality gate" not in r for r in d2.reasons)


def test_no_gate_day_publishes_only_with_a_logged_override(engine, day_frame, tmp_path, monkeypatch):
    monkeypatch.setenv("ENVQUALITY_ALERTS_DIR", str(tmp_path / "alerts"))
    monkeypatch.setenv("ENVQUALITY_SITE_DIR", str(tmp_path / "site"))
    heavy = day_frame.copy()
    heavy.loc[_lanzhou(heavy) & (heavy["pollutant"] == "pm25"), "value"] = 900.0  # plausible, extreme
    _ingest(engine, heavy, "nogate_heavy.csv", tmp_path, gated=False)
    from envquality.pipeline import daily_figures

    aqi = daily_figures(engine, DAY, DAY).aqi
    assert float(aqi["aqi"].sel(city="620100").values[0]) == 500.0  # what would have gone public
    with pytest.raises(PublishBlocked) as exc:
        publish_site_data(engine, aqi, DAY)
    assert any("--no-gate" in r for r in exc.value.reasons)
    assert not (tmp_path / "site" / "public" / "data").exists()
    with pytest.raises(ValueError):
        Override("", "no name")
    link = publish_site_data(engine, aqi, DAY, override=Override("duty officer", "dust storm confirmed"))
    assert link.is_symlink()
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "alerts").glob("*-override.json")]
    assert len(records) == 1 and records[0]["operator"] == "duty officer"
    assert records[0]["override_reason"] == "dust storm confirmed" and records[0]["lifted"]
