"""Times round-trip exactly on both backends (UTC instants, hour-ending CST labels)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.bulk import read_readings, upsert_readings

TZ = ZoneInfo("Asia/Shanghai")


def _frame(times) -> pd.DataFrame:
    t = pd.DatetimeIndex(times)
    return pd.DataFrame({"station": "1476A", "time": t, "pollutant": "pm25", "value": range(len(t))})


def test_midnight_cst_round_trips_through_bulk(store):
    t0 = pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")  # hour ending midnight: belongs to 2023-12-31
    times = [t0, t0 + pd.Timedelta(hours=1), pd.Timestamp("2024-06-30 23:00", tz="Asia/Shanghai")]
    with store.begin() as conn:
        upsert_readings(conn, _frame(times), ingest_id=1, source="t")
    back = read_readings(store)
    assert str(back["time"].dt.tz) == "Asia/Shanghai"
    assert list(back["time"]) == times
    assert back["time"].iloc[0].isoformat() == "2024-01-01T00:00:00+08:00"


def test_stored_representation_is_utc(store):
    t0 = pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")
    with store.begin() as conn:
        upsert_readings(conn, _frame([t0]), ingest_id=1, source="t")
    with store.connect() as conn:
        if store.dialect.name == "sqlite":
            raw = conn.exec_driver_sql("SELECT time, typeof(time) FROM reading").one()
            assert raw == (1704038400, "integer")  # 2023-12-31T16:00:00Z
        else:
            raw = conn.exec_driver_sql("SELECT time AT TIME ZONE 'UTC' FROM reading").scalar_one()
            assert raw == dt.datetime(2023, 12, 31, 16, 0)


def test_other_input_zone_is_the_same_instant(store):
    utc = pd.Timestamp("2023-12-31 16:00", tz="UTC")
    with store.begin() as conn:
        upsert_readings(conn, _frame([utc]), ingest_id=1, source="t")
        # same instant labelled in CST is the same key: an update, not a second row
        upsert_readings(conn, _frame([utc.tz_convert("Asia/Shanghai")]).assign(value=5.0), ingest_id=2, source="t")
    back = read_readings(store)
    assert len(back) == 1 and back["value"].iloc[0] == 5.0
    assert back["time"].iloc[0] == pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")


def test_session_time_zone_does_not_shift_postgres(fresh_store):
    with fresh_store("postgres") as engine:
        t0 = pd.Timestamp("2024-01-01 00:00", tz="Asia/Shanghai")
        with engine.begin() as conn:
            conn.exec_driver_sql("SET TIME ZONE 'America/New_York'")
            upsert_readings(conn, _frame([t0]), ingest_id=1, source="t")
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TIME ZONE 'Pacific/Kiritimati'")
            assert list(read_readings(conn)["time"]) == [t0]
            core = conn.execute(sa.select(S.reading.c.time)).scalar_one()
            assert core == t0.to_pydatetime() and core.tzinfo == TZ


def test_core_type_round_trip(store):
    t0 = dt.datetime(2024, 1, 1, 0, 0, tzinfo=TZ)
    with store.begin() as conn:
        sid = conn.execute(sa.insert(S.series).values(station="1476A", pollutant="co").returning(S.series.c.id)
                           ).scalar_one()
        conn.execute(sa.insert(S.reading).values(series_id=sid, time=t0, value=1.2, ingest_id=1))
    with store.connect() as conn:
        got = conn.execute(sa.select(S.reading.c.time).where(S.reading.c.time == t0)).scalar_one()
    assert got == t0 and got.utcoffset() == dt.timedelta(hours=8)
    assert got.isoformat() == "2024-01-01T00:00:00+08:00"


@pytest.mark.parametrize("bad", ["naive", "nat", "subsecond"])
def test_ambiguous_times_are_refused(store, bad):
    if bad == "naive":
        frame = _frame(pd.DatetimeIndex(["2024-01-01 00:00"]))
    elif bad == "nat":
        frame = _frame(pd.DatetimeIndex([pd.NaT, "2024-01-01 00:00"]).tz_localize("Asia/Shanghai"))
    else:
        frame = _frame([pd.Timestamp("2024-01-01 00:00:00.5", tz="Asia/Shanghai")])
    with store.begin() as conn, pytest.raises(ValueError):
        upsert_readings(conn, frame, ingest_id=1, source="t")


def test_core_type_refuses_naive(store):
    with store.begin() as conn, pytest.raises(sa.exc.StatementError, match="tz-aware"):
        conn.execute(sa.insert(S.reading).values(series_id=1, time=dt.datetime(2024, 1, 1), ingest_id=1))
