"""Ingest orchestration: noop re-ingest, supersede with audit trail, quarantine, failures."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.bulk import read_readings
from envquality.store.ingest import ingest_file, run_ingest

from . import make_frame, read_tidy_csv, write_tidy_csv

BAD = ["S0000,2024-01-01 01:00,so2,12;5", "S0001,2024-13-01 01:00,no2,7"]


def _log(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(S.ingest_log).order_by(S.ingest_log.c.id)).mappings()]


def _quarantine(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(S.quarantine).order_by(S.quarantine.c.id)).mappings()]


def test_same_file_twice_is_noop(store, tmp_path):
    path = write_tidy_csv(make_frame(3, 24), tmp_path / "day_20240101.csv", bad_lines=BAD)
    r1 = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    assert r1.status == "ok" and r1.readings == 3 * 24 * 6 and r1.quarantined == 2
    before = read_readings(store, with_provenance=True)
    r2 = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    assert r2.status == "noop" and r2.noop_of == r1.ingest_id
    pd.testing.assert_frame_equal(before, read_readings(store, with_provenance=True))
    log = _log(store)
    assert [e["status"] for e in log] == ["ok", "noop"]
    assert log[0]["rows_in"] == 3 * 24 * 6 + 2 and log[0]["rows_ok"] == 3 * 24 * 6
    assert log[0]["rows_rejected"] == 2 and log[0]["rows_written"] == 3 * 24 * 6
    assert log[0]["period_start"] == pd.Timestamp("2024-01-01 01:00", tz="Asia/Shanghai")
    assert log[0]["period_end"] == pd.Timestamp("2024-01-02 00:00", tz="Asia/Shanghai")
    assert len(_quarantine(store)) == 2  # not duplicated by the noop
    # the raw bytes are archived unchanged and recorded
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "raw" / sha[:2] / sha[2:]).read_bytes() == path.read_bytes()
    with store.connect() as conn:
        arch = conn.execute(sa.select(S.raw_archive)).mappings().one()
    assert arch["sha256"] == sha and arch["original_name"] == path.name and arch["size"] == path.stat().st_size


def test_quarantine_rows_keep_raw_text(store, tmp_path):
    path = write_tidy_csv(make_frame(1, 2), tmp_path / "q.csv", bad_lines=["S9,2024-01-01 01:00,co,abc"] + BAD[1:])
    r = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    q = _quarantine(store)
    assert [(x["file"], x["line"], x["field"], x["reason"], x["raw"]) for x in q] == [
        ("q.csv", 14, "value", "cannot parse value", "S9,2024-01-01 01:00,co,abc"),
        ("q.csv", 15, "time", "cannot parse time", "S0001,2024-13-01 01:00,no2,7"),
    ]
    assert all(x["ingest_id"] == r.ingest_id and x["source"] == "cnemc" and not x["resolved"] for x in q)
    assert q[0]["created_at"].tzinfo is not None


def test_corrected_file_supersedes(store, tmp_path):
    f = make_frame(2, 24)
    path = write_tidy_csv(f, tmp_path / "day_20240101.csv", bad_lines=BAD[:1])
    r1 = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    other = write_tidy_csv(make_frame(1, 24, prefix="T"), tmp_path / "other.csv")
    r_other = ingest_file(store, other, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")

    g = f.copy()
    g.loc[0, "value"] = 555.0
    g = g[~((g["station"] == "S0001") & (g["pollutant"] == "o3"))]  # o3 of S0001 withdrawn in the correction
    write_tidy_csv(g, path)
    r2 = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw", supersedes=r1.ingest_id)
    assert r2.status == "ok" and r2.supersedes_id == r1.ingest_id
    assert r2.rows_superseded == 24 and r2.rows_written == 1  # the changed value (the rest: equal, beside)

    back = read_readings(store, with_provenance=True)
    mine = back[back["station"].str.startswith("S")].reset_index(drop=True)
    exp = g.sort_values(["station", "time", "pollutant"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine[["station", "time", "pollutant", "value"]], exp, check_dtype=False)
    assert set(mine["ingest_id"]) == {r2.ingest_id}  # the correction owns all its rows
    assert (back["station"] == "T0000").sum() == 144  # other files untouched
    assert set(back.loc[back["station"] == "T0000", "ingest_id"]) == {r_other.ingest_id}

    log = {e["id"]: e for e in _log(store)}
    assert log[r1.ingest_id]["status"] == "superseded" and log[r1.ingest_id]["rows_ok"] == len(f)
    assert log[r2.ingest_id]["status"] == "ok" and log[r2.ingest_id]["supersedes_id"] == r1.ingest_id
    assert log[r2.ingest_id]["rows_superseded"] == 24
    q = _quarantine(store)
    assert len(q) == 1 and q[0]["resolved"] and q[0]["resolution"] == f"superseded by ingest {r2.ingest_id}"
    # both raw versions stay archived
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S.raw_archive)).scalar_one() == 3
    # the correction again: noop; the original again: a new, later delivery (no supersede by name)
    assert ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw").status == "noop"
    write_tidy_csv(f, path, bad_lines=BAD[:1])
    r3 = ingest_file(store, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    assert r3.status == "ok" and r3.supersedes_id is None and r3.rows_written == 1 + 24  # 555 back; S0001 o3
    assert len(read_readings(store)) == len(f) + 144


def test_same_name_other_source_does_not_supersede(store, tmp_path):
    path = write_tidy_csv(make_frame(1, 3), tmp_path / "a.csv")
    ingest_file(store, path, read_tidy_csv, "src1", archive_root=tmp_path / "raw")
    r = ingest_file(store, path, read_tidy_csv, "src2", archive_root=tmp_path / "raw")
    assert r.status == "ok" and r.supersedes_id is None


def test_reader_failure_is_logged_and_writes_nothing(store, tmp_path):
    path = write_tidy_csv(make_frame(1, 3), tmp_path / "a.csv")

    def broken(p):
        raise ValueError("unreadable header")

    with pytest.raises(ValueError, match="unreadable"):
        ingest_file(store, path, broken, "src", archive_root=tmp_path / "raw")
    log = _log(store)
    assert [e["status"] for e in log] == ["failed"] and "unreadable header" in log[0]["error"]
    assert read_readings(store).empty
    # fixing the reader, the same file ingests fine (a failure is not a success for dedup)
    assert ingest_file(store, path, read_tidy_csv, "src", archive_root=tmp_path / "raw").status == "ok"


def test_failure_inside_the_transaction_rolls_back(store, tmp_path):
    path = write_tidy_csv(make_frame(2, 3), tmp_path / "a.csv", bad_lines=BAD)

    def reader(p):
        rr = read_tidy_csv(p)
        rr.data.loc[len(rr.data) - 1, "time"] = pd.NaT  # fails after the first chunk was written
        return rr

    with pytest.raises(ValueError, match="NaT"):
        ingest_file(store, path, reader, "src", archive_root=tmp_path / "raw", chunk_rows=10)
    assert read_readings(store).empty and _quarantine(store) == []
    assert [e["status"] for e in _log(store)] == ["failed"]


def test_bytes_input_and_run_ingest(store, tmp_path):
    a = write_tidy_csv(make_frame(1, 3), tmp_path / "d" / "a.csv" if (tmp_path / "d").mkdir() is None else None)
    write_tidy_csv(make_frame(1, 3, prefix="B"), tmp_path / "d" / "b.csv", bad_lines=BAD[:1])
    r = ingest_file(store, b"station,time,pollutant,value\nX1,2024-01-01 01:00,co,1.5\n", read_tidy_csv, "src",
                    name="bytes.csv", archive_root=tmp_path / "raw")
    assert r.status == "ok" and r.readings == 1
    s = run_ingest(store, "src", [tmp_path / "d", a], read_tidy_csv, progress=False, archive_root=tmp_path / "raw")
    assert (s.files, s.ok, s.noop, s.failed) == (3, 2, 1, 0)
    assert s.rows_ok == 36 and s.rows_quarantined == 1
    assert "2 ingested, 1 unchanged" in str(s)
    s2 = run_ingest(store, "src", [tmp_path / "missing.csv"], read_tidy_csv, progress=False,
                    archive_root=tmp_path / "raw")
    assert s2.failed == 1 and "missing.csv" in s2.errors[0][0]


def test_known_bytes_are_not_parsed_and_seeded_inputs_not_generated(store, tmp_path):
    """Issue 8 item 5: a rerun recognises an ingested input by its hash before parsing (or by a name that fixes
    the bytes of a seeded simulation, before producing them)."""
    from envquality.store.ingest import RawInput

    path = write_tidy_csv(make_frame(1, 3), tmp_path / "a.csv")
    calls = {"read": 0, "gen": 0}

    def counting_reader(p):
        calls["read"] += 1
        return read_tidy_csv(p)

    def gen():
        calls["gen"] += 1
        return path.read_bytes()

    for _ in range(2):
        ingest_file(store, path, counting_reader, "src", archive_root=tmp_path / "raw")
        run_ingest(store, "sim", [RawInput("sim_seed0_20240101.csv", gen, name_fixes_bytes=True)], counting_reader,
                   progress=False, archive_root=tmp_path / "raw")
    assert calls == {"read": 2, "gen": 1}
    assert [e["status"] for e in _log(store)] == ["ok", "ok", "noop", "noop"]
