"""Reader of tidy readings files (CSV or Parquet) for ``envquality assess``.

Layout: one row per value with columns ``station`` and/or ``city``,
``time`` (or ``date``), ``pollutant``, ``value`` and optionally ``unit``.
Hourly files use the 1-h pollutant keys ``so2 no2 pm10 pm25 co o3``; daily
files the daily keys ``so2_24h no2_24h pm10_24h pm25_24h co_24h o3_1h
o3_8h`` (``o3_1h`` = daily max 1-h, ``o3_8h`` = MDA8).  Common spellings
(``PM2.5``, ``pm2_5``, ``O3_8h``, ``SO2_24h`` …) are accepted.  Units are
µg/m³ except CO in mg/m³; a ``unit`` column, where present, must say so
(``µg/m³``, ``ug/m3``, ``mg/m3``; CO in µg/m³ is converted).

Missing values (``docs/conventions.md``): empty cells, the text markers of
:data:`~envquality.iotools.common.MISSING_MARKERS` (``NaN``, ``NA``, ``—``,
``-``, ``null`` …) and the numeric sentinels ``-1``, ``-999`` and ``9999``
become NaN (counted in ``meta["missing_sentinels"]``).

Times: ISO 8601.  A stamp with a UTC offset (``+00:00``, ``Z``, ``+0800``)
is converted to China Standard Time; a naive stamp is CST.  A naive stamp
in a file whose other stamps carry offsets other than +08:00 is ambiguous
and rejected with its line (:func:`~envquality.iotools._parse.parse_time_text`).

Every problem is reported as :class:`~envquality.iotools.common.InputError`
naming the file, the line and the field.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from envquality.iotools._parse import decode_input, load_source, parse_time_text, raw_lines, record_layout, to_cst
from envquality.iotools._units import normalize_unit, pollutant_keys, sanity_bound
from envquality.iotools.common import (
    NUMERIC_MISSING, InputError, ReadResult, rejects_frame, sha256_of, split_duplicates, to_number,
)
from envquality.model import DAILY_POLLUTANTS, HOURLY_POLLUTANTS, TIMEZONE
from envquality.text import bounded_excerpt

__all__ = ["read_readings", "canonical_pollutant"]

_KEYS = HOURLY_POLLUTANTS + DAILY_POLLUTANTS


def canonical_pollutant(name: str) -> str | None:
    """Canonical key of a pollutant spelling, or None if unknown.

    Keys are those of hourly and daily files (``o3_1h`` = daily maximum
    1-h O3); spellings as :func:`envquality.iotools._units.pollutant_keys`
    accepts them (``PM2.5``, ``pm2_5``, ``二氧化硫``, ``SO2-24h`` …).

    >>> canonical_pollutant("PM2.5"), canonical_pollutant("O3_8h"), canonical_pollutant("SO2_24H")
    ('pm25', 'o3_8h', 'so2_24h')
    >>> canonical_pollutant("benzene") is None
    True
    """
    key = pollutant_keys(pd.Series([str(name)], dtype=object), _KEYS).iloc[0]
    return key if isinstance(key, str) else None


def read_readings(path: str | Path, *, strict: bool = True) -> ReadResult:
    """Read a tidy readings file (CSV, optionally gzip; or Parquet).

    With ``strict`` (the ``assess`` command) the first bad row stops the read
    with an :class:`InputError`; with ``strict=False`` (ingestion) every bad
    row goes to ``rejected`` with its line, field, reason and raw text and the
    rest is read.  A wrong header or a file that mixes hourly and daily keys
    is an error either way.

    Returns
    -------
    ReadResult
        ``data`` with columns ``station``, ``city`` (may be missing values),
        ``time`` (hourly: tz-aware Asia/Shanghai hour-ending) or ``date``
        (daily: naive midnight), ``pollutant``, ``value``;
        ``meta["resolution"]`` is ``"hourly"`` or ``"daily"``.

    Raises
    ------
    InputError
        Unknown pollutant, unparsable time or value, unit other than the
        standard one (strict mode), missing column; names file, line and field.
    """
    p = Path(path)
    raw, df, raw_text, line, first_line = _load(p)
    tcol = _check_columns(p, df)
    bad = _Problems(p, line, strict)
    pol, resolution = _pollutants(p, df, line, first_line, bad)
    value, sentinel = _values(df, pol, bad)
    times = _times(df[tcol], tcol, bad)
    out = pd.DataFrame({
        "station": (df["station"] if "station" in df else df["city"]).astype(str).str.strip(),
        "city": df["city"].astype(str).str.strip() if "city" in df else pd.Series(pd.NA, index=df.index),
        "pollutant": pol,
        "value": value.astype(float),
        "line": line,
        "raw": (raw_lines(raw_text, line) if raw_text is not None else _raw_lines(df))
        if len(df) < 2_000_000 else "",
    })
    if resolution == "hourly":
        out["time"] = (pd.Series(to_cst(times.to_numpy(dtype="datetime64[ns]")), index=times.index)
                       if getattr(times.dt, "tz", None) is None else times)
    else:
        out["time"] = (
            times.dt.tz_localize(None) if getattr(times.dt, "tz", None) is not None else times
        ).dt.normalize()
    out, bad_rows = bad.split(out)
    kept, rejected, n_dup = split_duplicates(out, file=str(p), source="tidy")
    if bad_rows:
        rejected = rejects_frame(pd.concat(bad_rows + [rejected], ignore_index=True))
    # ``line`` stays on the data and ``attrs["raw_of"]`` gives the text of physical lines, so rows
    # the quality gate quarantines keep both (envquality.quality.gate)
    data = kept.drop(columns=["raw"]).rename(
        columns={"time": "time" if resolution == "hourly" else "date"}
    )
    data["line"] = pd.to_numeric(data.pop("line"), errors="coerce").astype("Int64")
    meta = {
        "source": "tidy", "file": str(p), "sha256": sha256_of(raw), "resolution": resolution,
        "rows_in": int(len(df)), "rows_ok": int(len(data)), "rows_rejected": int(len(rejected)),
        "rows_duplicate": n_dup, "missing_sentinels": int(sentinel.sum()),
    }
    data = data.reset_index(drop=True)
    if raw_text is not None:
        file_text: str = raw_text
        data.attrs["raw_of"] = lambda ls: raw_lines(file_text, ls)
    return ReadResult(data, meta, rejected)


# --------------------------------------------------------------------------- steps
class _Problems:
    """Bad rows found by the checks: the first raises in strict mode, else all go to the rejects."""

    def __init__(self, p: Path, line: pd.Series, strict: bool):
        self.p, self.line, self.strict = p, line, strict
        self.found: list[tuple[pd.Series, str, pd.Series]] = []  # (mask, field, reason)

    def __call__(self, mask: pd.Series, field: str, reason: pd.Series | str) -> None:
        if not mask.any():
            return
        if self.strict:
            i = mask.to_numpy().argmax()
            text = reason if isinstance(reason, str) else reason.iloc[i]
            raise InputError(self.p, int(self.line.iloc[i]), field, text)  # reasons quote cells via bounded_excerpt
        self.found.append((mask, field, reason if not isinstance(reason, str)
                           else pd.Series(reason, index=mask.index)))

    def split(self, out: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        """``out`` without the bad rows, and one reject per bad row (its first problem)."""
        if not self.found:
            return out, []
        drop = pd.Series(False, index=out.index)
        rows = []
        for mask, field, reason in self.found:
            fresh = mask & ~drop
            drop |= mask
            rows.append(pd.DataFrame({"file": str(self.p), "line": self.line[fresh], "field": field,
                                      "reason": reason[fresh], "raw": out.loc[fresh, "raw"], "source": "tidy"}))
        return out.loc[~drop], rows


def _load(p: Path) -> tuple[bytes, pd.DataFrame, str | None, pd.Series, int]:
    """Parse: CSV (optionally gzip) or Parquet to a frame of text cells; physical line of each row."""
    raw, _ = load_source(p)
    raw_text = None
    if p.suffix.lower() in (".parquet", ".pq"):
        df = pd.read_parquet(io.BytesIO(raw))
        first_line = 1  # Parquet rows are numbered from 1
        df.columns = [str(c).strip().lower() for c in df.columns]
    else:
        if p.suffix.lower() == ".gz":
            import gzip

            raw_text, enc = decode_input(gzip.decompress(raw), str(p))
        else:
            raw_text, enc = decode_input(raw, str(p))
        try:
            df = pd.read_csv(io.StringIO(raw_text), dtype=str, keep_default_na=False, skip_blank_lines=False)
        except pd.errors.ParserError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise InputError(
                p, int(m.group(1)) if m else None, None, f"not a valid CSV file ({bounded_excerpt(exc, 120)})"
            ) from None
        except pd.errors.EmptyDataError:
            raise InputError(p, 1, None, "file is empty") from None
        df.columns = [str(c).strip().lower() for c in df.columns]
        first_line = 2  # line 1 is the header
    line = pd.Series(np.arange(len(df)) + first_line, index=df.index)
    if raw_text is not None:  # physical lines (quoted fields may span lines)
        start, _n = record_layout(raw_text, file=str(p))
        if len(start) == len(df) + 1:
            line = pd.Series(start[1:], index=df.index)
    return raw, df, raw_text, line, first_line


def _check_columns(p: Path, df: pd.DataFrame) -> str:
    """The required columns; returns the time column (``time`` hourly or ``date`` daily)."""
    for need in ("pollutant", "value"):
        if need not in df:
            columns = bounded_excerpt(", ".join(map(str, df.columns)))
            raise InputError(p, 1, need, f"missing column {need!r}; columns are {columns}")
    if "station" not in df and "city" not in df:
        raise InputError(p, 1, "station", "need a 'station' or a 'city' column")
    if "time" in df:
        return "time"
    if "date" in df:
        return "date"
    raise InputError(p, 1, "time", "need a 'time' (hourly) or 'date' (daily) column")


def _pollutants(p: Path, df: pd.DataFrame, line: pd.Series, first_line: int, problem: _Problems
                ) -> tuple[pd.Series, str]:
    """Normalise pollutant spellings to keys; one resolution (hourly or daily) per file."""
    text = df["pollutant"].astype(str)
    uniq = {u: canonical_pollutant(u) for u in text.unique()}
    bad = [u for u, k in uniq.items() if k is None]
    expected = ", ".join(HOURLY_POLLUTANTS + DAILY_POLLUTANTS)
    unknown = text.isin(bad)
    problem(unknown, "pollutant", _quoted("unknown pollutant ", text, unknown, f"; expected one of {expected}"))
    pol = text.map(uniq)
    kinds = {"hourly" if k in HOURLY_POLLUTANTS else "daily" for k in set(uniq.values()) if k is not None}
    if not kinds:
        raise InputError(p, first_line, "pollutant", f"no known pollutant in the file; expected one of {expected}")
    if len(kinds) > 1:
        i = pol.isin(HOURLY_POLLUTANTS).to_numpy().argmax()
        raise InputError(p, int(line.iloc[i]), "pollutant",
                         "file mixes hourly (so2 … o3) and daily (so2_24h … o3_8h) pollutants")
    return pol, kinds.pop()


def _values(df: pd.DataFrame, pol: pd.Series, problem: _Problems) -> tuple[pd.Series, pd.Series]:
    """Validate values and units (CO in µg/m³ converted); missing markers → NaN. Returns values and sentinels."""
    # missing markers (docs/conventions.md): the text markers of MISSING_MARKERS and the
    # numeric sentinels -1, -999 and 9999 become NaN, never a value
    if pd.api.types.is_numeric_dtype(df["value"]):
        value = df["value"].astype(float)
        unparsable = pd.Series(False, index=df.index)
    else:
        value, unparsable = to_number(df["value"])
    sentinel = value.isin(list(NUMERIC_MISSING))
    value = value.mask(sentinel)
    problem(unparsable, "value", _quoted("cannot parse ", df["value"], unparsable, " as a number"))

    if "unit" in df:
        text_unit = df["unit"].astype(str).str.strip()
        unit = text_unit.map({u: normalize_unit(u) for u in text_unit.unique()})
        given = text_unit != ""
        is_co = pol.str.startswith("co")
        ok_ug = (unit == "ug/m3") | ~given
        ok_mg = (unit == "mg/m3") | ~given
        co_in_ug = is_co & given & (unit == "ug/m3")
        value = value.where(~co_in_ug, value / 1000.0)  # CO µg/m³ -> mg/m³
        wrong = (~is_co & ~ok_ug) | (is_co & ~ok_mg & ~co_in_ug)
        want = pd.Series(np.where(is_co, "mg/m3", "ug/m3"), index=df.index)
        problem(wrong, "unit", "unit '" + df["unit"].astype(str) + "' for " + pol.astype(str) + "; expected " + want.astype(str))
    base = pol.str.replace(r"_(24h|1h|8h)$", "", regex=True)
    limit = pd.Series(sanity_bound(pol.to_numpy(dtype=object)), index=pol.index)
    implausible = value > limit
    hint = pd.Series(np.where(base == "co", " (CO must be in mg/m3)", ""), index=df.index)
    problem(implausible, "value", value.map("{:g}".format).astype(str) + " is not a plausible " + pol.astype(str)
            + " concentration" + hint.astype(str))
    return value, sentinel


def _times(text: pd.Series, tcol: str, problem: _Problems) -> pd.Series:
    """Times: every UTC offset converted to CST; ambiguous naive stamps rejected."""
    if pd.api.types.is_datetime64_any_dtype(text):
        times = pd.to_datetime(text)
        problem(times.isna(), tcol, pd.Series("missing time", index=text.index))
    else:
        # every offset converted to CST; naive = CST unless other offsets make it ambiguous
        times, unparsable_t, ambiguous_t = parse_time_text(text, naive_zone=None)
        problem(unparsable_t, tcol, _quoted("cannot parse ", text, unparsable_t, " as a time"))
        problem(ambiguous_t, tcol, _quoted("time ", text, ambiguous_t,
                                           " has no UTC offset while other times of the file carry offsets "
                                           "other than +08:00: ambiguous (UTC or CST?)"))
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert(TIMEZONE)
    return times


def _quoted(before: str, cells: pd.Series, mask: pd.Series, after: str) -> pd.Series:
    """Reasons quoting the cells of ``mask`` rows (bounded, sanitised); only those rows are formatted."""
    out = pd.Series("", index=cells.index, dtype=object)
    if mask.any():
        out.loc[mask] = np.array([before + bounded_excerpt(c) + after for c in cells[mask].astype(str)], dtype=object)
    return out


def _raw_lines(df: pd.DataFrame) -> pd.Series:
    """Each row's fields joined by commas (the ``raw`` text of rejected Parquet rows), vectorized.

    Same text as ``df.astype(str).agg(",".join, axis=1)``, which builds one
    Series per row and took ~1 s per 20,000 rows.
    """
    text = df.astype(str)
    if text.shape[1] == 0:
        return pd.Series("", index=df.index)
    out = text.iloc[:, 0].astype(object)
    for c in range(1, text.shape[1]):
        out = out + "," + text.iloc[:, c].astype(object)
    return out
