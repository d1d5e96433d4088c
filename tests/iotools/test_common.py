"""Shared reader helpers (iotools._parse, iotools._units) and the vectorized archive writer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envquality.iotools._parse import (
    csv_records, load_source, load_text, raw_lines, read_str_table, record_layout, record_spans,
    to_cst,
)
from envquality.iotools._units import implausible, pollutant_keys, sanity_bound, unit_factor
from envquality.iotools.common import InputError
from envquality.iotools.generic import normalize_pollutant
from envquality.iotools.quotsoft import (
    TYPES, _format_g, read_china_sites, write_china_sites, write_china_sites_daily,
)
from envquality.iotools.readings import canonical_pollutant

QUOTED = 'a,b\n\n"x\ny\nz",w\nq,"r"\n'


def test_load_source_inputs_and_errors(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"a,b\n")
    assert load_source(f) == (b"a,b\n", str(f))
    assert load_source(str(f), content=True) == (b"a,b\n", str(f))
    assert load_source(b"1", name="n.csv") == (b"1", "n.csv")
    assert load_source("a,b\n1,2\n", content=True)[1] == "<string>"
    for src, kw in ((tmp_path / "nope.csv", {}), (str(tmp_path / "nope.csv"), {"content": True})):
        with pytest.raises(InputError, match="not found.*no such file"):
            load_source(src, **kw)
    with pytest.raises(InputError, match="cannot read"):
        load_source(tmp_path)  # a directory
    with pytest.raises(InputError, match="NUL"):
        load_text(b"a\x00b\n")
    assert load_text("\ufeffa,b\r\n".encode())[:2] == ("a,b\n", "utf-8-sig")


def test_record_layout_matches_csv_records():
    start, nf = record_layout(QUOTED)
    assert start.tolist() == [1, 2, 3, 6] and nf.tolist() == [2, 0, 2, 2]
    fields, start2, nf2 = csv_records(QUOTED, file="q.csv")
    assert start2.tolist() == start.tolist() and nf2.tolist() == nf.tolist()
    assert fields.iloc[2, 0] == "x\ny\nz"
    spans = record_spans(QUOTED, start2)
    assert spans == {1: 1, 2: 1, 3: 3, 6: 1}
    assert raw_lines(QUOTED, [3], [3]) == ['"x\ny\nz",w']
    assert raw_lines(QUOTED.split("\n"), [3, 99]) == ['"x', ""]
    plain = "a,b\n\nc\n"
    assert [x.tolist() for x in record_layout(plain)] == [[1, 2, 3], [2, 0, 1]]


def test_record_layout_malformed_names_line():
    with pytest.raises(InputError, match="line 2.*malformed CSV"):
        record_layout('a,b\n"open,b\n', file="m.csv")


def test_read_str_table_physical_lines():
    df, lines, line_of, nf, head = read_str_table('h1,h2\n1,"2\n2"\n\n3,4,5\n', "t.csv", header=True)
    assert head == ["h1", "h2"] and line_of.tolist() == [2, 5] and nf.tolist() == [2, 3]
    assert df.iloc[0].tolist() == ["1", "2\n2"]


def test_to_cst_is_fixed_utc8():
    t = to_cst(np.array(["1988-07-01T12:00", "2023-03-22T12:00"], dtype="datetime64[ns]"))
    assert [x.tz_convert("UTC").hour for x in t] == [4, 4]


def test_sanity_bounds_by_base_pollutant():
    assert sanity_bound(np.array(["o3_8h", "pm25_24h", "aqi"], dtype=object)).tolist() == [2000, 5000, np.inf]
    v = np.array([[1.0, -1.0], [3000.0, np.nan]])
    assert implausible(v, np.array(["o3", "o3_8h"], dtype=object)).tolist() == [[False, True], [True, False]]
    assert not implausible(np.array([-1.0]), np.array(["so2"], dtype=object), negative=False).any()


@pytest.mark.parametrize("label, key", [
    ("PM2.5", "pm25"), ("pm2_5", "pm25"), ("O3_8h", "o3_8h"), ("SO2_24H", "so2_24h"), ("so2-24h", "so2_24h"),
    ("co_1h", "co"), ("pm2.5_1h", "pm25"), ("o3_1h", "o3_1h"), ("o3_24h", None), ("so2_8h", None),
    ("benzene", None), ("aqi", None), ("二氧化硫", "so2"), ("pm2.5_24h", "pm25_24h"),
])
def test_canonical_pollutant(label, key):
    assert canonical_pollutant(label) == key


def test_pollutant_keys_contexts():
    labels = pd.Series(["O3_1h", "臭氧1小时", "o3_24h", "PM2.5_24h", "AQI", "pm1"])
    assert normalize_pollutant(labels).tolist()[:5] == ["o3", "o3", "o3_24h", "pm25_24h", "aqi"]
    assert pd.isna(normalize_pollutant(labels).iloc[5])
    assert pollutant_keys(pd.Series(["x"]), ("so2",), {"x": "so2"}).tolist() == ["so2"]


def test_unit_factor_298k():
    assert unit_factor("no2", "ppb") == pytest.approx(46.0055 / 24.465)
    assert unit_factor("co_24h", "µg/m³") == 0.001
    with pytest.raises(ValueError):
        unit_factor("pm25", "ppb")


def test_format_g_matches_printf():
    rng = np.random.default_rng(7)
    v = np.concatenate([
        rng.normal(0, 1, 20_000) * 10.0 ** rng.integers(-9, 9, 20_000),
        np.round(rng.uniform(0, 1000, 5_000), 1), rng.integers(-10**7, 10**7, 5_000).astype(float),
        [0.0, -0.0, np.inf, -np.inf, 0.5, 2.5, 99999.95, 999999.5, 1e-4, 9.99999e-5, 123456.5, 5e-324],
    ])
    got = _format_g(np.append(v, np.nan)).to_pylist()
    assert got[:-1] == ["%g" % x for x in v] and got[-1] == ""


def _frame(n_stations=4, hours=30, seed=0):
    rng = np.random.default_rng(seed)
    times = pd.date_range("2023-03-22 00:00", periods=hours, freq="h", tz="Asia/Shanghai")
    stations = [f"{1001 + i}A" for i in range(n_stations)]
    idx = pd.MultiIndex.from_product([stations, times, list(TYPES.values())],
                                     names=["station", "time", "pollutant"])
    f = idx.to_frame(index=False)
    scale = 10.0 ** rng.integers(0, 4, len(f))
    v = np.round(rng.uniform(0, 150, len(f)) * scale) / scale
    v[rng.random(len(v)) < 0.1] = np.nan
    return f.assign(value=v)


def test_writer_first_value_wins_and_integers():
    f = _frame(2, 1)
    dup = pd.concat([f.assign(value=np.nan), f, f.assign(value=-1.0)], ignore_index=True)
    assert write_china_sites(dup) == write_china_sites(f.fillna(-1.0))  # first non-missing value
    ints = f.fillna(0).assign(value=1234567)
    text = write_china_sites(ints)  # integer input without gaps: integers, as pandas wrote them
    assert ",1234567," in text and "e+" not in text
    assert ",1.23457e+06" in write_china_sites(ints.astype({"value": float}))


def test_daily_dataset_path_equals_tidy_path(tmp_path):
    pytest.importorskip("xarray")
    f = _frame()
    ds = f.set_index(["time", "station", "pollutant"])["value"].to_xarray().to_dataset(dim="pollutant")
    a = write_china_sites_daily(ds, tmp_path / "a")
    b = write_china_sites_daily(f, tmp_path / "b")
    names = ["china_sites_20230322.csv", "china_sites_20230323.csv"]
    assert [p.name for p in a] == [p.name for p in b] == names
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    r = read_china_sites(a[0])
    assert r.meta["rows_rejected"] == 0 and r.meta["rows_in"] == 24 * 15
