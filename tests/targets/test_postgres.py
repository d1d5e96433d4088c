"""The store reads of targets and reports on PostgreSQL (a private schema, dropped afterwards)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from envquality.reports import monthly_report
from envquality.store import make_engine, upgrade_to_head
from envquality.targets import progress_from_daily, progress_table

from . import store_daily, synthetic_daily

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url):
    schema = f"eqt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(pg_url, schema=schema)
    try:
        upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def test_progress_and_ranking_on_postgres(pg_store):
    frame = synthetic_daily("2025-01-01", "2026-06-30", seed=5)
    store_daily(pg_store, frame)
    day = pd.Timestamp("2026-06-30").date()
    a = progress_table(pg_store, day)
    b = progress_from_daily(frame, day)
    cols = ["value_so_far", "value_so_far_dust_excluded", "good_days_needed", "needed_rest_of_year", "status"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    got = monthly_report(pg_store, "2026-06").table("ytd")
    want = monthly_report(frame, "2026-06").table("ytd")
    pd.testing.assert_frame_equal(got, want)
