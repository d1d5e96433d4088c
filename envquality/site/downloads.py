"""The data files behind the pages: CSV and GeoJSON (WGS84 points), written from the frames the pages draw."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from envquality.site.figures import DAILY_INDICATORS, PROVINCE_CODE, SiteFigures

__all__ = ["write_downloads", "datasets"]

PROVINCE_POINT = (36.0611, 103.8343)  # the provincial capital stands for the province in point files


def _with_coords(df: pd.DataFrame, figs: SiteFigures, key: str = "city_code") -> pd.DataFrame:
    if "lat" in df and "lon" in df:
        return df
    c = figs.cities.set_index("code")[["lat", "lon"]]
    out = df.join(c, on=key)
    prov = out[key].astype(str) == PROVINCE_CODE
    out.loc[prov, "lat"], out.loc[prov, "lon"] = PROVINCE_POINT
    return out


def datasets(figs: SiteFigures, progress: pd.DataFrame | None) -> dict[str, tuple[pd.DataFrame, str, str]]:
    """Name -> (frame, description zh, description en) of every figure the pages show."""
    lat = figs.latest
    latest_cols = ["city_code", "name_zh", "name_en", "lat", "lon", "date", "aqi", "level", "category_zh",
                   "category_en", "colour", "primary_pollutants", *DAILY_INDICATORS, "capture_stations",
                   "assessment_stations", "ruleset"]
    from envquality.site import site_data_table

    out = {
        "city_aqi_latest": (site_data_table(figs), "各市州最新日 AQI（站点数据约定 site_data）",
                            "Latest daily AQI by division (site_data contract)"),
        "city_latest_details": (lat.loc[:, [c for c in latest_cols if c in lat]],
                                "各市州最新日 AQI、浓度与数据捕获（总览图弹窗）",
                                "Latest daily AQI, concentrations and data capture by division (overview popups)"),
        "city_daily_aqi": (figs.daily.loc[:, [c for c in ["city_code", "date", "aqi", "level", "category_zh",
                                                           "category_en", "colour", *DAILY_INDICATORS, "ruleset"]
                                               if c in figs.daily]],
                           "逐日 AQI 与浓度（日历、逐日回放）", "Daily AQI and concentrations (calendar, day slider)"),
        "city_ytd": (figs.ytd, "年初至今优良比例与 PM（同比）", "Year-to-date good-day ratio and PM (vs last year)"),
        "city_monthly": (figs.monthly, "月优良比例与 PM 月均", "Monthly good-day ratio and PM means"),
        "stations_latest": (figs.stations.drop(columns=["raw_name", "source", "list_flag"], errors="ignore"),
                            "监测站点最新小时值", "Stations: latest hourly values"),
    }
    if len(figs.water_sources):
        out["water_sources_latest"] = (figs.water_sources.drop(columns=["computed_at"], errors="ignore"),
                                       "饮用水水源地最新类别", "Drinking-water sources: latest class")
    if len(figs.water_compliance):
        out["water_compliance"] = (figs.water_compliance, "水源地达标率（按市州）", "Source compliance by division")
    if progress is not None and len(progress):
        out["target_progress"] = (progress.rename(columns={"entity_code": "city_code"}), "目标进度",
                                  "Target progress")
    return out


def _geojson(df: pd.DataFrame) -> dict:
    props = df.drop(columns=["lat", "lon"])
    for c in props.columns:
        if pd.api.types.is_datetime64_any_dtype(props[c]):
            props[c] = props[c].astype(str).mask(props[c].isna())  # NaT -> null
    recs = json.loads(props.to_json(orient="records", date_format="iso", force_ascii=False))
    lat, lon = df["lat"].to_numpy(float), df["lon"].to_numpy(float)
    feats = [{"type": "Feature",
              "geometry": None if np.isnan(lat[i]) or np.isnan(lon[i]) else
              {"type": "Point", "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)]},
              "properties": rec} for i, rec in enumerate(recs)]
    return {"type": "FeatureCollection", "features": feats}


def write_downloads(folder: Path, figs: SiteFigures, progress: pd.DataFrame | None) -> list[tuple[str, str, str]]:
    """Write ``data/<name>.csv`` and ``.geojson`` for every dataset; returns (relative path, zh, en) rows."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    listed = []
    for name, (df, zh, en) in datasets(figs, progress).items():
        frame = df.reset_index(drop=True)
        frame.to_csv(data / f"{name}.csv", index=False, date_format="%Y-%m-%d", encoding="utf-8")
        key = "city_code" if "city_code" in frame else None
        geo = _with_coords(frame, figs, key) if key else frame
        if "lat" in geo and "lon" in geo:
            (data / f"{name}.geojson").write_text(json.dumps(_geojson(geo), ensure_ascii=False, default=str),
                                                  encoding="utf-8")
            listed.append((f"data/{name}.geojson", zh + "（GeoJSON）", en + " (GeoJSON)"))
        listed.append((f"data/{name}.csv", zh + "（CSV）", en + " (CSV)"))
    return sorted(listed, key=lambda t: t[0])
