"""Registry station history and ``envquality quarantine replay`` (issue 8, operator item 3).

The MIT pm25.in sample (tests/data/pm25in) names stations as in 2020; the
2022 station list lacks 15 of them.  Without the history their rows went to
quarantine (天水, 定西, 张掖, 甘南州 got no readings); with it they resolve,
and a store ingested before the history existed gets them back by replay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import envquality.registry as registry_mod
from envquality.cli import main
from envquality.iotools.pm25in import read_pm25in
from envquality.quality import config as gate_config
from envquality.quality.gate import run_gate
from envquality.registry import Registry, load_cities, load_station_history, load_stations
from envquality.store import schema as S
from envquality.store.bulk import readings_checksum
from envquality.store.ingest import run_ingest
from envquality.store.replay import replay_quarantine


DATA = Path(__file__).parents[1] / "data" / "pm25in"


def _gate(frame, name, source):
    return run_gate(frame, "hourly_readings", file=name, source=source, build_docs=False)


@pytest.fixture
def use_registry(monkeypatch):
    """Switch the default registry (readers and gate) for the test; restored afterwards."""

    def use(reg: Registry) -> None:
        monkeypatch.setattr(registry_mod, "default_registry", lambda: reg)
        gate_config._registry_codes.cache_clear()

    yield use
    monkeypatch.undo()
    gate_config._registry_codes.cache_clear()


def test_history_entries_have_evidence_and_invent_no_codes():
    h = load_station_history()
    assert (h["evidence"].str.len() > 40).all()
    current = set(load_stations()["code"])
    hist = h[h["event"] == "historical_station"]
    # no CNEMC code is asserted for a historical name: ids are city_code:name
    assert (hist["code"] == "").all()
    assert (hist["station_id"] == hist["city_code"] + ":" + hist["name"]).all()
    # codes named by the other events are codes of the CNEMC list
    assert set(h.loc[h["code"] != "", "code"]) <= current
    assert (hist["valid_to"] == pd.Timestamp("2022-02-13")).all()


def test_historical_names_resolve_by_date():
    reg = registry_mod.default_registry()
    assert reg.resolve_station("定西", "监测站（原粮食局）", "2020-04-02 11:00") == "621100:监测站"
    assert reg.resolve_station("甘南州", "监测站", "2020-04-05") == "623000:监测站"
    assert reg.resolve_station("甘南州", "监测站", "2022-03-01") is None  # not valid after the 2022 list
    assert reg.resolve_station("兰州", "教育港（20181115启用）") == "3186A"  # current names first
    assert "620500:仙人崖" in reg.known_station_ids() and reg.station_city()["620500:仙人崖"] == "620500"


@pytest.mark.parametrize("city, n_ids", [("天水", 3), ("定西", 2), ("张掖", 2), ("甘南州", 1)])
def test_cities_without_readings_before_now_have_them(city, n_ids):
    rr = read_pm25in(DATA / f"{city}.csv")
    assert len(rr.meta["historical_stations"]) == n_ids and not rr.meta["unresolved_stations"]
    gate = _gate(rr.data, f"{city}.csv", "pm25in")
    assert len(gate.passed) == len(rr.data) and gate.quarantined.empty


def _as_text_rows(engine, ingest_id: int, path: Path) -> None:
    """Rewrite one ingest's quarantine rows as rows stored before the gate kept input lines:
    ``raw`` = the reading as ``col=value`` text, no line (the form ``parse_gate_raw`` reads)."""
    rr = read_pm25in(path)  # the 2022 list only, as at ingest: every row is quarantined
    old = rr.data[["station", "time", "pollutant", "value", "city"]].reset_index(drop=True)
    raw = ("station=" + old["station"] + ",time=" + old["time"].astype(str) + ",pollutant=" + old["pollutant"]
           + ",value=" + old["value"].astype("string").fillna("nan") + ",city=" + old["city"])
    q = S.quarantine.c
    with engine.begin() as conn:
        ids = conn.execute(sa.select(q.id).where(q.ingest_id == ingest_id).order_by(q.id)).scalars().all()
        assert len(ids) == len(raw)
        conn.execute(sa.update(S.quarantine).where(q.id == sa.bindparam("qid")).values(
            raw=sa.bindparam("text"), line=None), [{"qid": i, "text": t} for i, t in zip(ids, raw)])


@pytest.mark.parametrize("raw_form", ["input_line", "col_value"])
def test_replay_moves_rows_that_now_pass_and_is_idempotent(store, tmp_path, use_registry, capsys, raw_form):
    use_registry(Registry(load_cities(), load_stations()))  # as before the history: the 2022 list only
    files = [DATA / "天水.csv", DATA / "甘南州.csv"]
    archive = tmp_path / "raw"
    summary = run_ingest(store, "pm25in", files, read_pm25in, progress=False, archive_root=archive, gate=_gate)
    with store.connect() as conn:
        quarantined = conn.execute(sa.select(sa.func.count()).select_from(S.quarantine)).scalar_one()
        stored = conn.execute(sa.select(sa.func.count()).select_from(S.reading)).scalar_one()
        lines = conn.execute(sa.select(S.quarantine.c.line, S.quarantine.c.raw).limit(1)).one()
    assert stored == 0 and quarantined == 2256 + 744  # every row: stations unknown to the 2022 list
    assert lines.line >= 2 and lines.raw.count(",") > 5  # the physical input line, not a rebuilt row
    if raw_form == "col_value":  # 甘南州 as stored before the gate kept input lines
        _as_text_rows(store, summary.results[1].ingest_id, files[1])

    # the operator's fix: the registry with its station history
    use_registry(Registry.from_csv())

    result = replay_quarantine(store, source="pm25in", archive_root=archive)
    assert result.resolved == quarantined and result.still_failing == 0 and result.not_replayable == 0
    assert result.examined == quarantined and result.rows_written == quarantined
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S.reading)).scalar_one() == quarantined
        gansu = conn.execute(sa.select(sa.func.count()).select_from(S.reading.join(
            S.series, S.series.c.id == S.reading.c.series_id)).where(S.series.c.station == "623000:监测站")).scalar_one()
        unresolved = conn.execute(sa.select(sa.func.count()).select_from(S.quarantine)
                                  .where(S.quarantine.c.resolved == sa.false())).scalar_one()
        res = conn.execute(sa.select(S.quarantine.c.resolution).limit(1)).scalar_one()
        logs = conn.execute(sa.select(sa.func.count()).select_from(S.ingest_log)).scalar_one()
    assert gansu == 744  # 甘南州's one station, under its historical id
    assert unresolved == 0 and res.startswith("replayed ") and "ingest" in res
    assert logs == 2 + 2  # two ingests, one replay log row each

    before = readings_checksum(store)
    again = replay_quarantine(store, archive_root=archive)
    assert (again.resolved, again.rows_written, again.examined) == (0, 0, 0)
    assert readings_checksum(store) == before
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S.ingest_log)).scalar_one() == logs

    url = store.url.render_as_string(hide_password=False)
    if store.dialect.name == "sqlite":  # the CLI on the same store: nothing left to do
        assert main(["quarantine", "replay", "--db", url, "--source", "pm25in"]) == 0
        assert "0 now pass" in capsys.readouterr().out


def _failing_line(line: int):
    """The gate, plus a failure of one pollutant of one input line (a threshold still exceeded)."""
    def gate(frame, name, source):
        g = _gate(frame, name, source)
        extra = np.flatnonzero((frame["line"] == line).to_numpy() & (frame["pollutant"] == "pm10").to_numpy())
        g.quarantined = pd.concat([g.quarantined, pd.DataFrame({"row": extra})], ignore_index=True)
        return g
    return gate


def test_replay_keeps_reader_rejects_and_failing_lines(store, tmp_path, use_registry):
    """A reader's reject stays not replayable; a line the gate still fails stays quarantined, whole."""
    use_registry(Registry(load_cities(), load_stations()))
    text = (DATA / "甘南州.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    cells = text[1].split(",")
    cells[7] = "x?"  # PM10 of line 2 unparsable: the reader rejects that cell
    text[1] = ",".join(cells)
    src = tmp_path / "甘南州.csv"
    src.write_text("".join(text), encoding="utf-8")
    archive = tmp_path / "raw"
    run_ingest(store, "pm25in", [src], read_pm25in, progress=False, archive_root=archive, gate=_gate)
    use_registry(Registry.from_csv())

    result = replay_quarantine(store, archive_root=archive, gate=_failing_line(3))
    # line 2: 7 readings + 1 reader reject; line 3: 8 readings; 93 lines in all
    assert (result.examined, result.not_replayable, result.still_failing) == (93 * 8, 1, 8)
    assert result.resolved == result.rows_written == 93 * 8 - 1 - 8
    with store.connect() as conn:
        left = conn.execute(sa.select(S.quarantine.c.line, S.quarantine.c.reason)
                            .where(S.quarantine.c.resolved == sa.false())).all()
    assert sorted(r.line for r in left) == [2] + [3] * 8
    assert [r.reason.startswith("hourly.") for r in left if r.line == 2] == [False]

    again = replay_quarantine(store, archive_root=archive, gate=_failing_line(3))
    assert (again.resolved, again.rows_written, again.still_failing) == (0, 0, 8)


@pytest.mark.slow
def test_whole_sample_quarantine_after_history(tmp_path):
    """The 14 files: 14,192 of 31,360 rows were quarantined; with the history only the
    four frozen copies of second names stay (2,977 rows), 11,215 rows resolve."""
    from envquality.store import make_engine, upgrade_to_head

    engine = make_engine(f"sqlite:///{tmp_path / 'sample.sqlite'}")
    upgrade_to_head(engine)
    summary = run_ingest(engine, "pm25in", [DATA], read_pm25in, progress=False, archive_root=tmp_path / "raw",
                         pattern="*.csv", gate=_gate)
    engine.dispose()
    assert summary.rows_ok + summary.rows_quarantined == 31_360
    assert summary.rows_quarantined == 2_977 and 14_192 - summary.rows_quarantined == 11_215
