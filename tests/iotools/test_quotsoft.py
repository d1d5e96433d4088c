"""quotsoft/CNEMC daily archives: china_sites / china_cities layout, writer round trip, quirks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envquality.iotools.common import InputError
from envquality.iotools.quotsoft import (
    TYPES, iter_china_sites, read_china_cities, read_china_sites, write_china_sites,
    write_china_sites_daily,
)

FIXTURES = Path(__file__).parent / "fixtures"


def make_sites_frame(n_stations=5, hours=24, start="2023-03-22 00:00", seed=0, missing=0.05):
    """Synthetic tidy frame covering all 15 types (fixture generator for the archive layout)."""
    rng = np.random.default_rng(seed)
    stations = [f"{1001 + i}A" for i in range(n_stations)]
    times = pd.date_range(start, periods=hours, freq="h", tz="Asia/Shanghai")
    idx = pd.MultiIndex.from_product([stations, times, list(TYPES.values())],
                                     names=["station", "time", "pollutant"])
    frame = idx.to_frame(index=False)
    v = rng.integers(1, 300, len(frame)).astype(float)
    co = frame["pollutant"].str.startswith("co").to_numpy()
    v[co] = np.round(rng.uniform(0.1, 3.0, co.sum()), 1)
    v[rng.random(len(v)) < missing] = np.nan
    return frame.assign(value=v)


def test_fixture_file_crlf():
    r = read_china_sites(FIXTURES / "china_sites_20230322.csv")
    d = r.data
    assert len(d) == 6 * 3 and r.meta["rows_in"] == 6 and r.meta["rows_rejected"] == 0
    one = d[(d.station == "1478A") & (d.pollutant == "pm10")].set_index("time")["value"]
    assert one[pd.Timestamp("2023-03-22 12:00", tz="Asia/Shanghai")] == 697
    assert d["time"].dt.tz is not None and str(d["time"].dt.tz) == "Asia/Shanghai"
    assert d.loc[(d.station == "3245A") & (d.pollutant == "co"), "value"].isna().sum() == 1
    assert r.meta["time_min"] == pd.Timestamp("2023-03-22 11:00", tz="Asia/Shanghai")


def test_hour_label():
    text = "date,hour,type,1476A\n20230322,0,PM10,10\n20230322,23,PM10,20\n"
    end = read_china_sites(text).data["time"]
    assert list(end.dt.strftime("%Y-%m-%d %H:%M")) == ["2023-03-22 00:00", "2023-03-22 23:00"]
    start = read_china_sites(text, hour_label="start").data["time"]
    assert list(start.dt.strftime("%Y-%m-%d %H:%M")) == ["2023-03-22 01:00", "2023-03-23 00:00"]


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"), lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    lambda t: t.replace("\n", "\r\n").encode("gbk"),
])
def test_encodings_cities(encode):
    text = "date,hour,type,兰州,临夏州,甘南州,北京\n20230322,12,PM10,600,742,522,80\n"
    r = read_china_cities(encode(text))
    assert r.data["station"].tolist() == ["620100", "622900", "623000", "北京"]
    assert r.meta["columns_unmapped"] == ["北京"]
    assert r.data["value"].tolist() == [600, 742, 522, 80]


def test_bad_cells_and_rows_exact_lines():
    text = ("date,hour,type,1476A,1478A\n"        # 1
            "20230322,12,PM10,549,697\n"         # 2
            "20230322,12,PM2.5,12x,128\n"        # 3 bad cell 1476A
            "20230322,12,PM1,1,2\n"              # 4 unknown type
            "\n"                                 # 5 blank: skipped
            "2023032,12,SO2,1,2\n"               # 6 bad date
            "20230322,24,SO2,1,2\n"              # 7 bad hour
            "20230322,12,NO2,1,2,3\n"            # 8 too many fields
            "20230322,12,CO\n"                   # 9 too few (3)
            "20230322,12,O3,—,-5\n")             # 10 marker ok, negative rejected
    r = read_china_sites(text)
    rej = r.rejected.set_index("line")
    assert list(rej.index) == [3, 4, 6, 7, 8, 9, 10]
    assert rej.loc[3, "field"] == "1476A" and rej.loc[3, "raw"] == "12x"
    assert rej.loc[4, "field"] == "type" and "unknown type" in rej.loc[4, "reason"]
    assert rej.loc[4, "raw"] == "20230322,12,PM1,1,2"
    assert rej.loc[6, "field"] == "date" and rej.loc[7, "field"] == "hour"
    assert "expected 5 fields, saw 6" in rej.loc[8, "reason"]
    assert "saw 3" in rej.loc[9, "reason"]
    assert rej.loc[10, "field"] == "1478A" and "implausible" in rej.loc[10, "reason"]
    assert (r.rejected["file"] == "<string>").all() and (r.rejected["source"] == "quotsoft:china_sites").all()
    d = r.data.set_index(["station", "pollutant"])["value"]
    assert d[("1478A", "pm25")] == 128 and np.isnan(d[("1476A", "pm25")])
    assert np.isnan(d[("1476A", "o3")]) and np.isnan(d[("1478A", "o3")])
    assert r.meta["rows_in"] == 8


def test_quoted_multiline_line_numbers():
    text = 'date,hour,type,1476A\n20230322,1,PM10,"5\n0"\n20230322,2,PM10,bad\n'
    r = read_china_sites(text)
    assert r.rejected["line"].tolist() == [2, 4]
    assert r.rejected["raw"].tolist() == ["5\n0", "bad"]


def test_duplicates_identical_and_conflicting():
    text = ("date,hour,type,1476A,1478A\n"
            "20230322,12,PM10,549,697\n"
            "20230322,12,PM10,549,700\n"     # 1476A identical, 1478A conflict
            "20230322,12,SO2,5,\n"
            "20230322,12,SO2,5,7\n")          # missing copy is no conflict
    r = read_china_sites(text)
    assert r.meta["rows_duplicate"] == 3
    rej = r.rejected
    assert len(rej) == 2 and set(rej["line"]) == {2, 3}
    assert rej["reason"].str.contains("697 vs 700").all()
    d = r.data.set_index(["station", "pollutant"])["value"]
    assert d[("1476A", "pm10")] == 549 and ("1478A", "pm10") not in d.index
    assert d[("1478A", "so2")] == 7
    assert not r.data.duplicated(["station", "time", "pollutant"]).any()


def test_duplicate_station_columns():
    r = read_china_sites("date,hour,type,1476A,1476A\n20230322,12,PM10,1,1\n20230322,12,CO,1,2\n")
    assert r.meta["rows_duplicate"] == 1 and len(r.rejected) == 2


@pytest.mark.parametrize("text", ["", "hello world\n", "a,b,c,d\n1,2,3,4\n", "date,hour,type\n1,2,3\n",
                                  "\x00\x01binary"])
def test_unreadable_raises_input_error(text):
    with pytest.raises(InputError) as e:
        read_china_sites(text.encode())
    assert "<bytes>" in str(e.value)


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_china_sites(str(tmp_path / "china_sites_20990101.csv"))


def test_stations_subset_and_dropna():
    frame = make_sites_frame(n_stations=6, hours=3)
    text = write_china_sites(frame)
    r = read_china_sites(text, stations=["1002A", "1004A", "9999A"], dropna=True)
    assert set(r.data["station"]) == {"1002A", "1004A"}
    assert r.meta["columns_missing"] == ["9999A"]
    assert r.data["value"].notna().all()


def test_writer_round_trip(tmp_path):
    frame = make_sites_frame(n_stations=7, hours=24)
    p = tmp_path / "china_sites_20230322.csv"
    write_china_sites(frame, p)
    head = p.read_text(encoding="utf-8").splitlines()
    assert head[0] == "date,hour,type," + ",".join(f"{1001 + i}A" for i in range(7))
    assert [ln.split(",")[2] for ln in head[1:16]] == list(TYPES)
    assert head[1].startswith("20230322,0,AQI,")
    r = read_china_sites(p)
    assert r.meta["rows_rejected"] == 0
    got = r.data.set_index(["station", "time", "pollutant"])["value"].sort_index()
    exp = frame.assign(time=frame["time"].dt.as_unit("ns")).set_index(["station", "time", "pollutant"])["value"].sort_index()
    pd.testing.assert_series_equal(got, exp, check_names=False)


def test_writer_xarray_and_daily(tmp_path):
    xr = pytest.importorskip("xarray")
    frame = make_sites_frame(n_stations=3, hours=30, start="2023-03-22 00:00", missing=0)
    ds = frame.set_index(["time", "station", "pollutant"])["value"].to_xarray().to_dataset(dim="pollutant")
    assert isinstance(ds, xr.Dataset)
    paths = write_china_sites_daily(ds, tmp_path)
    assert [p.name for p in paths] == ["china_sites_20230322.csv", "china_sites_20230323.csv"]
    results = list(iter_china_sites(tmp_path))
    assert [res.meta["file"] for res in results] == [str(p) for p in paths]
    total = pd.concat([res.data for res in results])
    assert len(total) == len(frame)


def test_unknown_pollutant_in_writer():
    with pytest.raises(ValueError, match="no quotsoft type"):
        write_china_sites(pd.DataFrame({"station": ["1"], "time": [pd.Timestamp("2023-01-01")],
                                        "pollutant": ["pm1"], "value": [1.0]}))


@pytest.mark.slow
def test_full_day_national_size(tmp_path):
    """A 1,700-station day reads all 612,000 values (speed goal: benchmarks/bench_ingest.py)."""
    frame = make_sites_frame(n_stations=1700, hours=24)
    p = tmp_path / "china_sites_20230322.csv"
    write_china_sites(frame, p)
    r = read_china_sites(p)
    assert len(r.data) == 612_000
