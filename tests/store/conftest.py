"""Fixtures of the store tests: a migrated store on each backend, and a factory of extra stores."""

from __future__ import annotations

from typing import Iterator

import pytest
import sqlalchemy as sa

from . import BACKENDS, new_store


def _pg_url_or_skip(request) -> str:
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path) -> Iterator[sa.Engine]:
    """A migrated store on each backend (PostgreSQL skipped without ENVQUALITY_TEST_PG_URL)."""
    url = _pg_url_or_skip(request) if request.param == "postgres" else None
    with new_store(request.param, tmp_path, url) as engine:
        yield engine


@pytest.fixture
def fresh_store(request, tmp_path):
    """Factory: ``with fresh_store(kind) as engine`` (extra stores in one test)."""
    def factory(kind: str, migrate: bool = True):
        url = _pg_url_or_skip(request) if kind == "postgres" else None
        return new_store(kind, tmp_path, url, migrate=migrate)
    return factory
