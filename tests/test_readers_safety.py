"""Issue 9, readers: mixed time offsets, missing markers, assess plausibility (no tracebacks, nothing averaged wrongly)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from envquality.assess import exclude_implausible
from envquality.cli import main
from envquality.iotools.common import InputError
from envquality.iotools.generic import read_generic
from envquality.iotools.readings import read_readings

MIXED = ("station,time,pollutant,value\n"
         "1476A,2024-04-01 01:00+08:00,pm10,80\n"
         "1476A,2024-03-31T18:00:00Z,pm10,81\n"
         "1476A,2024-04-01T04:00:00+0000,pm10,83\n")


def _cst(*stamps):
    return [pd.Timestamp(s, tz="Asia/Shanghai") for s in stamps]


def test_tidy_mixed_offsets_convert_to_cst(tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_text(MIXED)
    rr = read_readings(f, strict=True)
    assert rr.data["time"].tolist() == _cst("2024-04-01 01:00", "2024-04-01 02:00", "2024-04-01 12:00")
    assert rr.data["value"].tolist() == [80.0, 81.0, 83.0]


def test_tidy_naive_among_cst_offsets_is_cst(tmp_path):
    f = tmp_path / "naive_cst.csv"
    f.write_text("station,time,pollutant,value\n1476A,2024-04-01 01:00+08:00,pm10,80\n1476A,2024-04-01 02:00,pm10,81\n")
    assert read_readings(f).data["time"].tolist() == _cst("2024-04-01 01:00", "2024-04-01 02:00")


def test_tidy_naive_among_utc_offsets_is_ambiguous_with_its_line(tmp_path):
    f = tmp_path / "ambiguous.csv"
    f.write_text(MIXED + "1476A,2024-04-01 05:00,pm10,84\n")
    rr = read_readings(f, strict=False)
    assert len(rr.data) == 3
    assert rr.rejected[["line", "field"]].values.tolist() == [[5, "time"]]
    assert "ambiguous" in rr.rejected["reason"].iloc[0]
    assert rr.rejected["raw"].iloc[0] == "1476A,2024-04-01 05:00,pm10,84"
    with pytest.raises(InputError, match=r"ambiguous.csv, line 5, field 'time'"):
        read_readings(f, strict=True)


def test_generic_mixed_offsets_and_naive_in_mapping_zone():
    m = {"columns": {"station": "site", "time": "t", "pm10": "PM10"}}
    csv = ("site,t,PM10\n1476A,2024-04-01 01:00+08:00,80\n1476A,2024-03-31T18:00:00Z,81\n"
           "1476A,2024-04-01 03:00,82\n")
    rr = read_generic(csv.encode(), m, name="x.csv")
    assert rr.data["time"].tolist() == _cst("2024-04-01 01:00", "2024-04-01 02:00", "2024-04-01 03:00")
    assert rr.rejected.empty


@pytest.mark.parametrize("marker", ["-999", "9999", "-1", "NaN", "—", "NA", ""])
def test_tidy_missing_markers_become_nan(tmp_path, marker):
    """docs/conventions.md: the listed markers become NaN, never a value."""
    f = tmp_path / "m.csv"
    f.write_text(f"station,time,pollutant,value\n1476A,2024-04-01 01:00,pm10,{marker}\n1476A,2024-04-01 02:00,pm10,7\n")
    rr = read_readings(f)
    assert rr.data["value"].isna().tolist() == [True, False]
    assert rr.rejected.empty


def test_exclude_implausible_uses_the_gate_ranges():
    df = pd.DataFrame({"station": "1476A", "pollutant": ["pm10", "pm10", "pm10_24h", "co"],
                       "value": [80.0, -5.0, 12000.0, float("nan")]})
    kept, excluded = exclude_implausible(df)
    assert kept["value"].tolist()[:1] == [80.0] and len(kept) == 2  # NaN stays (missing, not implausible)
    assert excluded["value"].tolist() == [-5.0, 12000.0]
    assert excluded["reason"].str.contains("hourly.range.pm10").all()


def test_assess_excludes_negative_pm10_and_reports_it(tmp_path, capsys):
    """Issue 9: assess averaged -5 into PM10 (80 became 78) and said nothing."""
    day = "2015-04-01"
    rows = ["station,city,date,pollutant,value"]
    base = {"so2_24h": 10, "no2_24h": 30, "pm10_24h": 80, "pm25_24h": 35, "co_24h": 0.8, "o3_1h": 90, "o3_8h": 70}
    rows += [f"1476A,兰州,{day},{k},{v}" for k, v in base.items()]
    rows += [f"1478A,兰州,{day},{k},{-5 if k == 'pm10_24h' else v}" for k, v in base.items()]
    f = tmp_path / "daily.csv"
    f.write_text("\n".join(rows) + "\n")
    assert main(["assess", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["value"] for r in out["excluded"]] == [-5.0]
    lanzhou = next(r for r in out["statistics"] if r["entity"] == "620100")
    assert lanzhou["pm10_mean"] == 80
    assert main(["assess", str(f)]) == 0
    assert "1 implausible value(s) excluded" in capsys.readouterr().err
