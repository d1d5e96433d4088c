"""Publish blocking, alerts, Data Docs (offline) and the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from envquality.quality import PublishBlocked, guard_publish, run_gate
from envquality.quality.gate import data_docs_dir


def _bad_site_batch(clean_day):
    df, codes = clean_day
    return df.assign(value=df["value"].where(df["pollutant"] != "co", df["value"] * 1000)), codes


def test_critical_failure_blocks_publish(clean_day, tmp_path, window):
    df, codes = clean_day
    good = run_gate(df, window=window, expected_stations=codes, build_docs=False)
    guard_publish([good])  # no exception
    bad_df, _ = _bad_site_batch(clean_day)
    bad = run_gate(bad_df, window=window, expected_stations=codes, build_docs=False)
    public = tmp_path / "public"
    public.mkdir()
    (public / "index.html").write_text("last good page")

    def publish(results):  # what the map publisher will do
        guard_publish(results, alerts_dir=tmp_path / "alerts")
        (public / "index.html").write_text("new page")

    with pytest.raises(PublishBlocked) as exc:
        publish({"hourly": good, "hourly2": bad})
    assert "hourly.range.co" in exc.value.reason
    assert (public / "index.html").read_text() == "last good page"
    alert = json.loads(exc.value.alert_path.read_text(encoding="utf-8"))
    assert alert["level"] == "critical" and not alert["publish_allowed"]
    assert any(s["critical"] for s in alert["suites"])


def test_data_docs_built_offline_in_operator_site(clean_day, window):
    df, codes = clean_day
    res = run_gate(df.head(600), window=window, expected_stations=codes[:5], build_docs=True)
    docs = data_docs_dir()
    assert res.docs_path == docs / "index.html" and res.docs_path.exists()
    site = Path(os.environ["ENVQUALITY_SITE_DIR"])
    assert docs.is_relative_to(site / "operator") and not (site / "public").exists()
    pages = list(docs.rglob("*.html"))
    assert any("validations" in str(p) for p in pages)
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]*(src|href)=\"https?://", text), p
        assert "great-expectations-web-assets" not in text


def test_cli_exit_status(tmp_path, clean_day, capsys):
    from envquality.cli import main

    df, codes = clean_day
    good = tmp_path / "good.csv"
    df.head(3000).to_csv(good, index=False)
    assert main(["validate", "--no-docs", str(good)]) == 0
    out = capsys.readouterr().out
    assert "suite hourly_readings" in out
    bad = tmp_path / "bad.csv"
    b = df.head(3000).copy()
    b.loc[b["pollutant"] == "so2", "value"] = -3
    b.to_csv(bad, index=False)
    q = tmp_path / "q.csv"
    assert main(["validate", "--no-docs", "--quarantine", str(q), str(bad)]) == 1
    qf = pd.read_csv(q)
    assert len(qf) == int((b["pollutant"] == "so2").sum())
    assert {"file", "line", "field", "reason", "raw", "source", "expectations"} <= set(qf.columns)
    assert main(["validate", "--no-docs", "--date", "2024-07-10", "--bad-fraction", "0"]) == 0


def test_stored_validation_results_are_pruned_to_the_retention_setting(clean_day, tmp_path, monkeypatch):
    from envquality.quality.config import load_thresholds
    from envquality.quality.gate import results_dir

    monkeypatch.setenv("ENVQUALITY_SITE_DIR", str(tmp_path / "site"))
    cfg = load_thresholds()
    cfg["data_docs"]["keep_results"] = 2
    df, codes = clean_day
    for _ in range(4):
        run_gate(df.head(300), build_docs=True, config=cfg)
    assert len(list(results_dir().rglob("*.json"))) == 2
    pages = list((data_docs_dir() / "validations").rglob("*.html"))
    assert len(pages) == 2  # a pruned result loses its page too
