"""Ingest orchestration: raw file → archive → reader → store, nothing lost.

One file is ingested by :func:`ingest_file`:

1. Hash the raw bytes (SHA-256) **before parsing**.  If this source already
   ingested the same bytes and that delivery is current, log a ``noop``
   entry and stop: re-ingesting a file changes nothing and costs no parse.
2. Archive the raw bytes unchanged (:func:`envquality.store.archive.archive_raw`)
   and record them in ``raw_archive``; commit an ``ingest_log`` row with
   status ``running``.  Its id is the delivery's place in **delivery order**.
3. Parse with the given reader (returns a
   :class:`~envquality.iotools.common.ReadResult`) and run the quality gate.
4. In ONE transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL advisory lock
   on the store's readings): merge the readings (:func:`~envquality.store.bulk.upsert_readings`:
   the later delivery wins, missing never overwrites present, every other
   delivery's reading is kept in ``reading_delivery``), supersede what this
   delivery replaces (below), insert the rejected rows into ``quarantine``
   and set the log row to ``ok`` with its counts.

Superseding (:func:`envquality.store.provenance.supersede_delivery`)
    A delivery supersedes an earlier one only

    * when the operator says so (``supersedes=[ID]``, ``envquality ingest
      --supersedes ID``), or
    * when both are provably versions of one delivery: same source, same
      declared ``delivery_id``, same period and the same series.

    Never by file name alone: pm25.in names every crawl ``<city>.csv``.
    The superseded delivery's readings fall back to what the remaining
    current deliveries say, or leave the store; every change is logged in
    ``reading_history`` with its cause.  When two versions are ingested at
    once and the earlier delivery commits last, it is itself marked
    superseded by the later one: delivery order, not commit order.

Crashes
    Step 4 is a single transaction, so a killed ingest leaves no partial
    readings, quarantine rows or counts.  Its log row stays ``running``; the
    next ingest of the same source and bytes marks it ``failed``
    ("abandoned").  The raw archive entry is content-addressed and reused.
"""

from __future__ import annotations

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
from envquality.store.engine import dialect_insert
from envquality.store.provenance import delivery_series, lock_store_writes, supersede_delivery

__all__ = ["IngestResult", "IngestSummary", "RawInput", "SupersedeError", "ingest_file", "run_ingest", "Reader",
           "REPORTED_RULESET", "quarantine_file_label"]

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
        ``ok``, ``noop``, ``failed`` or ``superseded`` (an earlier version
        that committed after a later one of the same delivery).
    source, name, sha256 : str
        Source, logical file name and digest of the raw bytes.
    rows_in : int
        Input records (the reader's ``meta["rows_in"]``: lines or records).
    rows_ok, readings : int
        Readings offered to the store (after the gate).
    rows_rejected : int
        Rejected records and readings (reader and gate).
    rows_duplicate : int
        Duplicate readings the reader collapsed.
    quarantined : int
        Rows written to ``quarantine``.
    rows_written : int
        Rows of ``reading`` inserted or updated (value, flag or showing delivery).
    rows_superseded : int
        Readings removed from the store by this ingest's supersede.
    supersedes_id : int or None
        Log id of (the first of) the ingests this one superseded.
    delivery_id, note : str or None
        Declared delivery identity and operator's note.
    superseded_by : int or None
        For status ``superseded``: the later version that won.
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
    delivery_id: str | None = None
    note: str | None = None
    superseded_by: int | None = None


class SupersedeError(ValueError):
    """``supersedes`` names no current, earlier delivery of the source."""


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
        if r.status in ("ok", "superseded"):
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
    conn.execute(dialect_insert(conn, table).values(**row).on_conflict_do_nothing())


def quarantine_records(rejected: pd.DataFrame, ingest_id: int | None, source: str,
                       default_file: str) -> list[dict]:
    """Rows of ``quarantine`` for a rejects frame (:data:`REJECT_COLUMNS`), built column-wise."""
    cols = ["file", "line", "field", "reason", "raw"]
    rej = rejected.reindex(columns=cols).reset_index(drop=True)
    text = {c: rej[c].astype(object).where(rej[c].notna(), None) for c in ("file", "field", "reason", "raw")}
    line = pd.to_numeric(rej["line"], errors="coerce")
    df = pd.DataFrame({
        "ingest_id": ingest_id,
        "source": source,  # the ingest's source name (the namespace of the log)
        "file": text["file"].where(text["file"].notna() & (text["file"].astype(str) != ""), default_file),
        "line": line.astype(object).where(line.notna(), None),
        "field": text["field"],
        "reason": text["reason"].where(text["reason"].notna(), "rejected (no reason given)"),
        "raw": text["raw"].map(lambda v: None if v is None else str(v)),
        "created_at": S.utcnow(),
        "resolved": False,
    })
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    for r in records:
        if r["line"] is not None:
            r["line"] = int(r["line"])
    return records


def _insert_quarantine(conn: sa.Connection, rejected: pd.DataFrame | None, ingest_id: int, source: str,
                       default_file: str) -> int:
    if rejected is None or len(rejected) == 0:
        return 0
    for start in range(0, len(rejected), 10_000):
        conn.execute(sa.insert(S.quarantine),
                     quarantine_records(rejected.iloc[start:start + 10_000], ingest_id, source, default_file))
    return len(rejected)


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


def _daily(conn: sa.Connection, frame: pd.DataFrame, iid: int, source: str, takeover: list[int]) -> UpsertStats:
    written = upsert_daily_values(conn, frame, iid, REPORTED_RULESET.format(source=source),
                                  takeover_ingest_ids=takeover)
    return UpsertStats(rows=len(frame), written=written, chunks=1)


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
    result.gate_status = "critical" if g.critical else ("warning" if g.warnings else "pass")
    findings = [f.to_dict() for f in list(g.critical) + list(g.warnings)]
    result.gate_findings = json.dumps(findings, ensure_ascii=False, default=str) if findings else None
    result.gate = g
    return kept, rejected


def _raw_input(path_or_bytes: str | os.PathLike | bytes, name: str | None) -> tuple[bytes, Path | None, str]:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        if not name:
            raise ValueError("ingesting bytes needs a name")
        return bytes(path_or_bytes), None, name
    path = Path(path_or_bytes)
    return path.read_bytes(), path, name or path.name


def _noop_entry(conn: sa.Connection, source: str, name: str, sha: str | None, prev: int) -> IngestResult:
    now = S.utcnow()
    iid = _log_insert(conn, source=source, file_or_url=name, sha256=sha, status="noop",
                      started_at=now, finished_at=now, error=f"same bytes as ingest {prev}")
    return IngestResult(iid, "noop", source, name, sha or "", noop_of=prev)


def quarantine_file_label(name: str, sha256: str) -> str:
    """What ``quarantine.file`` names for rows of an ingested file (the readers' seam: archive sha + name)."""
    return name


def _parse(reader: Reader, path: Path | None, data: bytes, name: str, sha: str, source: str,
           gate: Gate | None, result: IngestResult) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Step 3: read the raw input and run the gate; fills the reader's counts of ``result``."""
    if path is not None:
        rr = reader(path)
    else:
        with tempfile.TemporaryDirectory(prefix="envquality-ingest-") as tmp:
            tmp_path = Path(tmp) / Path(name).name
            tmp_path.write_bytes(data)
            rr = reader(tmp_path)
    frame, meta, rejected = rr.data, dict(rr.meta or {}), rr.rejected
    if path is None and rejected is not None and len(rejected):
        # the reader saw a temporary copy: quarantine names the original (archived by sha256)
        rejected = rejected.assign(file=name)
    if meta.get("sha256") and meta["sha256"] != sha:
        raise RuntimeError(f"{name}: file changed while being ingested (sha256 {meta['sha256']} != {sha})")
    n_rej = 0 if rejected is None else len(rejected)
    result.rows_duplicate = _meta_int(meta, "rows_duplicate", 0)
    result.rows_in = _meta_int(meta, "rows_in", len(frame) + n_rej + result.rows_duplicate)
    if gate is not None and len(frame):  # hourly and daily frames alike (envquality.quality.entry)
        frame, rejected = _apply_gate(gate, frame, rejected, name, source, result)
    result.readings = result.rows_ok = len(frame)
    result.rows_rejected = 0 if rejected is None else len(rejected)
    return frame, rejected


def _explicit_targets(conn: sa.Connection, source: str, ids: Sequence[int], iid: int) -> list[int]:
    """Validate the operator's ``supersedes`` ids: current deliveries of this source, earlier than ``iid``."""
    L = S.ingest_log.c
    out = []
    for old in ids:
        row = conn.execute(sa.select(L.source, L.status).where(L.id == int(old))).one_or_none()
        if row is None or row.source != source or row.status != "ok" or int(old) >= iid:
            state = "no such ingest" if row is None else f"source {row.source!r}, status {row.status}"
            raise SupersedeError(f"--supersedes {old}: not a current earlier delivery of source {source!r} "
                                 f"({state})")
        out.append(int(old))
    return out


def _versions(conn: sa.Connection, source: str, delivery_id: str | None, iid: int, lo, hi) -> list[int]:
    """Current deliveries of ``source`` declaring the same ``delivery_id`` and covering the same period."""
    if not delivery_id or lo is None:
        return []
    L = S.ingest_log.c
    rows = conn.execute(sa.select(L.id, L.period_start, L.period_end).where(
        L.source == source, L.delivery_id == delivery_id, L.status == "ok", L.id != iid)).all()
    return [int(r.id) for r in rows if r.period_start == lo and r.period_end == hi]


def _write_readings(conn: sa.Connection, frame: pd.DataFrame, iid: int, source: str, takeover: list[int],
                    chunk_rows: int, on_progress) -> UpsertStats:
    if _is_daily(frame):
        return _daily(conn, frame, iid, source, takeover)
    return upsert_readings(conn, _hourly(frame), iid, chunk_rows=chunk_rows, on_chunk=on_progress)


def _frame_span(frame: pd.DataFrame):
    """Period of a frame as stored in ``ingest_log`` (hour-ending times; daily: whole CST days)."""
    if not len(frame):
        return None, None
    if _is_daily(frame):
        d = pd.to_datetime(frame["date"])
        lo, hi = pd.Timestamp(d.min()), pd.Timestamp(d.max())
        lo = lo.tz_localize("Asia/Shanghai") if lo.tzinfo is None else lo
        hi = (hi.tz_localize("Asia/Shanghai") if hi.tzinfo is None else hi) + pd.Timedelta(days=1)
    else:
        lo, hi = frame["time"].min(), frame["time"].max()
    return lo.floor("s").to_pydatetime(), hi.floor("s").to_pydatetime()


def _commit(engine: sa.Engine, frame: pd.DataFrame, rejected: pd.DataFrame | None, result: IngestResult, *,
            supersedes: Sequence[int], chunk_rows: int, on_progress) -> IngestResult:
    """Step 4: one transaction writing readings, supersedes, quarantine and the log row."""
    iid, source, name, sha = result.ingest_id, result.source, result.name, result.sha256
    lo, hi = _frame_span(frame)
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            lock_store_writes(conn)
            prev = _ok_ingest_of(conn, source, sha)
            if prev is not None:  # a concurrent ingest of the same bytes won
                _log_update(conn, iid, status="noop", finished_at=S.utcnow(), error=f"same bytes as ingest {prev}")
                result.status, result.noop_of = "noop", prev
                return result
            _abandon_running(conn, source, name, sha, iid)
            targets = _explicit_targets(conn, source, supersedes, iid)
            versions = _versions(conn, source, result.delivery_id, iid, lo, hi)
            _log_update(conn, iid, period_start=lo, period_end=hi)
            stats = _write_readings(conn, frame, iid, source, targets + versions, chunk_rows, on_progress)
            if versions and not _is_daily(frame):  # versions must provide the same series too
                mine = delivery_series(conn, iid)
                versions = [v for v in versions if delivery_series(conn, v) == mine]
            later = [v for v in versions if v > iid]
            removed = 0
            for old in sorted(set(targets) | {v for v in versions if v < iid}):
                removed += supersede_delivery(conn, old, iid, _cause(iid, old in targets, result.note)).removed
            if later:  # an earlier version committing after a later one: delivery order wins
                removed += supersede_delivery(conn, iid, max(later), f"superseded by ingest {max(later)} "
                                              "(a later version of the same delivery)").removed
            olds = sorted(set(targets) | set(versions) - {iid})
            if not _is_daily(frame) and (stats.written or removed):  # late data: the days to recompute
                mark_dirty_days(conn, iid, lo, hi, old_span=_span_of(conn, olds) if removed else None)
            result.quarantined = _insert_quarantine(conn, rejected, iid, source, quarantine_file_label(name, sha))
            result.status = "superseded" if later else "ok"
            result.rows_written, result.rows_superseded = stats.written, removed
            result.supersedes_id = min(set(targets) | {v for v in versions if v < iid}, default=None)
            result.superseded_by = max(later) if later else None
            _log_update(
                conn, iid, status=result.status, finished_at=S.utcnow(), supersedes_id=result.supersedes_id,
                rows_in=result.rows_in, rows_ok=result.rows_ok, rows_rejected=result.quarantined,
                rows_duplicate=result.rows_duplicate, rows_superseded=removed, rows_written=stats.written,
                gate_status=result.gate_status, gate_findings=result.gate_findings,
            )
    return result


def _span_of(conn: sa.Connection, ingest_ids: Sequence[int]) -> tuple | None:
    """(earliest start, latest end) of the ingests' logged periods: the days their removed readings lay in."""
    if not ingest_ids:
        return None
    L = S.ingest_log.c
    lo, hi = conn.execute(sa.select(sa.func.min(L.period_start), sa.func.max(L.period_end))
                          .where(L.id.in_(list(ingest_ids)))).one()
    return (lo, hi) if lo is not None and hi is not None else None


def _cause(iid: int, explicit: bool, note: str | None) -> str:
    how = "operator's --supersedes" if explicit else "a later version of the same delivery"
    return f"superseded by ingest {iid} ({how}{': ' + note if note else ''})"


def _abandon_running(conn: sa.Connection, source: str, name: str, sha: str, iid: int) -> None:
    """Earlier ingests of the same bytes left ``running`` were killed before commit: mark them failed.

    Matched by source and sha256, not by name: another file of the same name may be legitimately running.
    """
    L = S.ingest_log.c
    conn.execute(
        sa.update(S.ingest_log)
        .where(L.source == source, L.sha256 == sha, L.status == "running", L.id < iid)
        .values(status="failed", finished_at=S.utcnow(),
                error=f"abandoned: interrupted before commit (found by ingest {iid})")
    )


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
    supersedes: int | Sequence[int] | None = None,
    delivery_id: str | None = None,
    note: str | None = None,
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
        Logical file name (default: base name of the path); shown in the log,
        never used to decide a supersede.
    chunk_rows : int
        Batch size of the readings upsert.
    on_progress : callable, optional
        Called with :class:`~envquality.store.bulk.UpsertStats` after each batch.
    gate : callable, optional
        Data-quality gate ``gate(frame, name, source) -> GateResult`` (see
        :func:`envquality.quality.gate.run_gate`): only its passed rows are
        stored (``likely_dust`` rows flagged), its quarantined rows join the
        reader's rejects, its outcome goes to ``ingest_log.gate_status`` and
        ``gate_findings``.
    supersedes : int or sequence of int, optional
        Ingest ids this delivery replaces (the operator's say-so): current,
        earlier deliveries of the same source.
    delivery_id : str, optional
        Declared identity of the delivery (e.g. an archive path or the
        provider's delivery id).  A later delivery with the same id, period
        and series supersedes this one.
    note : str, optional
        Operator's reason, kept in ``ingest_log.note`` and the history.

    Returns
    -------
    IngestResult

    Raises
    ------
    Exception
        Whatever the reader or the database raised; the log row is set to
        ``failed`` with the message first and no data is committed.
    """
    data, path, name = _raw_input(path_or_bytes, name)
    sha = hashlib.sha256(data).hexdigest()
    targets = [supersedes] if isinstance(supersedes, int) else list(supersedes or [])
    with engine.begin() as conn:  # 1. same bytes already current for this source -> noop, no parse
        prev = _ok_ingest_of(conn, source, sha)
        if prev is not None:
            return _noop_entry(conn, source, name, sha, prev)
    root = Path(archive_root) if archive_root is not None else default_archive_root()
    arch = archive_raw(data, name, root, sha256=sha)  # 2. archive before parsing; log 'running'
    with engine.begin() as conn:
        _insert_ignore(conn, S.raw_archive, {"sha256": sha, "original_name": name, "size": len(data),
                                             "path": arch.relpath, "received_at": S.utcnow()})
        iid = _log_insert(conn, source=source, file_or_url=name, sha256=sha, status="running",
                          delivery_id=delivery_id, note=note)
    result = IngestResult(iid, "running", source, name, sha, archive_path=str(arch.path), delivery_id=delivery_id,
                          note=note)
    try:
        frame, rejected = _parse(reader, path, data, name, sha, source, gate, result)  # 3.
        del data
        return _commit(engine, frame, rejected, result, supersedes=targets, chunk_rows=chunk_rows,
                       on_progress=on_progress)  # 4.
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

    return isinstance(exc, (InputError, SupersedeError, FileNotFoundError, IsADirectoryError, UnicodeDecodeError))


@dataclass(frozen=True)
class RawInput:
    """Raw bytes without a file (an API answer, generated data): ingested under ``name``.

    ``data`` may be a zero-argument callable returning the bytes, so a long
    list of inputs is produced one at a time.  ``delivery_id`` declares the
    delivery's identity (see :func:`ingest_file`).  ``name_fixes_bytes``
    says the name alone determines the bytes (a seeded simulation whose name
    carries every parameter): when this source already holds a current
    delivery of that name the input is a ``noop`` without producing or
    parsing the bytes.
    """

    name: str
    data: bytes | Callable[[], bytes]
    delivery_id: str | None = None
    name_fixes_bytes: bool = False

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


def _ingest_one(engine: sa.Engine, source: str, p, reader: Reader, **kw) -> IngestResult:
    if not isinstance(p, RawInput):
        return ingest_file(engine, p, reader, source, **kw)
    if p.name_fixes_bytes:
        with engine.begin() as conn:
            L = S.ingest_log.c
            prev = conn.execute(sa.select(L.id, L.sha256).where(L.source == source, L.file_or_url == p.name,
                                                                L.status == "ok").order_by(L.id.desc())).first()
            if prev is not None:
                return _noop_entry(conn, source, p.name, prev.sha256, int(prev.id))
    return ingest_file(engine, p.load(), reader, source, name=p.name,
                       **{**kw, "delivery_id": kw.get("delivery_id") or p.delivery_id})


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
    supersedes: int | Sequence[int] | None = None,
    delivery_id: str | None = None,
    note: str | None = None,
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
    supersedes, delivery_id, note :
        See :func:`ingest_file`; only with exactly one input.

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
    one = len(files) == 1
    if not one and (supersedes or delivery_id):
        raise SupersedeError("--supersedes and --delivery-id apply to exactly one input file")
    for p in bar:
        label = p.name if isinstance(p, RawInput) else str(p)
        try:
            r = _ingest_one(engine, source_name, p, reader, archive_root=archive_root, chunk_rows=chunk_rows,
                            gate=gate, supersedes=supersedes, delivery_id=delivery_id, note=note)
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
