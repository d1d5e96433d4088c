"""Helpers and fixtures shared by the store tests.

The ``store`` and ``fresh_store`` fixtures live in ``conftest.py`` beside
this file; the helpers they use are here.  Every PostgreSQL store lives in its
own schema (``eqt_<random>``) that is dropped afterwards: tests never touch
``public``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.iotools.common import ReadResult, rejects_frame
from envquality.store import make_engine, upgrade_to_head

BACKENDS = ("sqlite", "postgres")
POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co", "o3")


# ----------------------------------------------------------------- stores
@contextlib.contextmanager
def new_store(kind: str, tmp_path: Path, pg_url: str | None, *, migrate: bool = True) -> Iterator[sa.Engine]:
    """A fresh, migrated store: a SQLite file or a private PostgreSQL schema."""
    if kind == "sqlite":
        path = tmp_path / f"store-{uuid.uuid4().hex[:8]}.sqlite"
        engine = make_engine(f"sqlite:///{path}")
        try:
            if migrate:
                upgrade_to_head(engine)
            yield engine
        finally:
            engine.dispose()
        return
    assert pg_url, "postgres store needs a URL"
    schema = f"eqt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(pg_url, schema=schema)
    engine.info_schema = schema  # type: ignore[attr-defined]
    try:
        if migrate:
            upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


# ----------------------------------------------------------------- data
def make_frame(n_stations: int = 3, n_hours: int = 24, pollutants=POLLUTANTS,
               start: str = "2024-01-01 01:00", seed: int = 0, prefix: str = "S") -> pd.DataFrame:
    """A tidy frame: every station × hour × pollutant, hour-ending Asia/Shanghai times."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=n_hours, freq="h", tz="Asia/Shanghai")
    stations = [f"{prefix}{i:04d}" for i in range(n_stations)]
    idx = pd.MultiIndex.from_product([stations, times, list(pollutants)], names=["station", "time", "pollutant"])
    df = idx.to_frame(index=False)
    df["value"] = np.round(rng.gamma(2.0, 20.0, len(df)), 1)
    return df


def write_tidy_csv(frame: pd.DataFrame, path: Path, bad_lines: list[str] = ()) -> Path:
    """Write ``station,time,pollutant,value`` CSV (local CST times) plus raw bad lines."""
    out = frame.assign(time=frame["time"].dt.strftime("%Y-%m-%d %H:%M"))
    text = out.to_csv(index=False, columns=["station", "time", "pollutant", "value"], lineterminator="\n",
                      na_rep="")
    if bad_lines:
        text += "".join(line + "\n" for line in bad_lines)
    path.write_text(text, encoding="utf-8")
    return path


def read_tidy_csv(path: Path) -> ReadResult:
    """A minimal reader of :func:`write_tidy_csv` files (bad values/times → rejected)."""
    path = Path(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
    line = pd.Series(np.arange(2, len(raw) + 2), index=raw.index)
    value = pd.to_numeric(raw["value"].where(raw["value"] != ""), errors="coerce")
    bad_value = value.isna() & (raw["value"] != "")
    time = pd.to_datetime(raw["time"], format="%Y-%m-%d %H:%M", errors="coerce")
    bad_time = time.isna()
    bad = bad_value | bad_time
    rej = raw[bad]
    rejected = rejects_frame(pd.DataFrame({
        "file": path.name, "line": line[bad],
        "field": np.where(bad_time[bad], "time", "value"),
        "reason": np.where(bad_time[bad], "cannot parse time", "cannot parse value"),
        "raw": rej["station"] + "," + rej["time"] + "," + rej["pollutant"] + "," + rej["value"],
        "source": "test",
    }))
    ok = ~bad
    data = pd.DataFrame({
        "station": raw["station"][ok].to_numpy(),
        "time": time[ok].dt.tz_localize("Asia/Shanghai").array,
        "pollutant": raw["pollutant"][ok].to_numpy(),
        "value": value[ok].to_numpy(dtype="float64"),
    })
    meta = {"source": "test", "file": path.name, "rows_in": len(raw), "rows_ok": int(ok.sum()),
            "rows_rejected": int(bad.sum()), "rows_duplicate": 0}
    return ReadResult(data, meta, rejected)


# ----------------------------------------------------------------- subprocess worker
TESTS_DIR = Path(__file__).resolve().parents[1]


def worker_command(url: str, schema: str | None, path: Path, archive: Path, source: str) -> list[str]:
    """Command running :func:`worker_main` in a fresh interpreter."""
    code = f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); import store; store.worker_main(sys.argv[1:])"
    return [sys.executable, "-c", code, url, schema or "", str(path), str(archive), source]


def worker_main(argv: list[str]) -> None:
    """Ingest one file, printing ``running`` and ``chunk N`` lines (for kill tests)."""
    from envquality.store.ingest import ingest_file

    url, schema, path, archive, source = argv
    engine = make_engine(url, schema=schema or None)

    def progress(stats):
        print(f"chunk {stats.chunks} {stats.rows}", flush=True)

    print("running", flush=True)
    res = ingest_file(engine, Path(path), read_tidy_csv, source, archive_root=archive, chunk_rows=100_000,
                      on_progress=progress)
    print(f"done {res.status} {res.readings}", flush=True)
    os._exit(0)
