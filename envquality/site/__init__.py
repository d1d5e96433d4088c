"""The public map site: static pages built from the store, published atomically, usable offline.

:func:`build_site` reads the stored figures of a day, checks them with the
quality gate, writes every page, its data files and the vendored assets into
a new release folder, fails on any off-site URL other than the configured
tile layer, and switches ``<site_root>/public`` to the release in one rename
(docs/maps.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from envquality.registry import Registry
from envquality.quality.guard_day import Override

__all__ = ["build_site", "SiteConfig", "TIANDITU_KEY_ENV", "site_data_table"]

#: Environment variable holding the Tianditu key (never stored in the repository).
TIANDITU_KEY_ENV = "ENVQUALITY_TIANDITU_KEY"


@dataclass
class SiteConfig:
    """How the site is built.

    Attributes
    ----------
    tiles : {"none", "osm", "tianditu"}
        Base map.  ``none`` (default: offline, tests); ``osm`` for development
        (attribution shown; no bulk use); ``tianditu`` (key from
        ``ENVQUALITY_TIANDITU_KEY``; CGCS2000 ≈ WGS84, no shift).
    boundary_path : path, optional
        GeoJSON (WGS84) of the prefecture boundaries with a ``code``/``adcode``
        property; the year-to-date layers become choropleths.  Without it they
        are proportional symbols.  A map published in China needs an approved
        boundary (审图号) supplied by the bureau.
    registry : Registry, optional
        Divisions and stations (default: the packaged Gansu registry).
    audited_through : date, optional
        Last day whose data are audited; later days are labelled provisional.
    keep_releases : int
        Old releases kept besides the current one.
    gate : bool
        Run the publication guard (the day's stored data, ``site_data`` suite).
    override : Override, optional
        An operator's logged permission to publish ungated (``--no-gate``) data.
    """

    tiles: str = "none"
    boundary_path: str | Path | None = None
    registry: Registry | None = None
    audited_through: dt.date | None = None
    keep_releases: int = 3
    gate: bool = True
    override: Override | None = None

    def tianditu_key(self) -> str | None:
        return os.environ.get(TIANDITU_KEY_ENV) or None


def site_data_table(figs) -> pd.DataFrame:
    """The day's division table in the ``site_data`` contract (docs/quality.md): gated, and published as
    ``data/city_aqi_latest.csv``/``.geojson``.  Divisions without a valid AQI are left out (grey on the map)."""
    t = figs.latest
    table = pd.DataFrame({
        "city_code": t["city_code"].astype(str), "name_zh": t["name_zh"], "name_en": t["name_en"],
        "lat": t["lat"].astype(float), "lon": t["lon"].astype(float),
        "date": pd.Timestamp(figs.day).strftime("%Y-%m-%d"),
        "aqi": t["aqi"].astype(float), "level": t["level"].astype(int), "category_zh": t["category_zh"].astype(str),
        "category_en": t["category_en"].astype(str), "colour": t["colour"].astype(str),
        "primary_pollutants": t["primary_pollutants"].astype(str),
        "standard": t["ruleset"].fillna("").astype(str) if "ruleset" in t else "",
    })
    return table[table["aqi"].notna()].reset_index(drop=True)


def _guard(engine: sa.Engine, figs, day: dt.date, override=None) -> None:
    """The publication guard: the day's stored data (coverage, the gate outcome of every delivery,
    ungated deliveries, impossible values) and the ``site_data`` suite on the table to publish.

    ``override`` (:class:`envquality.quality.guard_day.Override`) lets ungated data through, logged.
    """
    from envquality.quality.gate import run_gate
    from envquality.quality.publish_guard import guard_publish, require_publishable

    require_publishable(engine, day, override=override)
    table = site_data_table(figs)
    guard_publish(run_gate(table, "site_data", file=f"city_aqi_{day:%Y%m%d}.csv", source="site", build_docs=False))


def build_site(engine: sa.Engine, day: dt.date, *, site_root: Path, progress: pd.DataFrame | None = None,
               config: SiteConfig | None = None) -> Path:
    """Build every page of ``day`` into a new release and switch ``<site_root>/public`` to it.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store (``daily_stat``, ``period_stat``, readings, water tables).
    day : date
        The data day (CST) the site shows.
    site_root : Path
        ``releases/`` and the ``public`` link live here.
    progress : DataFrame, optional
        :func:`envquality.targets.progress_table` output; without it the
        progress panels say that progress is not available.
    config : SiteConfig, optional

    Returns
    -------
    Path
        ``<site_root>/public`` (a link to the new release).

    Raises
    ------
    PublishBlocked
        The quality gate refused the day's data; the last good site stays.
    OffsiteURLError
        A page would load something from another site; nothing is switched.
    """
    from envquality.site import assets, release
    from envquality.site.chrome import PageInfo
    from envquality.site.downloads import write_downloads
    from envquality.site.figures import read_figures
    from envquality.site.mapbase import tile_prefixes
    from envquality.site.pages import division_page, downloads_page, table_page, water_page
    from envquality.site.province import province_page
    from envquality.site.timepage import time_page

    cfg = config or SiteConfig()
    site_root = Path(site_root)
    figs = read_figures(engine, day, registry=cfg.registry)
    if cfg.gate:
        _guard(engine, figs, day, cfg.override)
    boundary = json.loads(Path(cfg.boundary_path).read_text(encoding="utf-8")) if cfg.boundary_path else None
    info = PageInfo(day=day, built_at=dt.datetime.now(dt.timezone.utc),
                    audited=cfg.audited_through is not None and day <= cfg.audited_through)
    tiles, key = cfg.tiles, (cfg.tianditu_key() if cfg.tiles == "tianditu" else None)
    tmp, rid = release.new_release(site_root, day)
    try:
        assets.copy_assets(tmp)
        pages = {"index.html": province_page(figs, info, progress=progress, boundary=boundary, tiles=tiles,
                                             tianditu_key=key),
                 "time.html": time_page(figs, info, tiles=tiles, tianditu_key=key),
                 "water.html": water_page(figs, info, tiles=tiles, tianditu_key=key),
                 "table.html": table_page(figs, info)}
        for code in figs.cities["code"].astype(str):
            pages[f"division-{code}.html"] = division_page(figs, code, info, progress)
        files = write_downloads(tmp, figs, progress)
        pages["downloads.html"] = downloads_page(files, info)
        for name, html in pages.items():
            (tmp / name).write_text(html, encoding="utf-8")
        (tmp / "data" / "manifest.json").write_text(json.dumps(
            {"date": str(day), "release": rid, "built_at": info.built_at.isoformat(timespec="seconds"),
             "audited": info.audited, "pages": sorted(pages), "files": [f for f, _, _ in files]},
            ensure_ascii=False, indent=1), encoding="utf-8")
        assets.check_release(tmp, tile_prefixes(tiles))
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    public = release.switch(site_root, tmp, rid)
    release.prune(site_root, keep=cfg.keep_releases)
    return public
