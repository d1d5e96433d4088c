"""Engine construction for the store: SQLite (default) or PostgreSQL.

Every command uses one store: the URL given (``--db``), else
``ENVQUALITY_DB_URL``, else the demo's SQLite file
``./var/demo/envquality.sqlite`` (:func:`default_url`).  Commands that only
read open it with :func:`open_store`, which refuses a missing or unmigrated
store with one line saying what to run, and never creates an empty file.
Credentials belong in the environment (or ``~/.pgpass`` / ``PGPASSWORD``),
never in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_URL", "DB_URL_ENV", "StoreNotReady", "default_url", "make_engine", "open_store", "resolve_url",
           "is_sqlite", "is_postgres", "dialect_insert", "driver_connection"]

#: Used when neither an argument nor ``ENVQUALITY_DB_URL`` names a database: the demo's store.
DEFAULT_URL = "sqlite:///var/demo/envquality.sqlite"

#: Environment variable naming the store (overridden by ``--db``).
DB_URL_ENV = "ENVQUALITY_DB_URL"

#: Seconds a SQLite writer waits for the lock held by another writer.
SQLITE_BUSY_TIMEOUT_S = 60


class StoreNotReady(RuntimeError):
    """The store is missing, unreachable or not migrated; the message says what to run."""


def default_url() -> str:
    """The store used when no URL is given: ``ENVQUALITY_DB_URL``, else :data:`DEFAULT_URL`."""
    return os.environ.get(DB_URL_ENV) or DEFAULT_URL


def resolve_url(url: str | sa.URL | None = None) -> sa.URL:
    """The database URL to use: argument, ``ENVQUALITY_DB_URL`` or :data:`DEFAULT_URL`.

    ``postgresql://`` and ``postgres://`` URLs are mapped to the psycopg 3
    driver (``postgresql+psycopg://``).
    """
    raw = url if url is not None else default_url()
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


def _sqlite_file(u: sa.URL) -> Path | None:
    """The file of a file-backed SQLite URL, else None (memory, ``file:`` URIs, other backends)."""
    db = u.database
    if u.get_backend_name() != "sqlite" or not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db).expanduser()


def open_store(url: str | sa.URL | None = None, *, create: bool = False, **kwargs) -> sa.Engine:
    """An engine on the store, checked to exist and to be migrated to the latest schema.

    Parameters
    ----------
    url : str or sqlalchemy.URL, optional
        Store URL; default :func:`default_url` (``ENVQUALITY_DB_URL``, else
        the demo's ``var/demo/envquality.sqlite``).
    create : bool
        Create (SQLite) and migrate the store when needed, as writing commands
        do.  Without it a missing store is an error and no file is created.
    **kwargs
        Passed to :func:`make_engine`.

    Raises
    ------
    StoreNotReady
        The store does not exist, cannot be reached, or is not at the latest
        schema; the one-line message names the command to run.
    """
    from envquality.store import current_revision, upgrade_to_head

    u = resolve_url(url)
    shown = u.render_as_string(hide_password=True)
    path = _sqlite_file(u)
    if not create and path is not None and not path.is_file():
        raise StoreNotReady(f"no store at {path}: run `envquality demo` (or `envquality ingest ...`) first, "
                            f"or name another store with --db URL or ${DB_URL_ENV}")
    engine = make_engine(u, **kwargs)
    try:
        if create:
            upgrade_to_head(engine)
            return engine
        revision, head = current_revision(engine), head_revision()
    except sa.exc.DBAPIError as exc:
        from envquality.store.errors import describe_store_error

        engine.dispose()
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        raise StoreNotReady(describe_store_error(exc, u) or f"cannot open the store {shown}: {reason}") from None
    if revision != head:
        engine.dispose()
        state = "has no schema" if revision is None else f"is at schema {revision}, not {head}"
        raise StoreNotReady(f"the store {shown} {state}: run `envquality db upgrade --db '{shown}'`")
    return engine


def head_revision() -> str | None:
    """The latest schema revision this envquality knows (the Alembic head)."""
    from alembic.script import ScriptDirectory

    from envquality.store import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
