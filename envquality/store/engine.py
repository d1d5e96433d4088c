"""Engine construction for the store: SQLite (default) or PostgreSQL.

The URL comes from the argument, else ``ENVQUALITY_DB_URL``, else the SQLite
file ``./var/envquality.sqlite``.  Credentials belong in the environment (or
``~/.pgpass`` / ``PGPASSWORD``), never in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_URL", "make_engine", "resolve_url", "is_sqlite", "is_postgres", "dialect_insert",
           "driver_connection"]

#: Used when neither an argument nor ``ENVQUALITY_DB_URL`` names a database.
DEFAULT_URL = "sqlite:///var/envquality.sqlite"

#: Seconds a SQLite writer waits for the lock held by another writer.
SQLITE_BUSY_TIMEOUT_S = 60


def resolve_url(url: str | sa.URL | None = None) -> sa.URL:
    """The database URL to use: argument, ``ENVQUALITY_DB_URL`` or :data:`DEFAULT_URL`.

    ``postgresql://`` and ``postgres://`` URLs are mapped to the psycopg 3
    driver (``postgresql+psycopg://``).
    """
    raw = url if url is not None else os.environ.get("ENVQUALITY_DB_URL") or DEFAULT_URL
    u = make_url(raw)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def is_sqlite(bind) -> bool:
    """True for an Engine/Connection on SQLite."""
    return bind.dialect.name == "sqlite"


def is_postgres(bind) -> bool:
    """True for an Engine/Connection on PostgreSQL."""
    return bind.dialect.name == "postgresql"


def dialect_insert(bind: sa.Engine | sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` into ``table`` with the backend's ``ON CONFLICT`` clauses (PostgreSQL or SQLite)."""
    return postgresql.insert(table) if is_postgres(bind) else sqlite.insert(table)


def driver_connection(conn: sa.Connection) -> Any:
    """The DB-API connection under ``conn`` (psycopg or sqlite3), for COPY and executemany."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection is closed")
    return raw


def make_engine(url: str | sa.URL | None = None, *, schema: str | None = None, echo: bool = False,
                **kwargs) -> sa.Engine:
    """Create an engine for the store.

    Parameters
    ----------
    url : str or sqlalchemy.URL, optional
        Database URL; see :func:`resolve_url`.
    schema : str, optional
        PostgreSQL only: schema put first on ``search_path`` of every
        connection (tests use one schema each; production uses ``public``).
    echo : bool
        Log SQL.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    sqlalchemy.Engine

    Notes
    -----
    SQLite connections use WAL journaling, ``synchronous=NORMAL``, foreign
    keys on and a busy timeout.  pysqlite's own transaction handling is
    disabled and SQLAlchemy emits ``BEGIN`` itself, so a transaction really
    starts at ``begin()``; pass ``execution_options(sqlite_immediate=True)``
    to start with ``BEGIN IMMEDIATE`` (take the write lock up front, as the
    ingest does).  The parent directory of a SQLite file is created.
    """
    u = resolve_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database
        if db and db != ":memory:" and not db.startswith("file:"):
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = sa.create_engine(u, echo=echo, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000:d}")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    if u.get_backend_name() == "postgresql":
        connect_args = dict(kwargs.pop("connect_args", {}))
        if schema:
            if not schema.replace("_", "").isalnum():
                raise ValueError(f"invalid schema name {schema!r}")
            opts = connect_args.get("options", "")
            connect_args["options"] = f"{opts} -c search_path={schema}".strip()
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(u, echo=echo, connect_args=connect_args, **kwargs)

    return sa.create_engine(u, echo=echo, **kwargs)
