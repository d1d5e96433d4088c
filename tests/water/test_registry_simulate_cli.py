"""Packaged simulated registry, simulator, CLI."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest

from envquality.cli import main
from envquality.iotools.common import InputError
from envquality.water import classify_samples, load_water_sources, simulate_samples
from envquality.water.registry import PACKAGED, registry_csv_text


def test_packaged_registry_is_the_generated_one():
    text = resources.files("envquality").joinpath("data", PACKAGED).read_text(encoding="utf-8")
    assert text == registry_csv_text()
    assert text.startswith("# SIMULATED")


def test_registry_scale_and_columns():
    reg = load_water_sources()
    assert len(reg) == 128 and reg["id"].is_unique
    assert reg["level"].value_counts().to_dict() == {"county": 99, "prefecture": 29}
    assert reg["city_code"].nunique() == 14 and reg["simulated"].all()
    assert set(reg["source_type"]) == {"river", "lake", "groundwater"}
    assert (reg["supply_m3_per_day"] > 0).all()
    assert all(c.startswith(k[:4]) for c, k in zip(reg["county_code"], reg["city_code"]))


def test_real_registry_csv(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,name,city_code,source_type,level,supply_m3_per_day\n"
                 "X1,某水库,620100,水库,县级,5000\nX2,某井群,620200,地下水,地级,20000\n", encoding="utf-8")
    reg = load_water_sources(p)
    assert reg["source_type"].tolist() == ["lake", "groundwater"]
    assert reg["level"].tolist() == ["county", "prefecture"] and reg["city"].tolist() == ["兰州市", "嘉峪关市"]
    assert not reg["simulated"].any()
    p.write_text("id,name,city_code,source_type,level,supply_m3_per_day\nX1,a,620100,sea,county,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        load_water_sources(p)
    p.write_text("id,name,city_code,source_type,level,supply_m3_per_day\nX1,a,620100,river,county,5\n"
                 "X1,b,620100,river,county,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate"):
        load_water_sources(p)


def test_simulator_deterministic_seasonal_with_exceedances_and_qualifiers():
    a = simulate_samples(seed=11)
    b = simulate_samples(seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(simulate_samples(seed=12))
    assert set(a["qualifier"].astype(str)) == {"", "<DL"}
    below = a[a["qualifier"] == "<DL"]
    assert (below["value"] == below["detection_limit"]).all()
    month = a["sampled_at"].dt.month
    nh3 = a[a["parameter"] == "nh3n"].groupby(month[a["parameter"] == "nh3n"])["value"].median()
    assert nh3[7] > nh3[1] * 1.3  # flood-season peak
    temp = a[a["parameter"] == "temp"].groupby(month[a["parameter"] == "temp"])["value"].mean()
    assert temp[7] > temp[1] + 10
    cls = classify_samples(a, registry=load_water_sources())
    assert len(cls) == 128 * 12
    assert 0.9 < cls["compliant"].mean() < 1.0  # occasional exceedances
    assert a.groupby(["source", "sampled_at"], observed=True).ngroups == 128 * 12
    tn = a[a["parameter"] == "tn"]["source"].astype(str).unique()
    reg = load_water_sources().set_index("id")
    assert set(reg.loc[tn, "source_type"]) == {"lake"}


def test_cli_table_and_json(capsys):
    assert main(["water", "assess", "--period", "2020"]) == 0
    out = capsys.readouterr().out
    assert "甘肃省" in out and "96.85" in out and "模拟" in out
    assert main(["water", "assess", "--period", "2020-07", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["period"] == "2020-07" and doc["target_pct"] == 96.85 and doc["samples_simulated"]
    prov = [r for r in doc["ratios"] if r["scope"] == "province"]
    assert [r["method"] for r in prov] == ["sources", "samplings", "volume"]
    assert main(["water", "assess", "--period", "2020", "--lang", "en"]) == 0
    assert "Lanzhou" in capsys.readouterr().out
    # deterministic
    assert main(["water", "assess", "--period", "2020", "--json"]) == 0
    a = capsys.readouterr().out
    assert main(["water", "assess", "--period", "2020", "--json"]) == 0
    assert capsys.readouterr().out == a


def test_cli_with_sample_file(tmp_path, capsys):
    from envquality.water.simulate import export_samples

    p = export_samples(simulate_samples(start="2020-03", end="2020-03", seed=3), tmp_path / "s.csv")
    with open(p, "a", encoding="utf-8") as fh:
        fh.write("GS620100P01,2020-03-10 10:00,氨氮,bad,mg/L,\n")
    assert main(["water", "assess", "--period", "2020-03", "--samples", str(p), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert not doc["samples_simulated"] and doc["n_samplings"] == 128 and "rejected" in doc["notes"][0]
    assert main(["water", "assess", "--period", "2020", "--samples", str(tmp_path / "nope.csv")]) == 2
