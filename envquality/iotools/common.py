"""Shared pieces of the readers: the result type, decoding, missing markers, duplicates.

Every ``read_*`` function in :mod:`envquality.iotools` returns a
:class:`ReadResult`: tidy readings (see :mod:`envquality.model`), metadata,
and every rejected input row with file, line, field, reason and raw text.
Nothing read is silently dropped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import pandas as pd

from envquality.core import (  # re-exported: the shared types live in envquality.core
    REJECT_COLUMNS,
    TIDY_COLUMNS,
    InputError,
    ReadResult,
    decode_bytes,
    rejects_frame,
)

__all__ = [
    "ReadResult", "InputError", "REJECT_COLUMNS", "MISSING_MARKERS",
    "decode_bytes", "read_text", "sha256_of", "to_number", "rejects_frame",
    "split_duplicates", "TIDY_COLUMNS",
]

#: Text that sources use for "no value".  ``-1``, ``-999`` and ``9999`` are
#: numeric markers some exports use; readers pass the ones their source uses.
MISSING_MARKERS: frozenset[str] = frozenset(
    {"", "nan", "NaN", "NAN", "null", "NULL", "None", "—", "-", "--", "/", "NA", "N/A"}
)
#: Numeric "missing" sentinels of tidy exports (-1, -999, 9999): NaN in ``read_readings`` (docs/conventions.md).
NUMERIC_MISSING: frozenset[float] = frozenset({-1.0, -999.0, 9999.0})



def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of raw input bytes (the archive key of a raw file)."""
    return hashlib.sha256(data).hexdigest()


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


def _raw_fallback(rows: pd.DataFrame, line_column: str) -> pd.Series | None:
    """Raw text of duplicate rows without a raw column.

    With line numbers, None: the caller fills in the physical input lines
    (:func:`envquality.iotools._parse.finish`).  Otherwise the row's cells
    joined, NaN written ``NaN`` (``astype(str)`` keeps NaN under pandas 3).
    """
    if line_column in rows:
        return None
    return rows.astype("string").fillna("NaN").agg(",".join, axis=1)


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
                "raw": rej[raw_column] if raw_column in rej else _raw_fallback(rej, line_column),
                "source": source,
            })
        )
    else:
        rejected = rejects_frame([])
    return kept, rejected, int(dup_identical.sum())
