"""The registry is mirrored into the store's city and station tables, idempotently."""

from __future__ import annotations

import sqlalchemy as sa

from envquality.registry import default_registry
from envquality.store.registry_sync import sync_registry


def test_sync_registry_mirrors_cities_and_stations(store):
    assert sync_registry(store) == (14, 44)
    assert sync_registry(store) == (14, 44)  # re-run: same rows, no duplicates
    with store.connect() as c:
        n_city = c.execute(sa.text("SELECT count(*) FROM city")).scalar()
        n_st = c.execute(sa.text("SELECT count(*) FROM station")).scalar()
        row = c.execute(sa.text("SELECT city_code, assessment, retired_on FROM station WHERE code = '1475A'")).one()
        lanzhou_new_area = c.execute(sa.text("SELECT assessment FROM station WHERE code = '3245A'")).scalar()
    assert (n_city, n_st) == (14, len(default_registry().stations))
    assert row[0] == "620100" and not row[1] and str(row[2]) == "2018-11-15"  # 职工医院, retired
    assert not lanzhou_new_area  # 兰州新区 is published as its own area
