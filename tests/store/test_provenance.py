"""Issue 9, data loss: corrections, provenance per delivery, missing never overwrites present, audit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.bulk import read_readings
from envquality.store.ingest import SupersedeError, ingest_file
from envquality.store.provenance import invalidate_readings

from . import make_frame, read_tidy_csv, write_tidy_csv

KEY = ["station", "time", "pollutant"]


def _ingest(engine, frame, path, **kw):
    write_tidy_csv(frame, path)
    return ingest_file(engine, path, read_tidy_csv, "pm25in", archive_root=path.parent / "raw", **kw)


def _history(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(S.reading_history).order_by(S.reading_history.c.id))
                .mappings()]


def test_same_base_name_next_week_keeps_week_one(store, tmp_path):
    """crawl1/兰州.csv then crawl2/兰州.csv: two deliveries, both kept (was: week 1 deleted)."""
    (tmp_path / "crawl1").mkdir()
    (tmp_path / "crawl2").mkdir()
    week1 = make_frame(2, 7 * 24, start="2024-01-01 01:00", seed=1)
    week2 = make_frame(2, 7 * 24, start="2024-01-08 01:00", seed=2)
    r1 = _ingest(store, week1, tmp_path / "crawl1" / "兰州.csv")
    r2 = _ingest(store, week2, tmp_path / "crawl2" / "兰州.csv")
    assert (r1.status, r2.status) == ("ok", "ok")
    assert r2.supersedes_id is None and r2.rows_superseded == 0
    assert len(read_readings(store)) == len(week1) + len(week2)
    assert _history(store) == []


def test_correction_keeps_rows_another_delivery_provides(store, tmp_path):
    """feed_a (144), feed_b (288, same values for those 144), corrected feed_a (84): 288 remain."""
    b = make_frame(2, 24, pollutants=("pm25", "pm10", "so2"))  # 144 readings
    b = pd.concat([b, make_frame(2, 24, pollutants=("pm25", "pm10", "so2"), prefix="T")], ignore_index=True)
    a = b.iloc[:144]
    ra = _ingest(store, a, tmp_path / "feed_a.csv")
    rb = _ingest(store, b, tmp_path / "feed_b.csv")
    a2 = a.iloc[:84]
    ra2 = _ingest(store, a2, tmp_path / "feed_a.csv", supersedes=ra.ingest_id)
    assert ra2.status == "ok" and ra2.rows_superseded == 0
    back = read_readings(store, with_provenance=True)
    assert len(back) == 288
    m = back.merge(b, on=KEY, suffixes=("", "_b"))
    np.testing.assert_array_equal(m["value"], m["value_b"])
    # the 60 rows only feed_a's old version had, are still shown, now from feed_b
    assert set(back["ingest_id"]) == {ra2.ingest_id, rb.ingest_id}


def test_correction_removes_what_no_current_delivery_provides_and_logs_it(store, tmp_path):
    a = make_frame(1, 4, pollutants=("pm25",))
    ra = _ingest(store, a, tmp_path / "a.csv")
    fixed = a.iloc[:3].assign(value=[1.0, 2.0, 3.0])
    rc = _ingest(store, fixed, tmp_path / "a_fixed.csv", supersedes=ra.ingest_id, note="lab recheck")
    assert rc.rows_superseded == 1
    back = read_readings(store)
    assert list(back["value"]) == [1.0, 2.0, 3.0]
    hist = _history(store)
    removed = [h for h in hist if h["new_ingest_id"] is None]
    assert len(removed) == 1 and removed[0]["value"] == a["value"].iloc[3]
    assert removed[0]["ingest_id"] == ra.ingest_id and removed[0]["by_ingest_id"] == rc.ingest_id
    assert "superseded by ingest" in removed[0]["cause"] and "lab recheck" in removed[0]["cause"]
    with store.connect() as conn:
        old = conn.execute(sa.select(S.ingest_log).where(S.ingest_log.c.id == ra.ingest_id)).mappings().one()
    assert old["status"] == "superseded" and old["superseded_by_id"] == rc.ingest_id


@pytest.mark.parametrize("marker", ["NaN", "—", "NA", ""])
def test_missing_marker_never_erases_a_stored_value(store, tmp_path, marker):
    a = make_frame(1, 2, pollutants=("pm25",)).assign(value=[9.2, 10.0])
    _ingest(store, a, tmp_path / "first.csv")
    text = a.assign(time=a["time"].dt.strftime("%Y-%m-%d %H:%M")).astype(str)
    text.loc[0, "value"] = marker
    later = tmp_path / "later.csv"
    later.write_text(text.to_csv(index=False, columns=["station", "time", "pollutant", "value"]), encoding="utf-8")

    def reader(path):  # a reader that maps the source's missing markers to NaN
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        raw["value"] = raw["value"].replace({"NaN": "", "—": "", "NA": ""})
        tmp = path.with_suffix(".clean.csv")
        raw.to_csv(tmp, index=False)
        return read_tidy_csv(tmp)

    ingest_file(store, later, reader, "pm25in", archive_root=tmp_path / "raw")
    assert list(read_readings(store)["value"]) == [9.2, 10.0]


def test_invalidate_is_explicit_logged_and_keeps_the_old_value(store, tmp_path):
    a = make_frame(2, 3, pollutants=("pm25",))
    ra = _ingest(store, a, tmp_path / "a.csv")
    t = a["time"].iloc[1]
    iid, n = invalidate_readings(store, reason="analyser fault", stations=["S0000"], pollutants=["pm25"],
                                 start=t, end=t, operator="auditor1")
    assert n == 1
    back = read_readings(store, with_provenance=True).set_index(KEY)
    row = back.loc[("S0000", t, "pm25")]
    assert np.isnan(row["value"]) and row["flag"] == "invalidated" and row["ingest_id"] == iid
    hist = _history(store)
    assert len(hist) == 1 and hist[0]["value"] == a["value"].iloc[1] and hist[0]["ingest_id"] == ra.ingest_id
    assert "invalidated on audit: analyser fault (by auditor1)" == hist[0]["cause"]
    with store.connect() as conn:
        kept = conn.execute(sa.select(S.reading_delivery.c.value)).scalars().all()
    assert kept == [a["value"].iloc[1]]
    # re-ingesting the same bytes does not bring the value back; a later delivery of a new value does
    assert _ingest(store, a, tmp_path / "copy_of_a.csv").status == "noop"
    assert np.isnan(read_readings(store).set_index(KEY).loc[("S0000", t, "pm25"), "value"])
    _ingest(store, a.iloc[[1]].assign(value=42.0), tmp_path / "recalibrated.csv")
    assert read_readings(store).set_index(KEY).loc[("S0000", t, "pm25"), "value"] == 42.0
    with pytest.raises(ValueError, match="reason"):
        invalidate_readings(store, reason=" ", start=t, end=t)


def test_supersedes_must_name_a_current_delivery_of_the_source(store, tmp_path):
    a = make_frame(1, 2)
    ra = _ingest(store, a, tmp_path / "a.csv")
    with pytest.raises(SupersedeError, match="not a current earlier delivery"):
        _ingest(store, a.assign(value=1.0), tmp_path / "b.csv", supersedes=ra.ingest_id + 5)
    assert len(read_readings(store)) == len(a)


def test_declared_versions_supersede_and_earlier_version_committing_late_loses(store, tmp_path):
    a = make_frame(2, 3, pollutants=("pm25",))
    v1 = _ingest(store, a, tmp_path / "v1.csv", delivery_id="cnemc/2024-01-01")
    v2 = _ingest(store, a.assign(value=a["value"] + 1), tmp_path / "v2.csv", delivery_id="cnemc/2024-01-01")
    assert v2.supersedes_id == v1.ingest_id
    np.testing.assert_array_equal(read_readings(store)["value"], (a["value"] + 1).to_numpy())
    # same delivery id but another period: not a version, nothing superseded
    other = _ingest(store, make_frame(2, 3, pollutants=("pm25",), start="2024-02-01 01:00"), tmp_path / "v3.csv",
                    delivery_id="cnemc/2024-01-01")
    assert other.supersedes_id is None and len(read_readings(store)) == 2 * len(a)


def test_delivery_order_not_commit_order(store, tmp_path, monkeypatch):
    """Two versions ingested at once: the earlier delivery commits last and must not win."""
    import envquality.store.ingest as ingest_mod

    a = make_frame(1, 3, pollutants=("pm25",))
    p1, p2 = write_tidy_csv(a, tmp_path / "v1.csv"), write_tidy_csv(a.assign(value=7.0), tmp_path / "v2.csv")
    real_commit = ingest_mod._commit
    state = {}

    def commit_v2_first(engine, frame, rejected, result, **kw):
        if "inner" not in state:  # v1 got its id first; v2 is delivered and committed meanwhile
            state["inner"] = None
            state["inner"] = ingest_file(engine, p2, read_tidy_csv, "pm25in", archive_root=tmp_path / "raw",
                                         delivery_id="d1")
        return real_commit(engine, frame, rejected, result, **kw)

    monkeypatch.setattr(ingest_mod, "_commit", commit_v2_first)
    r1 = ingest_file(store, p1, read_tidy_csv, "pm25in", archive_root=tmp_path / "raw", delivery_id="d1")
    r2 = state["inner"]
    assert r1.ingest_id < r2.ingest_id
    assert r1.status == "superseded" and r1.superseded_by == r2.ingest_id
    back = read_readings(store, with_provenance=True)
    assert list(back["value"]) == [7.0, 7.0, 7.0] and set(back["ingest_id"]) == {r2.ingest_id}


def test_ingest_log_units(store, tmp_path):
    """rows_ok counts readings offered, rows_written readings written (never more), rows_rejected quarantine rows."""
    a = make_frame(2, 4)
    path = write_tidy_csv(a, tmp_path / "u.csv", bad_lines=["S0,2024-01-01 01:00,co,x"])
    r = ingest_file(store, path, read_tidy_csv, "src", archive_root=tmp_path / "raw")
    with store.connect() as conn:
        log = conn.execute(sa.select(S.ingest_log).where(S.ingest_log.c.id == r.ingest_id)).mappings().one()
    assert (log["rows_in"], log["rows_ok"], log["rows_rejected"], log["rows_written"]) == (len(a) + 1, len(a), 1,
                                                                                          len(a))
    assert log["rows_written"] <= log["rows_ok"]
