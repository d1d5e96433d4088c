"""The built site: download files against the stored figures, escaping, offline assets, atomic switch."""

from __future__ import annotations

import json

import folium
import pandas as pd
import pytest
import sqlalchemy as sa

from .conftest import DAY, EVIL, WATER, iaqi_pm25_2026


def _stored(engine, indicator: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT entity, value FROM daily_stat WHERE entity_kind='city' AND date=:d "
                                   "AND indicator=:i"), conn, params={"d": DAY, "i": indicator})


def test_pages_and_files_exist(built_site):
    root, public = built_site
    assert public.is_symlink() and public.resolve().parent == root / "releases"
    names = {p.name for p in public.iterdir()}
    assert {"index.html", "time.html", "water.html", "table.html", "downloads.html", "assets", "data"} <= names
    assert len([n for n in names if n.startswith("division-")]) == 14
    manifest = json.loads((public / "data" / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        assert (public / f).is_file()
    down = (public / "downloads.html").read_text(encoding="utf-8")
    assert all(f'href="{f}"' in down for f in manifest["files"])


def test_latest_download_matches_the_store(built_site, site_store):
    engine, _, _ = site_store
    _, public = built_site
    csv = pd.read_csv(public / "data" / "city_aqi_latest.csv", dtype={"city_code": str})
    stored = _stored(engine, "aqi").set_index("entity")["value"]
    assert len(csv) == 14
    assert (csv.set_index("city_code")["aqi"] == stored.reindex(csv["city_code"]).to_numpy()).all()
    lz = csv.set_index("city_code").loc["620100"]
    assert lz["aqi"] == iaqi_pm25_2026(80.0) == 119
    assert (lz["category_zh"], lz["colour"].upper(), lz["primary_pollutants"]) == ("轻度污染", "#FF7E00", "PM2.5")
    pm = _stored(engine, "pm25_24h").set_index("entity")["value"]
    details = pd.read_csv(public / "data" / "city_latest_details.csv", dtype={"city_code": str})
    assert details.set_index("city_code")["pm25_24h"].sort_index().tolist() == pm.sort_index().tolist()
    # the contract file of the site data (docs/quality.md, site_data) keeps its exact columns
    assert list(csv.columns) == ["city_code", "name_zh", "name_en", "lat", "lon", "date", "aqi", "level",
                                 "category_zh", "category_en", "colour", "primary_pollutants", "standard"]
    geo = json.loads((public / "data" / "city_aqi_latest.geojson").read_text(encoding="utf-8"))
    f = next(x for x in geo["features"] if x["properties"]["city_code"] == "620100")
    assert f["properties"]["aqi"] == 119 and f["geometry"]["coordinates"] == [103.8343, 36.0611]


def test_ytd_and_daily_downloads_match_the_store(built_site, site_store):
    engine, _, _ = site_store
    _, public = built_site
    ytd = pd.read_csv(public / "data" / "city_ytd.csv", dtype={"city_code": str}).set_index("city_code")
    assert ytd.loc["620100", "good_ratio"] == 80.0 and ytd.loc["620100", "good_ratio_prev"] == 85.0
    assert ytd.loc["620000", "pm25_mean"] == 40.0
    assert ytd.loc["620100", "pm25_mean_change_pct"] == pytest.approx(100 * (40 - 50) / 50)
    daily = pd.read_csv(public / "data" / "city_daily_aqi.csv", dtype={"city_code": str})
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM daily_stat WHERE indicator='aqi'")).scalar()
    assert len(daily) == n
    water = pd.read_csv(public / "data" / "water_sources_latest.csv")
    assert sorted(water["id"]) == sorted(WATER["id"])
    monthly = pd.read_csv(public / "data" / "city_monthly.csv", dtype={"city_code": str})
    lz = monthly[(monthly["city_code"] == "620100") & (monthly["year"] == 2026)].iloc[0]
    aqi = daily[(daily["city_code"] == "620100") & daily["date"].str.startswith("2026-03")]["aqi"]
    assert lz["good_ratio"] == pytest.approx(100 * (aqi <= 100).sum() / aqi.notna().sum())


def test_data_text_is_escaped_everywhere(built_site):
    _, public = built_site
    seen = 0
    for page in public.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert EVIL not in text and "<script>alert" not in text and "<img src=x" not in text, page.name
        # the Jinja expression in the name was not evaluated by folium's second rendering pass
        seen += text.replace("\\u0026", "&").count("&#123;&#123;7*7&#125;&#125;")
    assert seen >= 2  # province page (station popup) and the division page's station table


def test_nothing_from_the_operator_side_is_public(built_site):
    root, public = built_site
    for f in public.rglob("*"):
        assert "operator" not in f.parts and "data_docs" not in f.name and "quarantine" not in f.name
        if f.suffix in (".html", ".csv", ".json", ".geojson"):
            text = f.read_text(encoding="utf-8")
            assert str(root) not in text and "/tmp/" not in text and "hand-made" not in text, f


def test_offsite_check_and_per_instance_assets(built_site):
    from envquality.site.assets import LEAFLET, localize, offsite_urls

    _, public = built_site
    for page in public.glob("*.html"):
        assert offsite_urls(page.read_text(encoding="utf-8")) == [], page.name
    before = list(folium.Map.default_js)
    m = folium.Map(tiles=None)
    localize(m, LEAFLET)
    assert folium.Map.default_js == before  # the class-wide list is untouched
    assert offsite_urls(folium.Map(tiles=None).get_root().render())  # a plain folium map would go online
    assert not [u for u in offsite_urls(m.get_root().render())]
    for css in (public / "assets").rglob("*.css"):
        assert "//netdna" not in css.read_text(encoding="utf-8")
    versions = (public / "assets" / "vendor" / "VERSIONS.md").read_text(encoding="utf-8")
    for d in (public / "assets" / "vendor").iterdir():
        if d.is_dir():
            assert d.name.rsplit("-", 1)[0] in versions
            assert any(p.name.lower().startswith("licen") for p in d.iterdir()), d


def test_atomic_switch_prune_and_failures(site_store, tmp_path, monkeypatch):
    from envquality.quality.publish_guard import PublishBlocked
    from envquality.site import SiteConfig, build_site
    from envquality.site import mapbase
    from envquality.site.assets import OffsiteURLError
    from envquality.store import schema as S

    engine, reg, _ = site_store
    cfg = SiteConfig(registry=reg, gate=False, keep_releases=1)
    first = build_site(engine, DAY, site_root=tmp_path, config=cfg).resolve()
    second = build_site(engine, DAY, site_root=tmp_path, config=cfg).resolve()
    third = build_site(engine, DAY, site_root=tmp_path, config=cfg).resolve()
    assert (tmp_path / "public").resolve() == third and second.is_dir() and not first.exists()
    # a page that would load from another site: nothing switched, nothing left behind
    monkeypatch.setattr(mapbase, "tile_prefixes", lambda tiles: ())
    monkeypatch.setattr("envquality.site.mapbase.tile_prefixes", lambda tiles: ())
    import envquality.site as site_pkg

    monkeypatch.setattr(site_pkg, "_guard", lambda *a: None)
    with pytest.raises(OffsiteURLError):
        build_site(engine, DAY, site_root=tmp_path, config=SiteConfig(registry=reg, tiles="osm", gate=True))
    assert (tmp_path / "public").resolve() == third
    assert not list((tmp_path / "releases").glob(".*.partial"))
    monkeypatch.undo()
    # a critical stored ingest of the day blocks the publish (before the site_data suite runs)
    t = pd.Timestamp(DAY).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=12)
    with engine.begin() as conn:
        iid = conn.execute(S.ingest_log.insert().values(source="test", file_or_url="bad.csv", status="ok",
                                                         started_at=S.utcnow(), gate_status="critical",
                                                         period_start=t, period_end=t)
                           .returning(S.ingest_log.c.id)).scalar_one()
    try:
        monkeypatch.setenv("ENVQUALITY_ALERTS_DIR", str(tmp_path / "alerts"))
        with pytest.raises(PublishBlocked):
            build_site(engine, DAY, site_root=tmp_path, config=SiteConfig(registry=reg, gate=True))
        assert (tmp_path / "public").resolve() == third
        assert list((tmp_path / "alerts").glob("*.json"))
    finally:
        with engine.begin() as conn:
            conn.execute(S.ingest_log.delete().where(S.ingest_log.c.id == iid))


def test_progress_panel_and_good_days_needed(built_site):
    from envquality.site.province import progress_panel

    _, public = built_site
    index = (public / "index.html").read_text(encoding="utf-8")
    assert "优良天数比例" in index and "on track" in index
    lz = (public / "division-620100.html").read_text(encoding="utf-8")
    assert "尚需优良天 210 天" in lz
    assert "not available" in progress_panel(None)
    ytd = pd.read_csv(public / "data" / "target_progress.csv", dtype={"city_code": str})
    assert set(ytd["city_code"]) == {"620000", "620100"}


def test_choropleth_with_a_configured_boundary(site_store, tmp_path):
    from envquality.site import SiteConfig, build_site

    engine, reg, _ = site_store
    feats = [{"type": "Feature", "properties": {"adcode": int(r.code)}, "geometry": {"type": "Polygon", "coordinates": [[
        [r.lon - .3, r.lat - .3], [r.lon + .3, r.lat - .3], [r.lon + .3, r.lat + .3], [r.lon - .3, r.lat - .3]]]}}
        for r in reg.cities.itertuples()]
    b = tmp_path / "boundary.geojson"
    b.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    public = build_site(engine, DAY, site_root=tmp_path / "s", config=SiteConfig(registry=reg, gate=False,
                                                                                 boundary_path=b))
    index = (public / "index.html").read_text(encoding="utf-8")
    assert index.count('"Polygon"') == 3 * 14  # good-day ratio, PM2.5 and PM10 layers
    assert EVIL not in index


def test_tile_configuration(monkeypatch):
    import datetime as dt

    from envquality.site import TIANDITU_KEY_ENV
    from envquality.site.assets import offsite_urls
    from envquality.site.chrome import PageInfo
    from envquality.site.mapbase import finish, new_map, tile_prefixes

    info = PageInfo(DAY, dt.datetime.now(dt.timezone.utc), False)
    osm = finish(new_map(info, current="index.html", tiles="osm"))
    assert offsite_urls(osm) and offsite_urls(osm, tile_prefixes("osm")) == []
    assert "openstreetmap.org/copyright" in osm  # attribution
    tdt = finish(new_map(info, current="index.html", tiles="tianditu", tianditu_key="KEY123"))
    assert "tianditu.gov.cn/vec_w" in tdt and "tianditu.gov.cn/cva_w" in tdt and "tk=KEY123" in tdt
    assert offsite_urls(tdt, tile_prefixes("tianditu")) == []
    assert offsite_urls(finish(new_map(info, current="index.html"))) == []  # none: nothing leaves the site
    with pytest.raises(ValueError, match=TIANDITU_KEY_ENV):
        new_map(info, current="index.html", tiles="tianditu", tianditu_key=None)
