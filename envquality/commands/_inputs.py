"""Shared options of ``envquality targets`` and ``envquality report``: the store or a tidy file."""

from __future__ import annotations

import argparse
import contextlib

from envquality.store.engine import DEFAULT_URL as DEFAULT_STORE

def safe(text: object) -> str:
    """Text for the terminal: control and bidi-override characters neutralised (:mod:`envquality.text`)."""
    from envquality.text import terminal_safe

    return terminal_safe(str(text))


def add_source_options(p: argparse.ArgumentParser, *, water: bool = False) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", metavar="URL", default=None,
                   help=f"store to read (default: ENVQUALITY_DB_URL, else {DEFAULT_STORE})")
    if water:
        g.add_argument("--input", metavar="FILE", help="water sampling results (CSV or .xlsx) instead of the store")
        p.add_argument("--registry", help="water-source registry CSV (default: the packaged, SIMULATED one)")
    else:
        g.add_argument("--input", metavar="FILE",
                       help="tidy readings file (hourly or daily; .csv, .csv.gz, .parquet) instead of the store")
        p.add_argument("--dust", metavar="FILE", help="with --input: CSV of dust-affected days (city,date)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--out", metavar="DIR", help="write the files into DIR")


def store_engine(args: argparse.Namespace):
    """Engine of ``--db`` / ENVQUALITY_DB_URL / the demo store; a missing or unmigrated store is one line."""
    from envquality.store.engine import open_store

    return open_store(args.db)


@contextlib.contextmanager
def store_errors(what: str = "store"):
    """A store without the tables (never migrated, another database) is an input error, not a traceback."""
    import sqlite3

    import sqlalchemy as sa

    from envquality.iotools.common import InputError

    errors: tuple[type[BaseException], ...] = (sa.exc.OperationalError, sa.exc.ProgrammingError, sqlite3.DatabaseError)
    try:  # the columnar reads use the driver's cursor directly
        import psycopg

        errors += (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn)
    except ImportError:  # pragma: no cover - PostgreSQL support not installed
        pass
    try:
        yield
    except errors as exc:
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InputError(what, None, "--db", f"cannot read the store ({first}); run `envquality demo` "
                         "or the pipeline first") from None


def daily_from_input(args: argparse.Namespace):
    """Wide daily frame from ``--input`` (and ``--dust``)."""
    from envquality.commands.assess import _read_dust
    from envquality.iotools.readings import read_readings
    from envquality.targets.daily import daily_from_tidy, with_aqi

    dust = _read_dust(args.dust) if getattr(args, "dust", None) else None
    result = read_readings(args.input)
    frame = daily_from_tidy(result.data, result.meta["resolution"], dust=dust, file=args.input)
    return with_aqi(frame)


def water_from_input(args: argparse.Namespace):
    """:class:`~envquality.targets.progress.WaterInput` from ``--input`` samplings (and ``--registry``)."""
    import pandas as pd

    from envquality.iotools.water import read_water_samples
    from envquality.targets.progress import WaterInput
    from envquality.water.classify import classify_samples
    from envquality.water.registry import load_water_sources

    reg = load_water_sources(getattr(args, "registry", None))
    res = read_water_samples(args.input)
    classified = classify_samples(res.data, registry=reg)
    assert isinstance(classified, pd.DataFrame)  # a frame in, a frame out
    return WaterInput(classified, reg)
