"""Reports and progress from a real SQLite store: files read back, stored figures, Chromium, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from envquality.reports import annual_report, monthly_report, water_report
from envquality.reports.model import column
from envquality.store import make_engine, upgrade_to_head
from envquality.targets import load_targets, progress_from_daily, progress_table

from . import store_daily, synthetic_daily

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_daily("2015-01-01", "2016-12-31", seed=11)


@pytest.fixture(scope="module")
def store(tmp_path_factory, frame):
    path = tmp_path_factory.mktemp("store") / "envquality.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    store_daily(engine, frame)
    yield engine, path
    engine.dispose()


def _period_stat(engine: sa.Engine, label: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT entity, indicator, value FROM period_stat WHERE period = :p"),
                            {"p": label}).all()
    return pd.DataFrame(rows, columns=["entity", "indicator", "value"])


def test_annual_files_match_the_stored_figures(store, frame, tmp_path):
    from envquality.pipeline import DailyFigures, period_figures
    from envquality.targets.daily import city_dataset

    engine, _ = store
    divisions = sorted(frame["entity"].unique())
    city, dust = city_dataset(frame, divisions, "2016-01-01", "2016-12-31")
    period_figures(engine, DailyFigures(city, None, dust, 0), "2016-01-01", "2016-12-31", label="2016")  # type: ignore[arg-type]
    stored = _period_stat(engine, "2016")

    report = annual_report(engine, 2016)
    paths = report.write(tmp_path)
    names = {p.name for p in paths}
    assert {"annual_2016_statistics.csv", "annual_2016.xlsx", "annual_2016.html", "annual_2016.json"} <= names

    csv = pd.read_csv(tmp_path / "annual_2016_statistics.csv", dtype={"entity_code": str})
    assert len(csv) == 2 * 15 and csv["entity_name_zh"].notna().all()
    for _, r in csv.iterrows():
        suffix = "" if r["dust"] == "included" else "@dust_excluded"
        got = stored[stored["entity"] == r["entity_code"]].set_index("indicator")["value"]
        for item in ("good_ratio", "pm25_mean", "pm10_mean", "o3_p90", "co_p95", "composite_index", "valid_days"):
            want = got.get(item + suffix, np.nan)
            assert (np.isnan(want) and np.isnan(r[item])) or r[item] == pytest.approx(want, abs=1e-9), (r, item)

    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "annual_2016.xlsx")
    ws = wb["statistics"]
    header = [c.value for c in ws[1]]
    assert header[header.index(column("pm25_mean").header())] == "PM2.5平均浓度 / PM2.5 mean [µg/m³]"
    xl = pd.read_excel(tmp_path / "annual_2016.xlsx", sheet_name="statistics", dtype={header[1]: str})
    assert xl[column("pm25_mean").header()].tolist() == csv["pm25_mean"].tolist()
    assert xl[column("good_ratio").header()].tolist() == pytest.approx(csv["good_ratio"].tolist(), nan_ok=True)

    doc = json.loads((tmp_path / "annual_2016.json").read_text(encoding="utf-8"))
    rows = doc["tables"]["statistics"]["rows"]
    assert [r["composite_index"] for r in rows] == csv["composite_index"].tolist()
    assert {c["name"]: c["unit"] for c in doc["tables"]["statistics"]["columns"]}["co_p95"] == "mg/m³"


def test_progress_from_store_equals_progress_from_frame(store, frame):
    engine, _ = store
    day = pd.Timestamp("2016-06-30").date()
    a = progress_table(engine, day)
    b = progress_from_daily(frame[frame["date"] <= "2016-06-30"], day)
    cols = ["value_so_far", "value_so_far_dust_excluded", "good_days_needed", "needed_rest_of_year", "status"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a[a.target_id == "gansu-2020-pm25-falling"].iloc[0]["baseline_value"] > 0


def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    return sync_api.sync_playwright()


def test_html_report_renders_in_chromium(store, tmp_path):
    engine, _ = store
    own = tmp_path / "evil.yaml"
    own.write_text(f"""version: 1
targets:
  - id: evil
    title: {{zh: "{EVIL}", en: "{EVIL}"}}
    scope: divisions
    divisions: ["620100"]
    metric: pm25_annual_mean
    comparator: "<="
    threshold: 35
    deadline: 2025
    source: {{document: "{EVIL}"}}
""", encoding="utf-8")
    report = annual_report(engine, 2016, targets=load_targets(own))
    html_path = report.write(tmp_path, ["html"])[0]
    errors, requests, dialogs = [], [], []
    with _chromium() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(html_path.as_uri())
        page.wait_for_load_state("load")
        assert page.locator("table#statistics tbody tr").count() == 30
        assert page.locator("svg.chart").count() == 3
        assert page.locator("svg.chart rect").count() >= 14           # the good-day ratio bars
        targets_text = page.locator("table#targets").inner_text()
        assert EVIL in targets_text                                    # shown as text, not run
        assert page.locator("table#targets script, table#targets img").count() == 0
        browser.close()
    assert errors == [] and dialogs == []
    assert all(u.startswith("file://") for u in requests), requests


def test_monthly_report_store(store):
    engine, _ = store
    report = monthly_report(engine, "2016-12")
    t = report.table("ytd")
    inc = t[t["dust"] == "excluded"]
    # ranks ascend with the composite index; ties share the smaller rank
    div = inc[inc["entity_code"] != "620000"]
    assert div["composite_index"].is_monotonic_increasing
    assert (div["rank"].to_numpy() == pd.Series(div["composite_index"]).rank(method="min").to_numpy()).all()


def test_water_report_against_compliance(tmp_path):
    from envquality.store.water import store_classes, sync_water_sources
    from envquality.water.classify import classify_samples
    from envquality.water.compliance import compliance_ratios
    from envquality.water.registry import load_water_sources
    from envquality.water.simulate import simulate_samples

    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade_to_head(engine)
    reg = load_water_sources()
    cls = classify_samples(simulate_samples(reg, "2020-01", "2020-12", seed=3), registry=reg)
    sync_water_sources(engine, reg)
    store_classes(engine, cls)
    report = water_report(engine, 2020)
    engine.dispose()
    annual = report.table("annual").set_index("entity_code")
    want = compliance_ratios(cls, reg, "2020")
    want = want[want["method"] == "sources"].set_index("city_code")
    for code, r in want.iterrows():
        assert annual.loc[code, "ratio_pct"] == pytest.approx(round(r["ratio_pct"], 2), abs=0.006)
        assert annual.loc[code, "n_sources"] == r["n_sources"]
    failing = report.table("failing")
    bad = cls[~cls["compliant"].astype(bool)]["source"].unique()
    assert sorted(failing["source_id"]) == sorted(bad)
    # a Class I–II sampling fails on a Table 2 limit; its class-forming parameters are still listed
    assert (failing["deciding"].str.len() > 0).all()
    assert failing["worst_class"].isin(["I", "II", "III", "IV", "V", "劣V"]).all()
    assert len(report.table("monthly")) == 12 * 15
    report.write(tmp_path)
    # the same from a samplings file on the command line
    from envquality.cli import main

    simulate_samples(reg, "2020-01", "2020-12", seed=3).to_csv(tmp_path / "samples.csv", index=False)
    assert main(["report", "water", "2020", "--input", str(tmp_path / "samples.csv"), "--out",
                 str(tmp_path / "cli")]) == 0
    from_file = pd.read_csv(tmp_path / "cli" / "water_2020_annual.csv", dtype={"entity_code": str})
    assert from_file["ratio_pct"].tolist() == pytest.approx(annual["ratio_pct"].tolist(), nan_ok=True)
    assert "exceeding" in pd.read_csv(tmp_path / "cli" / "water_2020_failing.csv").columns


def test_cli(store, frame, tmp_path, capsys):
    from envquality.cli import main

    engine, path = store
    db = f"sqlite:///{path}"
    assert main(["targets", "--db", db, "--date", "2016-06-30", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["date"] == "2016-06-30" and len(doc["progress"]) == 15 + 2 + 15
    assert main(["targets", "--db", db, "--lang", "en"]) == 0                      # last day with data
    assert "2016-12-31" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["report", "monthly", "2016-12", "--db", db, "--out", str(out)]) == 0
    assert (out / "monthly_2016-12.html").is_file() and (out / "monthly_2016-12_ytd.csv").is_file()
    assert str(out / "monthly_2016-12.xlsx") in capsys.readouterr().out
    assert main(["report", "annual", "2016", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == "annual"
    # a tidy file instead of the store
    long = frame.melt(id_vars=["entity", "date"], value_vars=["so2_24h", "no2_24h", "pm10_24h", "pm25_24h",
                                                             "co_24h", "o3_1h", "o3_8h"],
                      var_name="pollutant").dropna()
    tidy = long.rename(columns={"entity": "city"}).assign(station=lambda d: d["city"])
    tidy["date"] = pd.to_datetime(tidy["date"]).dt.strftime("%Y-%m-%d")
    tidy[["station", "city", "date", "pollutant", "value"]].to_csv(tmp_path / "daily.csv", index=False)
    capsys.readouterr()
    assert main(["report", "monthly", "2016-12", "--input", str(tmp_path / "daily.csv"), "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)["tables"]["month"]["rows"]
    from_store = monthly_report(engine, "2016-12").to_dict()["tables"]["month"]["rows"]
    inc = [(r["entity_code"], r["pm25_mean"], r["good_ratio"]) for r in from_file if r["dust"] == "included"]
    assert inc == [(r["entity_code"], r["pm25_mean"], r["good_ratio"]) for r in from_store
                   if r["dust"] == "included"]


@pytest.mark.parametrize("argv, needle", [
    (["report", "monthly", "2016-13"], "expected a month"),
    (["report", "annual", "sixteen"], "expected a year"),
    (["targets", "--targets", "{bad}"], "field 'metric'"),
    (["targets", "--db", "sqlite:///nowhere/at/all.sqlite"], "no store at"),
    (["report", "annual", "2016", "--db", "{empty}"], "has no schema"),
])
def test_cli_errors_are_one_line(store, tmp_path, capsys, argv, needle):
    from envquality.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntargets:\n  - id: x\n    title: {zh: a, en: b}\n    scope: province\n"
                   "    metric: nope\n    comparator: '>='\n    threshold: 1\n    deadline: 2020\n"
                   "    source: {document: d}\n", encoding="utf-8")
    import sqlite3

    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).execute("CREATE TABLE other (a)").connection.close()
    argv = [a.replace("{bad}", str(bad)).replace("{empty}", f"sqlite:///{empty}") for a in argv]
    if "--db" not in argv:
        argv += ["--db", f"sqlite:///{store[1]}"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and "Traceback" not in err


def test_dust_days_from_gate_flags_when_no_dust_rows(tmp_path):
    """Without ``dust`` rows in daily_stat, a PM reading the gate flagged ``likely_dust`` marks its city-day."""
    from envquality.store import schema as S
    from envquality.store.registry_sync import sync_registry
    from envquality.targets.daily import read_daily

    from . import constant_days

    engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite'}")
    upgrade_to_head(engine)
    sync_registry(engine)
    frame = constant_days("620100", "2024-04-01", "2024-04-03")
    store_daily(engine, frame.assign(dust=False))
    with engine.begin() as conn:
        conn.execute(sa.delete(S.daily_stat).where(S.daily_stat.c.indicator == "dust"))
        log = conn.execute(S.ingest_log.insert().values(source="t", file_or_url="t", status="ok",
                                                        started_at=S.utcnow()).returning(S.ingest_log.c.id)).scalar_one()
        sid = conn.execute(S.series.insert().values(station="1476A", pollutant="pm10")
                           .returning(S.series.c.id)).scalar_one()
        # the hour ending 2024-04-02 15:00 CST belongs to 2024-04-02
        conn.execute(S.reading.insert().values(series_id=sid, time=pd.Timestamp("2024-04-02 15:00",
                                               tz="Asia/Shanghai").to_pydatetime(), value=900.0,
                                               flag="likely_dust", ingest_id=log))
    wide = read_daily(engine, "2024-04-01", "2024-04-03")
    engine.dispose()
    assert wide.set_index("date")["dust"].to_dict() == {pd.Timestamp("2024-04-01"): False,
                                                        pd.Timestamp("2024-04-02"): True,
                                                        pd.Timestamp("2024-04-03"): False}
