"""Shared pieces of the readers: the result type, decoding, missing markers, duplicates.

Every ``read_*`` function in :mod:`envquality.iotools` returns a
:class:`ReadResult`: tidy readings (see :mod:`envquality.model`), metadata,
and every rejected input row with file, line, field, reason and raw text.
Nothing read is silently dropped.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

__all__ = [
    "ReadResult", "InputError", "REJECT_COLUMNS", "MISSING_MARKERS",
    "decode_bytes", "read_text", "sha256_of", "to_number", "rejects_frame",
    "split_duplicates", "TIDY_COLUMNS",
]

#: Columns of the tidy hourly frame every reader returns.
TIDY_COLUMNS: tuple[str, ...] = ("station", "time", "pollutant", "value")

#: Columns of a rejected-rows frame (quarantine input).
REJECT_COLUMNS: tuple[str, ...] = ("file", "line", "field", "reason", "raw", "source")

#: Text that sources use for "no value".  ``-1``, ``-999`` and ``9999`` are
#: numeric markers some exports use; readers pass the ones their source uses.
MISSING_MARKERS: frozenset[str] = frozenset(
    {"", "nan", "NaN", "NAN", "null", "NULL", "None", "—", "-", "--", "/", "NA", "N/A"}
)


class InputError(ValueError):
    """Unreadable input, with the file, line and field at fault.

    Its message is meant for operators: ``"readings.csv, line 12, field
    'time': cannot parse '2024-13-01 01:00' as a time"``.
    """

    def __init__(self, file: str | Path, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field = str(file), line, field
        where = [Path(self.file).name]
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass
class ReadResult:
    """What a reader returns.

    Attributes
    ----------
    data : pandas.DataFrame
        Tidy readings, columns :data:`TIDY_COLUMNS` (plus optional extras
        such as ``city``), ``time`` tz-aware Asia/Shanghai, hour-ending.
    meta : dict
        ``source``, ``file``, ``sha256``, ``encoding``, ``rows_in``,
        ``rows_ok``, ``rows_rejected``, ``rows_duplicate`` and
        source-specific entries.
    rejected : pandas.DataFrame
        Columns :data:`REJECT_COLUMNS`; one row per rejected input row.
    """

    data: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    rejected: pd.DataFrame = field(default_factory=lambda: rejects_frame([]))

    def __iter__(self):  # allows ``data, meta = read_x(...)`` pvlib-style... plus rejects
        return iter((self.data, self.meta, self.rejected))


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of raw input bytes (the archive key of a raw file)."""
    return hashlib.sha256(data).hexdigest()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM) or GB18030 (a superset of GBK).

    Returns ``(text, encoding)``; CRLF and CR line ends become LF.
    """
    if data.startswith(codecs.BOM_UTF8):
        text, enc = data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = data.decode("gb18030"), "gb18030"
    return text.replace("\r\n", "\n").replace("\r", "\n"), enc


def read_text(path: str | Path) -> tuple[str, str, bytes]:
    """Read a file as text: ``(text, encoding, raw_bytes)``."""
    raw = Path(path).read_bytes()
    text, enc = decode_bytes(raw)
    return text, enc, raw


def to_number(
    values: pd.Series,
    *,
    numeric_missing: Iterable[float] = (),
) -> tuple[pd.Series, pd.Series]:
    """Parse text to float, vectorized.

    Returns ``(numbers, bad)`` where ``numbers`` has NaN for missing markers
    and unparsable text and ``bad`` is True only for unparsable text that is
    not a missing marker (those rows belong in quarantine).
    """
    s = values.astype("string").str.strip()
    is_marker = s.isna() | s.isin(MISSING_MARKERS)
    num = pd.to_numeric(s.where(~is_marker), errors="coerce").astype("float64")
    bad = num.isna() & ~is_marker
    miss = list(numeric_missing)
    if miss:
        num = num.mask(num.isin(miss))
    return num, bad.fillna(False).astype(bool)


def rejects_frame(rows: Iterable[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """A rejected-rows frame with exactly :data:`REJECT_COLUMNS`."""
    df = pd.DataFrame(rows if not isinstance(rows, pd.DataFrame) else rows)
    for c in REJECT_COLUMNS:
        if c not in df:
            df[c] = pd.Series(dtype="object")
    df = df.loc[:, list(REJECT_COLUMNS)]
    df["line"] = pd.array(df["line"], dtype="Int64")
    return df.reset_index(drop=True)


def split_duplicates(
    data: pd.DataFrame,
    *,
    key: tuple[str, ...] = ("station", "time", "pollutant"),
    file: str = "",
    source: str = "",
    line_column: str = "line",
    raw_column: str = "raw",
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Collapse identical duplicates; send conflicting ones to quarantine.

    Rows sharing ``key`` with the same value (NaN equal to NaN) collapse to
    one.  Where values differ, *all* rows of that key are rejected with a
    reason naming both values, and none is kept: which is right is an
    operator's call.  Vectorized (no per-row Python).

    Returns ``(kept, rejected, n_identical_duplicates)``.
    """
    k = list(key)
    if data.empty:
        return data, rejects_frame([]), 0
    vals = data["value"].astype("float64")
    # a missing copy carries no information: only distinct non-NaN values conflict
    grp = data.assign(_v=vals).groupby(k, sort=False, dropna=False)["_v"]
    conflict = grp.transform("nunique") > 1
    # keep one row per key, preferring a row with a value
    order = data.assign(_nan=vals.isna()).sort_values("_nan", kind="stable")
    first = ~order.duplicated(k, keep="first")
    keep_mask = pd.Series(False, index=data.index)
    keep_mask[order.index[first.to_numpy()]] = True
    dup_identical = ~conflict & ~keep_mask
    kept = data.loc[~conflict & ~dup_identical]
    rej = data.loc[conflict]
    if len(rej):
        listing = (
            rej.assign(_s=vals[conflict].map(lambda v: "NaN" if pd.isna(v) else f"{v:g}"))
            .groupby(k, sort=False, dropna=False)["_s"].transform(lambda s: " vs ".join(s))
        )
        rejected = rejects_frame(
            pd.DataFrame({
                "file": file,
                "line": rej[line_column] if line_column in rej else pd.NA,
                "field": rej["pollutant"].astype(str) if "pollutant" in rej else "value",
                "reason": "conflicting duplicate: " + listing.astype(str),
                "raw": rej[raw_column] if raw_column in rej else rej.astype(str).agg(",".join, axis=1),
                "source": source,
            })
        )
    else:
        rejected = rejects_frame([])
    return kept, rejected, int(dup_identical.sum())
