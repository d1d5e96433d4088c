"""CNEMC live feed: real archived CSV, JSON, swapped O3, offline stations, dust cap, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envquality.iotools.cnemc import read_cnemc_live
from envquality.iotools.common import InputError

FIXTURES = Path(__file__).parent / "fixtures"
LIVE = "cnemc_live_HeQinWill/Archive/2023-03-22/2023-03-22T12.gansu_rows.csv"
T12 = pd.Timestamp("2023-03-22 12:00", tz="Asia/Shanghai")
HEADER = ("timepoint,stationcode,longitude,latitude,area,positionname,primarypollutant,aqi,pm10,pm10_24h,"
          "pm2_5,pm2_5_24h,o3,o3_24h,o3_8h,o3_8h_24h,no2,no2_24h,so2,so2_24h,co,co_24h")
ROW_1478 = ("2023-03-22T12:00:00,1478A,103.8412,36.0726,兰州市,生物制品所,颗粒物(PM10),500,697,949,128,191,"
            "100,53,87,56,33,18,15,10,0.7,0.5")


def values(r, station):
    d = r.data
    return d[d.station == station].set_index("pollutant")["value"]


def test_real_sample(realdata):
    r = read_cnemc_live(realdata / LIVE)
    m = r.meta
    assert m["rows_in"] == 39 and m["rows_rejected"] == 0 and m["format"] == "csv"
    assert m["stations_no_data"] == ["1477A", "2649A", "2665A"]
    assert (r.data["time"] == T12).all() and m["time_min"] == m["time_max"] == T12
    assert set(r.data["pollutant"]) == {"so2", "no2", "pm10", "pm25", "co", "o3", "so2_24h", "no2_24h",
                                        "pm10_24h", "pm25_24h", "co_24h", "o3_8h", "o3_8h_24h", "o3_24h", "aqi"}
    # dust storm: AQI capped at 500 with PM10 697 / 24-h 1105 kept, not rejected
    v = values(r, "1478A")
    assert (v["aqi"], v["pm10"], v["pm10_24h"]) == (500, 697, 949)
    assert values(r, "3242A")["pm10_24h"] == 1105
    # swapped O3: o3_24h column (53) is the latest 1-h value
    assert (v["o3"], v["o3_24h"], v["o3_8h"], v["o3_8h_24h"]) == (53, 100, 56, 87)
    assert v["co"] == 0.7 and v["pm25"] == 128
    # areas: full names and 兰州新区
    cities = r.data.drop_duplicates("station").set_index("station")["city"]
    assert cities["2667A"] == "622900" and cities["3245A"] == "620100" and cities["2669A"] == "623000"
    st = m["stations"].set_index("station")
    assert st.loc["3245A", "area"] == "兰州新区" and st.loc["1478A", "lon"] == pytest.approx(103.8412)
    assert m["areas_unmapped"] == []
    # partially empty row: 1944A has no 1-h PM10 but a 24-h mean
    assert np.isnan(values(r, "1944A")["pm10"]) and values(r, "1944A")["pm10_24h"] == 168


def test_o3_not_swapped():
    r = read_cnemc_live(f"{HEADER}\n{ROW_1478}\n", o3_columns_swapped=False)
    v = values(r, "1478A")
    assert (v["o3"], v["o3_24h"], v["o3_8h"], v["o3_8h_24h"]) == (100, 53, 87, 56)
    assert r.meta["o3_columns_swapped"] is False


def test_json_fixture_case_insensitive_and_lines():
    r = read_cnemc_live(FIXTURES / "cnemc_live_sample.json")
    assert r.meta["format"] == "json" and r.meta["rows_in"] == 3
    v = values(r, "1478A")
    assert (v["o3"], v["o3_24h"], v["pm25"], v["pm25_24h"]) == (53, 100, 128, 191)
    assert r.meta["columns_ignored"] == ["Quality"]
    rej = r.rejected
    assert len(rej) == 1
    assert (rej.loc[0, "line"], rej.loc[0, "field"], rej.loc[0, "raw"]) == (27, "PM10", "abc")  # line where the record's object starts
    v = values(r, "3245A")
    assert v["aqi"] == 500 and v["co"] == 0.3 and np.isnan(v["pm10"]) and np.isnan(v["o3_24h"])
    assert r.data.loc[r.data.station == "3245A", "city"].iloc[0] == "620100"
    assert r.meta["stations_no_data"] == ["1477A"]


def test_parsed_json_and_wrapped_object():
    recs = json.loads((FIXTURES / "cnemc_live_sample.json").read_text(encoding="utf-8"))
    a = read_cnemc_live(recs)
    b = read_cnemc_live(json.dumps({"Data": recs}, ensure_ascii=False))
    pd.testing.assert_frame_equal(a.data, b.data)
    assert a.rejected["line"].tolist() == [2]  # parsed objects: line = record number
    assert b.rejected["line"].tolist() == [1]  # one-line JSON: everything on line 1


def test_json_epoch_timepoint():
    r = read_cnemc_live([{"TimePoint": "/Date(1679457600000)/", "StationCode": "1478A", "Area": "兰州市",
                          "PM10": 697}])
    assert r.data["time"].iloc[0] == T12


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"), lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    lambda t: t.replace("\n", "\r\n").encode("gb18030"),
])
def test_encodings(encode):
    r = read_cnemc_live(encode(f"{HEADER}\n{ROW_1478}\n"))
    assert values(r, "1478A")["pm10"] == 697
    assert r.data["city"].iloc[0] == "620100"


def test_uppercase_csv_header():
    r = read_cnemc_live(f"{HEADER.upper().replace('PM2_5', 'PM2.5')}\n{ROW_1478}\n")
    assert values(r, "1478A")["pm25"] == 128


def test_bad_rows_exact_lines():
    text = "\n".join([
        HEADER,                                                     # 1
        ROW_1478,                                                   # 2
        ROW_1478.replace("2023-03-22T12:00:00", "2023-13-22T12"),  # 3 bad time
        ROW_1478.replace("1478A", "").replace(",697,", ",700,"),   # 4 no station code
        ROW_1478.replace("1478A", "1479A").replace(",0.7,", ",0.x,"),  # 5 bad co cell
        ROW_1478.replace("1478A", "1476A").replace(",697,", ",-3,"),   # 6 negative
        ROW_1478 + ",extra",                                        # 7 too many fields
        "",                                                         # 8 blank
        ROW_1478.replace("兰州市", "北京市").replace("1478A", "1001A"),  # 9 other province: kept
    ]) + "\n"
    r = read_cnemc_live(text)
    rej = r.rejected
    assert rej["line"].tolist() == [3, 4, 5, 6, 7]
    assert rej["field"].tolist()[:4] == ["timepoint", "stationcode", "co", "pm10"]
    assert rej.loc[2, "raw"] == "0.x" and rej.loc[0, "raw"].startswith("2023-13-22T12,1478A")
    assert "expected 22 fields, saw 23" in rej.loc[4, "reason"]
    assert r.meta["areas_unmapped"] == ["北京市"]
    assert pd.isna(r.data.loc[r.data.station == "1001A", "city"]).all()
    assert np.isnan(values(r, "1479A")["co"]) and values(r, "1479A")["pm10"] == 697
    assert r.meta["rows_in"] == 7


def test_duplicates():
    dup_conflict = ROW_1478.replace(",697,", ",700,")
    r = read_cnemc_live(f"{HEADER}\n{ROW_1478}\n{ROW_1478}\n{dup_conflict}\n")
    assert r.meta["rows_duplicate"] == 14 + 14  # identical: all 15 values twice, less pm10 once
    rej = r.rejected
    assert rej["line"].tolist() == [2, 3, 4] and (rej["field"] == "pm10").all()
    assert (rej["reason"] == "conflicting duplicate: 697 vs 697 vs 700").all()
    assert rej.loc[2, "raw"] == dup_conflict
    assert "pm10" not in values(r, "1478A").index
    assert not r.data.duplicated(["station", "time", "pollutant"]).any()


@pytest.mark.parametrize("content", [b"", b"just some words\n", b"a,b,c\n1,2,3\n", b"[1, 2]", b"{\"x\": 1}",
                                     b"[{\"TimePoint\": 1"])
def test_unreadable(content):
    with pytest.raises(InputError):
        read_cnemc_live(content)


def test_dropna():
    r = read_cnemc_live(FIXTURES / "cnemc_live_sample.json", dropna=True)
    assert r.data["value"].notna().all() and "1477A" not in set(r.data["station"])
