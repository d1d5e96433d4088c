"""Quarantine replay: re-run quarantined rows through the current registry and gate.

After an operator fixes the *cause* of a quarantine (the registry learns a
station's history, a threshold is corrected), :func:`replay_quarantine`
takes the unresolved quarantine rows of each ingest, rebuilds their
readings, re-resolves stations through the current registry
(:meth:`envquality.registry.Registry.resolve_station`, with the station
history valid at the reading's time), runs the quality gate again and moves
the rows that now pass into the store.  Two forms of quarantine rows:

* **Input lines** (what the gate writes now): ``line`` and ``raw`` are the
  physical input line (a pm25.in line holds every pollutant of one station
  and hour).  The ingest's raw bytes are loaded from the archive
  (``ingest_log.sha256`` → ``raw_archive``, :mod:`envquality.store.archive`)
  and re-read by the reader of the ingest's source (the map of
  ``envquality ingest``; the reader resolves stations through
  :func:`~envquality.registry.default_registry`).  The whole re-read input
  is gated, as at ingest, so series checks see the same batch.  **The unit
  is the input line**: a gate quarantine row records the failing field
  (``value``, ``station``…) but not the pollutant, so the line's readings
  are stored, and all its gate rows resolved, only when *every* reading
  of the line now passes; otherwise the line stays quarantined whole.
  Readings of the line the ingest already stored are upserted again under
  the same ingest id, which changes nothing.
* **``col=value`` text** (rows stored before the gate kept input lines):
  ``station=…,time=…,pollutant=…,value=…`` parsed by
  :func:`parse_gate_raw`; the rows of an ingest are gated together with
  those an earlier replay moved into the store.

Either way:

* a passing reading is upserted with the ``ingest_id`` of the delivery it
  came from (a later correction of that delivery supersedes it like any
  other of its readings);
* its quarantine rows are marked ``resolved`` with a ``resolution`` text
  saying when and under which ingest they were stored;
* rows that still fail stay unresolved and untouched;
* one ``ingest_log`` row per replayed ingest (source = the original
  source, ``file_or_url`` = ``quarantine replay of ingest N``) records the
  counts and the gate outcome, and the run is logged
  (logger ``envquality.store.replay``).

Idempotent: replayed rows are resolved, so a second run finds nothing to do
and writes nothing (no log row either); rows that fail again are not
changed.

Not replayable (counted as ``not_replayable``, left untouched): rows a
reader rejected (their reason is the reader's, not an ``hourly.…``
expectation: unparsable cells, conflicting duplicates — they need a
corrected delivery), gate rows whose line gives no reading when re-read,
and rows of ingests whose raw bytes are not in the archive or whose source
cannot be re-read from bytes alone (``generic`` needs its mapping,
``openaq`` its API answers).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from envquality.core import InputError
from envquality.registry import Registry, default_registry
from envquality.store import schema as S
from envquality.store.archive import default_archive_root
from envquality.store.bulk import upsert_readings
from envquality.store.ingest import _hourly

__all__ = ["ReplayResult", "replay_quarantine", "parse_gate_raw"]

log = logging.getLogger("envquality.store.replay")

#: The gate's raw text of a quarantined reading: ``station=…,time=…,pollutant=…,value=…[,city=…]``.
_GATE_RAW = (r"^station=(?P<station>[^,]*),time=(?P<time>[^,]*),pollutant=(?P<pollutant>[^,]*),"
             r"value=(?P<value>[^,]*)(?:.*?,city=(?P<city>[^,]*))?")

#: Start of the reason of a row the hourly gate quarantined (its expectation names, ``hourly.…``).
_GATE_REASON = "hourly."

#: ``gate(frame, name, source) -> GateResult`` (as :func:`envquality.store.ingest.ingest_file` takes).
Gate = Callable[[pd.DataFrame, str, str], Any]


@dataclass
class ReplayResult:
    """What a replay did.

    Attributes
    ----------
    examined : int
        Unresolved quarantine rows selected.
    not_replayable : int
        Rows that cannot be rebuilt: reader rejects, lines that give no reading
        when re-read, ingests without archived (re-readable) input.
    resolved : int
        Rows that now pass and were moved into the store (marked resolved).
    still_failing : int
        Rows the gate quarantines again (left unresolved).
    rows_written : int
        Readings inserted or changed in the store.
    ingests : dict
        ``{original ingest id: replay log id}``.
    stations : dict
        ``{quarantined station id: station id stored}`` where re-resolution changed it.
    """

    examined: int = 0
    not_replayable: int = 0
    resolved: int = 0
    still_failing: int = 0
    rows_written: int = 0
    ingests: dict[int, int] = field(default_factory=dict)
    stations: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return (f"{self.examined} quarantined rows examined: {self.resolved} now pass and were stored "
                f"({self.rows_written} readings written), {self.still_failing} still fail, "
                f"{self.not_replayable} not replayable (reader rejects: need a corrected file); "
                f"{len(self.ingests)} ingest(s) replayed")


def parse_gate_raw(raw: pd.Series) -> pd.DataFrame:
    """Readings from the gate's ``col=value`` raw texts, vectorized.

    Returns a frame indexed like ``raw`` with ``station``, ``time``
    (tz-aware Asia/Shanghai), ``pollutant``, ``value`` (float, NaN for
    ``nan``) and ``city`` (text or NA); rows that are not gate rows are
    dropped.

    >>> r = parse_gate_raw(pd.Series(["station=620500:仙人崖,time=2020-04-02 08:00:00+08:00,pollutant=pm10,"
    ...                               "value=80.0,city=620500,suspect_frozen=False", "20200402,08,x"]))
    >>> r[["station", "pollutant", "value", "city"]].values.tolist()
    [['620500:仙人崖', 'pm10', 80.0, '620500']]
    """
    m = raw.astype("string").str.extract(_GATE_RAW)
    m = m.loc[m["station"].notna() & m["time"].notna()]
    times = pd.to_datetime(m["time"], utc=True, format="ISO8601", errors="coerce").dt.tz_convert("Asia/Shanghai")
    out = pd.DataFrame({
        "station": m["station"].astype(str),
        "time": times,
        "pollutant": m["pollutant"].astype(str),
        "value": pd.to_numeric(m["value"], errors="coerce").astype("float64"),
        "city": m["city"],
    }, index=m.index)
    return out.loc[out["time"].notna()]


def _reresolve(frame: pd.DataFrame, reg: Registry) -> tuple[pd.Series, dict[str, str]]:
    """Station ids after the registry's station history: ``{city}:{name}`` ids resolved by name and time.

    Only the history is consulted: a provisional id whose exact name is a
    *current* station's belongs to a series the reader deliberately kept
    apart (two names of one file on one station, e.g. a frozen copy), and
    stays as it is.
    """
    station = frame["station"].copy()
    changed: dict[str, str] = {}
    current = set(reg.stations["code"].astype(str))
    provisional = station.str.contains(":", regex=False)
    # one lookup per distinct (id, day): a handful, not per row
    keys = frame.loc[provisional, ["station"]].assign(day=frame.loc[provisional, "time"].dt.normalize())
    for key, idx in keys.groupby(["station", "day"]).groups.items():
        sid: str = str(key[0])  # type: ignore[index]
        day: Any = key[1]  # type: ignore[index]
        city, _, name = sid.partition(":")
        # exact names only: a status-suffixed id (a collision loser the reader kept apart) stays as it is
        hit = reg.resolve_station(city, name, day, exact=True)
        if hit is not None and hit != sid and hit not in current:
            station.loc[idx] = hit
            changed[sid] = hit
    return station, changed


def _default_gate(frame: pd.DataFrame, name: str, source: str) -> Any:
    from envquality.quality.gate import run_gate

    return run_gate(frame, "hourly_readings", file=name, source=source, build_docs=False)


_REPLAYED = "replayed "


def _select(conn: sa.Connection, source: str | None, ingest_id: int | None) -> pd.DataFrame:
    """Unresolved rows, plus the already replayed rows of the same ingests.

    The gate judges a row in the context of its batch (series checks such as
    a stuck analyser), so every replay of an ingest gates the same batch:
    for ``col=value`` rows, its unresolved rows *and* those an earlier replay
    moved into the store; for archived ingests, the whole re-read input.
    That makes a replay idempotent: the same registry and thresholds give
    the same verdicts, and only rows not yet resolved are written.
    """
    q = S.quarantine.c
    pending = sa.select(q.ingest_id).where(q.resolved == sa.false(), q.ingest_id.is_not(None))
    if source:
        pending = pending.where(q.source == source)
    if ingest_id is not None:
        pending = pending.where(q.ingest_id == int(ingest_id))
    cols = ["id", "ingest_id", "source", "file", "line", "reason", "raw", "resolved"]
    stmt = sa.select(*(q[c] for c in cols)).where(
        q.ingest_id.in_(pending.distinct().scalar_subquery()),
        sa.or_(q.resolved == sa.false(), q.resolution.like(_REPLAYED + "%")))
    if source:
        stmt = stmt.where(q.source == source)
    rows = conn.execute(stmt.order_by(q.id)).all()
    return pd.DataFrame(rows, columns=cols).set_index("id")


def _archived(conn: sa.Connection, ingest_ids: list[int]) -> pd.DataFrame:
    """``name`` and archive ``path`` of the raw input of each ingest (index: ingest id)."""
    L, A = S.ingest_log.c, S.raw_archive.c
    stmt = (sa.select(L.id, A.original_name, A.path).join(S.raw_archive, A.sha256 == L.sha256)
            .where(L.id.in_([int(i) for i in ingest_ids])))
    return pd.DataFrame(conn.execute(stmt).all(), columns=["id", "name", "path"]).set_index("id")


def _store(engine: sa.Engine, iid: int, source: str, file: str, kept: pd.DataFrame, ids: list[int],
           gate_status: str, examined: int, when: dt.datetime) -> tuple[int, int]:
    """One transaction: upsert the passing readings, resolve quarantine rows ``ids``, log the replay."""
    with engine.begin() as conn:
        cols = [c for c in ("station", "time", "pollutant", "value", "flag") if c in kept]
        stats = upsert_readings(conn, kept[cols], iid)
        text = f"{_REPLAYED}{when.isoformat()}: passes the current registry and gate; stored under ingest {iid}"
        for start in range(0, len(ids), 5_000):
            part = ids[start:start + 5_000]
            conn.execute(sa.update(S.quarantine).where(S.quarantine.c.id.in_(part), S.quarantine.c.resolved
                                                       == sa.false()).values(resolved=True, resolution=text))
        log_id = conn.execute(sa.insert(S.ingest_log).values(
            source=source, file_or_url=f"quarantine replay of ingest {iid} ({file})", sha256=None,
            status="ok", started_at=when, finished_at=S.utcnow(), rows_in=examined, rows_ok=len(ids),
            rows_rejected=examined - len(ids), rows_written=stats.written, gate_status=gate_status,
            period_start=kept["time"].min().to_pydatetime(), period_end=kept["time"].max().to_pydatetime(),
        ).returning(S.ingest_log.c.id)).scalar_one()
    return int(log_id), int(stats.written)


def _gate_status(g: Any) -> str:
    return "critical" if g.critical else ("warning" if g.warnings else "pass")


def _failed_mask(g: Any, n: int) -> np.ndarray:
    """Rows the gate quarantined (it names them by position in the batch)."""
    failed = np.zeros(n, bool)
    if len(g.quarantined):
        failed[g.quarantined["row"].to_numpy(np.int64)] = True
    return failed


def _finish(engine: sa.Engine, iid: int, src: str, file: str, kept: pd.DataFrame, ids: list[int], g: Any,
            examined: int, when: dt.datetime, result: ReplayResult) -> None:
    """Store one ingest's passing rows and add the outcome to ``result``."""
    result.resolved += len(ids)
    result.still_failing += examined - len(ids)
    if not ids:
        return
    log_id, written = _store(engine, iid, src, file, kept, ids, _gate_status(g), examined, when)
    result.ingests[iid] = log_id
    result.rows_written += written
    log.info("quarantine replay of ingest %s (%s): %d of %d quarantine rows now pass, %d readings written; "
             "log %d", iid, file, len(ids), examined, written, log_id)


def _replay_text_rows(engine: sa.Engine, rows: pd.DataFrame, reg: Registry, gate: Gate, when: dt.datetime,
                      result: ReplayResult) -> None:
    """Rows stored with the gate's ``col=value`` raw text: rebuilt, re-resolved and gated per ingest."""
    readings = parse_gate_raw(rows["raw"])
    if readings.empty:
        return
    readings = readings.join(rows[["ingest_id", "source", "file", "resolved"]])
    readings["station"], changed = _reresolve(readings, reg)
    result.stations.update(changed)
    for group, batch in readings.groupby("ingest_id", sort=True):
        src, file = str(batch["source"].iloc[0]), str(batch["file"].iloc[0])
        frame = batch[["station", "time", "pollutant", "value", "city"]]
        frame = frame.assign(city=frame["city"].where(frame["city"].notna(), None))
        g = gate(frame.reset_index(drop=True), file, src)
        new = ~batch["resolved"].astype(bool).to_numpy()
        kept = frame.loc[~_failed_mask(g, len(frame)) & new]
        _finish(engine, int(str(group)), src, file, kept, [int(i) for i in kept.index], g, int(new.sum()),
                when, result)


def _reread(source: str, name: str, path: Path) -> pd.DataFrame | None:
    """The reader's rows of archived raw bytes, read under their original file name (None: cannot)."""
    from envquality.commands.ingest import UsageError, _reader  # the source -> reader map of `envquality ingest`

    try:  # sources whose reader needs more than the bytes (generic: --mapping; openaq: the API) are skipped
        reader = _reader(source, SimpleNamespace(mapping=None))
    except UsageError as exc:
        log.warning("quarantine replay: source %s cannot be re-read from its archive: %s", source, exc)
        return None
    with tempfile.TemporaryDirectory(prefix="envquality-replay-") as tmp:
        copy = Path(tmp) / Path(name).name
        try:
            shutil.copyfile(path, copy)
            frame = reader(copy).data
        except (OSError, InputError) as exc:
            log.warning("quarantine replay: cannot re-read %s (%s): %s", name, path, exc)
            return None
    return frame if "time" in frame and "line" in frame else None  # hourly rows with their input line


def _judge_lines(frame: pd.DataFrame, failed: np.ndarray, q: pd.DataFrame) -> tuple[np.ndarray, list[int]]:
    """Rows to store and quarantine ids to resolve: a quarantined line is the unit (module docstring)."""
    line = pd.to_numeric(frame["line"], errors="coerce").fillna(-1).to_numpy(np.int64)
    cand = np.isin(line, q["line"].to_numpy(np.int64))
    good = cand & ~np.isin(line, line[cand & failed])
    ids = q.index[q["line"].isin(line[good])]
    return good, [int(i) for i in ids]


def _replay_archived(engine: sa.Engine, rows: pd.DataFrame, archived: pd.DataFrame, root: Path, reg: Registry,
                     gate: Gate, when: dt.datetime, result: ReplayResult) -> None:
    """Gate rows of archived ingests: re-read the raw input, re-resolve, gate the whole input, store lines."""
    for group, q in rows.groupby("ingest_id", sort=True):
        iid, src, file = int(str(group)), str(q["source"].iloc[0]), str(q["file"].iloc[0])
        frame = _reread(src, str(archived.at[iid, "name"]), root / str(archived.at[iid, "path"]))
        if frame is None:  # no archive entry, unreadable, or a source not re-readable from bytes alone
            result.not_replayable += len(q)
            continue
        frame = frame.reset_index(drop=True)  # reset_index keeps attrs["raw_of"]
        frame["station"], changed = _reresolve(frame, reg)
        g = gate(frame, file, src)
        good, ids = _judge_lines(frame, _failed_mask(g, len(frame)), q)
        has_rows = q["line"].isin(frame["line"])
        result.not_replayable += int((~has_rows).sum())  # reader rejects: the line gives no rows again
        stored = set(frame.loc[good, "station"])
        result.stations.update({k: v for k, v in changed.items() if v in stored})
        _finish(engine, iid, src, file, _hourly(frame.loc[good]), ids, g, int(has_rows.sum()), when, result)


def replay_quarantine(
    engine: sa.Engine,
    *,
    source: str | None = None,
    ingest_id: int | None = None,
    registry: Registry | None = None,
    gate: Gate | None = None,
    archive_root: str | Path | None = None,
) -> ReplayResult:
    """Re-run unresolved quarantine rows through the current registry and gate (see module docstring).

    The data path is vectorised; Python loops only over ingests and
    distinct (station, day) pairs of the re-resolution.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated store.
    source : str, optional
        Only rows of this source.
    ingest_id : int, optional
        Only rows of this ingest.
    registry : Registry, optional
        Default :func:`envquality.registry.default_registry` (with the station history).
    gate : callable, optional
        ``gate(frame, name, source) -> GateResult``; default the
        ``hourly_readings`` suite without Data Docs.
    archive_root : path, optional
        Raw archive root the ingests wrote to; default
        :func:`~envquality.store.archive.default_archive_root` (as ``envquality ingest``).

    Returns
    -------
    ReplayResult
    """
    reg = registry or default_registry()
    gate = gate or _default_gate
    root = Path(archive_root) if archive_root is not None else default_archive_root()
    result = ReplayResult()
    with engine.connect() as conn:
        rows = _select(conn, source, ingest_id)
        archived = _archived(conn, rows["ingest_id"].unique().tolist())
    done = rows["resolved"].astype(bool)
    result.examined = int((~done).sum())
    text_rows = rows.index.isin(parse_gate_raw(rows["raw"]).index)
    # gate rows name their expectations ("hourly.…: …"); reader rejects carry the reader's reason
    gate_rows = rows["reason"].astype(str).str.startswith(_GATE_REASON) & rows["line"].notna()
    from_archive = ~done & ~text_rows & gate_rows & rows["ingest_id"].isin(archived.index)
    result.not_replayable = int((~done & ~text_rows & ~from_archive).sum())
    when = S.utcnow()
    _replay_text_rows(engine, rows.loc[text_rows], reg, gate, when, result)
    _replay_archived(engine, rows.loc[from_archive], archived, root, reg, gate, when, result)
    log.info("quarantine replay: %s", result)
    return result
