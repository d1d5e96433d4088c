"""Publish the public site's data files, atomically, only after a clean gate.

The public pages (maps, not built yet) read their figures from data files
under ``<site>/public/data``; this module writes them:

1. the publication guard decides from the stored data of the day
   (:func:`envquality.quality.publish_guard.require_publishable`: coverage,
   the gate outcome of every delivery touching the day, ungated deliveries,
   implausible values); a blocked day writes an alert and raises
   :class:`~envquality.quality.publish_guard.PublishBlocked`;
2. the day's city AQI table is built (registry names and coordinates, level,
   category, official colour) and validated by the ``site_data`` suite;
3. the files go to a new release folder and ``<site>/public/data`` — a
   symbolic link — is switched to it with one atomic rename, so a reader sees
   either the old release or the new one, never a half-written one; a
   blocked or failed run leaves the last good release online.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.registry import Registry, default_registry

if TYPE_CHECKING:
    import xarray as xr

    from envquality.quality.publish_guard import Override

__all__ = ["publish_site_data", "critical_ingests", "site_table", "KEEP_RELEASES"]

#: Releases kept besides the current one (for rollback and for readers still on them).
KEEP_RELEASES = 5


def critical_ingests(engine: sa.Engine, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Successful ingests whose logged period overlaps [start, end] and whose gate outcome was critical.

    Metadata only (an ingest without a period never matches): the publisher
    uses :func:`envquality.quality.publish_guard.check_day`, which reads the
    day's data; this remains for reports.
    """
    from envquality.store import schema as S

    L = S.ingest_log.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(L.id, L.source, L.file_or_url, L.gate_findings)
            .where(L.status == "ok", L.gate_status == "critical", L.period_start <= end, L.period_end >= start)
            .order_by(L.id)
        ).mappings().all()
    return [dict(r) for r in rows]


def site_table(aqi: xr.Dataset, day: str | dt.date, registry: Registry | None = None) -> pd.DataFrame:
    """The day's city AQI rows of the site-data contract (docs/quality.md, ``site_data``)."""
    reg = registry or default_registry()
    d = pd.Timestamp(day)
    one = aqi.sel(date=d)
    cities = reg.cities.set_index(reg.cities["code"].astype(str))
    codes = [str(c) for c in one["city"].values]
    return pd.DataFrame({
        "city_code": codes,
        "name_zh": cities.loc[codes, "name_zh"].to_numpy(),
        "name_en": cities.loc[codes, "name_en"].to_numpy(),
        "lat": cities.loc[codes, "lat"].astype(float).to_numpy(),
        "lon": cities.loc[codes, "lon"].astype(float).to_numpy(),
        "date": d.strftime("%Y-%m-%d"),
        "aqi": one["aqi"].values.astype(float),
        "level": one["level"].values.astype(int),
        "category_zh": one["category_zh"].values.astype(str),
        "category_en": one["category_en"].values.astype(str),
        "colour": one["colour"].values.astype(str),
        "primary_pollutants": one["primary_pollutants"].values.astype(str),
        "standard": str(np.asarray(one["standard"].values)),
    })


def _geojson(table: pd.DataFrame) -> dict:
    feats = []
    for rec in table.replace({np.nan: None}).to_dict(orient="records"):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]},
                      "properties": {k: v for k, v in rec.items() if k not in ("lat", "lon")}})
    return {"type": "FeatureCollection", "features": feats}


def publish_site_data(engine: sa.Engine, aqi: xr.Dataset, day: str | dt.date, *,
                      site_dir: str | Path | None = None, registry: Registry | None = None,
                      override: Override | None = None) -> Path:
    """Guard, gate, write and atomically switch the public data files for ``day``; returns the data folder.

    ``override`` (an operator's name and reason) lets a day holding ungated
    (``--no-gate``) data through; it is logged and recorded in the alerts
    folder.  Nothing else can lift the guard.

    Raises
    ------
    PublishBlocked
        The publication guard refused the day (its ``decision`` lists the
        reasons), or the site table failed a critical expectation.  Nothing
        public changes.
    """
    from envquality.quality.gate import run_gate, site_dir as default_site
    from envquality.quality.publish_guard import guard_publish, require_publishable

    d = pd.Timestamp(day)
    require_publishable(engine, d.date(), override=override)
    table = site_table(aqi, d, registry)
    guard_publish(run_gate(table, "site_data", file=f"city_aqi_{d:%Y%m%d}.csv", source="site", build_docs=False))

    public = Path(site_dir) if site_dir is not None else default_site() / "public"
    releases = public / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    rid = f"{d:%Y%m%d}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tmp = releases / f".{rid}.partial"
    tmp.mkdir()
    table.to_csv(tmp / "city_aqi_latest.csv", index=False)
    (tmp / "city_aqi_latest.geojson").write_text(json.dumps(_geojson(table), ensure_ascii=False), encoding="utf-8")
    (tmp / "manifest.json").write_text(json.dumps({"date": str(d.date()), "release": rid,
                                                   "files": ["city_aqi_latest.csv", "city_aqi_latest.geojson"]},
                                                  ensure_ascii=False), encoding="utf-8")
    final = releases / rid
    tmp.rename(final)  # the release is complete before anything points at it
    link = public / "data"
    staging_link = public / f".data-{uuid.uuid4().hex[:6]}"
    os.symlink(Path("releases") / rid, staging_link)
    os.replace(staging_link, link)  # atomic switch (rename(2) over the old link)
    _prune(releases, keep={rid})
    return link


def _prune(releases: Path, keep: set[str]) -> None:
    done = sorted((p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime)
    for old in done[:-(KEEP_RELEASES + 1)]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
