"""Idempotent streaming upserts of readings and statistics on both backends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.bulk import read_readings, readings_checksum, upsert_readings, upsert_stats

from . import make_frame


def _count(engine, table=S.reading) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_upsert_is_idempotent(store):
    f = make_frame(4, 30)
    with store.begin() as conn:
        s1 = upsert_readings(conn, f, 1, "src", chunk_rows=100)
    assert (s1.rows, s1.written, s1.chunks) == (len(f), len(f), -(-len(f) // 100))
    before = read_readings(store, with_provenance=True)
    with store.begin() as conn:
        s2 = upsert_readings(conn, f, 1, "src", chunk_rows=100)
    assert s2.written == 0
    after = read_readings(store, with_provenance=True)
    pd.testing.assert_frame_equal(before, after)
    assert set(after["ingest_id"]) == {1}
    assert s1.direct_chunks == s1.chunks and s2.direct_chunks == 0  # fast path, then merge
    assert _count(store, S.reading_delivery) == 0
    # the same values from a second delivery: nothing changes in reading, the second is recorded beside
    with store.begin() as conn:
        assert upsert_readings(conn, f, 2, "other", chunk_rows=100).written == 0
    assert set(read_readings(store, with_provenance=True)["ingest_id"]) == {1}
    assert _count(store, S.reading_delivery) == len(f)


def test_conflicting_values_update(store):
    f = make_frame(2, 5)
    with store.begin() as conn:
        upsert_readings(conn, f, 1, "a")
    g = f.copy()
    g.loc[[0, 3], "value"] = [999.5, np.nan]
    with store.begin() as conn:
        s = upsert_readings(conn, g, 2, "b")
    assert s.written == 1  # the changed value; equal values are recorded beside, NaN does not overwrite
    back = read_readings(store, with_provenance=True)
    assert _count(store) == len(f)
    key = ["station", "time", "pollutant"]
    changed = back.set_index(key).loc[[tuple(g.loc[i, key]) for i in (0, 3)]]
    assert list(changed["ingest_id"]) == [2, 1]
    # a later value replaces; a later MISSING never overwrites the stored value
    assert list(changed["value"]) == [999.5, f.loc[3, "value"]]
    with store.begin() as conn:
        assert upsert_readings(conn, g, 2, "b").written == 0  # the same delivery again
        assert upsert_readings(conn, f, 1, "a").written == 0  # an earlier delivery does not win late
    assert read_readings(store).set_index(key).loc[tuple(g.loc[0, key]), "value"] == 999.5


def test_streaming_iterator_of_frames(store):
    parts = [make_frame(3, 10, start=f"2024-01-0{d} 01:00", seed=d) for d in range(1, 6)]
    seen = []
    with store.begin() as conn:
        s = upsert_readings(conn, iter(parts), 7, "s", chunk_rows=70, on_chunk=lambda st: seen.append(st.rows))
    total = sum(len(p) for p in parts)
    assert s.rows == total == _count(store) and seen[-1] == total
    assert s.time_min == pd.Timestamp("2024-01-01 01:00", tz="Asia/Shanghai")
    assert s.time_max == pd.Timestamp("2024-01-05 10:00", tz="Asia/Shanghai")
    expected = pd.concat(parts).groupby("pollutant")["value"].agg(["count", "sum"])
    got = readings_checksum(store)
    for p, (n, nv, total_v) in got.items():
        assert n == nv == expected.loc[p, "count"] and total_v == pytest.approx(expected.loc[p, "sum"])


def test_flag_column_and_exact_floats(store):
    f = make_frame(1, 3, pollutants=("co",))
    f["value"] = [0.1 + 0.2, 1e-300, 123456789.123456789]
    f["flag"] = ["H", None, "R,\"q\""]
    with store.begin() as conn:
        upsert_readings(conn, f, 1, "s")
    back = read_readings(store, with_provenance=True)
    assert list(back["value"]) == list(f["value"])  # bit-exact through CSV/COPY
    assert [None if pd.isna(x) else x for x in back["flag"]] == ["H", None, "R,\"q\""]
    with store.begin() as conn:
        assert upsert_readings(conn, f, 1, "s").written == 0
        assert upsert_readings(conn, f.assign(flag="X"), 2, "s").written == 3


def test_duplicate_keys_in_a_chunk_raise(store):
    f = make_frame(1, 2)
    dup = pd.concat([f, f.iloc[[0]].assign(value=1.0)], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        with store.begin() as conn:
            upsert_readings(conn, dup, 1, "s")
    assert _count(store) == 0


def test_requires_a_transaction(store):
    with store.connect() as conn, pytest.raises(RuntimeError, match="transaction"):
        upsert_readings(conn, make_frame(1, 1), 1, "s")


def test_upsert_stats_replaces_by_key(store):
    day = pd.DataFrame({
        "entity_kind": "station", "entity": ["1476A", "1476A"], "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "indicator": "pm25_24h", "ruleset": "HJ633-2012", "value": [35.0, np.nan], "n": [24, 15],
        "valid": [True, False], "reason": [None, "fewer than 20 hours"],
    })
    with store.begin() as conn:
        upsert_stats(conn, "daily_stat", day)
        upsert_stats(conn, "daily_stat", day.assign(value=[36.0, np.nan]))
        upsert_stats(conn, "period_stat", pd.DataFrame({
            "entity_kind": ["city"], "entity": ["620100"], "period": ["2024"], "indicator": ["pm25_annual"],
            "ruleset": ["HJ663-2013"], "period_start": ["2024-01-01"], "period_end": ["2024-12-31"],
            "value": [31.5], "n": [360], "valid": [True]}))
    with store.connect() as conn:
        rows = conn.execute(sa.select(S.daily_stat).order_by(S.daily_stat.c.date)).mappings().all()
        per = conn.execute(sa.select(S.period_stat)).mappings().one()
    assert [r["value"] for r in rows] == [36.0, None]
    assert rows[1]["reason"] == "fewer than 20 hours" and rows[0]["valid"] is True
    assert str(rows[0]["date"]) == "2024-01-01" and per["n"] == 360


def test_binary_copy_groups_nulls_and_flags_and_merge_path(store):
    f = make_frame(2, 6, pollutants=("pm25", "co"))
    f["value"] = f["value"].astype("float64")
    f.loc[f.index % 5 == 0, "value"] = np.nan
    f["flag"] = [None, "", "H", "ü,\"x\"", None, "H"] * (len(f) // 6)
    with store.begin() as conn:
        s = upsert_readings(conn, f, 1, chunk_rows=7)
    assert s.direct_chunks == s.chunks  # new data: every chunk on the fast path
    back = read_readings(store, with_provenance=True)
    exp = f.sort_values(["station", "time", "pollutant"]).reset_index(drop=True)
    np.testing.assert_array_equal(back["value"].to_numpy(), exp["value"].to_numpy())
    assert [None if pd.isna(x) else x for x in back["flag"]] == [None if pd.isna(x) else x for x in exp["flag"]]
    with store.connect() as conn:
        pairs = conn.execute(sa.select(S.series.c.station, S.series.c.pollutant)).all()
    assert sorted(pairs) == sorted({(a, b) for a, b in zip(f["station"], f["pollutant"])})
    # a later chunk overlapping stored keys takes the merge path; the others stay direct
    g = pd.concat([f.iloc[:4].assign(value=1.0), make_frame(1, 3, prefix="N")], ignore_index=True)
    with store.begin() as conn:
        s2 = upsert_readings(conn, g, 2, chunk_rows=4)
    assert (s2.chunks, s2.direct_chunks, s2.written) == (s2.chunks, s2.chunks - 1, 4 + 18)


def test_upsert_daily_values_idempotent_with_takeover(store):
    from envquality.store.bulk import upsert_daily_values

    d = pd.DataFrame({"city": ["620100", "620100"], "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                      "pollutant": ["pm25_24h", "o3_8h"], "value": [35.5, np.nan], "suspect": [False, True]})
    with store.begin() as conn:
        assert upsert_daily_values(conn, d, 1, "reported:x") == 2
        assert upsert_daily_values(conn, d, 2, "reported:x") == 0
        assert upsert_daily_values(conn, d, 3, "reported:x", takeover_ingest_ids=[1]) == 2
    with store.connect() as conn:
        rows = conn.execute(sa.select(S.daily_stat).order_by(S.daily_stat.c.date)).mappings().all()
    assert [(r["entity_kind"], r["indicator"], r["value"], r["reason"], r["ingest_id"]) for r in rows] == [
        ("city", "pm25_24h", 35.5, None, 3), ("city", "o3_8h", None, "suspect", 3)]
