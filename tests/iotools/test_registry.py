"""Registry: divisions, aliases, station status parsing, station resolution."""

from __future__ import annotations

import pandas as pd
import pytest

from envquality import registry
from envquality.registry import (
    Registry, build_stations, city_code, clean_station_name, load_cities, load_stations,
    resolve_station,
)

STATION_LIST = "cnemc_station_list/站点列表-2022.02.13起_甘肃省子集.csv"


def test_cities_table():
    c = load_cities()
    assert len(c) == 14 and c["code"].is_unique
    assert c["code"].str.fullmatch(r"62\d{4}").all()
    assert c["lat"].between(32, 41).all() and c["lon"].between(92, 109).all()
    assert c.set_index("code").loc["622900", "name_short"] == "临夏州"
    assert c.set_index("code").loc["620100", "extra_areas"] == "兰州新区"


@pytest.mark.parametrize("name, code", [
    ("兰州", "620100"), ("兰州市", "620100"), ("Lanzhou", "620100"), ("LANZHOU", "620100"),
    ("620100", "620100"), (620100, "620100"), (" 兰州 ", "620100"),
    ("临夏州", "622900"), ("临夏回族自治州", "622900"), ("临夏", "622900"), ("Linxia", "622900"),
    ("甘南州", "623000"), ("甘南藏族自治州", "623000"), ("Gannan", "623000"),
    ("嘉峪关", "620200"), ("陇南市", "621200"), ("兰州新区", "620100"),
])
def test_city_code_aliases(name, code):
    assert city_code(name) == code


def test_city_code_unknown_lists_close_matches():
    with pytest.raises(KeyError, match="兰州 \\(620100\\)"):
        city_code("兰洲")
    with pytest.raises(KeyError, match="unknown city '北京'"):
        city_code("北京")


@pytest.mark.parametrize("raw, name, status, active_from, retired_on, control", [
    ("职工医院（20181115停运）", "职工医院", "retired", None, "2018-11-15", False),
    ("市科委(停运180727)", "市科委", "retired", None, "2018-07-27", False),
    ("雷台(190211停运)", "雷台", "retired", None, "2019-02-11", False),
    ("教育港（20181115启用）", "教育港", "active", "2018-11-15", None, False),
    ("榆中兰大校区(对照点)", "榆中兰大校区", "active", None, None, True),
    ("麦积山（对照点）", "麦积山", "active", None, None, True),
    ("  兰炼宾馆 ", "兰炼宾馆", "active", None, None, False),
])
def test_clean_station_name(raw, name, status, active_from, retired_on, control):
    clean, info = clean_station_name(raw)
    assert clean == name
    assert (info["status"], info["active_from"], info["retired_on"], info["control_point"]) == (
        status, active_from, retired_on, control)


def test_clean_station_name_keeps_unknown_brackets():
    clean, info = clean_station_name("某站(北区)")
    assert clean == "某站(北区)" and info["notes"] == ["(北区)"]
    _, info = clean_station_name("某站(20181399停运)")
    assert info["status"] == "retired" and info["retired_on"] is None and info["notes"]


def test_stations_table():
    st = load_stations().set_index("code")
    assert len(st) == 44
    assert st.loc["1942A", "retired_on"] == pd.Timestamp("2018-07-27")
    assert st.loc["1475A", "status"] == "retired" and not st.loc["1475A", "assessment"]
    assert st.loc["1477A", "control_point"] and not st.loc["1477A", "assessment"]
    assert not st.loc["1942A", "control_point"]  # list flag Y, but retired, not a control point
    assert st.loc["3245A", "area"] == "兰州新区" and st.loc["3245A", "city_code"] == "620100"
    assert not st.loc["3245A", "assessment"]
    assert pd.isna(st.loc["2666A", "lon"]) and st.loc["2666A", "assessment"]
    assert st.loc["2667A", "area"] == "临夏回族自治州"
    assert int(st["assessment"].sum()) == 35
    # every division has at least one assessment station
    assert set(st.loc[st["assessment"], "city_code"]) == set(load_cities()["code"])


@pytest.mark.parametrize("city, name, code", [
    ("兰州", "职工医院（20181115停运）", "1475A"), ("兰州市", "职工医院", "1475A"),
    ("Lanzhou", "教育港（20181115启用）", "3186A"), ("兰州", "榆中兰大校区", "1477A"),
    ("兰州新区", "新区管委会", "3245A"), ("兰州", "新区管委会", "3245A"),
    ("临夏回族自治州", "环保局", "2667A"), ("庆阳", "区环保局(对照点)", "2660A"),
    ("白银", "豫源饭店", "620400:豫源饭店"), ("北京", "兰炼宾馆", None), ("天水", "兰炼宾馆", None),
])
def test_resolve_station(city, name, code):
    assert resolve_station(city, name) == code


def test_registry_from_other_csv(tmp_path):
    cities = tmp_path / "c.csv"
    cities.write_text("code,name_zh,name_short,name_en,cnemc_name,seat_zh,seat_code,lat,lon,aliases\n"
                      "110000,北京市,北京,Beijing,北京市,东城区,110101,39.9,116.4,北京|Peking\n",
                      encoding="utf-8")
    stations = tmp_path / "s.csv"
    build_stations(pd.DataFrame({"监测点编码": ["1001A"], "监测点名称": ["万寿西宫"], "城市": ["北京"],
                                 "经度": ["116.366"], "纬度": ["39.8673"], "对照点": ["N"]}),
                   Registry(load_cities(cities), pd.DataFrame(columns=list(registry.STATION_COLUMNS))),
                   ).to_csv(stations, index=False)
    reg = Registry.from_csv(cities, stations)
    assert reg.city_code("peking") == "110000"
    assert reg.resolve_station("北京市", "万寿西宫") == "1001A"
    with pytest.raises(KeyError):
        reg.city_code("兰州")


def test_package_stations_match_source(realdata):
    built = build_stations(realdata / STATION_LIST)
    shipped = pd.read_csv(registry._package_file("gansu_stations.csv").open(encoding="utf-8"),
                          dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(built.astype(str).reset_index(drop=True), shipped.astype(str))


def test_live_feed_areas_resolve(realdata):
    raw = pd.read_csv(realdata / "cnemc_live_HeQinWill/Archive/2023-03-22/2023-03-22T12.gansu_rows.csv", dtype=str)
    st = load_stations().set_index("code")
    for r in raw.itertuples():
        assert resolve_station(r.area, r.positionname) == r.stationcode
        assert st.loc[r.stationcode, "lon"] == pytest.approx(float(r.longitude))
