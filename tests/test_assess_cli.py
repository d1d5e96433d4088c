"""``envquality assess``: in-process through ``envquality.cli.main`` and once as a real process.

The input is a daily tidy CSV generated here (14 Gansu cities, 2014 and 2015
second quarters); expected figures are recomputed from the same numbers with
the exact reference of ``tests/stats/__init__.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envquality.cli import main

# the exact reference of tests/stats/__init__.py, loaded by path (tests/ is not a package)
_spec = importlib.util.spec_from_file_location("_envquality_exact_ref", Path(__file__).parent / "stats" / "__init__.py")
_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ref)
exact_daily_aqi, exact_round = _ref.daily_aqi, _ref.round_half_even

CITIES = {"兰州": "620100", "嘉峪关": "620200", "金昌": "620300", "白银": "620400", "天水": "620500",
          "武威": "620600", "张掖": "620700", "平凉": "620800", "酒泉": "620900", "庆阳": "621000",
          "定西": "621100", "陇南": "621200", "临夏州": "622900", "甘南州": "623000"}
INDICATORS = ("so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h")
HIGH = {"so2_24h": 60, "no2_24h": 70, "pm10_24h": 220, "pm25_24h": 110, "co_24h": 3.5, "o3_1h": 230, "o3_8h": 190}
DUST_DAY = "2015-04-15"


def _rows() -> list[tuple[str, str, str, str]]:
    rng = np.random.default_rng(2015)
    rows = []
    for q_start, q_end in (("2014-04-01", "2014-06-30"), ("2015-04-01", "2015-06-30")):
        for day in pd.date_range(q_start, q_end, freq="D").strftime("%Y-%m-%d"):
            for city in CITIES:
                for k in INDICATORS:
                    v = rng.uniform(0.1, HIGH[k])
                    if city == "兰州" and day == DUST_DAY and k == "pm10_24h":
                        v = 480.0  # dust storm: PM10 IAQI 450 (primary)
                    elif city == "兰州" and day == DUST_DAY and k not in ("pm25_24h",):
                        v = v * 0.3  # gases low: the exceedance is the dust's alone
                    if q_start.startswith("2014") and k == "pm25_24h":
                        v *= 1.3  # PM2.5 falls from 2014 to 2015
                    rows.append((city, day, k, f"{v:.3f}" if k == "co_24h" else f"{v:.1f}"))
    return rows


ROWS = _rows()


@pytest.fixture(scope="module")
def daily_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "gansu_daily.csv"
    lines = ["city,date,pollutant,value"] + [",".join(r) for r in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["assess", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def expected(city: str, start: str, end: str) -> tuple[int, int, float]:
    """(good days, valid days, PM2.5 mean) of a city over [start, end], exactly."""
    by_day: dict[str, dict] = {}
    for c, day, k, v in ROWS:
        if c == city and start <= day <= end:
            by_day.setdefault(day, {})[k] = v
    aqis = [exact_daily_aqi(vals, "2012") for vals in by_day.values()]
    pm25 = sum(Fraction(v["pm25_24h"]) for v in by_day.values()) / len(by_day)
    return sum(a <= 100 for a in aqis), len(aqis), float(exact_round(pm25))


# --------------------------------------------------------------------------- normal runs


def test_table_has_14_cities_and_province_row(capsys, daily_csv):
    code, out, err = run(capsys, daily_csv, "--period", "2015Q2")
    assert code == 0, err
    for name in CITIES:
        assert name in out
    assert "甘肃省" in out
    assert "2015-04-01 – 2015-06-30" in out and "HJ633-2012" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("兰州")]
    good, valid, pm25 = expected("兰州", "2015-04-01", "2015-06-30")
    assert lines and lines[0].split()[1:3] == [str(valid), str(good)]


def test_table_in_english(capsys, daily_csv):
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--lang", "en")
    assert code == 0
    assert "Lanzhou" in out and "Gannan" in out and "Gansu (mean of cities)" in out


def test_json_has_statistics_per_city(capsys, daily_csv):
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["input"]["resolution"] == "daily"
    stats = {r["entity"]: r for r in payload["statistics"]}
    assert set(stats) == set(CITIES.values()) | {"620000"}
    for city, code_ in CITIES.items():
        good, valid, pm25 = expected(city, "2015-04-01", "2015-06-30")
        r = stats[code_]
        assert (r["good_days"], r["valid_days"], r["pm25_mean"]) == (good, valid, pm25), city
        assert r["period_start"] == "2015-04-01" and r["period_end"] == "2015-06-30"
        assert r["calendar_days"] == 91
    assert stats["620000"]["cities"] == 14


def test_dust_file_adds_dust_excluded_rows(capsys, daily_csv, tmp_path):
    dust = tmp_path / "dust.csv"
    dust.write_text(f"city,date\n兰州,{DUST_DAY}\n", encoding="utf-8")
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--dust", dust, "--json")
    assert code == 0
    rows = json.loads(out)["statistics"]
    assert {r["dust"] for r in rows} == {"included", "excluded"}
    lz = {r["dust"]: r for r in rows if r["entity"] == "620100"}
    assert lz["included"]["valid_days"] == 91 and lz["excluded"]["valid_days"] == 90
    assert lz["excluded"]["dust_removed_days"] == 1
    assert lz["excluded"]["good_days"] == lz["included"]["good_days"]
    assert lz["excluded"]["so2_mean"] == lz["included"]["so2_mean"]
    other = {r["dust"]: r for r in rows if r["entity"] == "620200"}
    assert other["included"]["valid_days"] == other["excluded"]["valid_days"] == 91
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--dust", dust)
    assert code == 0 and "dust excluded" in out and "dust included" in out


def test_compare_with_same_quarter_of_previous_year(capsys, daily_csv):
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--compare", "2014Q2", "--json")
    assert code == 0
    comp = {r["entity"]: r for r in json.loads(out)["comparison"]}
    for city in ("兰州", "陇南"):
        now = expected(city, "2015-04-01", "2015-06-30")[2]
        before = expected(city, "2014-04-01", "2014-06-30")[2]
        r = comp[CITIES[city]]
        assert (r["pm25_mean"], r["pm25_mean_previous"]) == (now, before)
        assert r["pm25_mean_change"] == now - before < 0  # PM2.5 fell
        assert r["pm25_mean_change_pct"] == float(exact_round(Fraction(now - before) / Fraction(before) * 100, 1))
    code, out, _ = run(capsys, daily_csv, "--period", "2015Q2", "--compare", "2014Q2")
    assert code == 0 and "pm25_mean_change_pct" in out


def test_period_is_the_requested_one_not_the_data_extent(capsys, daily_csv):
    # the file holds only April-June of 2015: the year 2015 has 365 calendar days, 91 valid,
    # and annual figures fail the capture rule instead of passing as a "year"
    code, out, _ = run(capsys, daily_csv, "--period", "2015", "--json")
    assert code == 0
    lz = [r for r in json.loads(out)["statistics"] if r["entity"] == "620100"][0]
    assert (lz["period_start"], lz["period_end"]) == ("2015-01-01", "2015-12-31")
    assert lz["calendar_days"] == 365 and lz["valid_days"] == 91
    assert lz["pm25_mean"] is None and "27" in lz["pm25_mean_reason"]
    # a period without any data: all-missing figures, no crash
    code, out, err = run(capsys, daily_csv, "--period", "2016", "--json")
    assert code == 0, err
    rows = json.loads(out)["statistics"]
    assert all(r["valid_days"] == 0 for r in rows)


def test_hourly_station_file_uses_registry_and_skips_control_points(capsys, tmp_path):
    # 1476A is an assessment station of 兰州; 1477A (榆中兰大校区) is its control point
    t = pd.date_range("2015-03-01 01:00", periods=24, freq="h")
    lines = ["station,time,pollutant,value"]
    for code, pm25 in (("1476A", 30), ("1477A", 300)):
        for ts in t:
            for pol, v in (("pm25", pm25), ("pm10", 40), ("so2", 10), ("no2", 20), ("co", 0.6), ("o3", 60)):
                lines.append(f"{code},{ts:%Y-%m-%dT%H:%M:%S}+08:00,{pol},{v}")
    path = tmp_path / "hourly.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(capsys, path, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["input"]["resolution"] == "hourly"
    r = [r for r in payload["statistics"] if r["entity"] == "620100"][0]
    assert (r["period_start"], r["period_end"]) == ("2015-03-01", "2015-03-01")
    # city PM2.5 = 30 (the control point's 300 is not averaged in): IAQI 43, PM10 40 -> 40
    # (with the control point the city mean would be 165 -> AQI 215, not a good day)
    assert r["valid_days"] == 1 and r["good_days"] == 1
    assert r["pm25_mean"] == 30 and r["pm25_mean_n"] == 1


# --------------------------------------------------------------------------- bad input


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


HEADER = "station,city,time,pollutant,value\n"
OK_ROW = "1001A,兰州,2015-01-01 01:00,pm25,35\n"


@pytest.mark.parametrize("name, text, where", [
    ("pollutant.csv", HEADER + OK_ROW + "1001A,兰州,2015-01-01 02:00,benzene,3\n",
     ["pollutant.csv", "line 3", "'pollutant'", "benzene"]),
    ("time.csv", HEADER + OK_ROW + "1001A,兰州,2015-13-01 02:00,pm25,3\n",
     ["time.csv", "line 3", "'time'", "2015-13-01"]),
    ("co_ug.csv", HEADER + OK_ROW + OK_ROW.replace("01:00", "02:00") + "1001A,兰州,2015-01-01 02:00,co,900\n",
     ["co_ug.csv", "line 4", "'value'", "mg/m3"]),
    ("unit.csv", "station,city,time,pollutant,value,unit\n1001A,兰州,2015-01-01 01:00,pm25,35,ug/m3\n"
     "1001A,兰州,2015-01-01 01:00,no2,0.035,mg/m3\n",
     ["unit.csv", "line 3", "'unit'", "mg/m3"]),
    ("unit_co.csv", "station,city,time,pollutant,value,unit\n1001A,兰州,2015-01-01 01:00,co,1.2,ppm\n",
     ["unit_co.csv", "line 2", "'unit'", "ppm"]),
    ("nocol.csv", "station,city,time,pollutant\n1001A,兰州,2015-01-01 01:00,pm25\n",
     ["nocol.csv", "line 1", "'value'", "missing column"]),
    ("value.csv", HEADER + "1001A,兰州,2015-01-01 01:00,pm25,abc\n",
     ["value.csv", "line 2", "'value'", "abc"]),
])
def test_bad_input_one_clear_line(capsys, tmp_path, name, text, where):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, path)
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("envquality: error: ")
    for part in where:
        assert part in line, (part, line)


def test_co_in_ug_with_unit_column_is_converted(capsys, tmp_path):
    path = tmp_path / "co.csv"
    hours = pd.date_range("2015-01-01 01:00", periods=24, freq="h")
    rows = [f"1001A,兰州,{t:%Y-%m-%d %H:%M},co,1200,ug/m3" for t in hours]
    # the other five pollutants, low, so the day is complete (missing-pollutant rule)
    rows += [f"1001A,兰州,{t:%Y-%m-%d %H:%M},{p},5,ug/m3" for t in hours for p in ("so2", "no2", "pm10", "pm25", "o3")]
    path.write_text("station,city,time,pollutant,value,unit\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, path, "--json")
    assert code == 0
    r = [r for r in json.loads(out)["statistics"] if r["entity"] == "620100"][0]
    assert r["valid_days"] == 1 and r["good_days"] == 1  # CO 1.2 mg/m3 -> IAQI 30


@pytest.mark.parametrize("option, value, field", [
    ("--period", "2015Q9", "'--period'"),
    ("--compare", "2015Q9", "'--compare'"),
])
def test_bad_period_options(capsys, daily_csv, option, value, field):
    code, out, err = run(capsys, daily_csv, option, value)
    assert code == 2
    line = one_error_line(err)
    assert field in line and "2015Q9" in line


@pytest.mark.parametrize("text, where", [
    (None, ["nodust.csv", "not found"]),
    ("city,day\n兰州,2015-04-15\n", ["nodust.csv", "line 1", "date"]),
    ("city,date\n兰州,2015-04-15\n火星,2015-04-16\n", ["nodust.csv", "line 3", "'city'", "火星"]),
    ("city,date\n兰州,2015-04-32\n", ["nodust.csv", "line 2", "'date'", "2015-04-32"]),
])
def test_bad_dust_file(capsys, daily_csv, tmp_path, text, where):
    dust = tmp_path / "nodust.csv"
    if text is not None:
        dust.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, daily_csv, "--period", "2015Q2", "--dust", dust)
    assert code == 2
    line = one_error_line(err)
    for part in where:
        assert part in line, (part, line)


def test_console_script_real_process(tmp_path):
    exe = Path(sys.executable).with_name("envquality")
    if not exe.exists():
        pytest.skip(f"console script not installed beside {sys.executable}")
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + OK_ROW + "1001A,兰州,2015-01-01 02:00,benzene,3\n", encoding="utf-8")
    proc = subprocess.run([str(exe), "assess", str(path)], capture_output=True, text=True, timeout=600)  # hang guard
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "bad.csv, line 3, field 'pollutant'" in line
    assert proc.stdout == ""
