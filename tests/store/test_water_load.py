"""Issue 9, atomic and complete water loads: one transaction, quarantine, plausibility."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

import envquality.store.water as store_water
from envquality.cli import main
from envquality.iotools.water import read_water_samples
from envquality.store import make_engine
from envquality.store.water import load_water
from envquality.water import load_water_sources


HEADER = "source,sampled_at,parameter,value,unit\n"


def _file(tmp_path, lines: list[str]):
    p = tmp_path / "samples.csv"
    p.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return p


def _rows(engine, sql: str):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


def _good_lines(src: str, day: str = "2020-06-10") -> list[str]:
    return [f"{src},{day},nh3n,0.3,mg/L", f"{src},{day},ph,7.6,", f"{src},{day},do,8.1,mg/L"]


@pytest.mark.parametrize("bad,reason", [
    ("ph,-3,", "below the physical minimum"),
    ("do,1e309,mg/L", "not a finite number"),
    ("nh3n,99999,mg/L", "above the plausible maximum"),
    ("cd,<-1,mg/L", "detection limit is negative"),
])
def test_reader_rejects_implausible_values(tmp_path, bad, reason):
    reg = load_water_sources()
    src = str(reg["id"].iloc[0])
    r = read_water_samples(_file(tmp_path, [*_good_lines(src)[:1], f"{src},2020-06-10,{bad}"]))
    assert len(r.data) == 1 and len(r.rejected) == 1
    rej = r.rejected.iloc[0]
    assert reason in rej["reason"] and rej["line"] == 3 and rej["raw"] == f"{src},2020-06-10,{bad}"


def test_reader_flags_a_column_three_orders_off(tmp_path):
    """Ammonia in µg/L labelled mg/L: 300–800 'mg/L' where Class V is 2 mg/L (GB 3838-2002 Table 1)."""
    reg = load_water_sources()
    ids = reg["id"].astype(str).tolist()[:4]
    lines = [f"{s},2020-06-10,nh3n,{v},mg/L" for s, v in zip(ids, (300, 520, 800, 410))]
    lines += [f"{s},2020-06-10,ph,7.5," for s in ids]
    r = read_water_samples(_file(tmp_path, lines))
    assert set(r.data["parameter"]) == {"ph"}
    assert len(r.rejected) == 4 and r.rejected["reason"].str.contains("unit suspect").all()


def test_load_quarantines_unregistered_sources_and_is_one_transaction(store, tmp_path, monkeypatch):
    reg = load_water_sources()
    src = str(reg["id"].iloc[0])
    lines = _good_lines(src) + _good_lines("NOT_REGISTERED_1") + [f"{src},2020-06-10,ph,-3,"]
    r = read_water_samples(_file(tmp_path, lines))
    kw = dict(source="water-samples", name="samples.csv", rejected=r.rejected, origin=r.meta["row_origin"])
    # a failure late in the load (storing classes) leaves nothing behind but a failed log row
    monkeypatch.setattr(store_water, "store_classes", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        load_water(store, r.data, reg, **kw)
    for table in ("water_sample", "water_class", "water_source", "quarantine"):
        assert _rows(store, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert _rows(store, "SELECT status FROM ingest_log") == [("failed",)]
    monkeypatch.undo()
    res = load_water(store, r.data, reg, **kw)
    assert (res.status, res.samples, res.written, res.unregistered, res.quarantined) == ("ok", 3, 3, 3, 4)
    q = _rows(store, "SELECT file, line, field, reason, raw FROM quarantine ORDER BY line")
    assert [x[1] for x in q] == [5, 6, 7, 8]
    assert q[0][2] == "source" and "not in the water-source registry" in q[0][3]
    assert q[0][4] == "NOT_REGISTERED_1,2020-06-10,nh3n,0.3,mg/L" and q[3][2] == "value"
    assert _rows(store, "SELECT count(*) FROM water_class") == [(1,)]
    log = _rows(store, "SELECT status, rows_in, rows_ok, rows_rejected, rows_written FROM ingest_log ORDER BY id")
    assert log[-1] == ("ok", 7, 3, 4, 3)


def test_cli_load_with_unregistered_sources_then_assess(tmp_path, capsys):
    reg = load_water_sources()
    src = str(reg["id"].iloc[0])
    path = _file(tmp_path, _good_lines(src) + _good_lines("GHOST"))
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    assert main(["water", "load", "--db", url, "--samples", str(path)]) == 0
    assert "quarantined: 3 (3 of unregistered sources)" in capsys.readouterr().out
    assert main(["water", "assess", "--period", "2020", "--db", url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # pH, DO and ammonia only: too few of the required parameters, so no ratio at all (never 100 %)
    prov = [r for r in doc["ratios"] if r["scope"] == "province"]
    assert all(r["ratio_pct"] is None for r in prov)
    assert any("not assessed" in n for n in doc["notes"])
    engine = make_engine(url)
    try:
        assert _rows(engine, "SELECT count(*) FROM water_sample") == [(3,)]
    finally:
        engine.dispose()
    assert pd.notna(doc["period"])
