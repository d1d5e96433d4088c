"""Public site data: written only after a clean gate, switched atomically, last good kept."""

from __future__ import annotations

import functools
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.iotools.readings import read_readings
from envquality.pipeline import daily_figures, ingest, simulated_inputs
from envquality.publish import publish_site_data
from envquality.quality.publish_guard import PublishBlocked
from envquality.store import make_engine, upgrade_to_head
from envquality.store import schema as S

DAY = "2026-03-02"


@pytest.fixture()
def figures(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVQUALITY_SITE_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("ENVQUALITY_ALERTS_DIR", str(tmp_path / "alerts"))
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    upgrade_to_head(engine)
    ingest(engine, "simulate", simulated_inputs("2026-03-01", "2026-03-02", seed=5),
           functools.partial(read_readings, strict=False), archive_root=tmp_path / "raw", docs=False)
    return engine, daily_figures(engine, "2026-03-01", "2026-03-02"), tmp_path / "site" / "public"


def test_publish_writes_a_release_and_switches_the_link(figures):
    engine, daily, public = figures
    link = publish_site_data(engine, daily.aqi, DAY)
    assert link == public / "data" and link.is_symlink()
    table = pd.read_csv(link / "city_aqi_latest.csv", dtype={"city_code": str})
    assert len(table) == 14 and set(table["date"]) == {DAY}
    assert table["colour"].str.match(r"^#[0-9A-F]{6}$").all()
    first = os.readlink(link)
    publish_site_data(engine, daily.aqi, DAY)
    assert os.readlink(link) != first  # a new release, switched in one rename
    assert not list((public / "releases").glob(".*partial"))


def test_critical_gate_in_the_store_blocks_and_keeps_the_last_good_release(figures, tmp_path):
    engine, daily, public = figures
    link = publish_site_data(engine, daily.aqi, DAY)
    good = os.readlink(link)
    with engine.begin() as c:  # a later ingest of that day failed a critical expectation
        c.execute(sa.update(S.ingest_log).where(S.ingest_log.c.id == sa.select(sa.func.max(S.ingest_log.c.id))
                                                .scalar_subquery()).values(gate_status="critical"))
    with pytest.raises(PublishBlocked) as exc:
        publish_site_data(engine, daily.aqi, DAY)
    assert "critical" in exc.value.reason and exc.value.alert_path.exists()
    assert os.readlink(link) == good  # the public data did not change


def test_invalid_site_table_is_blocked_by_the_site_data_suite(figures):
    engine, daily, public = figures
    broken = daily.aqi.copy(deep=True)
    broken["aqi"].loc[{"date": pd.Timestamp(DAY)}] = 900.0  # outside 0-500: impossible
    with pytest.raises(PublishBlocked):
        publish_site_data(engine, broken, DAY)
    assert not (public / "data").exists()


def test_old_releases_are_pruned_to_keep_releases(figures, monkeypatch):
    import envquality.publish as P

    engine, daily, public = figures
    monkeypatch.setattr(P, "KEEP_RELEASES", 2)
    for _ in range(4):
        link = publish_site_data(engine, daily.aqi, DAY)
    kept = sorted(p.name for p in (public / "releases").iterdir())
    assert len(kept) == 2 + 1  # KEEP_RELEASES besides the current one
    assert os.readlink(link).split("/")[-1] in kept
