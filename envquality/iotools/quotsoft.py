"""CNEMC daily archive files as mirrored by quotsoft.net: ``china_sites_YYYYMMDD.csv`` / ``china_cities_YYYYMMDD.csv``.

Layout [1]_ (one file per calendar day, comma-separated, header row)::

    date,hour,type,1001A,1002A,...          (china_sites: one column per station code)
    date,hour,type,北京,天津,...,临夏州,...   (china_cities: one column per city name)
    20230322,0,AQI,52,61,...
    20230322,0,PM2.5,21,33,...

``date`` is ``YYYYMMDD``, ``hour`` 0-23 and ``type`` one of :data:`TYPES`;
each (date, hour) has 15 ``type`` rows.  Units µg/m³, CO mg/m³, AQI
dimensionless; an empty cell is missing.

Hour labelling: by default ``hour`` h of date D is taken as the hour
**ending** at D h:00 (CNEMC labels hours by their end; ``hour_label="end"``).
``hour_label="start"`` reads it as the hour starting at D h:00 (ending
D h+1:00) instead.

Parsing is vectorized: one ``pandas.read_csv`` call (C engine) per file,
then a numpy reshape of the value block to the tidy layout — no per-cell
Python.  ``stations=`` restricts the columns parsed (``usecols``).

References
----------
.. [1] CNEMC national urban air-quality real-time release platform,
   archived daily by https://quotsoft.net/air/ (file layout as listed in
   shared/realdata/SOURCES.md, "Not available").
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

import numpy as np
import pandas as pd

from envquality.iotools.common import (
    MISSING_MARKERS, InputError, ReadResult, decode_bytes, rejects_frame, sha256_of,
    split_duplicates, to_number,
)
from envquality.model import TIMEZONE, UNIT_SANITY_MAX

__all__ = ["read_china_sites", "read_china_cities", "iter_china_sites", "write_china_sites",
           "write_china_sites_daily", "TYPES"]

#: ``type`` row label → pollutant key (see :mod:`envquality.model`).  ``O3_24h``
#: is the maximum 1-h O3 of the past 24 h, ``O3_8h`` the 8-h running mean,
#: ``O3_8h_24h`` the maximum 8-h running mean of the past 24 h.
TYPES: dict[str, str] = {
    "AQI": "aqi", "PM2.5": "pm25", "PM2.5_24h": "pm25_24h", "PM10": "pm10", "PM10_24h": "pm10_24h",
    "SO2": "so2", "SO2_24h": "so2_24h", "NO2": "no2", "NO2_24h": "no2_24h", "O3": "o3",
    "O3_24h": "o3_24h", "O3_8h": "o3_8h", "O3_8h_24h": "o3_8h_24h", "CO": "co", "CO_24h": "co_24h",
}
_TYPE_OF_KEY = {v: k for k, v in TYPES.items()}
_TYPES_CI = {k.upper(): v for k, v in TYPES.items()}
_HEAD = ("date", "hour", "type")


# --------------------------------------------------------------------------- shared helpers
# (used by the other readers of this package too; candidates for iotools.common)

def _is_file(s: str) -> bool:
    if "\n" in s or len(s) > 1024:
        return False
    try:
        return Path(s).is_file()
    except (OSError, ValueError):
        return False


def _load(src: Any) -> tuple[str, str, str, bytes]:
    """``(text, encoding, file label, raw bytes)`` of a path, bytes or str content."""
    if isinstance(src, os.PathLike) or (isinstance(src, str) and _is_file(src)):
        raw = Path(src).read_bytes()
        label = str(src)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        raw, label = bytes(src), "<bytes>"
    elif isinstance(src, str):
        raw, label = src.encode("utf-8"), "<string>"
    else:
        raise TypeError(f"expected a path, bytes or str, got {type(src).__name__}")
    if isinstance(src, str) and label == "<string>" and "\n" not in src and src.strip():
        # a one-line str that is not an existing file: most likely a wrong path
        if len(src) < 260 and not any(c in src for c in ",{["):
            raise InputError(src, None, None, "no such file")
    try:
        text, enc = decode_bytes(raw)
    except UnicodeDecodeError as exc:  # pragma: no cover - gb18030 decodes almost anything
        raise InputError(label, None, None, f"cannot decode as UTF-8 or GB18030: {exc}") from None
    if "\x00" in text:
        raise InputError(label, None, None, "binary content (NUL bytes): not a text/CSV file")
    return text, enc, label, raw


def _records(text: str, sep: str = ",") -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Physical layout of the CSV records of ``text``.

    Returns ``(lines, start, nfields, blank)``: the physical lines, and per
    record its 1-based first line, its field count and whether it is blank.
    Without quote characters each line is one record (vectorized); with
    quotes the :mod:`csv` module finds multi-line records.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if '"' not in text:
        s = pd.Series(lines, dtype=object)
        nfields = s.str.count(sep).to_numpy(dtype=np.int64) + 1
        blank = (s.str.len() == 0).to_numpy(dtype=bool)
        start = np.arange(1, len(lines) + 1, dtype=np.int64)
        return lines, start, nfields, blank
    starts, counts, blanks = [], [], []
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    prev = 0
    for row in reader:
        starts.append(prev + 1)
        counts.append(max(len(row), 1))
        blanks.append(len(row) == 0)
        prev = reader.line_num
    return (lines, np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64),
            np.asarray(blanks, dtype=bool))


def _read_str_table(
    text: str, label: str, *, header: bool, ncol: int | None = None,
) -> tuple[pd.DataFrame, list[str], np.ndarray, np.ndarray, list[str]]:
    """Parse CSV text to a frame of str cells (no NA conversion) with physical line numbers.

    Returns ``(frame, lines, line_of_row, nfields_of_row, header_fields)``.
    Rows with more fields than the header (or ``ncol``) are returned too,
    with their first ``ncol`` cells and their true field count, so the
    caller can reject them; blank lines are dropped.  Raises
    :class:`InputError` when the text is not CSV.
    """
    lines, start, nfields, blank = _records(text)
    head: list[str] = []
    if header:
        if not len(start):
            raise InputError(label, 1, None, "empty file: no header line")
        head = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
        ncol = len(head)
        start, nfields, blank = start[1:], nfields[1:], blank[1:]
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
    line_of, n_of, blank_of = start, nfields, blank
    if len(line_of) != len(df):  # pragma: no cover - defensive
        raise InputError(label, None, None, "cannot align CSV records with lines")
    keep = ~blank_of
    return df.loc[keep].reset_index(drop=True), lines, line_of[keep], n_of[keep], head


def _line_text(lines: list[str], line_numbers: Iterable[int]) -> list[str]:
    return [lines[int(n) - 1] if 0 < int(n) <= len(lines) else "" for n in line_numbers]


def _upper_bounds(pollutants: np.ndarray) -> np.ndarray:
    """Unit-sanity upper bound of each pollutant key (by base pollutant; inf where none)."""
    keys = pd.unique(np.asarray(pollutants, dtype=object))
    bound = {k: float(UNIT_SANITY_MAX.get(str(k).split("_", 1)[0], np.inf)) for k in keys}
    return pd.Series(np.asarray(pollutants, dtype=object)).map(bound).to_numpy(dtype=np.float64)


def _plausibility(values: np.ndarray, pollutants: np.ndarray) -> np.ndarray:
    """True where a value is negative or above the unit-sanity bound of its base pollutant.

    ``values`` is 1-D with one pollutant each, or 2-D (rows x columns) with
    one pollutant per row.
    """
    bounds = _upper_bounds(pollutants)
    if values.ndim == 2:
        bounds = bounds[:, None]
    with np.errstate(invalid="ignore"):
        return (values < 0) | (values > bounds)


def _cst(naive: np.ndarray) -> pd.DatetimeIndex:
    """Naive China Standard Time stamps to tz-aware Asia/Shanghai (fixed UTC+8, vectorized)."""
    utc = pd.DatetimeIndex(np.asarray(naive, dtype="datetime64[ns]") - np.timedelta64(8, "h"))
    return utc.tz_localize("UTC").tz_convert(TIMEZONE)


def _meta(source: str, label: str, raw: bytes, enc: str) -> dict[str, Any]:
    return {"source": source, "file": label, "sha256": sha256_of(raw), "encoding": enc}


def _time_range(t: pd.Series) -> tuple[Any, Any]:
    if len(t) == 0:
        return None, None
    return t.min(), t.max()


# --------------------------------------------------------------------------- reader
def _read_wide(
    src: Any, *, kind: str, hour_label: str, columns: Iterable[str] | None, dropna: bool,
    numeric_missing: Iterable[float], column_map=None,
) -> ReadResult:
    text, enc, label, raw = _load(src)
    source = f"quotsoft:{kind}"
    meta = _meta(source, label, raw, enc)
    if hour_label not in ("end", "start"):
        raise ValueError("hour_label must be 'end' or 'start'")
    nl = text.find("\n")
    header_line = text if nl < 0 else text[:nl]
    header = [h.strip() for h in next(csv.reader([header_line]))] if header_line.strip() else []
    if len(header) < 4 or [h.lower() for h in header[:3]] != list(_HEAD):
        raise InputError(label, 1, None,
                         f"not a quotsoft {kind} file: header must start with 'date,hour,type' and "
                         f"name at least one column, got {header_line[:80]!r}")
    names = header[3:]
    ncol = len(header)
    lines, start, nfields, blank = _records(text)
    # records after the header line
    start, nfields, blank = start[1:], nfields[1:], blank[1:]
    keep_cols = list(range(3, ncol))
    if columns is not None:
        wanted = set(columns)
        keep_cols = [i for i in keep_cols if header[i] in wanted]
        meta["columns_missing"] = sorted(wanted - set(header[3:]))
    pos = [f"c{i}" for i in range(ncol)]
    try:
        df = pd.read_csv(
            io.StringIO(text), header=0, names=pos, usecols=[0, 1, 2, *keep_cols], engine="c",  # keeps long rows
            dtype={"c0": str, "c1": str, "c2": str}, na_values=list(MISSING_MARKERS),
            keep_default_na=False, skip_blank_lines=False, on_bad_lines="skip",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(label, None, None, f"cannot parse as CSV: {exc}") from None
    rec_line = start
    if len(rec_line) != len(df):  # pragma: no cover - defensive
        raise InputError(label, None, None, "cannot align CSV records with lines")
    rejects: list[pd.DataFrame] = []

    def reject(line_no, field, reason, raw_text):
        rejects.append(pd.DataFrame({"file": label, "line": line_no, "field": field, "reason": reason,
                                     "raw": raw_text, "source": source}))

    df = df.loc[~blank].reset_index(drop=True)
    rec_line = rec_line[~blank]
    rec_n = nfields[~blank]
    meta["rows_in"] = int(len(df))
    short = rec_n != ncol
    if short.any():
        reject(rec_line[short], None, [f"expected {ncol} fields, saw {n}" for n in rec_n[short]],
               _line_text(lines, rec_line[short]))
    # row keys
    dtext = df["c0"].str.strip()
    dates = pd.to_datetime(dtext.where(dtext.str.fullmatch(r"\d{8}", na=False)), format="%Y%m%d",
                           errors="coerce")
    hours = pd.to_numeric(df["c1"].str.strip(), errors="coerce")
    bad_date = dates.isna().to_numpy() & ~short
    bad_hour = (~hours.between(0, 23) | (hours % 1 != 0)).to_numpy() & ~short & ~bad_date
    ptype = df["c2"].str.strip()
    pollutant = ptype.map(TYPES)
    pollutant = pollutant.where(pollutant.notna(), ptype.str.upper().map(_TYPES_CI))
    bad_type = pollutant.isna().to_numpy() & ~short & ~bad_date & ~bad_hour
    for mask, fld, why in ((bad_date, "date", "cannot parse date (YYYYMMDD)"),
                           (bad_hour, "hour", "hour not an integer 0-23"),
                           (bad_type, "type", "unknown type")):
        if mask.any():
            vals = df.loc[mask, {"date": "c0", "hour": "c1", "type": "c2"}[fld]].astype(str)
            reject(rec_line[mask], fld, (why + ": " + vals.map(repr)).to_list(),
                   _line_text(lines, rec_line[mask]))
    ok = ~(short | bad_date | bad_hour | bad_type)
    df = df.loc[ok].reset_index(drop=True)
    rec_line = rec_line[ok]
    offset = pd.Timedelta(0) if hour_label == "end" else pd.Timedelta(hours=1)
    naive = (dates[ok].reset_index(drop=True) + pd.to_timedelta(hours[ok].reset_index(drop=True), unit="h")
             + offset).to_numpy(dtype="datetime64[ns]")
    pol = pollutant[ok].reset_index(drop=True).to_numpy(dtype=object)
    # value block
    vcols = [f"c{i}" for i in keep_cols]
    block = np.empty((len(df), len(vcols)), dtype=np.float64)
    miss = list(numeric_missing)
    for j, c in enumerate(vcols):
        col = df[c]
        if col.dtype.kind in "fiu":
            v = col.to_numpy(dtype=np.float64)
        else:
            num, bad = to_number(col)
            v = num.to_numpy(dtype=np.float64)
            if bad.any():
                b = bad.to_numpy()
                reject(rec_line[b], header[keep_cols[j]], "cannot parse number",
                       col[b].astype(str).to_list())
        block[:, j] = v
    if miss:
        block[np.isin(block, miss)] = np.nan
    station_names = np.asarray([header[i] for i in keep_cols], dtype=object)
    if column_map is not None:
        station_names = column_map(station_names, meta)
    R, C = block.shape
    value = block.ravel()
    pol_long = np.repeat(pol, C)
    implaus = _plausibility(block, pol).ravel()
    if implaus.any():
        idx = np.flatnonzero(implaus)
        reject(np.repeat(rec_line, C)[idx], np.tile(np.asarray([header[i] for i in keep_cols]), R)[idx],
               [f"implausible value for {p} (negative or above unit-sanity bound)" for p in pol_long[idx]],
               [f"{v:g}" for v in value[idx]])
        value = value.copy()
        value[idx] = np.nan
    tidy = pd.DataFrame({
        "station": np.tile(station_names, R),
        "time": _cst(np.repeat(naive, C)),
        "pollutant": pol_long,
        "value": value,
    })
    # duplicates: only rows whose (time, pollutant) key repeats or columns whose name repeats
    keyframe = pd.DataFrame({"t": naive, "p": pol})
    dup_row = keyframe.duplicated(keep=False).to_numpy()
    dup_col = pd.Series(station_names).duplicated(keep=False).to_numpy()
    n_dup = 0
    if dup_row.any() or dup_col.any():
        sub = (np.repeat(dup_row, C) | np.tile(dup_col, R))
        part = tidy.loc[sub].assign(line=np.repeat(rec_line, C)[sub])
        part["raw"] = part["station"].astype(str) + "=" + part["value"].map(lambda v: f"{v:g}")
        kept, rej, n_dup = split_duplicates(part, file=label, source=source)
        tidy = pd.concat([tidy.loc[~sub], kept.drop(columns=["line", "raw"])], ignore_index=True)
        if len(rej):
            rejects.append(rej)
    if dropna:
        tidy = tidy.loc[tidy["value"].notna()]
    tidy = tidy.reset_index(drop=True)
    rejected = rejects_frame(pd.concat(rejects, ignore_index=True)) if rejects else rejects_frame([])
    if len(rejected):
        rejected = rejected.sort_values("line", kind="stable").reset_index(drop=True)
    t0, t1 = _time_range(tidy["time"])
    meta.update({
        "rows_ok": int(len(tidy)), "rows_rejected": int(len(rejected)), "rows_duplicate": int(n_dup),
        "time_min": t0, "time_max": t1, "columns": int(len(keep_cols)), "hour_label": hour_label,
    })
    return ReadResult(tidy, meta, rejected)


_COMMON_DOC = """
    Parameters
    ----------
    path : str, Path, bytes or str content
        The file (UTF-8 with or without BOM, or GB18030/GBK; LF or CRLF).
    hour_label : {"end", "start"}
        ``"end"`` (default): ``hour`` h of date D is the hour ending D h:00.
        ``"start"``: the hour starting D h:00 (time stamp D h+1:00).
    dropna : bool
        Drop rows whose value is missing (default False: every cell of the
        file is a row, NaN where empty).
    numeric_missing : iterable of float
        Numbers that mean "missing" (the archive uses empty cells; default
        none).

    Returns
    -------
    ReadResult
        ``data``: ``station``, ``time`` (tz-aware Asia/Shanghai, hour
        ending), ``pollutant`` (see :data:`TYPES`), ``value`` [µg/m³; CO
        mg/m³; AQI 1].
        ``meta``: ``source``, ``file``, ``sha256``, ``encoding``,
        ``rows_in`` (data lines), ``rows_ok`` (rows of ``data``),
        ``rows_rejected`` (rows of ``rejected``), ``rows_duplicate``
        (identical duplicate values collapsed), ``time_min``/``time_max``,
        ``columns``, ``hour_label``.
        ``rejected``: one row per bad line (wrong field count, bad
        ``date``/``hour``, unknown ``type``; raw = the line) or bad cell
        (unparsable or implausible number; field = the column name, raw =
        the cell), and conflicting duplicates.  Line numbers are 1-based
        physical lines.

    Raises
    ------
    InputError
        The header is not ``date,hour,type,...`` or the file is not CSV text.
"""


def read_china_sites(
    path: Any,
    *,
    stations: Iterable[str] | None = None,
    hour_label: Literal["end", "start"] = "end",
    dropna: bool = False,
    numeric_missing: Iterable[float] = (),
) -> ReadResult:
    return _read_wide(path, kind="china_sites", hour_label=hour_label, columns=stations, dropna=dropna,
                      numeric_missing=numeric_missing)


read_china_sites.__doc__ = """Read a ``china_sites_YYYYMMDD.csv`` station file (one column per station code).
""" + _COMMON_DOC.replace("    dropna", """    stations : iterable of str, optional
        Station codes to keep; only those columns are parsed (the others
        are skipped by the CSV parser).  Codes not in the file are listed in
        ``meta["columns_missing"]``.
    dropna""") + """
    Examples
    --------
    >>> text = "date,hour,type,1476A\\n20230322,12,PM10,549\\n20230322,12,CO,0.5\\n"
    >>> read_china_sites(text).data.to_string(index=False)
    'station                      time pollutant  value\\n  1476A 2023-03-22 12:00:00+08:00      pm10  549.0\\n  1476A 2023-03-22 12:00:00+08:00        co    0.5'
"""


def read_china_cities(
    path: Any,
    *,
    registry=None,
    cities: Iterable[str] | None = None,
    hour_label: Literal["end", "start"] = "end",
    dropna: bool = False,
    numeric_missing: Iterable[float] = (),
) -> ReadResult:
    from envquality.registry import default_registry

    reg = registry or default_registry()

    def to_codes(names: np.ndarray, meta: dict) -> np.ndarray:
        out, unmapped = [], []
        for n in names:
            try:
                out.append(reg.city_code(n))
            except KeyError:
                out.append(str(n))
                unmapped.append(str(n))
        meta["columns_unmapped"] = unmapped
        return np.asarray(out, dtype=object)

    return _read_wide(path, kind="china_cities", hour_label=hour_label, columns=cities, dropna=dropna,
                      numeric_missing=numeric_missing, column_map=to_codes)


read_china_cities.__doc__ = """Read a ``china_cities_YYYYMMDD.csv`` city file (one column per city name).

    City names (``兰州``, ``临夏州``, ...) become admin codes through the
    registry in the ``station`` column (the tidy model's city-level series);
    names the registry does not know (other provinces) are kept as they are
    and listed in ``meta["columns_unmapped"]``.
""" + _COMMON_DOC.replace("    dropna", """    registry : envquality.registry.Registry, optional
        Default: Gansu.
    cities : iterable of str, optional
        Column names (as written in the file) to keep.
    dropna""") + """
    Examples
    --------
    >>> text = "date,hour,type,临夏州,北京\\n20230322,12,PM10,742,60\\n"
    >>> read_china_cities(text).data["station"].to_list()
    ['622900', '北京']
"""


def iter_china_sites(
    paths: Iterable[str | Path] | str | Path, *, cities: bool = False, **kwargs: Any,
) -> Iterator[ReadResult]:
    """Read archive files one at a time (a year never sits in memory at once).

    Parameters
    ----------
    paths : iterable of paths, or a directory
        A directory is expanded to its sorted ``china_sites_*.csv`` (or
        ``china_cities_*.csv`` with ``cities=True``) files.
    cities : bool
        Use :func:`read_china_cities` instead of :func:`read_china_sites`.
    **kwargs
        Passed to the reader.

    Yields
    ------
    ReadResult
        One per file, in order.
    """
    if isinstance(paths, (str, os.PathLike)) and Path(paths).is_dir():
        pattern = "china_cities_*.csv" if cities else "china_sites_*.csv"
        paths = sorted(Path(paths).glob(pattern))
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    reader = read_china_cities if cities else read_china_sites
    for p in paths:
        yield reader(p, **kwargs)


# --------------------------------------------------------------------------- writer
def _to_tidy(ds_or_frame: Any) -> pd.DataFrame:
    if isinstance(ds_or_frame, pd.DataFrame):
        df = ds_or_frame
        missing = {"station", "time", "pollutant", "value"} - set(df.columns)
        if missing:
            raise ValueError(f"frame lacks columns {sorted(missing)}")
        return df.loc[:, ["station", "time", "pollutant", "value"]]
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover
        raise TypeError("expected a tidy DataFrame") from None
    if isinstance(ds_or_frame, xr.DataArray):
        ds_or_frame = ds_or_frame.to_dataset(dim="pollutant")
    if isinstance(ds_or_frame, xr.Dataset):
        frame = ds_or_frame.to_dataframe().reset_index()
        value_vars = [v for v in ds_or_frame.data_vars]
        return frame.melt(id_vars=["time", "station"], value_vars=value_vars, var_name="pollutant",
                          value_name="value")
    raise TypeError(f"expected a tidy DataFrame or an xarray Dataset, got {type(ds_or_frame).__name__}")


def write_china_sites(
    ds_or_frame: Any,
    path: str | Path | None = None,
    *,
    hour_label: Literal["end", "start"] = "end",
    all_types: bool = True,
    stations: Iterable[str] | None = None,
) -> str | None:
    """Write readings in the ``china_sites_YYYYMMDD.csv`` layout (inverse of :func:`read_china_sites`).

    Parameters
    ----------
    ds_or_frame : pandas.DataFrame or xarray.Dataset
        Tidy frame (``station, time, pollutant, value``; ``time`` hour
        ending, tz-aware or naive CST) or a Dataset with dims ``time`` and
        ``station`` and one variable per pollutant key of :data:`TYPES`.
    path : str or Path, optional
        Output file; None returns the CSV text.
    hour_label : {"end", "start"}
        How ``hour`` is derived from ``time`` (see :func:`read_china_sites`).
    all_types : bool
        Write all 15 ``type`` rows per hour (empty where no data), as the
        archive does; False writes only the pollutants present.
    stations : iterable of str, optional
        Column order (and extra empty columns); default sorted codes.

    Returns
    -------
    str or None
        The text when ``path`` is None.  Rows are ordered by date, hour and
        the archive's type order; values written with ``%g``; UTF-8, LF.
    """
    df = _to_tidy(ds_or_frame)
    unknown = set(pd.unique(df["pollutant"])) - set(_TYPE_OF_KEY)
    if unknown:
        raise ValueError(f"pollutants with no quotsoft type: {sorted(unknown)}")
    t = pd.to_datetime(df["time"])
    if t.dt.tz is not None:
        t = t.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    if hour_label == "start":
        t = t - pd.Timedelta(hours=1)
    wide = (df.assign(_t=t.to_numpy(), type=df["pollutant"].map(_TYPE_OF_KEY))
              .pivot_table(index=["_t", "type"], columns="station", values="value", aggfunc="first",
                           dropna=False, observed=True))
    cols = list(stations) if stations is not None else sorted(wide.columns)
    type_order = list(TYPES) if all_types else [k for k in TYPES if k in set(wide.index.get_level_values(1))]
    times = pd.DatetimeIndex(sorted(set(wide.index.get_level_values(0))))
    full = pd.MultiIndex.from_product([times, type_order], names=["_t", "type"])
    wide = wide.reindex(index=full, columns=cols)
    tt = wide.index.get_level_values(0)
    out = pd.DataFrame({"date": tt.strftime("%Y%m%d"), "hour": tt.hour, "type": wide.index.get_level_values(1)})
    out = pd.concat([out, pd.DataFrame(wide.to_numpy(), columns=cols)], axis=1)
    text = out.to_csv(index=False, float_format="%g", lineterminator="\n")
    if path is None:
        return text
    Path(path).write_text(text, encoding="utf-8")
    return None


def write_china_sites_daily(ds_or_frame: Any, directory: str | Path, **kwargs: Any) -> list[Path]:
    """Write one ``china_sites_YYYYMMDD.csv`` per date of the ``date`` column (see :func:`write_china_sites`).

    With the default ``hour_label="end"``, file D holds the time stamps
    D 00:00 … D 23:00.  Returns the paths written.
    """
    df = _to_tidy(ds_or_frame)
    t = pd.to_datetime(df["time"])
    if t.dt.tz is not None:
        t = t.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    if kwargs.get("hour_label", "end") == "start":
        t = t - pd.Timedelta(hours=1)
    day = t.dt.strftime("%Y%m%d")
    out = []
    Path(directory).mkdir(parents=True, exist_ok=True)
    for d, part in df.groupby(day.to_numpy(), sort=True):
        p = Path(directory) / f"china_sites_{d}.csv"
        write_china_sites(part, p, **kwargs)
        out.append(p)
    return out
