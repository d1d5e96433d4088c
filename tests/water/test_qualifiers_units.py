"""Detection limits, qualifiers, units and the sample reader (CSV and Excel)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envquality.iotools.common import InputError
from envquality.iotools.water import normalize_parameter, read_water_samples, unit_factor
from envquality.water import classify_samples, classify_surface, parse_qualified


def test_below_detection_is_classed_by_its_limit():
    assert classify_surface({"nh3n": "<0.15"}).water_class == 1
    assert classify_surface({"nh3n": "<0.5"}).water_class == 2   # limit above Class I → Class II
    assert classify_surface({"nh3n": "0.5L"}).water_class == 2
    assert classify_surface({"hg": "<0.00004"}).water_class == 1
    assert classify_surface({"hg": "ND"}).water_class == 1      # limit unknown → best class
    assert classify_surface({"nh3n": "未检出"}).water_class == 1


def test_qualifier_column_and_detection_limit_column():
    long = pd.DataFrame({"source": ["a", "b", "c"], "sampled_at": ["2020-01-01"] * 3,
                         "parameter": ["nh3n"] * 3, "value": [np.nan, 0.4, np.nan],
                         "qualifier": ["ND", "", "<DL"], "detection_limit": [0.6, np.nan, 0.025]})
    out = classify_samples(long, source_type="river")
    assert out["class_label"].tolist() == ["III", "II", "I"]


@pytest.mark.parametrize("text,value,below,dl", [
    ("0.5", 0.5, False, np.nan), ("<0.01", 0.01, True, 0.01), ("＜0.01", 0.01, True, 0.01),
    ("0.004L", 0.004, True, 0.004), ("ND", np.nan, True, np.nan), ("未检出", np.nan, True, np.nan),
    ("N.D.", np.nan, True, np.nan), (" 1e-3 ", 0.001, False, np.nan)])
def test_parse_qualified(text, value, below, dl):
    v, b, d, bad = parse_qualified([text])
    assert not bad[0] and b[0] == below
    np.testing.assert_equal(v[0], value)
    np.testing.assert_equal(d[0], dl)


@pytest.mark.parametrize("key,unit,factor", [
    ("hg", "μg/L", 1e-3), ("hg", "µg/L", 1e-3), ("hg", "ug/l", 1e-3), ("nh3n", "mg/L", 1.0), ("nh3n", "", 1.0),
    ("nh3n", "毫克/升", 1.0), ("fecal_coliform", "MPN/100mL", 10.0), ("fecal_coliform", "个/L", 1.0),
    ("fecal_coliform", "CFU/100 mL", 10.0), ("total_coliforms", "MPN/100mL", 1.0), ("total_coliforms", "MPN/L", 0.1),
    ("ph", "无量纲", 1.0), ("temp", "℃", 1.0), ("nh3n", "MPN/L", None), ("fecal_coliform", "mg/L", None)])
def test_unit_factor(key, unit, factor):
    assert unit_factor(key, unit) == factor


@pytest.mark.parametrize("label,key", [
    ("高锰酸盐指数", "codmn"), ("氨氮", "nh3n"), ("总磷", "tp"), ("总磷(以P计)", "tp"), ("粪大肠菌群", "fecal_coliform"),
    ("总大肠菌群", "total_coliforms"), ("溶解氧", "do"), ("pH值", "ph"), ("Ammonia Nitrogen", "nh3n"), ("六价铬", "cr6"),
    ("挥发性酚类", "phenol"), ("耗氧量", "codmn"), ("NH3-N", "nh3n"), ("氟化物（mg/L）", "fluoride"), ("苯", None)])
def test_parameter_names(label, key):
    assert normalize_parameter(label) == key


CSV = """水源地编码,采样时间,监测项目,监测值,单位,检出限
S1,2020-06-10 10:00,氨氮,0.52,mg/L,
S1,2020-06-10 10:00,汞,0.05,μg/L,
S1,2020-06-10 10:00,粪大肠菌群,230,MPN/100mL,
S1,2020-06-10 10:00,总磷,<0.01,mg/L,
S1,2020-06-10 10:00,铅,ND,μg/L,2.5
S1,2020-06-10 10:00,石油类,未检出,mg/L,
S2,2020-06-11,总大肠菌群,20,MPN/L,
S2,2020-06-11,苯,0.001,mg/L,
S2,not a date,氨氮,0.1,mg/L,
S2,2020-06-11,氨氮,abc,mg/L,
S2,2020-06-11,硝酸盐,,mg/L,
S2,2020-06-11,铁,0.1,MPN/L,
,2020-06-11,铁,0.1,mg/L,
S2,2020-06-11,锰,0.05,mg/L,
S2,2020-06-11,锰,0.06,mg/L,
S2,2020-06-11,铜,0.01,mg/L,
S2,2020-06-11,铜,0.01,mg/L,
"""


def test_reader_csv(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(CSV, encoding="utf-8")
    r = read_water_samples(p)
    d = r.data.set_index(["source", "parameter"])
    assert d.loc[("S1", "nh3n"), "value"] == 0.52
    assert d.loc[("S1", "hg"), "value"] == 0.00005 and d.loc[("S1", "hg"), "unit"] == "mg/L"
    assert d.loc[("S1", "fecal_coliform"), "value"] == 2300 and d.loc[("S1", "fecal_coliform"), "unit"] == "个/L"
    assert d.loc[("S1", "tp"), "qualifier"] == "<DL" and d.loc[("S1", "tp"), "value"] == 0.01
    assert d.loc[("S1", "pb"), "detection_limit"] == 0.0025 and d.loc[("S1", "pb"), "value"] == 0.0025
    assert d.loc[("S1", "petroleum"), "qualifier"] == "<DL" and np.isnan(d.loc[("S1", "petroleum"), "value"])
    assert d.loc[("S2", "total_coliforms"), "value"] == 2.0
    assert d.loc[("S2", "cu"), "value"] == 0.01  # identical duplicate collapsed
    assert ("S2", "mn") not in d.index          # conflicting duplicate quarantined
    t = r.data.set_index(["source", "parameter"]).loc[("S2", "total_coliforms"), "sampled_at"]
    assert t == pd.Timestamp("2020-06-11", tz="Asia/Shanghai")
    reasons = r.rejected.set_index("line")["reason"]
    assert "unknown parameter" in reasons[9]
    assert "time" in reasons[10]
    assert "cannot parse value" in reasons[11]
    assert reasons[12] == "no value"
    assert "does not fit" in reasons[13]
    assert reasons[14] == "no source id"
    assert reasons[15].startswith("conflicting duplicate") and reasons[16].startswith("conflicting duplicate")
    assert set(r.rejected.columns) >= {"file", "line", "field", "reason", "raw"}
    assert r.rejected.set_index("line").loc[13, "raw"] == "S2,2020-06-11,铁,0.1,MPN/L,"
    assert r.meta["rows_in"] == 17 and r.meta["rows_ok"] == 8 and r.meta["rows_duplicate"] == 1
    assert r.meta["rows_rejected"] == 8


def test_reader_english_headers_gb18030_and_excel(tmp_path):
    df = pd.DataFrame({"Source": ["S1", "S1"], "Date": ["2020-07-01", "2020-07-01"],
                       "Parameter": ["NH3-N", "Fecal coliform"], "Result": ["0.2", "<20"], "Unit": ["mg/l", "MPN/L"]})
    p = tmp_path / "s.csv"
    p.write_bytes(df.to_csv(index=False).encode("gb18030"))
    r = read_water_samples(p)
    assert r.data["parameter"].tolist() == ["nh3n", "fecal_coliform"] and r.data["qualifier"].tolist() == ["", "<DL"]
    x = tmp_path / "s.xlsx"
    df.assign(Date=pd.to_datetime(df["Date"])).to_excel(x, index=False)
    r2 = read_water_samples(x)
    pd.testing.assert_frame_equal(r.data, r2.data)


def test_reader_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_water_samples(tmp_path / "missing.csv")
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column"):
        read_water_samples(p)
    x = tmp_path / "bad.xlsx"
    x.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="xlsx"):
        read_water_samples(x)
    e = tmp_path / "empty.csv"
    e.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_water_samples(e)


def test_simulator_export_round_trip(tmp_path):
    from envquality.water.simulate import export_samples, simulate_samples

    s = simulate_samples(start="2020-06", end="2020-06", seed=5)
    r = read_water_samples(export_samples(s, tmp_path / "x.csv"))
    assert len(r.rejected) == 0 and len(r.data) == len(s)
    m = s.assign(source=s["source"].astype(str), parameter=s["parameter"].astype(str)).merge(
        r.data, on=["source", "sampled_at", "parameter"], suffixes=("", "_r"))
    assert len(m) == len(s)
    assert (m["qualifier"].astype(str) == m["qualifier_r"]).all()
    np.testing.assert_allclose(m["value_r"], m["value"], rtol=1e-3)
    from envquality.water.registry import load_water_sources

    reg = load_water_sources()
    a = classify_samples(s, registry=reg)
    b = classify_samples(r.data, registry=reg)
    # 4-significant-digit export can only move a value sitting on a limit
    assert (a["class_label"].to_numpy() == b["class_label"].to_numpy()).mean() > 0.99
