"""Durable store: readings, statistics, quarantine, ingest log and raw archive.

SQLite by default (the demo's ``./var/demo/envquality.sqlite``), PostgreSQL for production;
see ``docs/storage.md``.

>>> from envquality.store import make_engine, upgrade_to_head   # doctest: +SKIP
>>> engine = make_engine()                                      # doctest: +SKIP
>>> upgrade_to_head(engine)                                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from envquality.store.engine import StoreNotReady, default_url, make_engine, open_store, resolve_url

__all__ = ["make_engine", "open_store", "default_url", "StoreNotReady", "resolve_url", "migrate", "upgrade_to_head", "alembic_config", "current_revision",
           "MIGRATIONS_DIR"]

#: Directory of the Alembic environment (``env.py``, ``versions/``).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | sa.URL | None = None, connection: sa.Connection | None = None):
    """An :class:`alembic.config.Config` built in code (no ``alembic.ini``).

    Parameters
    ----------
    url : str or sqlalchemy.URL, optional
        Database URL (used when no connection is given).
    connection : sqlalchemy.Connection, optional
        Connection the migrations run on.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", resolve_url(url).render_as_string(hide_password=False)
                            .replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(engine: sa.Engine) -> str:
    """Apply all migrations to ``engine`` (``alembic upgrade head``), under a lock.

    Concurrent callers on a new store are serialised (PostgreSQL advisory
    lock per schema, SQLite ``BEGIN IMMEDIATE``): one migrates, the others
    wait and then find the schema current.

    Returns
    -------
    str
        The revision the database is at afterwards.
    """
    from alembic import command

    with engine.connect() as conn:
        # concurrent first use: one process migrates, the others wait for it and find the schema current
        conn.execution_options(sqlite_immediate=True)  # SQLite: take the write lock up front
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :t, 0))"),
                             {"t": ":envquality-migrate"})
            command.upgrade(alembic_config(connection=conn), "head")
    revision = current_revision(engine)
    if revision is None:  # cannot happen after a successful upgrade; narrows the type
        raise RuntimeError("the store has no revision after `alembic upgrade head`")
    return revision


def migrate(url: str | sa.URL | None = None) -> str:
    """Upgrade the database at ``url`` (default: see :func:`resolve_url`) to the latest schema."""
    engine = make_engine(url)
    try:
        return upgrade_to_head(engine)
    finally:
        engine.dispose()


def current_revision(engine: sa.Engine) -> str | None:
    """Alembic revision of the database, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
