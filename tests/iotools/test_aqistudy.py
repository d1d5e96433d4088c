"""aqistudy daily city files: real sample, BOM/GBK/CRLF, suspect O3, rank 0, bad cells, duplicates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envquality.iotools.aqistudy import read_aqistudy_daily
from envquality.iotools.common import InputError

FIXTURES = Path(__file__).parent / "fixtures"
ROW = "兰州,2015-01-01,120,80~150,轻度污染,90.5,180.2,40.1,1.500,50.3,60,200"


def values(r, date):
    d = r.data
    return d[d.date == pd.Timestamp(date)].set_index("pollutant")["value"]


def test_real_lanzhou(realdata):
    r = read_aqistudy_daily(realdata / "aqistudy_ShuyaoHong/data/兰州.csv")
    m = r.meta
    assert m["encoding"] == "utf-8-sig" and m["rows_rejected"] == 0 and m["rows_duplicate"] == 0
    assert m["date_min"] == pd.Timestamp("2013-12-02") and m["date_max"] == pd.Timestamp("2015-12-31")
    assert str(r.data["date"].dtype) == "datetime64[ns]" and (r.data["city"] == "620100").all()
    v = values(r, "2013-12-02")
    assert (v["aqi"], v["pm25_24h"], v["pm10_24h"], v["so2_24h"], v["co_24h"], v["no2_24h"], v["o3_8h"]) == (
        148, 104.7, 201.5, 68.6, 1.9, 51.8, 31)
    assert values(r, "2014-04-24")["pm10_24h"] == 977.3  # dust storm kept
    rep = m["reported"].set_index("date")
    assert (rep.loc["2013-12-02", "aqi_min"], rep.loc["2013-12-02", "aqi_max"]) == (139, 154)
    assert rep.loc["2013-12-02", "level"] == "轻度污染"


def test_real_all_cities(realdata):
    files = sorted((realdata / "aqistudy_ShuyaoHong/data").glob("*.csv"))
    assert len(files) == 14
    codes = set()
    for p in files:
        r = read_aqistudy_daily(p)
        assert r.meta["rows_rejected"] == 0
        days = r.data.loc[r.data.date.dt.year == 2015, "date"].nunique()
        assert days == 365, p.name
        codes |= set(r.data["city"])
    assert len(codes) == 14
    gannan = read_aqistudy_daily(realdata / "aqistudy_ShuyaoHong/data/甘南州.csv")
    sus = gannan.data[gannan.data["suspect"]]
    assert (sus["pollutant"] == "o3_8h").all() and (sus["value"] > 400).all()
    assert sus["value"].max() == 843 and gannan.meta["suspect"] == len(sus)


def test_gbk_crlf_fixture_and_rank_zero():
    r = read_aqistudy_daily(FIXTURES / "aqistudy_gbk_crlf.csv")
    assert r.meta["encoding"] == "gb18030" and r.meta["rows_in"] == 2
    assert values(r, "2015-01-01")["co_24h"] == 1.5
    rep = r.meta["reported"]
    assert rep["rank"].tolist()[0] == 200 and np.isnan(rep["rank"].tolist()[1])


@pytest.mark.parametrize("encode", [lambda t: t.encode("utf-8"), lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
                                    lambda t: t.replace("\n", "\r\n").encode("gbk")])
def test_encodings(encode):
    r = read_aqistudy_daily(encode(ROW + "\n" + ROW.replace("兰州", "临夏州", 1) + "\n"))
    assert sorted(set(r.data["city"])) == ["620100", "622900"]


def test_suspect_o3_kept():
    r = read_aqistudy_daily(ROW.replace(",60,200", ",843,10") + "\n", o3_suspect_above=400)
    v = r.data.set_index("pollutant")
    assert v.loc["o3_8h", "value"] == 843 and v.loc["o3_8h", "suspect"]
    assert not v.drop(index="o3_8h")["suspect"].any() and len(r.rejected) == 0


def test_bad_lines_exact():
    text = "\n".join([
        ROW,                                        # 1
        ROW.replace("2015-01-01", "2015-01-02").replace("90.5", "9o.5"),   # 2 bad pm25
        ROW.replace("2015-01-01", "2015/01/03"),    # 3 bad date
        ROW.replace("兰州", "兰洲").replace("2015-01-01", "2015-01-04"),     # 4 unknown city
        ROW.replace("2015-01-01", "2015-01-05") + ",x",                     # 5 too many fields
        "兰州,2015-01-06,80",                        # 6 too few
        "",                                         # 7 blank
        ROW.replace("2015-01-01", "2015-01-08").replace("50.3", "—"),      # 8 missing marker
        ROW.replace("2015-01-01", "2015-01-09").replace("1.500", "1500"),  # 9 CO in µg/m³: implausible
    ]) + "\n"
    r = read_aqistudy_daily(text)
    rej = r.rejected
    assert rej["line"].tolist() == [2, 3, 4, 5, 6, 9]
    assert rej["field"].fillna("-").tolist() == ["pm25", "date", "city", "-", "-", "co"]
    assert rej.loc[0, "raw"] == "9o.5" and rej.loc[1, "raw"].startswith("兰州,2015/01/03")
    assert "兰州 (620100)" in rej.loc[2, "reason"]
    assert np.isnan(values(r, "2015-01-02")["pm25_24h"]) and values(r, "2015-01-02")["pm10_24h"] == 180.2
    assert np.isnan(values(r, "2015-01-08")["no2_24h"]) and np.isnan(values(r, "2015-01-09")["co_24h"])
    assert r.meta["rows_in"] == 8


def test_duplicates():
    conflict = ROW.replace("180.2", "181.0")
    r = read_aqistudy_daily(f"{ROW}\n{ROW}\n{conflict}\n")
    assert r.meta["rows_duplicate"] == 6 + 6
    assert r.rejected["line"].tolist() == [1, 2, 3] and (r.rejected["field"] == "pm10_24h").all()
    assert r.rejected.loc[2, "raw"] == conflict
    assert "pm10_24h" not in values(r, "2015-01-01").index


@pytest.mark.parametrize("content", [b"", b"a,b,c\n1,2,3\n", "兰州,2015-01,100,80~120,良,1,2,3,4,5,6,7\n".encode()])
def test_unreadable(content):
    with pytest.raises(InputError):
        read_aqistudy_daily(content)
