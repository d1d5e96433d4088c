"""Targets as data: the packaged file, operator files, and one clear error for a malformed file."""

from __future__ import annotations

import pytest

from envquality.targets import DRINKING_WATER_TARGET, GOOD_DAY_RATIO_TARGET, TargetsFileError, load_targets

GOOD = """
version: 1
targets:
  - id: lanzhou-pm25
    title: {zh: 兰州PM2.5年均值不高于35, en: Lanzhou PM2.5 annual mean at most 35}
    scope: divisions
    divisions: ["620100"]
    metric: pm25_annual_mean
    comparator: "<="
    threshold: 35
    deadline: 2025
    dust_excluded: true
    source: {document: operator note 2024-01}
"""


def test_constants_stay_importable():
    # the plan's text: 82 % and 96.85 % (shared/reference/targets.md)
    assert GOOD_DAY_RATIO_TARGET == 82.0 and DRINKING_WATER_TARGET == 96.85


def test_packaged_targets_are_the_plans_three():
    ts = {t.id: t for t in load_targets()}
    good = ts["gansu-2020-good-day-ratio"]
    assert (good.metric, good.comparator, good.threshold, good.deadline) == ("good_day_ratio", ">=", 82.0, 2020)
    pm25 = ts["gansu-2020-pm25-falling"]
    # "clearly falling" with no number: strictly below the 2015 baseline
    assert (pm25.baseline_year, pm25.required_decline_pct, pm25.comparator) == (2015, None, "<")
    assert ts["gansu-2020-pm10-falling"].metric == "pm10_annual_mean"
    water = ts["gansu-2020-drinking-water"]
    assert (water.scope, water.threshold) == ("drinking_water_sources", 96.85)
    assert all(t.source_document and t.title_zh and t.title_en for t in ts.values())


def test_operator_file_adds_and_replaces(tmp_path, monkeypatch):
    p = tmp_path / "mine.yaml"
    p.write_text(GOOD + GOOD.split("targets:\n")[1].replace("lanzhou-pm25", "gansu-2020-pm25-falling"),
                 encoding="utf-8")
    ids = [t.id for t in load_targets(p)]
    assert ids.count("gansu-2020-pm25-falling") == 1 and "lanzhou-pm25" in ids
    replaced = [t for t in load_targets(p) if t.id == "gansu-2020-pm25-falling"][0]
    assert replaced.threshold == 35.0 and replaced.divisions == ("620100",)
    monkeypatch.setenv("ENVQUALITY_TARGETS", str(p))
    assert "lanzhou-pm25" in [t.id for t in load_targets()]


@pytest.mark.parametrize("change, field", [
    ("threshold: 35", None),
    ("threshold: thirty-five", "threshold"),
    ('comparator: "=="', "comparator"),
    ('comparator: ">="', "comparator"),          # a concentration must not rise to a target
    ("metric: pm1_annual_mean", "metric"),
    ("scope: planet", "scope"),
    ("deadline: 2025", None),
    ("deadline: soon", "deadline"),
    ("dust_excluded: true", None),
    ("dust_excluded: maybe", "dust_excluded"),
    ("colour: red", "colour"),
])
def test_malformed_field_named(tmp_path, change, field):
    key = change.split(":")[0]
    lines = [ln for ln in GOOD.splitlines() if not ln.strip().startswith(key + ":")]
    lines.insert(6, "    " + change)
    p = tmp_path / "bad.yaml"
    p.write_text("\n".join(lines), encoding="utf-8")
    if field is None:
        assert load_targets(p, packaged=False)[0].id == "lanzhou-pm25"
        return
    with pytest.raises(TargetsFileError) as err:
        load_targets(p, packaged=False)
    msg = str(err.value)
    assert msg.startswith("bad.yaml") and f"field '{field}'" in msg and "lanzhou-pm25" in msg
    assert "\n" not in msg


def test_not_yaml_and_missing_file(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("version: 1\ntargets: [\n", encoding="utf-8")
    with pytest.raises(TargetsFileError, match=r"broken.yaml, field 'yaml': not valid YAML"):
        load_targets(p)
    with pytest.raises(TargetsFileError, match="not found"):
        load_targets(tmp_path / "nope.yaml")


def test_change_target_schema(tmp_path):
    text = GOOD.replace("    comparator: \"<=\"\n    threshold: 35\n",
                        "    change: {baseline_year: 2015, required_decline_pct: 10}\n")
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    t = load_targets(p, packaged=False)[0]
    assert (t.comparator, t.threshold, t.baseline_year) == ("<=", None, 2015)
    assert t.threshold_from_baseline(50.0) == pytest.approx(45.0)
    p.write_text(text.replace("required_decline_pct: 10", "required_decline_pct: 120"), encoding="utf-8")
    with pytest.raises(TargetsFileError, match="change.required_decline_pct"):
        load_targets(p, packaged=False)
