"""Every reader goes through the gate: daily aqistudy values and water samples (issue 9)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from envquality.cli import main
from envquality.store import make_engine
from envquality.store import schema as S

AQISTUDY = (
    "兰州,2015-12-30,164,127~206,中度污染,124.5,188.2,42.1,2.4,61.3,22,258\n"
    "兰州,2015-12-31,168,139~218,中度污染,127.4,196.9,45.0,2.5,63.0,20,258\n"
    "兰州,2031-01-01,80,60~90,良,58.8,100.0,20.0,1.0,40.0,50,100\n"       # a day that has not happened
    "兰州,2015-12-29,118,64~188,轻度污染,-4.0,150.0,30.0,1.2,50.0,40,199\n"  # the reader rejects −4
)


def test_aqistudy_daily_values_go_through_the_gate(tmp_path):
    f = tmp_path / "兰州.csv"
    f.write_text(AQISTUDY, encoding="utf-8")
    db = tmp_path / "d.sqlite"
    rc = main(["ingest", "aqistudy", str(f), "--db", f"sqlite:///{db}", "--archive", str(tmp_path / "raw"),
               "--no-progress", "--no-docs"])
    assert rc == 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            dates = {r[0] for r in c.execute(sa.select(S.daily_stat.c.date).distinct())}
            log = c.execute(sa.select(S.ingest_log.c.gate_status)).scalar_one()
            q = c.execute(sa.select(S.quarantine.c.line, S.quarantine.c.reason, S.quarantine.c.raw)).all()
            bad = c.execute(sa.select(S.daily_stat.c.value).where(S.daily_stat.c.date == dt.date(2015, 12, 29),
                                                                  S.daily_stat.c.indicator == "pm25_24h")).all()
    finally:
        engine.dispose()
    assert dt.date(2031, 1, 1) not in dates and dt.date(2015, 12, 30) in dates
    assert log in ("warning", "critical")  # the gate ran and recorded its outcome
    assert bad in ([], [(None,)])  # the −4 µg/m³ daily mean is not stored as a value
    dated = [r for r in q if "dvalues.date_ok" in r.reason]
    assert len(dated) == 7  # the seven values of the 2031 row
    assert {r.line for r in dated} == {3}
    assert {r.raw for r in dated} == {AQISTUDY.split("\n")[2]}


def test_daily_values_suite_catches_impossible_values():
    from envquality.quality import run_gate

    df = pd.DataFrame({"city": ["620100"] * 3, "date": pd.to_datetime(["2015-12-29", "2015-12-29", "2015-12-30"]),
                       "pollutant": ["pm25_24h", "aqi", "pm10_24h"], "value": [-4.0, 620.0, 120.0]})
    res = run_gate(df, "daily_values", build_docs=False)
    assert res.quarantined["row"].tolist() == [0, 1]
    assert set(res.quarantined["expectations"]) == {"dvalues.range"}
    assert not res.publish_allowed


def test_water_samples_are_gated_on_load_and_assess(tmp_path, capsys):
    from envquality.water.registry import load_water_sources

    reg = load_water_sources(None)
    src = str(reg["id"].iloc[0])
    rows = [
        (src, "2020-06-01 10:00", "ph", 7.2, ""),
        (src, "2020-06-01 10:00", "do", 8.0, ""),
        (src, "2020-06-01 10:00", "nh3n", 0.2, ""),
        (src, "2020-06-02 10:00", "ph", -3.0, ""),      # impossible pH
        (src, "2020-06-02 10:00", "nh3n", 99999.0, ""),  # implausible mg/L
    ]
    samples = tmp_path / "samples.csv"
    pd.DataFrame(rows, columns=["source", "sampled_at", "parameter", "value", "qualifier"]).to_csv(samples, index=False)
    db = tmp_path / "w.sqlite"
    assert main(["water", "load", "--db", f"sqlite:///{db}", "--samples", str(samples)]) == 0
    out = capsys.readouterr().out
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            stored = c.execute(sa.select(S.water_sample.c.parameter, S.water_sample.c.value)).all()
    finally:
        engine.dispose()
    assert sorted(p for p, _ in stored) == ["do", "nh3n", "ph"]
    assert all(v >= 0 for _, v in stored)
    assert "quarantined: 2 " in out  # the gate's rows go to the quarantine table
    assert main(["water", "assess", "--period", "2020-06", "--samples", str(samples), "--lang", "en"]) == 0
    out = capsys.readouterr().out  # the reader's plausibility ranges or the gate: either way excluded, and said
    assert "excluded by the quality gate" in out or "input rows rejected" in out


def test_hostile_names_from_three_readers_are_escaped_in_the_data_docs(tmp_path, monkeypatch):
    """Tidy ``station``, a china-sites header and a CNEMC ``StationCode`` carrying HTML (issue 9)."""
    import json as _json
    from pathlib import Path

    from envquality.iotools.cnemc import read_cnemc_live
    from envquality.iotools.quotsoft import read_china_sites
    from envquality.iotools.readings import read_readings
    from envquality.quality import run_gate
    from envquality.quality.gate import data_docs_dir

    monkeypatch.setenv("ENVQUALITY_SITE_DIR", str(tmp_path / "site"))
    evil = "<script>alert(1)</script>"
    fix = Path(__file__).resolve().parents[1] / "iotools" / "fixtures"
    sites = tmp_path / "china_sites_20230322.csv"
    sites.write_text((fix / "china_sites_20230322.csv").read_text(encoding="utf-8").replace("1478A", evil),
                     encoding="utf-8")
    recs = _json.loads((fix / "cnemc_live_sample.json").read_text(encoding="utf-8"))
    recs[0]["StationCode"] = evil
    cnemc = tmp_path / "live.json"
    cnemc.write_text(_json.dumps(recs, ensure_ascii=False), encoding="utf-8")
    tidy = tmp_path / "tidy.csv"
    tidy.write_text(f"station,time,pollutant,value\n\"{evil}\",2024-04-01 01:00:00+08:00,pm10,80\n"
                    "1476A,2024-04-01 01:00:00+08:00,pm10,81\n", encoding="utf-8")
    frames = [read_china_sites(sites).data, read_cnemc_live(cnemc).data,
              read_readings(tidy, strict=False).data]
    for frame in frames:
        assert (frame["station"].astype(str) == evil).any()  # the reader kept the hostile name
        run_gate(frame, build_docs=True)
    pages = list((data_docs_dir() / "validations").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_gate_quarantine_in_the_store_keeps_line_and_raw_text(tmp_path):
    """`ingest tidy`: a row the gate rejects is stored in quarantine with its physical line and text."""
    lines = ["station,time,pollutant,value",
             "1476A,2024-04-01 01:00:00+08:00,pm10,80",
             "1476A,2024-04-01 02:00:00+08:00,pm10,-5",
             "1476A,2024-04-01 03:00:00+08:00,pm10,82"]
    f = tmp_path / "tidy.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "t.sqlite"
    assert main(["ingest", "tidy", str(f), "--db", f"sqlite:///{db}", "--archive", str(tmp_path / "raw"),
                 "--no-progress", "--no-docs"]) == 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            q = c.execute(sa.select(S.quarantine.c.line, S.quarantine.c.raw, S.quarantine.c.reason)).all()
    finally:
        engine.dispose()
    assert [(r.line, r.raw) for r in q] == [(3, lines[2])]
    assert "hourly.range.pm10" in q[0].reason
