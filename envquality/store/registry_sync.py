"""Keep the store's ``city`` and ``station`` tables equal to the registry.

The registry (:mod:`envquality.registry`, package CSVs or a province's own)
is the source of truth; :func:`sync_registry` upserts it into the store so
that SQL users can join readings to names, coordinates and the assessment
flag.  Idempotent: re-running changes nothing.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from envquality.registry import Registry, default_registry
from envquality.store import schema as S
from envquality.store.engine import dialect_insert

__all__ = ["sync_registry"]


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = dialect_insert(conn, table)
    pk = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(index_elements=pk,
                                      set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk})
    conn.execute(stmt, rows)


def _none(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)) or (isinstance(v, str) and not v.strip()):
        return None
    return v


def _float_or_none(v: object) -> float | None:
    """A number, or None for a missing or non-numeric value."""
    x = _none(v)
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None


def _date(v):
    v = _none(v)
    return None if v is None else pd.Timestamp(v).date()


def sync_registry(engine: sa.Engine, registry: Registry | None = None) -> tuple[int, int]:
    """Upsert the registry's divisions and stations; returns (cities, stations)."""
    reg = registry or default_registry()
    cities = [{
        "code": str(r.code), "name": str(r.name_zh), "name_en": _none(r.name_en), "province": "甘肃省",
        "lat": _float_or_none(r.lat),
        "lon": _float_or_none(r.lon),
    } for r in reg.cities.itertuples(index=False)]
    stations = []
    for r in reg.stations.itertuples(index=False):
        stations.append({
            "code": str(r.code), "name": str(r.name), "raw_name": _none(r.raw_name),
            "city_code": str(r.city_code), "lon": _float_or_none(r.lon),
            "lat": _float_or_none(r.lat),
            "control_point": bool(str(r.control_point).lower() == "true"),
            "status": _none(r.status), "active_from": _date(r.active_from), "retired_on": _date(r.retired_on),
            "assessment": bool(str(r.assessment).lower() == "true"),
        })
    with engine.begin() as conn:
        _upsert(conn, S.city, cities)
        _upsert(conn, S.station, stations)
    return len(cities), len(stations)
