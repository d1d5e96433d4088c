"""Shared fixtures: paths to the real public samples and to the PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No timing in tests: Hypothesis' per-example deadline (200 ms by default) fails
# correct code on a busy machine, so it is off for every property test.
settings.register_profile("envquality", deadline=None, database=None)
settings.load_profile("envquality")

REPO = Path(__file__).resolve().parents[1]
#: Real public data laid beside the repository (../shared/realdata).
REALDATA = Path(os.environ.get("ENVQUALITY_REALDATA", REPO.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Directory of ../shared/realdata; skips the test where it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data not found at {REALDATA} (set ENVQUALITY_REALDATA)")
    return REALDATA


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of a real PostgreSQL server from ENVQUALITY_TEST_PG_URL, else skip."""
    url = os.environ.get("ENVQUALITY_TEST_PG_URL")
    if not url:
        pytest.skip("ENVQUALITY_TEST_PG_URL is not set (.ci/run sets it); PostgreSQL tests skipped")
    return url
