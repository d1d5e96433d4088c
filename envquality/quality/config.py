"""The one configuration file of data-quality thresholds, and the parameters it yields.

``thresholds.yaml`` (package data, next to this module) holds every range,
completeness share and tolerance of the gate, each with its source.  The
Great Expectations suites in ``expectations/`` reference the values as suite
parameters (``{"$PARAMETER": "pm10_max"}``); :func:`expectation_parameters`
builds that mapping, plus the registry code lists, for one run.  The gate's
derived columns (:mod:`envquality.quality.gate`) read the same object.

Set env ``ENVQUALITY_QUALITY_CONFIG`` to use another YAML file of the same
layout; keys it lacks keep the packaged defaults.

>>> cfg = load_thresholds()
>>> cfg["hourly"]["ranges"]["pm10"]["max"], cfg["hourly"]["completeness"]["station_min"]
(10000, 0.8333)
>>> p = expectation_parameters("hourly_readings", cfg)
>>> p["pm10_max"], "1476A" in p["known_stations"], "620100" in p["known_cities"]
(10000.0, True, True)
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from envquality.model import DAILY_POLLUTANTS, HOURLY_POLLUTANTS, PUBLISHED_HOURLY

__all__ = ["load_thresholds", "expectation_parameters", "CONFIG_ENV", "SUITES"]

#: Environment variable naming an alternative thresholds file.
CONFIG_ENV = "ENVQUALITY_QUALITY_CONFIG"

#: Suites of the gate (one validation definition and one checkpoint each).
SUITES: tuple[str, ...] = ("hourly_readings", "daily_city", "daily_values", "water_samples", "site_data")


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@lru_cache(maxsize=8)
def _load(path: str | None) -> dict:
    text = resources.files("envquality.quality").joinpath("thresholds.yaml").read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    if path:
        cfg = _merge(cfg, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    return cfg


def load_thresholds(path: str | Path | None = None) -> dict[str, Any]:
    """The thresholds (a fresh copy): packaged defaults, overlaid by ``path`` or env :data:`CONFIG_ENV`."""
    p = path or os.environ.get(CONFIG_ENV) or None
    return copy.deepcopy(_load(str(p) if p else None))


@lru_cache(maxsize=1)
def _registry_codes() -> tuple[list[str], list[str]]:
    from envquality.registry import default_registry

    reg = default_registry()
    cities = sorted(reg.cities["code"].astype(str))
    stations = reg.known_station_ids()  # current codes and historical stations (docs/registry.md)
    return stations, cities


def expectation_parameters(suite: str, cfg: dict | None = None) -> dict[str, Any]:
    """Suite parameters of ``suite`` (values for the ``$PARAMETER`` references of its JSON).

    Station and city codes come from :func:`envquality.registry.default_registry`
    (city-level series use the city's admin code as ``station``, so the known
    station set includes the city codes).
    """
    cfg = cfg or load_thresholds()
    stations, cities = _registry_codes()
    if suite == "hourly_readings":
        h = cfg["hourly"]
        p: dict[str, Any] = {}
        for pol, r in h["ranges"].items():
            p[f"{pol}_min"] = float(r["min"])
            p[f"{pol}_max"] = float(r["max"])
        c = h["completeness"]
        p.update(
            station_completeness_min=float(c["station_min"]),
            hour_completeness_min=float(c["hour_min"]),
            batch_completeness_critical_min=float(c["batch_critical_min"]),
            value_not_null_min=float(c["value_not_null_min"]),
            mostly_key=float(h["mostly"]["key"]),
            mostly_range=float(h["mostly"]["range"]),
            mostly_registry=float(h["mostly"]["registry"]),
            known_stations=stations + cities,
            known_cities=cities,
            known_pollutants=list(HOURLY_POLLUTANTS + PUBLISHED_HOURLY),
        )
        return p
    if suite == "daily_city":
        d = cfg["daily_city"]
        return {"aqi_min": float(d["aqi"]["min"]), "aqi_max": float(d["aqi"]["max"]),
                "valid_day_share_min": float(d["valid_day_share_min"]),
                "aqi_not_null_min": float(d["aqi_not_null_min"]),
                "known_cities": cities, "expected_cities": cities}
    if suite == "daily_values":
        m = cfg["hourly"]["mostly"]
        return {"known_cities": cities, "mostly_key": float(m["key"]), "mostly_range": float(m["range"]),
                "mostly_registry": float(m["registry"]),
                "known_pollutants": sorted(set(DAILY_POLLUTANTS) | {"aqi"})}
    if suite == "water_samples":
        w = cfg["water"]
        return {"known_parameters": sorted(w["parameters"]), "qualifiers": [str(q) for q in w["qualifiers"]]}
    if suite == "site_data":
        s = cfg["site"]
        return {"lat_min": float(s["lat"]["min"]), "lat_max": float(s["lat"]["max"]),
                "lon_min": float(s["lon"]["min"]), "lon_max": float(s["lon"]["max"]),
                "aqi_min": float(s["aqi"]["min"]), "aqi_max": float(s["aqi"]["max"]),
                "known_cities": cities, "expected_cities": cities}
    raise KeyError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")
