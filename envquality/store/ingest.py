"""Ingest orchestration: raw file → archive → reader → store, nothing lost.

One file is ingested by :func:`ingest_file`:

1. Hash the raw bytes (SHA-256).  If this source already ingested the same
   bytes successfully, log a ``noop`` entry and stop: re-ingesting a file
   changes nothing.
2. Archive the raw bytes unchanged (:func:`envquality.store.archive.archive_raw`)
   and record them in ``raw_archive``; commit an ``ingest_log`` row with
   status ``running`` (visible to operators while the load runs).
3. Parse with the given reader (returns a
   :class:`~envquality.iotools.common.ReadResult`).
4. In ONE transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL transaction
   holding an advisory lock per source): upsert the readings, insert the
   rejected rows into ``quarantine`` with their raw text and reason, apply a
   supersede (below), and set the log row to ``ok`` with its counts.

Superseding
    A file with the same source and the same logical name (base name or URL)
    as an earlier successful ingest, but different bytes, is a correction of
    it.  Its values replace the old ones (upsert); readings still owned by
    the superseded ingest that are absent from the new file are deleted
    (counted in ``rows_superseded``); the old log row becomes ``superseded``
    and its unresolved quarantine rows are resolved as "superseded by ingest
    N"; the new row carries ``supersedes_id``.  The log keeps both.

Crashes
    Step 4 is a single transaction, so a killed ingest leaves no partial
    readings, quarantine rows or counts: the database rolls it back.  Its
    log row stays ``running``; the next ingest of the same source and name
    marks it ``failed`` ("abandoned") and loads the file again, ending with
    exactly the contents of a clean run.  The raw archive entry of step 2 is
    content-addressed and written atomically, so it is harmless and reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd
import sqlalchemy as sa

from envquality.iotools.common import REJECT_COLUMNS
from envquality.store import schema as S
from envquality.store.archive import archive_raw, default_archive_root
from envquality.store.bulk import DEFAULT_CHUNK_ROWS, UpsertStats, upsert_daily_values, upsert_readings
from envquality.store.dirty import mark_dirty_days
from envquality.store.engine import is_postgres

__all__ = ["IngestResult", "IngestSummary", "RawInput", "ingest_file", "run_ingest", "Reader", "REPORTED_RULESET"]

#: A reader: called with the path of the raw file, returns a ReadResult.
Reader = Callable[[Path], Any]


@dataclass
class IngestResult:
    """Outcome of one :func:`ingest_file` call.

    Attributes
    ----------
    ingest_id : int
        ``ingest_log.id`` of this attempt.
    status : str
        ``ok``, ``noop`` or ``failed``.
    source, name, sha256 : str
        Source, logical file name and digest of the raw bytes.
    rows_in, rows_ok, rows_rejected, rows_duplicate : int
        Reader accounting (from ``ReadResult.meta`` where given).
    readings : int
        Tidy readings offered to the store.
    quarantined : int
        Rows written to ``quarantine``.
    rows_written : int
        Readings inserted or changed.
    rows_superseded : int
        Readings of the superseded ingest deleted because the new file lacks them.
    supersedes_id : int or None
        Log id of the ingest this one superseded.
    noop_of : int or None
        For a ``noop``, the id of the successful ingest of the same bytes.
    archive_path : str or None
        Where the raw bytes are archived.
    error : str or None
        Message of a failure.
    gate_status, gate_findings, gate :
        Quality-gate outcome (``pass``/``warning``/``critical``), its failed
        expectations as JSON, and the full ``GateResult`` (not stored).
    """

    ingest_id: int
    status: str
    source: str
    name: str
    sha256: str
    gate_status: str | None = None
    gate_findings: str | None = None
    gate: Any = None
    rows_in: int = 0
    rows_ok: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    readings: int = 0
    quarantined: int = 0
    rows_written: int = 0
    rows_superseded: int = 0
    supersedes_id: int | None = None
    noop_of: int | None = None
    archive_path: str | None = None
    error: str | None = None


@dataclass
class IngestSummary:
    """Totals of :func:`run_ingest` over several files."""

    files: int = 0
    ok: int = 0
    noop: int = 0
    failed: int = 0
    rows_ok: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_written: int = 0
    rows_superseded: int = 0
    results: list[IngestResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: Failures caused by the input itself (:class:`~envquality.iotools.common.InputError`, missing file).
    input_errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def gate_status(self) -> str | None:
        """Worst quality-gate outcome over the files (None when no gate ran)."""
        seen = {r.gate_status for r in self.results if r.gate_status}
        for level in ("critical", "warning", "pass"):
            if level in seen:
                return level
        return None

    def add(self, r: IngestResult) -> None:
        self.files += 1
        self.results.append(r)
        if r.status == "ok":
            self.ok += 1
            self.rows_ok += r.readings
            self.rows_quarantined += r.quarantined
            self.rows_duplicate += r.rows_duplicate
            self.rows_written += r.rows_written
            self.rows_superseded += r.rows_superseded
        elif r.status == "noop":
            self.noop += 1
        else:
            self.failed += 1

    def __str__(self) -> str:
        s = (f"{self.files} files: {self.ok} ingested, {self.noop} unchanged (noop), {self.failed} failed; "
             f"{self.rows_ok} readings ok ({self.rows_written} written), {self.rows_quarantined} quarantined, "
             f"{self.rows_duplicate} duplicates collapsed, {self.rows_superseded} superseded readings removed")
        if self.gate_status:
            s += f"; quality gate: {self.gate_status}"
        return s


# --------------------------------------------------------------------- helpers
def _lock(conn: sa.Connection, source: str) -> None:
    """Serialize ingests of one source (PostgreSQL; SQLite uses BEGIN IMMEDIATE)."""
    if is_postgres(conn):
        conn.execute(sa.text(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :tag || :s, 0))"
        ), {"tag": ":envquality-ingest:", "s": source})


def _ok_ingest_of(conn: sa.Connection, source: str, sha: str) -> int | None:
    L = S.ingest_log.c
    return conn.execute(
        sa.select(L.id).where(L.source == source, L.sha256 == sha, L.status == "ok").order_by(L.id.desc()).limit(1)
    ).scalar()


def _log_insert(conn: sa.Connection, **values) -> int:
    values.setdefault("started_at", S.utcnow())
    return conn.execute(sa.insert(S.ingest_log).values(**values).returning(S.ingest_log.c.id)).scalar_one()


def _log_update(conn: sa.Connection, ingest_id: int, **values) -> None:
    conn.execute(sa.update(S.ingest_log).where(S.ingest_log.c.id == ingest_id).values(**values))


def _insert_ignore(conn: sa.Connection, table: sa.Table, row: dict) -> None:
    if is_postgres(conn):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).values(**row).on_conflict_do_nothing())


def _none_if_na(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _insert_quarantine(conn: sa.Connection, rejected: pd.DataFrame | None, ingest_id: int, source: str,
                       default_file: str) -> int:
    if rejected is None or len(rejected) == 0:
        return 0
    now = S.utcnow()
    n = 0
    cols = ["file", "line", "field", "reason", "raw", "source"]
    rej = rejected.reindex(columns=cols)
    for start in range(0, len(rej), 10_000):
        part = rej.iloc[start:start + 10_000]
        rows = []
        for file_, line, field_, reason, raw, src in part.itertuples(index=False, name=None):
            line = _none_if_na(line)
            rows.append({
                "ingest_id": ingest_id,
                "source": source,  # the ingest's source name (the namespace of the log)
                "file": _none_if_na(file_) or default_file,
                "line": None if line is None else int(line),
                "field": _none_if_na(field_),
                "reason": _none_if_na(reason) or "rejected (no reason given)",
                "raw": None if _none_if_na(raw) is None else str(raw),
                "created_at": now,
                "resolved": False,
            })
        conn.execute(sa.insert(S.quarantine), rows)
        n += len(rows)
    return n


def _is_daily(frame: pd.DataFrame) -> bool:
    """A reader's daily output (``date`` column, no ``time``): goes to ``daily_stat``."""
    return "time" not in frame.columns and "date" in frame.columns


def _hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """City-level hourly rows (``station`` missing, ``city`` given) are keyed by the city code."""
    if "city" in frame.columns and ("station" not in frame.columns or frame["station"].isna().any()):
        st = frame["station"] if "station" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)
        frame = frame.assign(station=st.astype(object).where(st.notna(), frame["city"]))
    return frame


#: ``daily_stat.ruleset`` of source-reported daily values: ``reported:<source>``.
REPORTED_RULESET = "reported:{source}"


def _daily(conn: sa.Connection, frame: pd.DataFrame, iid: int, source: str, old: int | None) -> UpsertStats:
    written = upsert_daily_values(conn, frame, iid, REPORTED_RULESET.format(source=source),
                                  takeover_ingest_id=old)
    stats = UpsertStats(rows=len(frame), written=written, chunks=1)
    if len(frame):
        d = pd.to_datetime(frame["date"])
        # the period of daily values: from the first day's 00:00 to the last day's end (CST)
        stats.time_min = pd.Timestamp(d.min()).tz_localize("Asia/Shanghai") if d.dt.tz is None else d.min()
        stats.time_max = (pd.Timestamp(d.max()).tz_localize("Asia/Shanghai") if d.dt.tz is None else d.max()) \
            + pd.Timedelta(days=1)
    return stats


def _meta_int(meta: dict, key: str, default: int) -> int:
    v = meta.get(key)
    try:
        return int(v) if v is not None else int(default)
    except (TypeError, ValueError):
        return int(default)


# ------------------------------------------------------------------------ public
#: A data-quality gate: ``gate(frame, name, source) -> GateResult``.
Gate = Callable[[pd.DataFrame, str, str], Any]


def _apply_gate(gate: Gate, frame: pd.DataFrame, rejected: pd.DataFrame | None, name: str, source: str,
                result: "IngestResult") -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run the gate: keep its passed rows (dust-flagged), add its quarantine to the rejects."""
    g = gate(frame, name, source)
    passed = g.passed
    kept = passed[[c for c in frame.columns if c in passed.columns]]
    if "likely_dust" in passed and bool(passed["likely_dust"].any()):
        flag = kept["flag"].astype(object) if "flag" in kept else pd.Series(None, index=kept.index, dtype=object)
        kept = kept.assign(flag=flag.where(~passed["likely_dust"].to_numpy(bool), "likely_dust"))
    q = g.quarantined
    if len(q):
        q = q.assign(file=q["file"].where(q["file"].astype(str) != "", name))
        rejected = pd.concat([r for r in (rejected, q.reindex(columns=list(REJECT_COLUMNS))) if r is not None
                              and len(r)], ignore_index=True)
        result.rows_rejected += len(q)
        result.rows_ok = max(0, result.rows_ok - len(q))
    result.readings = len(kept)
    result.gate_status = "critical" if g.critical else ("warning" if g.warnings else "pass")
    findings = [f.to_dict() for f in list(g.critical) + list(g.warnings)]
    result.gate_findings = json.dumps(findings, ensure_ascii=False, default=str) if findings else None
    result.gate = g
    return kept, rejected


def ingest_file(
    engine: sa.Engine,
    path_or_bytes: str | os.PathLike | bytes,
    reader: Reader,
    source: str,
    *,
    archive_root: str | os.PathLike | None = None,
    name: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_progress: Callable[[UpsertStats], None] | None = None,
    gate: Gate | None = None,
) -> IngestResult:
    """Ingest one raw file (see the module docstring for the steps and guarantees).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Store engine; the schema must be migrated (``envquality db upgrade``).
    path_or_bytes : path or bytes
        The raw input.  Bytes need ``name``.
    reader : callable
        ``reader(path) -> ReadResult``.  For bytes input it gets a temporary
        file carrying ``name``.
    source : str
        Source name (``cnemc_hourly``, ...); the namespace of dedup and supersede.
    archive_root : path, optional
        Raw archive root; default :func:`~envquality.store.archive.default_archive_root`.
    name : str, optional
        Logical file name (default: base name of the path).  Two ingests of
        one source with the same name are versions of the same file.
    chunk_rows : int
        Batch size of the readings upsert.
    on_progress : callable, optional
        Called with :class:`~envquality.store.bulk.UpsertStats` after each batch.
    gate : callable, optional
        Data-quality gate ``gate(frame, name, source) -> GateResult`` (see
        :func:`envquality.quality.gate.run_gate`) run on hourly readings after
        parsing: only its passed rows are stored (``likely_dust`` rows get the
        flag ``likely_dust``), its quarantined rows join the reader's rejects
        in ``quarantine``, and its outcome (pass / warning / critical with the
        failed expectations) is written to ``ingest_log.gate_status`` and
        ``gate_findings`` for the publisher to check.

    Returns
    -------
    IngestResult

    Raises
    ------
    Exception
        Whatever the reader or the database raised; the log row is set to
        ``failed`` with the message first and no data is committed.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        if not name:
            raise ValueError("ingesting bytes needs a name")
        data, path = bytes(path_or_bytes), None
    else:
        path = Path(path_or_bytes)
        data = path.read_bytes()
        name = name or path.name
    sha = hashlib.sha256(data).hexdigest()
    root = Path(archive_root) if archive_root is not None else default_archive_root()

    # 1. same bytes already ingested for this source -> noop
    with engine.begin() as conn:
        prev = _ok_ingest_of(conn, source, sha)
        if prev is not None:
            now = S.utcnow()
            iid = _log_insert(conn, source=source, file_or_url=name, sha256=sha, status="noop",
                              started_at=now, finished_at=now, error=f"same bytes as ingest {prev}")
            return IngestResult(iid, "noop", source, name, sha, noop_of=prev)

    # 2. archive raw bytes before parsing; log 'running'
    arch = archive_raw(data, name, root, sha256=sha)
    with engine.begin() as conn:
        _insert_ignore(conn, S.raw_archive, {"sha256": sha, "original_name": name, "size": len(data),
                                             "path": arch.relpath, "received_at": S.utcnow()})
        iid = _log_insert(conn, source=source, file_or_url=name, sha256=sha, status="running")
    result = IngestResult(iid, "running", source, name, sha, archive_path=str(arch.path))

    try:
        # 3. parse
        if path is not None:
            rr = reader(path)
        else:
            with tempfile.TemporaryDirectory(prefix="envquality-ingest-") as tmp:
                tmp_path = Path(tmp) / Path(name).name
                tmp_path.write_bytes(data)
                rr = reader(tmp_path)
        del data
        frame, meta, rejected = rr.data, dict(rr.meta or {}), rr.rejected
        if meta.get("sha256") and meta["sha256"] != sha:
            raise RuntimeError(f"{name}: file changed while being ingested (sha256 {meta['sha256']} != {sha})")
        result.readings = len(frame)
        result.rows_ok = _meta_int(meta, "rows_ok", len(frame))
        result.rows_rejected = _meta_int(meta, "rows_rejected", 0 if rejected is None else len(rejected))
        result.rows_duplicate = _meta_int(meta, "rows_duplicate", 0)
        result.rows_in = _meta_int(meta, "rows_in", result.rows_ok + result.rows_rejected + result.rows_duplicate)
        if gate is not None and len(frame) and not _is_daily(frame):
            frame, rejected = _apply_gate(gate, frame, rejected, name, source, result)

        # 4. one transaction
        with engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                _lock(conn, source)
                prev = _ok_ingest_of(conn, source, sha)
                if prev is not None:  # a concurrent ingest of the same bytes won
                    _log_update(conn, iid, status="noop", finished_at=S.utcnow(), error=f"same bytes as ingest {prev}")
                    result.status, result.noop_of = "noop", prev
                    return result
                L = S.ingest_log.c
                conn.execute(
                    sa.update(S.ingest_log)
                    .where(L.source == source, L.file_or_url == name, L.status == "running", L.id < iid)
                    .values(status="failed", finished_at=S.utcnow(),
                            error=f"abandoned: interrupted before commit (found by ingest {iid})")
                )
                old = conn.execute(
                    sa.select(L.id).where(L.source == source, L.file_or_url == name, L.status == "ok")
                    .order_by(L.id.desc()).limit(1)
                ).scalar()
                if _is_daily(frame):
                    stats = _daily(conn, frame, iid, source, old)
                else:
                    stats = upsert_readings(conn, _hourly(frame), iid, takeover_ingest_id=old,
                                            chunk_rows=chunk_rows, on_chunk=on_progress)
                superseded = 0
                if old is not None:
                    # rows still owned by the old ingest lie within the old ingest's period:
                    # bound the delete by time so it runs on the (time, series_id) key
                    span = conn.execute(sa.select(L.period_start, L.period_end).where(L.id == old)).one()
                    doomed = sa.delete(S.reading).where(S.reading.c.ingest_id == old)
                    if span.period_start is not None and span.period_end is not None:
                        doomed = doomed.where(S.reading.c.time.between(span.period_start, span.period_end))
                    superseded = conn.execute(doomed).rowcount
                    superseded += conn.execute(
                        sa.delete(S.daily_stat).where(S.daily_stat.c.ingest_id == old)
                    ).rowcount
                    _log_update(conn, old, status="superseded")
                    conn.execute(
                        sa.update(S.quarantine)
                        .where(S.quarantine.c.ingest_id == old, S.quarantine.c.resolved == sa.false())
                        .values(resolved=True, resolution=f"superseded by ingest {iid}")
                    )
                if not _is_daily(frame) and (stats.written or superseded):  # late data: days to recompute
                    mark_dirty_days(conn, iid, stats.time_min, stats.time_max,
                                    old_span=tuple(span) if old is not None and superseded else None)
                quarantined = _insert_quarantine(conn, rejected, iid, source, name)
                _log_update(
                    conn, iid, status="ok", finished_at=S.utcnow(), supersedes_id=old,
                    period_start=stats.time_min.to_pydatetime() if stats.time_min is not None else None,
                    period_end=stats.time_max.to_pydatetime() if stats.time_max is not None else None,
                    rows_in=result.rows_in, rows_ok=result.rows_ok, rows_rejected=result.rows_rejected,
                    rows_duplicate=result.rows_duplicate, rows_superseded=superseded,
                    rows_written=stats.written, gate_status=result.gate_status,
                    gate_findings=result.gate_findings,
                )
        result.status = "ok"
        result.quarantined = quarantined
        result.rows_written = stats.written
        result.rows_superseded = superseded
        result.supersedes_id = old
        return result
    except BaseException as exc:
        msg = f"{type(exc).__name__}: {exc}"[:4000]
        try:
            with engine.begin() as conn:
                _log_update(conn, iid, status="failed", finished_at=S.utcnow(), error=msg)
        except Exception:  # pragma: no cover - the database itself is gone; the row stays 'running'
            pass
        result.status, result.error = "failed", msg
        raise


def _is_input_error(exc: BaseException) -> bool:
    from envquality.iotools.common import InputError

    return isinstance(exc, (InputError, FileNotFoundError, IsADirectoryError, UnicodeDecodeError))


@dataclass(frozen=True)
class RawInput:
    """Raw bytes without a file (an API answer, generated data): ingested under ``name``.

    ``data`` may be a zero-argument callable returning the bytes, so a long
    list of inputs is produced one at a time.
    """

    name: str
    data: bytes | Callable[[], bytes]

    def load(self) -> bytes:
        return self.data() if callable(self.data) else self.data


def _expand(paths: Iterable[str | os.PathLike], pattern: str | Sequence[str] | None = None) -> list[Path]:
    """Files of ``paths``; a directory gives its files matching ``pattern`` (recursive), sorted."""
    pats = [pattern] if isinstance(pattern, str) else list(pattern or ["*"])
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = {q for pat in pats for q in p.rglob(pat) if q.is_file() and not q.name.startswith(".")}
            out.extend(sorted(found))
        else:
            out.append(p)
    return out


def run_ingest(
    engine: sa.Engine,
    source_name: str,
    paths: Iterable[str | os.PathLike | RawInput],
    reader: Reader,
    progress: bool = True,
    *,
    archive_root: str | os.PathLike | None = None,
    stop_on_error: bool = False,
    pattern: str | Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    gate: Gate | None = None,
) -> IngestSummary:
    """Ingest several files of one source, with a progress bar; the CLI's workhorse.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    source_name : str
    paths : iterable of path or RawInput
        Files (directories are expanded to their files matching ``pattern``,
        sorted) or :class:`RawInput` items (ingested as bytes under their name).
    reader : callable
        ``reader(path) -> ReadResult``.
    progress : bool
        Show a tqdm bar over files (on stderr).
    archive_root : path, optional
        See :func:`ingest_file`.
    stop_on_error : bool
        Re-raise the first failure instead of recording it and going on.
    pattern : str or sequence of str, optional
        Glob(s) selecting files inside directories (default: every file).
    chunk_rows : int
        Batch size of the readings upsert.

    Returns
    -------
    IngestSummary
        Files ok / noop / failed and row totals; ``errors`` lists
        ``(path, message)`` of failed files, ``input_errors`` those whose
        input was at fault (unreadable file, wrong layout).
    """
    from envquality.store import current_revision

    if current_revision(engine) is None:
        raise RuntimeError("the database has no schema yet: run `envquality db upgrade` first")
    items = list(paths)
    raw_items = [x for x in items if isinstance(x, RawInput)]
    files = _expand([x for x in items if not isinstance(x, RawInput)], pattern) + raw_items
    summary = IngestSummary()
    from tqdm import tqdm

    bar = tqdm(files, desc=f"ingest {source_name}", unit="file", disable=not progress)
    for p in bar:
        label = p.name if isinstance(p, RawInput) else str(p)
        try:
            if isinstance(p, RawInput):
                r = ingest_file(engine, p.load(), reader, source_name, name=p.name, archive_root=archive_root,
                                chunk_rows=chunk_rows, gate=gate)
            else:
                r = ingest_file(engine, p, reader, source_name, archive_root=archive_root, chunk_rows=chunk_rows,
                                gate=gate)
        except Exception as exc:
            if stop_on_error:
                raise
            summary.add(IngestResult(-1, "failed", source_name, Path(label).name, "",
                                     error=f"{type(exc).__name__}: {exc}"))
            summary.errors.append((label, f"{type(exc).__name__}: {exc}"))
            if _is_input_error(exc):
                summary.input_errors.append((label, str(exc)))
        else:
            summary.add(r)
        bar.set_postfix(ok=summary.ok, noop=summary.noop, failed=summary.failed, rows=summary.rows_ok)
    bar.close()
    return summary
