"""Drinking-water data in the store: sources, samples and per-sampling classes.

Tables (:mod:`envquality.store.schema`, migration ``0003``):

``water_source``
    The water-source registry (:func:`envquality.water.load_water_sources`),
    mirrored by :func:`sync_water_sources`.
``water_sample``
    One row per sampling and parameter, keyed ``(source_id, sampled_at,
    parameter)``; values in the canonical unit, exactly as
    :func:`envquality.iotools.water.read_water_samples` returns them.
``water_class``
    The class of each sampling (:func:`envquality.water.classify_samples`),
    keyed ``(source_id, sampled_at, method)``.

Every write is an idempotent upsert (``INSERT … ON CONFLICT DO UPDATE …
WHERE`` some column differs), sent as ``executemany`` batches on both
backends: unchanged rows are not touched, so re-running a load writes
nothing and the functions return 0 written rows.  Times go through
:class:`~envquality.store.schema.UtcTime` (exact instants, whole seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.model import TIMEZONE
from envquality.store import schema as S
from envquality.store.engine import dialect_insert, is_postgres

__all__ = ["sync_water_sources", "upsert_water_samples", "read_water_samples", "store_classes",
           "read_classes", "DEFAULT_BATCH_ROWS", "WaterLoad", "load_water", "source_rows"]

#: Rows per executemany batch.
DEFAULT_BATCH_ROWS = 20_000

_SAMPLE_COLUMNS = ("source", "sampled_at", "parameter", "value", "unit", "qualifier", "detection_limit")


def _upsert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, *, compare: list[str],
            also_set: Sequence[str] = (), batch_rows: int = DEFAULT_BATCH_ROWS) -> int:
    """Upsert ``frame`` (columns named as the table's) by primary key; returns rows inserted or changed.

    A stored row is only updated when one of ``compare`` differs (NULL-safe);
    ``also_set`` columns are then written too but do not force an update.
    """
    if not len(frame):
        return 0
    pk = [c.name for c in table.primary_key.columns]
    stmt = dialect_insert(conn, table)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=pk,
        set_={c: ex[c] for c in [*compare, *also_set]},
        where=sa.or_(*(table.c[c].is_distinct_from(ex[c]) for c in compare)),
    )
    pg = is_postgres(conn)
    to_run: sa.Executable
    if pg:
        # psycopg batches executemany INSERTs as multi-row VALUES ("insertmanyvalues"),
        # where rowcount is not summed: count the rows RETURNING reports instead
        # (only inserted or updated rows are returned)
        to_run = stmt.returning(table.c[pk[0]])
    else:
        to_run = stmt
    obj = frame.astype(object).where(frame.notna(), None)
    written = 0
    for start in range(0, len(obj), batch_rows):
        # column names are str, as the statement needs (the stubs say Hashable)
        records = cast(list[dict[str, Any]], obj.iloc[start:start + batch_rows].to_dict("records"))
        res = conn.execute(to_run, records)
        written += len(res.all()) if pg else max(int(res.rowcount), 0)
    return written


def _float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _aware(value, *, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(TIMEZONE)  # naive bounds are China Standard Time
    return ts


def _times(s: pd.Series) -> pd.Series:
    """Tz-aware, whole-second sampling times (raises otherwise)."""
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"sampled_at must be tz-aware, got dtype {s.dtype}")
    if s.isna().any():
        raise ValueError("sampled_at contains NaT")
    if (s.dt.floor("s") != s).any():
        raise ValueError("sampled_at has sub-second parts; the store keeps whole seconds")
    return s


# ------------------------------------------------------------------ sources
def sync_water_sources(engine: sa.Engine, registry_frame: pd.DataFrame | None = None) -> int:
    """Upsert the water-source registry into ``water_source`` (see :func:`source_rows`)."""
    with engine.begin() as conn:
        return _sync_sources(conn, source_rows(registry_frame))


def source_rows(registry_frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows of ``water_source`` for a registry.

    Parameters
    ----------
    registry_frame : pandas.DataFrame, optional
        As :func:`envquality.water.load_water_sources` returns it (default:
        the packaged, simulated Gansu registry).

    Returns
    -------
    pandas.DataFrame
        Columns of ``water_source``.
    """
    if registry_frame is None:
        from envquality.water.registry import load_water_sources

        registry_frame = load_water_sources()
    r = registry_frame
    n = len(r)

    def col(name: str, default=None) -> pd.Series:
        return r[name] if name in r.columns else pd.Series([default] * n, index=r.index, dtype=object)

    def text(name: str) -> pd.Series:
        s = col(name)
        return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))

    df = pd.DataFrame({
        "id": r["id"].astype(str),
        "name": r["name"].astype(str),
        "city_code": text("city_code"),
        "county_code": text("county_code"),
        "type": text("source_type"),
        "level": text("level"),
        "lon": _float(col("lon")),
        "lat": _float(col("lat")),
        "protection_zone": _float(col("zone1_km2")),
        "protection_zone2": _float(col("zone2_km2")),
        "supply_volume": _float(col("supply_m3_per_day")),
        "simulated": col("simulated", False).map(lambda v: str(v).strip().lower() in ("true", "1", "yes")),
    })
    if df["id"].duplicated().any():
        raise ValueError(f"duplicate source ids in the registry: {df['id'][df['id'].duplicated()].tolist()[:3]}")
    return df


def _sync_sources(conn: sa.Connection, df: pd.DataFrame) -> int:
    return _upsert(conn, S.water_source, df, compare=[c for c in df.columns if c != "id"])


# ------------------------------------------------------------------ samples
def upsert_water_samples(conn: sa.Connection, frame: pd.DataFrame, ingest_id: int | None = None, *,
                         batch_rows: int = DEFAULT_BATCH_ROWS) -> int:
    """Insert or update samples; returns the rows inserted or changed.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Inside a transaction (the caller decides what is atomic).
    frame : pandas.DataFrame
        Tidy samples as :func:`envquality.iotools.water.read_water_samples`
        returns them (``source, sampled_at, parameter, value, unit, qualifier,
        detection_limit``; the last three optional).  ``sampled_at`` must be
        tz-aware, whole seconds.  Keys must be unique.
    ingest_id : int, optional
        Written with inserted or changed rows; an unchanged row keeps the
        ingest that wrote it (a re-run writes nothing).
    """
    if not isinstance(conn, sa.Connection) or not conn.in_transaction():
        raise RuntimeError("upsert_water_samples needs a Connection inside a transaction (engine.begin())")
    missing = [c for c in ("source", "sampled_at", "parameter", "value") if c not in frame.columns]
    if missing:
        raise ValueError(f"samples frame lacks columns {missing}")
    n = len(frame)
    none = pd.Series([None] * n, index=frame.index, dtype=object)
    df = pd.DataFrame({
        "source_id": frame["source"].astype(str),
        "sampled_at": _times(frame["sampled_at"]),
        "parameter": frame["parameter"].astype(str),
        "value": _float(frame["value"]),
        "unit": frame["unit"].astype(object) if "unit" in frame else none,
        "qualifier": frame["qualifier"].astype(object) if "qualifier" in frame else none,
        "detection_limit": _float(frame["detection_limit"]) if "detection_limit" in frame else np.nan,
        "ingest_id": None if ingest_id is None else int(ingest_id),
    })
    if np.isinf(df["value"].to_numpy()).any():
        raise ValueError("samples frame has infinite values")
    dup = df.duplicated(["source_id", "sampled_at", "parameter"])
    if dup.any():
        raise ValueError(f"duplicate (source, sampled_at, parameter) keys: {int(dup.sum())} rows")
    return _upsert(conn, S.water_sample, df, compare=["value", "unit", "qualifier", "detection_limit"],
                   also_set=["ingest_id"], batch_rows=batch_rows)


def read_water_samples(engine: sa.Engine | sa.Connection, start=None, end=None) -> pd.DataFrame:
    """Samples from the store as the file reader returns them.

    Parameters
    ----------
    start, end : str, datetime or Timestamp, optional
        Half-open range ``start <= sampled_at < end``; naive bounds are China
        Standard Time.

    Returns
    -------
    pandas.DataFrame
        ``source, sampled_at (datetime64[ns, Asia/Shanghai]), parameter, value,
        unit, qualifier, detection_limit``, sorted by source, time and
        parameter.  ``attrs["ingest_sources"]``: the ``ingest_log.source`` of the
        loads that wrote them (``water-simulate`` for simulated samplings).
    """
    t = S.water_sample
    q = sa.select(t.c.source_id, t.c.sampled_at, t.c.parameter, t.c.value, t.c.unit, t.c.qualifier,
                  t.c.detection_limit, t.c.ingest_id)
    lo, hi = _aware(start, name="start"), _aware(end, name="end")
    if lo is not None:
        q = q.where(t.c.sampled_at >= lo)
    if hi is not None:
        q = q.where(t.c.sampled_at < hi)
    q = q.order_by(t.c.source_id, t.c.sampled_at, t.c.parameter)
    ctx = engine.connect() if isinstance(engine, sa.Engine) else _nullctx(engine)
    with ctx as conn:
        rows = conn.execute(q).all()
        ids = sorted({r[7] for r in rows if r[7] is not None})
        sources = set()
        if ids:
            lg = S.ingest_log
            sources = set(conn.execute(sa.select(lg.c.source).distinct().where(lg.c.id.in_(ids))).scalars())
    cols = ["source", "sampled_at", "parameter", "value", "unit", "qualifier", "detection_limit", "ingest_id"]
    df = pd.DataFrame(rows, columns=cols)
    df["sampled_at"] = pd.to_datetime(pd.Series(df["sampled_at"], dtype=object), utc=True).dt.tz_convert(TIMEZONE)
    df["sampled_at"] = df["sampled_at"].astype(pd.DatetimeTZDtype("ns", TIMEZONE))
    for c in ("source", "parameter"):
        df[c] = df[c].astype(str)
    df["unit"] = df["unit"].fillna("").astype(str)
    df["qualifier"] = df["qualifier"].fillna("").astype(str)
    for c in ("value", "detection_limit"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    out = df[list(_SAMPLE_COLUMNS)].reset_index(drop=True)
    out.attrs["ingest_sources"] = sorted(sources)
    return out


class _nullctx:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        return False


# ------------------------------------------------------------------ classes
def store_classes(engine: sa.Engine | sa.Connection, classified_frame: pd.DataFrame, method: str = "2011") -> int:
    """Upsert per-sampling classes into ``water_class``; returns rows inserted or changed.

    ``classified_frame`` is :func:`envquality.water.classify_samples` output
    (``source, sampled_at, water_class, compliant, deciding, max_multiple``).
    ``computed_at`` only changes when a class, flag, deciding set or multiple
    does.  Given a Connection, it writes inside the caller's transaction.
    """
    c = classified_frame
    for col in ("source", "sampled_at", "water_class", "compliant"):
        if col not in c.columns:
            raise ValueError(f"classified frame lacks column {col!r}")
    wc = c["water_class"].astype("Int64").array
    deciding = c["deciding"].astype(object) if "deciding" in c else pd.Series([None] * len(c), index=c.index)
    df = pd.DataFrame({
        "source_id": c["source"].astype(str),
        "sampled_at": _times(c["sampled_at"]),
        "water_class": pd.Series(wc, index=c.index).astype(object).where(~pd.isna(wc), None)
        .map(lambda v: None if v is None else int(v)),
        "compliant": c["compliant"].astype(bool),
        "deciding": deciding.where(deciding.notna() & (deciding.astype(str) != ""), None),
        "max_multiple": _float(c["max_multiple"]) if "max_multiple" in c else np.nan,
        "method": str(method),
        "computed_at": S.utcnow(),
    })
    if df.duplicated(["source_id", "sampled_at"]).any():
        raise ValueError("duplicate (source, sampled_at) samplings in the classified frame")
    if isinstance(engine, sa.Connection):
        return _upsert(engine, S.water_class, df,
                       compare=["water_class", "compliant", "deciding", "max_multiple"], also_set=["computed_at"])
    with engine.begin() as conn:
        return _upsert(conn, S.water_class, df,
                       compare=["water_class", "compliant", "deciding", "max_multiple"], also_set=["computed_at"])


def read_classes(engine: sa.Engine, method: str = "2011") -> pd.DataFrame:
    """Stored classes of ``method``: ``source, sampled_at, water_class, compliant, deciding, max_multiple, computed_at``."""
    t = S.water_class
    q = (sa.select(t.c.source_id, t.c.sampled_at, t.c.water_class, t.c.compliant, t.c.deciding, t.c.max_multiple,
                   t.c.computed_at)
         .where(t.c.method == method).order_by(t.c.source_id, t.c.sampled_at))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    df = pd.DataFrame(rows, columns=["source", "sampled_at", "water_class", "compliant", "deciding", "max_multiple",
                                     "computed_at"])
    for col in ("sampled_at", "computed_at"):
        df[col] = pd.to_datetime(pd.Series(df[col], dtype=object), utc=True).dt.tz_convert(TIMEZONE)
    df["water_class"] = df["water_class"].astype("Int64")
    df["compliant"] = df["compliant"].astype(bool)
    df["deciding"] = df["deciding"].fillna("").astype(str)
    df["max_multiple"] = pd.to_numeric(df["max_multiple"]).astype("float64")
    return df



# ------------------------------------------------------------------ one load
@dataclass
class WaterLoad:
    """Outcome of :func:`load_water` (counts in samples, i.e. sampling × parameter rows)."""

    ingest_id: int
    status: str
    sources_written: int = 0
    samples: int = 0
    written: int = 0
    quarantined: int = 0
    unregistered: int = 0
    samplings: int = 0
    classes_written: int = 0


def _unregistered(samples: pd.DataFrame, registry: pd.DataFrame, origin: pd.DataFrame | None,
                  name: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Mask of samples whose source is not in the registry, and their quarantine rows."""
    known = set(registry["id"].astype(str))
    bad = ~samples["source"].astype(str).isin(known)
    o = origin if origin is not None and len(origin) == len(samples) else pd.DataFrame(
        {"line": [None] * len(samples), "raw": [None] * len(samples)})
    o = o.set_axis(samples.index)
    src = samples["source"].astype(str)[bad]
    rej = pd.DataFrame({"file": name, "line": o["line"][bad], "field": "source",
                        "reason": "source id " + src.map(repr) + " is not in the water-source registry",
                        "raw": o["raw"][bad]})
    return bad.to_numpy(), rej


def load_water(engine: sa.Engine, samples: pd.DataFrame, registry: pd.DataFrame, *, source: str, name: str,
               sha256: str | None = None, rejected: pd.DataFrame | None = None,
               origin: pd.DataFrame | None = None, rows_in: int | None = None, include_cod: bool = False,
               method: str = "2011") -> WaterLoad:
    """Store one water load atomically: registry, samples, quarantine and classes in ONE transaction.

    Samples of sources missing from the registry are not stored: they go to
    ``quarantine`` with the reader's rejects (file, line, field, reason, raw
    text).  If anything fails, nothing of the load is committed and its
    ``ingest_log`` row (committed first as ``running``) becomes ``failed``.

    Parameters
    ----------
    samples : pandas.DataFrame
        Tidy samples (:func:`envquality.iotools.water.read_water_samples` data).
    registry : pandas.DataFrame
        Water-source registry (:func:`envquality.water.load_water_sources`).
    source, name, sha256 :
        ``ingest_log.source``, file name and digest of the raw input.
    rejected : pandas.DataFrame, optional
        The reader's rejects (:data:`envquality.iotools.common.REJECT_COLUMNS`).
    origin : pandas.DataFrame, optional
        ``line`` and ``raw`` of each sample row (reader ``meta["row_origin"]``).
    """
    from envquality.store.ingest import _insert_quarantine
    from envquality.store.provenance import lock_store_writes
    from envquality.water.classify import classify_samples

    with engine.begin() as conn:
        iid = conn.execute(sa.insert(S.ingest_log).values(
            source=source, file_or_url=name, sha256=sha256, status="running", started_at=S.utcnow(),
        ).returning(S.ingest_log.c.id)).scalar_one()
    res = WaterLoad(int(iid), "running")
    try:
        bad, unreg = _unregistered(samples, registry, origin, name)
        good = samples.loc[~bad]
        classified: Any = (classify_samples(good, registry=registry, include_cod=include_cod) if len(good) else
                           pd.DataFrame({c: [] for c in ("source", "sampled_at", "water_class", "compliant")}))
        rej = pd.concat([r for r in (rejected, unreg) if r is not None and len(r)], ignore_index=True) \
            if (rejected is not None and len(rejected)) or len(unreg) else None
        with engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                lock_store_writes(conn)
                res.sources_written = _sync_sources(conn, source_rows(registry))
                res.written = upsert_water_samples(conn, good, ingest_id=iid)
                res.classes_written = store_classes(conn, classified, method=method)
                res.quarantined = _insert_quarantine(conn, rej, iid, source, name)
                res.samples, res.unregistered, res.samplings = len(good), int(bad.sum()), len(classified)
                res.status = "ok" if res.written or res.quarantined else "noop"
                conn.execute(sa.update(S.ingest_log).where(S.ingest_log.c.id == iid).values(
                    status=res.status, finished_at=S.utcnow(), rows_in=rows_in if rows_in is not None else
                    len(samples) + (0 if rejected is None else len(rejected)), rows_ok=len(good),
                    rows_rejected=res.quarantined, rows_written=res.written))
        return res
    except BaseException as exc:
        with engine.begin() as conn:
            conn.execute(sa.update(S.ingest_log).where(S.ingest_log.c.id == iid).values(
                status="failed", finished_at=S.utcnow(), error=f"{type(exc).__name__}: {exc}"[:4000]))
        raise
