"""One clear line instead of a traceback when the store cannot be used.

:func:`describe_store_error` turns what SQLAlchemy or the driver raise on an
unusable ``--db`` (an unsupported scheme such as ``mysql://``, a file that is
not an SQLite database, an unreachable PostgreSQL server, an unparsable URL)
into one line naming the store and what to do; :class:`StoreError` carries
it.  The CLI prints it and exits with status 2.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["StoreError", "describe_store_error", "store_label", "SUPPORTED"]

#: URL schemes the store supports.
SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST[:PORT]/DB"


class StoreError(RuntimeError):
    """The store named by ``--db`` / ``ENVQUALITY_DB_URL`` cannot be used (message: one line)."""


def store_label(url: str | sa.URL | None) -> str:
    """The store's URL without password, for messages."""
    if url is None:
        return "the store"
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the store URL"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    line = text[0] if text else type(orig).__name__
    return line if len(line) <= 200 else line[:199] + "…"


def _backend(url) -> str | None:
    if url is None:
        return None
    try:
        return sa.engine.make_url(url).get_backend_name()
    except Exception:
        return None


def describe_store_error(exc: BaseException, url: str | sa.URL | None = None) -> str | None:
    """One line describing why the store is unusable, or None when ``exc`` is not such an error."""
    where = store_label(url)
    if isinstance(exc, StoreError):
        return str(exc)
    backend = _backend(url)
    if isinstance(exc, sa.exc.NoSuchModuleError) or (
            backend not in (None, "sqlite", "postgresql") and isinstance(exc, (ImportError, sa.exc.SQLAlchemyError))):
        return f"{where}: unsupported database (the store runs on {SUPPORTED})"
    if isinstance(exc, sa.exc.ArgumentError):
        return f"{where}: not a database URL (expected {SUPPORTED})"
    if isinstance(exc, sa.exc.DBAPIError):
        msg = _first_line(exc)
        low = msg.lower()
        if "file is not a database" in low or "file is encrypted" in low:
            return f"{where}: the file is not an SQLite database"
        if "unable to open database file" in low:
            return f"{where}: cannot open the SQLite file (missing directory or no permission)"
        if "no such table" in low or "undefinedtable" in type(getattr(exc, "orig", exc)).__name__.lower():
            return f"{where}: the store has no schema yet: run `envquality db upgrade --db URL` first ({msg})"
        if isinstance(exc, sa.exc.OperationalError) and url is not None and "postgres" in str(url):
            return f"{where}: cannot connect to PostgreSQL: {msg}"
        if isinstance(exc, sa.exc.OperationalError):
            return f"{where}: {msg}"
    return None
