"""Fixtures of the orchestration tests: an Airflow home per test session, envquality settings per test.

Airflow reads its configuration when first imported, so the environment is
set here, at collection, before any test imports ``airflow``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_HOME = Path(tempfile.mkdtemp(prefix="eq-airflow-test-"))
if "airflow" not in __import__("sys").modules:
    os.environ.update({
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    })


def eq_settings_env(tmp_path: Path, monkeypatch, **overrides) -> dict[str, str]:
    """Point every envquality setting at ``tmp_path`` (restored after the test)."""
    env = {
        "ENVQUALITY_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "ENVQUALITY_SITE_DIR": str(tmp_path / "site"),
        "ENVQUALITY_RAW_DIR": str(tmp_path / "raw"),
        "ENVQUALITY_STAGING_DIR": str(tmp_path / "staging"),
        "ENVQUALITY_ALERTS_DIR": str(tmp_path / "alerts"),
        "ENVQUALITY_DROP_DIR": str(tmp_path / "drop"),
        "ENVQUALITY_SOURCE": "simulate",
        "ENVQUALITY_WAIT_DEADLINE_HOURS": "0",
        "ENVQUALITY_SIMULATE_LAG_HOURS": "0",
        "ENVQUALITY_ALERT_TARGETS": "log",
        "ENVQUALITY_DATA_DOCS": "false",
    }
    env.update({f"ENVQUALITY_{k.upper()}": str(v) for k, v in overrides.items()})
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture(scope="session")
def airflow_dags():
    """Airflow's metadata DB migrated once; the parsed DAGs of ``dags/``."""
    pytest.importorskip("airflow")
    from envquality.orchestration import embedded

    embedded.migrate_metadata()
    return embedded.load_dags(REPO / "dags")


@pytest.fixture
def pg_store_url(pg_url):
    """A store URL on the test PostgreSQL server whose search_path is a private, fresh schema."""
    import sqlalchemy as sa

    from envquality.store import make_engine

    schema = f"eqa_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.engine.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        from envquality.orchestration import air

        for key in [k for k in air._ENGINES if schema in k]:
            air._ENGINES.pop(key).dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
