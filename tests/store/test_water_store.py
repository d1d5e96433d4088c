"""Drinking-water sources, samples and classes in the store, on both backends."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.cli import main
from envquality.store import make_engine
from envquality.store.water import (
    read_classes,
    read_water_samples,
    store_classes,
    sync_water_sources,
    upsert_water_samples,
)
from envquality.water import classify_samples, load_water_sources, simulate_samples


@pytest.fixture(scope="module")
def water():
    reg = load_water_sources()
    small = reg[reg["city_code"].isin(["620100", "620700"])].reset_index(drop=True)  # Lanzhou, Zhangye
    samples = simulate_samples(small, "2020-01", "2020-03", seed=7)
    return small, samples


def _expected(samples: pd.DataFrame) -> pd.DataFrame:
    exp = samples.astype({c: str for c in ("source", "parameter", "unit", "qualifier")})
    exp["sampled_at"] = exp["sampled_at"].astype("datetime64[ns, Asia/Shanghai]")
    return exp.sort_values(["source", "sampled_at", "parameter"]).reset_index(drop=True)


def _count(engine, table: str) -> int:
    with engine.connect() as c:
        return c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_sync_and_upsert_are_idempotent(store, water):
    reg, samples = water
    assert sync_water_sources(store, reg) == len(reg)
    assert sync_water_sources(store, reg) == 0  # unchanged: nothing written
    with store.begin() as conn:
        assert upsert_water_samples(conn, samples, ingest_id=None) == len(samples)
    with store.begin() as conn:
        assert upsert_water_samples(conn, samples, ingest_id=5) == 0
    assert _count(store, "water_source") == len(reg)
    assert _count(store, "water_sample") == len(samples)
    with store.connect() as c:  # unchanged rows keep the ingest that wrote them
        assert c.execute(sa.text("SELECT count(*) FROM water_sample WHERE ingest_id IS NOT NULL")).scalar_one() == 0
        row = c.execute(sa.text("SELECT name, type, simulated, supply_volume FROM water_source WHERE id = :i"),
                        {"i": reg["id"].iloc[0]}).one()
    assert row[0] == reg["name"].iloc[0] and row[1] == reg["source_type"].iloc[0] and bool(row[2]) is True
    assert row[3] == pytest.approx(reg["supply_m3_per_day"].iloc[0])

    changed = samples.copy()
    changed.loc[changed.index[:3], "value"] = changed["value"].iloc[:3] + 1.0
    with store.begin() as conn:
        assert upsert_water_samples(conn, changed, ingest_id=9) == 3
    assert _count(store, "water_sample") == len(samples)
    pd.testing.assert_frame_equal(read_water_samples(store), _expected(changed), check_dtype=False)


def test_time_round_trip_and_range(store, water):
    _, samples = water
    odd = samples.iloc[:2].copy()
    # an instant given in UTC, a second off the minute, and one across the CST midnight
    odd["sampled_at"] = pd.to_datetime(["2020-01-31 16:00:01Z", "2019-12-31 23:59:59+08:00"], utc=True)
    odd["parameter"] = ["ph", "do"]
    with store.begin() as conn:
        upsert_water_samples(conn, odd)
    back = read_water_samples(store)
    assert str(back["sampled_at"].dt.tz) == "Asia/Shanghai"
    assert list(back.sort_values("sampled_at")["sampled_at"]) == [
        pd.Timestamp("2019-12-31 23:59:59+08:00"), pd.Timestamp("2020-02-01 00:00:01+08:00")]
    # half-open ranges, naive bounds are CST
    assert len(read_water_samples(store, start="2020-01-01")) == 1
    assert len(read_water_samples(store, end="2020-01-01")) == 1
    assert len(read_water_samples(store, start="2020-02-01 00:00:01", end="2020-02-01 00:00:02")) == 1
    with store.begin() as conn, pytest.raises(ValueError, match="tz-aware"):
        upsert_water_samples(conn, odd.assign(sampled_at=odd["sampled_at"].dt.tz_localize(None)))


def test_classes_stored(store, water):
    reg, samples = water
    classified = classify_samples(samples, registry=reg)
    assert store_classes(store, classified) == len(classified)
    first = read_classes(store)
    assert store_classes(store, classified) == 0  # re-run: unchanged, computed_at kept
    again = read_classes(store)
    pd.testing.assert_frame_equal(first, again)
    exp = classified.sort_values(["source", "sampled_at"]).reset_index(drop=True)
    assert list(again["source"]) == list(exp["source"].astype(str))
    assert (again["sampled_at"] == exp["sampled_at"]).all()
    assert list(again["water_class"]) == [int(x) for x in exp["water_class"]]
    assert list(again["compliant"]) == list(exp["compliant"])
    assert list(again["deciding"]) == list(exp["deciding"].astype(str))
    pd.testing.assert_series_equal(again["max_multiple"], exp["max_multiple"].astype("float64"),
                                   check_names=False)
    assert len(read_classes(store, method="2011+cod")) == 0


def _load_counts(out: str) -> dict[str, int]:
    """The figures of ``envquality water load``'s summary line."""
    m = re.search(r"samples: (\d+) \((\d+) written\); quarantined: (\d+) .*?; samplings classed: (\d+) \((\d+) written", out)
    assert m, out
    keys = ("samples", "written", "quarantined", "classed", "classes_written")
    return dict(zip(keys, map(int, m.groups())))


def test_cli_load_then_assess_from_db_equals_simulated(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'water.sqlite'}"
    # expected counts are properties of the simulator's output, not numbers pinned from it
    generated = simulate_samples(load_water_sources(), "2020-01", "2020-12", seed=2020)
    assert main(["water", "load", "--db", url, "--simulate", "--period", "2020"]) == 0
    first = _load_counts(capsys.readouterr().out)
    assert main(["water", "load", "--db", url, "--simulate", "--period", "2020"]) == 0
    second = _load_counts(capsys.readouterr().out)
    engine = make_engine(url)
    try:
        quarantined = _count(engine, "quarantine")
        stored = _count(engine, "water_sample")
        assert stored == len(generated) - quarantined  # nothing lost: stored = generated − quarantined
        assert first["written"] == stored and second["written"] == 0  # the re-run changes nothing
        with engine.connect() as c:
            samplings = c.execute(sa.text(
                "SELECT count(*) FROM (SELECT DISTINCT source_id, sampled_at FROM water_sample) AS s")).scalar_one()
            st = c.execute(sa.text("SELECT status, rows_written FROM ingest_log ORDER BY id")).all()
        assert _count(engine, "water_class") == samplings == first["classed"] == second["classed"]
        assert first["classes_written"] == samplings and second["classes_written"] == 0
        assert [tuple(r) for r in st] == [("ok", stored), ("noop", 0)]
    finally:
        engine.dispose()
    for period in ("2020", "2020-07"):
        assert main(["water", "assess", "--period", period, "--db", url, "--json"]) == 0
        from_db = json.loads(capsys.readouterr().out)
        assert main(["water", "assess", "--period", period, "--json"]) == 0
        simulated = json.loads(capsys.readouterr().out)
        assert from_db == simulated
        assert from_db["samples_simulated"] is True
