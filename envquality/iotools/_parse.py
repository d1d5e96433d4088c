"""Parsing pieces shared by the readers: input loading, CSV records with physical
line numbers, raw text of rejected records, CST time stamps, reject frames and
the common result assembly.

One implementation each; the readers (:mod:`~envquality.iotools.quotsoft`,
:mod:`~envquality.iotools.cnemc`, :mod:`~envquality.iotools.aqistudy`,
:mod:`~envquality.iotools.generic`, :mod:`~envquality.iotools.pm25in`,
:mod:`~envquality.iotools.openaq`, :mod:`~envquality.iotools.readings`) call
them.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from envquality.iotools._units import implausible, sanity_bound
from envquality.iotools.common import (
    InputError,
    ReadResult,
    decode_bytes,
    rejects_frame,
    sha256_of,
    split_duplicates,
)
from envquality.model import TIMEZONE

__all__ = [
    "load_source", "decode_input", "load_text", "record_layout", "csv_records", "record_spans", "raw_lines",
    "read_str_table", "to_cst", "parse_time_text", "reject_rows", "number_rejects", "collect_rejects", "base_meta", "time_range",
    "finish",
]


# --------------------------------------------------------------------------- input
def _is_file(s: str) -> bool:
    if "\n" in s or len(s) > 1024:
        return False
    try:
        return Path(s).is_file()
    except (OSError, ValueError):
        return False


def load_source(src: Any, *, name: str | None = None, content: bool = False) -> tuple[bytes, str]:
    """``(raw bytes, file label)`` of a path, bytes, or (with ``content=True``) str content.

    A one-line str that names no file and does not look like CSV/JSON
    content is taken for a wrong path.  A missing or unreadable file raises
    :class:`InputError` naming it.
    """
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), name or "<bytes>"
    if isinstance(src, str) and content and not _is_file(src):
        if "\n" not in src and src.strip() and len(src) < 260 and not any(c in src for c in ",{["):
            raise InputError(src, None, None, "cannot read: file not found (no such file)")
        return src.encode("utf-8"), name or "<string>"
    if not isinstance(src, (str, os.PathLike)):
        raise TypeError(f"expected a path, bytes or str, got {type(src).__name__}")
    p = Path(src)
    try:
        return p.read_bytes(), str(src)
    except FileNotFoundError:
        raise InputError(p, None, None, "cannot read: file not found (no such file)") from None
    except OSError as exc:
        raise InputError(p, None, None, f"cannot read file: {exc.strerror or exc}") from None


def decode_input(raw: bytes, label: str, *, binary_check: bool = False) -> tuple[str, str]:
    """:func:`~envquality.iotools.common.decode_bytes` with an :class:`InputError` naming the file."""
    try:
        text, enc = decode_bytes(raw)
    except UnicodeDecodeError as exc:
        raise InputError(label, None, None, f"neither UTF-8 nor GB18030 text: {exc.reason}") from None
    if binary_check and "\x00" in text:
        raise InputError(label, None, None, "binary content (NUL bytes): not a text/CSV file")
    return text, enc


def load_text(src: Any, *, name: str | None = None) -> tuple[str, str, str, bytes]:
    """``(text, encoding, file label, raw bytes)`` of a path, bytes or str content (NUL bytes refused)."""
    raw, label = load_source(src, name=name, content=True)
    text, enc = decode_input(raw, label, binary_check=True)
    return text, enc, label, raw


# --------------------------------------------------------------------------- CSV records
def _physical_lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _record_starts(rows: list[list[str]], text: str) -> np.ndarray:
    """1-based first physical line of each parsed record (quoted newlines counted, vectorized)."""
    n = len(rows)
    if _physical_lines(text) == n:
        return np.arange(1, n + 1, dtype=np.int64)
    import pyarrow as pa
    import pyarrow.compute as pc

    nf = np.fromiter(map(len, rows), dtype=np.int64, count=n)
    flat = pa.array(list(itertools.chain.from_iterable(rows)), type=pa.large_string())
    per_field = pc.count_substring(flat, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
    cum = np.concatenate([[0], np.cumsum(per_field)])
    ends = np.cumsum(nf)
    span = cum[ends] - cum[ends - nf] + 1
    return np.cumsum(span) - span + 1


def _parse_rows(text: str, delimiter: str, file: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return list(reader)
    except csv.Error as exc:
        # slow path, errors only: find the start line of the failing record
        start = 1
        r2 = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            for _ in r2:
                start = r2.line_num + 1
        except csv.Error:
            pass
        raise InputError(file, start, None, f"malformed CSV record: {exc}") from None


def record_layout(text: str, *, delimiter: str = ",", file: str = "<text>") -> tuple[np.ndarray, np.ndarray]:
    """``(start_line, n_fields)`` of each CSV record of ``text`` (``n_fields`` 0 for a blank line).

    Without quote characters each physical line is one record (vectorized);
    with quotes an RFC 4180 parser finds multi-line records.  Raises
    :class:`InputError` for malformed CSV.

    >>> record_layout('a,b\\n\\n"x\\ny",z\\n')
    (array([1, 2, 3]), array([2, 0, 2]))
    """
    if '"' not in text:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        s = pd.Series(lines, dtype=object)
        n_fields = s.str.count(delimiter).to_numpy(dtype=np.int64) + 1
        n_fields[(s.str.len() == 0).to_numpy(dtype=bool)] = 0
        return np.arange(1, len(lines) + 1, dtype=np.int64), n_fields
    rows = _parse_rows(text, delimiter, file)
    return _record_starts(rows, text), np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))


def csv_records(text: str, *, file: str, delimiter: str = ",") -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Split CSV text into records with an RFC 4180 parser.

    Returns ``(fields, start_line, n_fields)``: a frame of text fields (column
    ``i`` = field ``i``, None past a record's end), the 1-based physical line
    where each record starts (quoted fields spanning lines are counted) and
    the number of fields of each record (0 for a blank line).  The parsing is
    done by the C ``csv`` module; line numbers are computed vectorized.

    Raises
    ------
    InputError
        Malformed CSV (an unterminated quote...), with the line of the record.
    """
    rows = _parse_rows(text, delimiter, file)
    if not rows:
        return pd.DataFrame(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # pad ragged records column-wise in C (zip_longest) into Arrow string columns
    import pyarrow as pa

    n_fields = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    arrays = [pa.array(c, type=pa.large_string()) for c in itertools.zip_longest(*rows)]
    fields = pd.DataFrame(
        {i: pd.Series(pd.arrays.ArrowStringArray(a)) for i, a in enumerate(arrays)},
        index=pd.RangeIndex(len(rows)),
    )
    return fields, _record_starts(rows, text), n_fields


def record_spans(text: str, start: np.ndarray) -> dict[int, int]:
    """``{start_line: number of physical lines}`` of the records of :func:`csv_records`."""
    if not len(start):
        return {}
    ends = np.append(start[1:], _physical_lines(text) + 1)
    return dict(zip(start.tolist(), (ends - start).tolist()))


def raw_lines(text: str | list[str], start: Iterable[int], span: Iterable[int] | None = None) -> list[str]:
    """Physical text of records (their first line, or ``span`` lines each), for rejected rows only.

    ``text`` is the file text or its list of physical lines; a line number
    outside the file gives ``""``.
    """
    lines = text.split("\n") if isinstance(text, str) else text
    starts = [int(s) for s in start]
    spans = [int(n) for n in span] if span is not None else [1] * len(starts)
    return ["\n".join(lines[s - 1:s - 1 + n]) if s > 0 else "" for s, n in zip(starts, spans)]


def read_str_table(
    text: str, label: str, *, header: bool, ncol: int | None = None,
) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray, list[str]]:
    """Parse CSV text to a frame of str cells (no NA conversion) with physical line numbers.

    Returns ``(frame, lines, line_of_row, nfields_of_row, header_fields)``.
    Rows with more fields than the header (or ``ncol``) are returned too,
    with their first ``ncol`` cells and their true field count, so the
    caller can reject them; blank lines are dropped.  Raises
    :class:`InputError` when the text is not CSV.
    """
    start, nfields = record_layout(text, file=label)
    lines = text.split("\n")
    head: list[str] = []
    if header:
        if not len(start):
            raise InputError(label, 1, None, "empty file: no header line")
        head = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
        ncol = len(head)
        start, nfields = start[1:], nfields[1:]
    if ncol is None:
        raise ValueError("ncol is required without a header")
    names = [f"c{i}" for i in range(ncol)]
    try:
        # with usecols the C parser keeps over-long rows (truncated) instead of skipping them:
        # every record is a row, and the caller rejects rows by their true field count
        df = pd.read_csv(io.StringIO(text), header=0 if header else None, names=names, dtype=str,
                         usecols=list(range(ncol)), keep_default_na=False, na_filter=False,
                         skip_blank_lines=False, on_bad_lines="skip", engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(label, None, None, f"cannot parse as CSV: {exc}") from None
    if len(start) != len(df):  # pragma: no cover - defensive
        raise InputError(label, None, None, "cannot align CSV records with lines")
    keep = nfields > 0
    return df.loc[keep].reset_index(drop=True), lines, start[keep], nfields[keep], head


# --------------------------------------------------------------------------- time
def to_cst(naive: Any) -> pd.DatetimeIndex:
    """Naive China Standard Time stamps to tz-aware Asia/Shanghai (fixed UTC+8, vectorized).

    >>> str(to_cst(np.array(["2023-03-22T12:00"], dtype="datetime64[ns]"))[0])
    '2023-03-22 12:00:00+08:00'
    """
    utc = pd.DatetimeIndex(np.asarray(naive, dtype="datetime64[ns]") - np.timedelta64(8, "h"))
    return utc.tz_localize("UTC").tz_convert(TIMEZONE)


#: A time of day followed by a UTC offset (``Z``, ``+08:00``, ``+0800``, ``-05``).
_OFFSET = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


def _offset_minutes(text: pd.Series) -> pd.Series:
    """UTC offset in minutes of stamps that carry one (``Z`` = 0), NaN for naive stamps."""
    m = text.str.extract(r"(?P<z>[zZ])$|(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
    minutes = pd.to_numeric(m["h"], errors="coerce") * 60 + pd.to_numeric(m["m"], errors="coerce").fillna(0)
    minutes = minutes.where(m["sign"] != "-", -minutes)
    return minutes.where(m["z"].isna(), 0.0).astype("float64")


def parse_time_text(
    text: pd.Series, *, naive_zone: str | None = TIMEZONE, flag_ambiguous: bool = True,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """ISO 8601 stamps with mixed UTC offsets to one convention, vectorized.

    Every stamp with an offset (``+00:00``, ``+08:00``, ``Z``, ``+0800``) is
    converted to its instant; a naive stamp is read in ``naive_zone`` (the
    store's convention: China Standard Time, ``docs/conventions.md``).  A
    naive stamp is *ambiguous* when the same column also carries offsets
    other than the naive zone's own (``+00:00`` next to ``2024-01-01 01:00``:
    UTC or CST?); with ``flag_ambiguous`` those rows are returned in
    ``ambiguous`` and get NaT, for the caller to quarantine with their line.

    Parameters
    ----------
    text : pandas.Series
        Time text.
    naive_zone : str or None
        Zone of naive stamps; None leaves them naive (the caller localizes).
    flag_ambiguous : bool, default True
        Mark naive stamps in a column with other offsets as ambiguous.

    Returns
    -------
    times : pandas.Series
        tz-aware Asia/Shanghai (naive when ``naive_zone`` is None and no
        stamp has an offset); NaT where unparsable or ambiguous.
    unparsable : pandas.Series of bool
    ambiguous : pandas.Series of bool

    Examples
    --------
    >>> t, bad, amb = parse_time_text(pd.Series(["2024-01-01T00:00Z", "2024-01-01 08:00+08:00", "x"]))
    >>> [str(v) for v in t], bad.tolist(), amb.tolist()
    (['2024-01-01 08:00:00+08:00', '2024-01-01 08:00:00+08:00', 'NaT'], [False, False, True], [False, False, False])
    """
    s = text.astype("string").str.strip()
    present = s.notna() & (s != "")
    has_off = s.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
    naive_t = pd.to_datetime(s.where(~has_off & present), format="ISO8601", errors="coerce")
    if not has_off.any():
        bad = present & naive_t.isna()
        times = naive_t if naive_zone is None else _localize_naive(naive_t, naive_zone)
        return times, bad.astype(bool), pd.Series(False, index=s.index)
    aware = pd.to_datetime(s.where(has_off), utc=True, format="ISO8601", errors="coerce")
    zone = naive_zone or TIMEZONE
    local = _localize_naive(naive_t, zone).dt.tz_convert("UTC")
    ambiguous = pd.Series(False, index=s.index)
    if flag_ambiguous and (~has_off & present).any():
        offsets = set(_offset_minutes(s[has_off]).dropna().unique().tolist())
        own = set(_offset_minutes(pd.Series([pd.Timestamp("2024-01-15", tz=zone).strftime("%z")])).tolist())
        if offsets - own:
            ambiguous = (~has_off & present & naive_t.notna()).astype(bool)
            local = local.where(~ambiguous)
    times = aware.where(has_off, local).dt.tz_convert(TIMEZONE)
    bad = present & times.isna() & ~ambiguous
    return times, bad.astype(bool), ambiguous


def _localize_naive(naive: pd.Series, zone: str) -> pd.Series:
    """Naive stamps in ``zone`` to tz-aware Asia/Shanghai (CST exactly via :func:`to_cst`)."""
    if zone == TIMEZONE:
        return pd.Series(to_cst(naive.to_numpy(dtype="datetime64[ns]")), index=naive.index)
    loc = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return loc.dt.tz_convert(TIMEZONE)


# --------------------------------------------------------------------------- results
def reject_rows(file: str, line: Any, field: Any, reason: Any, raw: Any, source: str) -> pd.DataFrame:
    """A rejected-rows frame (scalars broadcast)."""
    return rejects_frame(pd.DataFrame({
        "file": file, "line": line, "field": field, "reason": reason, "raw": raw, "source": source,
    }))


def number_rejects(file: str, line: Any, field: Any, cells: pd.Series, source: str) -> pd.DataFrame:
    """Rejected rows for cells that are not numbers (reason ``cannot parse '<cell>' as a number``)."""
    reason = "cannot parse " + cells.astype(str).map(repr) + " as a number"
    return reject_rows(file, line, field, reason, None, source)


def collect_rejects(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All rejected rows, ordered by line (stable)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return rejects_frame([])
    return rejects_frame(pd.concat(parts, ignore_index=True)).sort_values("line", kind="stable") \
        .reset_index(drop=True)


def base_meta(source: str, label: str, raw: bytes, enc: str) -> dict[str, Any]:
    """The ``source, file, sha256, encoding`` entries of a reader's meta."""
    return {"source": source, "file": label, "sha256": sha256_of(raw), "encoding": enc}


def time_range(t: pd.Series) -> tuple[Any, Any]:
    """``(min, max)`` of a time column, ``(None, None)`` when empty."""
    if len(t) == 0:
        return None, None
    return t.min(), t.max()


def finish(
    long: pd.DataFrame,
    rejected: list[pd.DataFrame],
    *,
    file: str,
    source: str,
    raw_of: Any,
    extra_cols: tuple[str, ...] = (),
    meta: dict[str, Any],
) -> ReadResult:
    """Sanity-check values, split duplicates and build the :class:`ReadResult`.

    ``long`` has ``station, time, pollutant, value, line`` (+ ``extra_cols``);
    ``raw_of(lines) -> list[str]`` gives the raw text of rejected records.
    Values above the unit-sanity bound (:func:`~envquality.iotools._units.implausible`,
    negatives allowed) are rejected as unit errors.
    """
    pol = long["pollutant"].to_numpy(dtype=object)
    too_high = implausible(long["value"].to_numpy(dtype=np.float64), pol, negative=False)
    if too_high.any():
        bad = long.loc[too_high]
        limit = pd.Series(sanity_bound(pol[too_high]), index=bad.index)
        rejected.append(reject_rows(
            file, bad["line"], bad["pollutant"],
            "value " + bad["value"].map("{:g}".format) + " above plausible maximum "
            + limit.map("{:g}".format) + " (unit error?)", None, source,
        ))
        long = long.loc[~too_high]
    kept, dup_rej, n_dup = split_duplicates(long, file=file, source=source)
    rejected.append(dup_rej)
    rej = rejects_frame(pd.concat([r for r in rejected if len(r)], ignore_index=True)) if any(
        len(r) for r in rejected) else rejects_frame([])
    need_raw = rej["raw"].isna() & rej["line"].notna()
    if need_raw.any():
        rej.loc[need_raw, "raw"] = raw_of(rej.loc[need_raw, "line"].astype(int).tolist())
    rej = rej.sort_values(["line", "field"], kind="stable", na_position="last").reset_index(drop=True)
    # ``line`` (the physical input line) stays on the data, and ``attrs["raw_of"]`` gives the raw
    # text of lines on demand, so rows the quality gate quarantines keep both (envquality.quality.gate)
    cols = ["station", "time", "pollutant", "value", *extra_cols, "line"]
    data = (
        kept.loc[:, cols].sort_values(["station", "time", "pollutant"], kind="stable").reset_index(drop=True)
    )
    data["line"] = pd.to_numeric(data["line"], errors="coerce").astype("Int64")
    data.attrs["raw_of"] = raw_of
    data["value"] = data["value"].astype("float64")
    data["time"] = data["time"].astype(pd.DatetimeTZDtype("ns", TIMEZONE))
    data["station"] = data["station"].astype(str)
    data["pollutant"] = data["pollutant"].astype(str)
    meta = {
        **meta,
        "source": source, "file": file,
        "rows_rejected": int(len(rej)), "rows_duplicate": int(n_dup),
        "values_out": int(len(data)),
    }
    return ReadResult(data, meta, rej)
