"""Mapping-driven generic reader: CSV/Excel, wide/long, positions, encodings, units, invalid mappings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from envquality.iotools.common import REJECT_COLUMNS, InputError
from envquality.iotools.generic import (
    MOLAR_VOLUME,
    Mapping,
    load_mapping,
    read_generic,
    unit_factor,
)

FIX = Path(__file__).parent / "fixtures_generic"
SO2_PPB = 64.066 / 24.465


def cst(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="Asia/Shanghai")


def values(data: pd.DataFrame) -> pd.Series:
    return data.set_index(["station", data["time"].dt.strftime("%m-%d %H:%M"), "pollutant"])["value"]


def test_example_mapping_gbk_crlf_wide_positions():
    data, meta, rej = read_generic(FIX / "bureau_export.csv", FIX / "bureau_export.yaml")
    assert meta["encoding"] == "gb18030" and meta["source"] == "lanzhou-bureau"
    assert meta["rows_in"] == 7 and meta["blank_lines"] == 1
    assert str(data["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    v = values(data)
    # time_label start: "2024/1/1 0:00" is the hour 00-01, stamped 01:00
    assert v[("1476A", "01-01 01:00", "pm25")] == 35
    assert v[("1476A", "01-01 01:00", "co")] == 1.2  # mg/m3 stays
    # column 5 (header "NO2") read by position as SO2 in ppb
    assert v[("1476A", "01-01 01:00", "so2")] == pytest.approx(10 * SO2_PPB)
    assert "no2" not in set(data["pollutant"])
    # missing markers: —, -999 (numeric), 数据无效 (text)
    assert np.isnan(v[("1476A", "01-01 02:00", "pm25")]) and np.isnan(v[("1476A", "01-01 02:00", "so2")])
    assert np.isnan(v[("1478A", "01-01 01:00", "so2")])
    # unmapped station name kept as is; 23:00 start -> next day 00:00
    assert v[("铁路设计院", "01-02 00:00", "pm25")] == 28
    assert list(rej.columns) == list(REJECT_COLUMNS)
    got = list(zip(rej["line"], rej["field"]))
    assert got == [(7, "pm10"), (9, "pm10"), (10, "time"), (11, "co")]
    assert "above plausible maximum" in rej["reason"].iloc[3]
    assert rej["raw"].iloc[2] == "生物所,2024/13/1 1:00,31,71,0.8,12,52"
    assert meta["rows_duplicate"] == 4  # the repeated 生物所 01:00 record (4 parsable values)
    assert meta["units"] == {"so2": "ppb -> ug/m3 x2.61868"}


def test_long_layout_utc_start_units_bom(tmp_path):
    csv = ("\ufeffsite;ts;param;conc;unit\r\n"
           "A1;2024-01-01T16:00:00;二氧化硫;5;ppb\r\n"
           "A1;2024-01-01T16:00:00;PM2.5;12.5;µg/m³\r\n"
           "A1;2024-01-01T16:00:00;一氧化碳;0.5;ppm\r\n"
           "A1;2024-01-01T16:00:00;O3-8H;100;ug/m3\r\n"
           "A1;2024-01-01T16:00:00;NO2;40;ppb\r\n"
           "A1;2024-01-01T16:00:00;温度;3;C\r\n"
           "A1;2024-01-01T16:00:00;PM10;9;ppm\r\n"
           "A1;2024-01-01T16:00:00;CO;1200;ug/m3\r\n"
           "A1;2024-01-01T16:30:00;SO2;1;ug/m3\r\n")
    f = tmp_path / "long.csv"
    f.write_bytes(csv.encode("utf-8"))
    mapping = {"format": "csv", "delimiter": ";", "layout": "long", "timezone": "UTC", "time_label": "start",
               "columns": {"station": "site", "time": "ts", "pollutant": "param", "value": "conc", "unit": "unit"},
               "pollutant_names": {"温度": "aqi"}}
    data, meta, rej = read_generic(f, mapping)
    v = values(data)
    # 16:00 UTC start -> 17:00 UTC end -> 01:00 CST next day
    assert v[("A1", "01-02 01:00", "so2")] == pytest.approx(5 * SO2_PPB)
    assert v[("A1", "01-02 01:00", "pm25")] == 12.5
    assert v[("A1", "01-02 01:00", "no2")] == pytest.approx(40 * 46.0055 / 24.465)
    assert v[("A1", "01-02 01:00", "o3_8h")] == 100
    # CO given twice: 0.5 ppm (= 0.572 mg/m3) vs 1200 ug/m3 (= 1.2 mg/m3): both quarantined
    assert ("A1", "01-02 01:00", "co") not in v.index
    assert len(v) == 4
    reasons = dict(zip(rej["line"], rej["reason"]))
    assert "conflicting duplicate" in reasons[4] and "conflicting duplicate" in reasons[9]
    assert f"{0.5 * 28.010 / MOLAR_VOLUME:g}" in reasons[4] and "1.2" in reasons[4]
    assert "does not fit" in reasons[7]          # 温度 -> aqi with unit C
    assert "does not fit" in reasons[8]          # PM10 in ppm
    assert reasons[10] == "time is not on the hour"


def test_date_hour_columns_1_to_24(tmp_path):
    f = tmp_path / "dh.csv"
    f.write_text("date,hour,PM2.5\n2024-01-01,1,10\n2024-01-01,24,20\n2024-01-01,25,30\n", encoding="utf-8")
    data, _, rej = read_generic(f, {"columns": {"date": "date", "hour": "hour", "pm25": "PM2.5"},
                                    "constants": {"station": "1476A"}})
    assert data["time"].tolist() == [cst("2024-01-01 01:00"), cst("2024-01-02 00:00")]
    assert rej["line"].tolist() == [4] and rej["field"].tolist() == ["date/hour"]


def test_no_header_positions_and_wrong_header(tmp_path):
    f = tmp_path / "nohdr.csv"
    f.write_text("1476A,2024-01-01 01:00,15,40\n1476A,2024-01-01 02:00,16,41\n", encoding="utf-8")
    data, _, _ = read_generic(f, {"header_row": None, "columns": {"station": 0, "time": "#1", "so2": 2, "no2": "#3"}})
    assert values(data)[("1476A", "01-01 02:00", "no2")] == 41
    # the header lies ("PM10" holds PM2.5, and the last column has no name): positions read it
    g = tmp_path / "wrong.csv"
    g.write_text("站点,时间,PM10\n1476A,2024-01-01 01:00,33,99\n", encoding="utf-8")
    data, _, rej = read_generic(g, {"columns": {"station": "站点", "time": "时间", "pm25": "#2", "pm10": "#3"}})
    v = values(data)
    assert v[("1476A", "01-01 01:00", "pm25")] == 33 and v[("1476A", "01-01 01:00", "pm10")] == 99
    assert len(rej) == 0


def test_too_few_fields_rejected(tmp_path):
    f = tmp_path / "short.csv"
    f.write_text("s,t,a,b\nX,2024-01-01 01:00,1,2\nX,2024-01-01 02:00,1\n", encoding="utf-8")
    data, meta, rej = read_generic(f, {"columns": {"station": "s", "time": "t", "pm25": "a", "pm10": "b"}})
    assert rej["line"].tolist() == [3] and "too few fields" in rej["reason"].iloc[0]
    assert len(data) == 2


def _xlsx(path: Path, rows: list[list], sheet: str = "小时数据") -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["导出说明"])
    ws2 = wb.create_sheet(sheet)
    for r in rows:
        ws2.append(r)
    wb.save(path)
    return path


def test_excel_wide(tmp_path):
    pytest.importorskip("openpyxl")
    f = _xlsx(tmp_path / "export.xlsx", [
        ["甘肃省 空气质量小时数据"],
        ["站点", "时间", "PM2.5", "SO2(ppm)", "CO(μg/m³)"],
        ["兰炼宾馆", dt.datetime(2024, 1, 1, 1), 35, 0.005, 900],
        ["兰炼宾馆", "2024-01-01 02:00", 36.5, None, "—"],
        ["兰炼宾馆", dt.datetime(2024, 1, 1, 3), "bad", 0.004, 800],
        [None, None, None, None, None],
    ])
    m = {"format": "excel", "sheet": "小时数据", "header_row": 1, "layout": "wide",
         "columns": {"station": "站点", "time": "时间", "pm25": "PM2.5", "so2": "SO2(ppm)", "co": "CO(μg/m³)"},
         "units": {"so2": "ppm", "co": "ug/m3"}, "station_map": {"兰炼宾馆": "1476A"}}
    data, meta, rej = read_generic(f, m)
    v = values(data)
    assert v[("1476A", "01-01 01:00", "pm25")] == 35
    assert v[("1476A", "01-01 01:00", "so2")] == pytest.approx(5 * SO2_PPB)
    assert v[("1476A", "01-01 01:00", "co")] == pytest.approx(0.9)
    assert np.isnan(v[("1476A", "01-01 02:00", "so2")]) and np.isnan(v[("1476A", "01-01 02:00", "co")])
    assert rej["line"].tolist() == [5] and rej["field"].tolist() == ["pm25"]  # Excel row number
    assert meta["blank_lines"] == 1 and meta["encoding"] == "xlsx"
    # by index, and a missing sheet
    with pytest.raises(InputError, match="no sheet"):
        read_generic(f, {**m, "sheet": "Sheet9"})
    assert len(read_generic(f, {**m, "sheet": 1}).data) == len(data)


def test_unit_factors():
    assert unit_factor("so2", "ppm") == pytest.approx(1000 * 64.066 / 24.465)
    assert unit_factor("o3_8h", "ppb") == pytest.approx(47.997 / 24.465)
    assert unit_factor("co", "mg/m³") == 1.0
    assert unit_factor("co_24h", "ppb") == pytest.approx(28.010 / 24.465 / 1000)
    assert unit_factor("pm25", "mg/m3") == 1000
    with pytest.raises(ValueError):
        unit_factor("pm25", "ppb")
    with pytest.raises(ValueError):
        unit_factor("so2", "grains")


@pytest.mark.parametrize("patch, key", [
    ({"format": "xls"}, "format"),
    ({"layout": "diagonal"}, "layout"),
    ({"columns": {"time": "t", "pm25": "a"}}, "columns.station"),
    ({"columns": {"station": "s", "pm25": "a"}}, "columns.time"),
    ({"columns": {"station": "s", "time": "t", "pm2.5": "a"}}, "columns.pm2.5"),
    ({"columns": {"station": "s", "time": "t", "pm25": "#x"}}, "columns.pm25"),
    ({"columns": {"station": "s", "time": "t", "pm25": -1}}, "columns.pm25"),
    ({"columns": {"station": "s", "time": "t"}}, "columns"),
    ({"units": {"pm25": "ppm"}}, "units.pm25"),
    ({"units": {"so2": "furlongs"}}, "units.so2"),
    ({"time_label": "middle"}, "time_label"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"encoding": "klingon"}, "encoding"),
    ({"header_row": -2}, "header_row"),
    ({"colums": {}}, "colums"),
    ({"constants": {"value": 3}}, "constants.value"),
    ({"missing": "NaN"}, "missing"),
])
def test_invalid_mapping_names_file_and_key(tmp_path, patch, key):
    base = {"columns": {"station": "s", "time": "t", "pm25": "a"}}
    f = tmp_path / "bad_mapping.yaml"
    f.write_text(yaml.safe_dump({**base, **patch}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_mapping(f)
    assert exc.value.field == key
    assert "bad_mapping.yaml" in str(exc.value) and repr(key) in str(exc.value)


def test_column_not_in_header_names_mapping_key(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("s,t,PM25\nX,2024-01-01 01:00,1\n", encoding="utf-8")
    m = tmp_path / "m.yaml"
    m.write_text("columns: {station: s, time: t, pm25: PM2.5}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_generic(f, m)
    assert exc.value.field == "columns.pm25" and exc.value.file.endswith("m.yaml")
    assert "'PM2.5' not in the header of d.csv" in str(exc.value)


def test_invalid_yaml_and_unreadable_file(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML"):
        load_mapping(m)
    with pytest.raises(InputError, match="not a readable .xlsx"):
        read_generic(b"not a zip", {"format": "excel", "columns": {"station": 0, "time": 1, "pm25": 2}})


def test_example_mapping_loads():
    m = load_mapping(FIX / "bureau_export.yaml")
    assert isinstance(m, Mapping) and m.layout == "wide" and m.header_row == 1
    assert m.pollutant_columns == {"pm25": "PM2.5", "pm10": "PM10", "co": "CO", "so2": 5, "o3": "O3"}
    assert m.missing_numbers == (-999.0,) and "数据无效" in m.missing_text
