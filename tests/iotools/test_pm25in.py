"""pm25.in reader: the real 14-city Gansu sample (MIT, tests/data/pm25in) and crafted quirks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envquality.iotools.common import REJECT_COLUMNS, InputError
from envquality.iotools.generic import csv_records
from envquality.iotools.pm25in import detect_frozen, read_pm25in

DATA = Path(__file__).resolve().parents[1] / "data" / "pm25in"
FIX = Path(__file__).parent / "fixtures_pm25in"

#: city: (data records, identical duplicate records) — counted independently with the csv module
SAMPLE = {
    "临夏州": (198, 10), "兰州": (784, 40), "嘉峪关": (285, 6), "天水": (297, 15), "定西": (192, 6),
    "平凉": (198, 10), "庆阳": (297, 15), "张掖": (194, 6), "武威": (392, 16), "甘南州": (95, 2),
    "白银": (192, 6), "酒泉": (192, 6), "金昌": (475, 15), "陇南": (297, 15),
}


def cst(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def lanzhou():
    return read_pm25in(DATA / "兰州.csv")


@pytest.mark.parametrize("city", sorted(SAMPLE))
def test_real_sample_every_city(city):
    records, dups = SAMPLE[city]
    data, meta, rejected = read_pm25in(DATA / f"{city}.csv")
    assert meta["rows_in"] == records
    assert meta["records_duplicate"] == dups
    assert meta["rows_duplicate"] == dups * 8  # eight values per record
    assert len(rejected) == 0  # no conflicting duplicates, nothing unreadable in the sample
    assert len(data) == (records - dups) * 8
    assert list(data.columns) == ["station", "time", "pollutant", "value", "city", "suspect_frozen", "line"]
    assert str(data["time"].dtype) == "datetime64[ns, Asia/Shanghai]"
    assert data["time"].min() == cst("2020-04-02 08:00")
    assert data["time"].max() == cst("2020-04-08 03:00")
    assert 92 <= meta["hours"] <= 94
    assert not data.duplicated(["station", "time", "pollutant"]).any()
    assert set(data["pollutant"]) == {"aqi", "pm25", "pm10", "co", "no2", "o3", "o3_8h", "so2"}
    assert (data["city"] == city).all()
    assert meta["encoding"] == "utf-8" and len(meta["sha256"]) == 64
    assert data.loc[data.pollutant == "co", "value"].max() < 10  # CO stays mg/m3


def test_real_nan_handling(lanzhou):
    data, meta, _ = lanzhou
    z = data[data.station == "1475A"]  # 职工医院, decommissioned, NaN every hour
    assert len(z) > 0 and z["value"].isna().all()
    assert meta["stations"]["职工医院"] == "1475A"
    # every literal NaN of the value columns of distinct records, counted with the csv module
    import csv

    with open(DATA / "兰州.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    distinct = {tuple(r) for r in rows[1:]}
    expected = sum(v == "NaN" for r in distinct for i, v in enumerate(r) if i in (3, 6, 7, 8, 9, 10, 11, 12))
    assert data["value"].isna().sum() == expected == 848


def test_real_multiline_fields(lanzhou):
    data, _, _ = lanzhou
    text = (DATA / "兰州.csv").read_text(encoding="utf-8")
    fields, start, nf = csv_records(text, file="兰州.csv")
    assert (nf[1:] == 13).all()
    # record 生物制品所 2020-04-03 01 starts at line 141 and spans 6 lines; the next starts at 147
    i = int(np.flatnonzero((fields[2] == "生物制品所") & (fields[0] == "20200403") & (fields[1] == "01"))[0])
    assert start[i] == 141 and start[i + 1] == 147
    assert start[-1] == len(text.rstrip("\n").split("\n"))  # last record = last physical line
    v = data.set_index(["station", "time", "pollutant"])["value"]
    assert v[("1478A", cst("2020-04-03 01:00"), "pm25")] == 36
    assert v[("1479A", cst("2020-04-03 01:00"), "pm25")] == 38


def test_real_frozen_station_detected(lanzhou):
    data, meta, _ = lanzhou
    frozen = "620100:教育港（20181115启用）"
    assert frozen in meta["frozen_stations"]
    assert meta["frozen_detail"][frozen]["hours"] == 93
    assert meta["stations"]["教育港"] == "3186A"  # the live station keeps the code
    assert meta["station_collisions"]["3186A"] == ["教育港", "教育港（20181115启用）"]
    f = data[data.station == frozen]
    assert f["suspect_frozen"].all()
    assert (f[f.pollutant == "pm25"]["value"] == 71).all()
    assert not data.loc[data.station == "3186A", "suspect_frozen"].any()
    assert not data.loc[data.station == "1476A", "suspect_frozen"].any()
    assert len(f) == 93 * 8  # flagged, not dropped


def test_real_extreme_so2_kept():
    data, meta, rejected = read_pm25in(DATA / "白银.csv")
    assert meta["stations"]["豫源饭店"] == "620400:豫源饭店"  # name unknown to the 2022 list
    # a historical station of the registry's history (docs/registry.md): known, CNEMC code not evidenced
    assert "豫源饭店" in meta["historical_stations"] and "豫源饭店" not in meta["unresolved_stations"]
    so2 = data[(data.station == "620400:豫源饭店") & (data.pollutant == "so2")].set_index("time")["value"]
    assert so2[cst("2020-04-02 08:00")] == 427
    assert so2[cst("2020-04-02 09:00")] == 412
    assert len(rejected) == 0


def test_city_name_variants_and_argument():
    a = read_pm25in(DATA / "临夏州.csv")
    b = read_pm25in((DATA / "临夏州.csv").read_bytes(), city="临夏回族自治州")
    assert a.meta["city_code"] == b.meta["city_code"] == "622900"
    assert a.data["value"].equals(b.data["value"])


# ---------------------------------------------------------------------------- crafted quirks


@pytest.fixture(scope="module")
def quirks():
    return read_pm25in(FIX / "quirks.csv", city="兰州", frozen_hours=3)


def test_quirks_rejects_with_physical_lines(quirks):
    _, meta, rej = quirks
    assert list(rej.columns) == list(REJECT_COLUMNS)
    got = list(zip(rej["line"].tolist(), rej["field"].tolist()))
    assert got == [(8, "PM2.5"), (13, "pm25"), (14, "pm25"), (17, "Hour"), (18, "Date"), (19, None)]
    r = rej.set_index("line")
    assert "'abc'" in r.loc[8, "reason"]
    assert r.loc[8, "raw"] == '20200402,09,兰炼宾馆,54,良,"颗粒物(PM10)\n细颗粒物(PM2.5)",abc,51,0.9,40,35,56,16'
    assert "conflicting duplicate" in r.loc[13, "reason"] and "38" in r.loc[13, "reason"]
    assert "expected 13 fields, got 8" in r.loc[19, "reason"]
    assert (rej["file"].str.endswith("quirks.csv")).all() and (rej["source"] == "pm25in").all()
    assert meta["blank_lines"] == 1
    assert meta["rows_in"] == 15


def test_quirks_values(quirks):
    data, meta, _ = quirks
    v = data.set_index(["station", "time", "pollutant"])["value"]
    # multi-line record (lines 2-5) read whole
    assert v[("1476A", cst("2020-04-02 08:00"), "pm25")] == 37
    assert v[("1476A", cst("2020-04-02 08:00"), "so2")] == 15
    # bad PM2.5 rejected alone; the rest of the record kept
    assert ("1476A", cst("2020-04-02 09:00"), "pm25") not in v.index
    assert v[("1476A", cst("2020-04-02 09:00"), "pm10")] == 51
    # conflicting PM2.5 quarantined, identical other values collapsed
    assert ("1476A", cst("2020-04-02 10:00"), "pm25") not in v.index
    assert v[("1476A", cst("2020-04-02 10:00"), "pm10")] == 52
    # NaN row kept as NaN
    assert np.isnan(v[("620100:豫源饭店", cst("2020-04-02 09:00"), "so2")])
    # hour 00 = hour ending midnight
    assert v[("1476A", cst("2020-04-03 00:00"), "pm25")] == 40
    assert meta["records_duplicate"] == 1
    assert meta["rows_duplicate"] == 8 + 7


def test_quirks_frozen_with_short_threshold(quirks):
    data, meta, _ = quirks
    # alone in the file, the suffixed name keeps the code of 教育港; the flag says it is frozen
    assert meta["frozen_stations"] == ["3186A"]
    assert meta["frozen_detail"]["3186A"]["raw_name"] == "教育港（20181115启用）"
    assert data.loc[data.station == "3186A", "suspect_frozen"].all()
    assert not data.loc[data.station == "1476A", "suspect_frozen"].any()
    longer = read_pm25in(FIX / "quirks.csv", city="兰州", frozen_hours=5)
    assert longer.meta["frozen_stations"] == []


def test_gbk_crlf_bom_variants(quirks):
    text = (FIX / "quirks.csv").read_text(encoding="utf-8")
    for raw in (text.replace("\n", "\r\n").encode("gbk"), b"\xef\xbb\xbf" + text.encode("utf-8"),
                text.replace("\n", "\r\n").encode("gb18030")):
        r = read_pm25in(raw, name="兰州.csv", frozen_hours=3)
        pd.testing.assert_frame_equal(r.data, quirks.data)
        assert r.rejected["line"].tolist() == quirks.rejected["line"].tolist()
    assert read_pm25in(text.encode("gbk"), city="兰州").meta["encoding"] == "gb18030"


def test_numeric_missing_parameter():
    raw = ("Date,Hour,WatchPoint,AQI,Level,PrimaryPollution,PM2.5,PM10,CO,NO2,O3_1h,O3_8h,SO2\n"
           "20200402,08,兰炼宾馆,-999,,—,-999,50,-,42,33,56,15\n").encode()
    d = read_pm25in(raw, city="兰州", numeric_missing=[-999]).data.set_index("pollutant")["value"]
    assert np.isnan(d["pm25"]) and np.isnan(d["aqi"]) and np.isnan(d["co"]) and d["pm10"] == 50
    d2 = read_pm25in(raw, city="兰州").data.set_index("pollutant")["value"]
    assert d2["pm25"] == -999  # not a marker unless the caller says so


def test_errors():
    hdr = "Date,Hour,WatchPoint,AQI,Level,PrimaryPollution,PM2.5,PM10,CO,NO2,O3_1h,O3_8h,SO2\n"
    with pytest.raises(InputError, match="pass city="):
        read_pm25in(hdr.encode())
    with pytest.raises(InputError, match="unknown city"):
        read_pm25in(hdr.encode(), city="Atlantis")
    with pytest.raises(InputError, match=r"line 1, field 'SO2'"):
        read_pm25in(hdr.replace(",SO2", "").encode(), city="兰州")
    with pytest.raises(InputError, match="line 3.*malformed CSV"):
        read_pm25in((hdr + "20200402,08,兰炼宾馆,53,良,NaN,37,50,0.9,42,33,56,15\n"
                     '20200402,09,兰炼宾馆,53,良,"unterminated,37,50\n20200402,10,x\n').encode(), city="兰州")
    with pytest.raises(InputError, match="empty"):
        read_pm25in(b"", city="兰州")
    with pytest.raises(InputError, match="cannot read"):
        read_pm25in(FIX / "missing.csv")


def test_detect_frozen_ignores_all_nan_and_resets_per_station():
    f = pd.DataFrame({"s": ["a"] * 5 + ["b"] * 3, "x": [np.nan] * 5 + [1, 1, 1], "y": [np.nan] * 5 + [2, 2, 2]})
    assert detect_frozen(f, ["x", "y"], by="s", min_run=3).tolist() == [False] * 5 + [True] * 3


def test_repeated_blocks_all_counted(tmp_path):
    """A file of the sample repeated reads every record (speed: benchmarks/bench_readers.py)."""
    text = (DATA / "兰州.csv").read_text(encoding="utf-8")
    head, body = text.split("\n", 1)
    lines = body.rstrip("\n").split("\n")
    big = head + "\n" + "\n".join(lines * 3) + "\n"
    r = read_pm25in(big.encode(), city="兰州")
    assert r.meta["rows_in"] == 784 * 3


def test_conflicting_duplicate_with_nan_copy_is_quarantined_not_a_crash():
    """Issue 9: a repeated hour with a changed value plus a NaN copy raised TypeError (pandas 3)."""
    h = "Date,Hour,WatchPoint,AQI,Level,PrimaryPollution,PM2.5,PM10,CO,NO2,O3_1h,O3_8h,SO2\n"
    rows = ("20200402,08,兰炼宾馆,56,良,NaN,30,60,0.5,20,40,35,10\n"
            "20200402,08,兰炼宾馆,57,良,NaN,31,60,0.5,20,40,35,10\n"
            "20200402,08,兰炼宾馆,NaN,良,NaN,NaN,60,0.5,20,40,35,10\n")
    rr = read_pm25in((h + rows).encode(), city="兰州", name="兰州.csv")
    rej = rr.rejected
    assert set(rej["field"]) == {"aqi", "pm25"} and sorted(set(rej["line"])) == [2, 3, 4]
    assert rej["reason"].str.contains("conflicting duplicate").all()
    # the raw text is the physical input line, not a rebuilt row
    assert set(rej["raw"]) == set(rows.strip().split("\n"))
    kept = rr.data.set_index("pollutant")["value"]
    assert "aqi" not in kept and kept["pm10"] == 60.0
