"""Mapping-driven reader for whatever a monitoring bureau exports (CSV or Excel).

A small YAML *mapping file* says where the station, the time, the pollutants and
the values are, so a new export layout needs a mapping, not code.  The reader
returns a :class:`~envquality.iotools.common.ReadResult` in the tidy model of
:mod:`envquality.model` (``station``, ``time`` hour-ending Asia/Shanghai,
``pollutant``, ``value`` in µg/m³, CO in mg/m³).

Mapping format
--------------
Full example (``tests/iotools/fixtures_generic/bureau_export.yaml``)::

    source: lanzhou-bureau        # free text, copied to meta["source"]
    format: csv                   # csv | excel; default: from the file suffix
    sheet: 0                      # excel only: sheet name or 0-based index
    encoding: auto                # auto (UTF-8 with/without BOM, else GB18030) or a codec
    delimiter: ","                # csv only
    header_row: 1                 # 0-based record index of the header; null = no header
    skip_rows: 1                  # records to skip after the header (e.g. a units row);
                                  #   without header: records to skip at the top
    layout: wide                  # wide: one column per pollutant | long: pollutant+value
    columns:                      # canonical field -> source column
      station: 站点名称            #   by header name (exact, surrounding blanks ignored)
      time: "#1"                  #   or by 0-based position: "#1" or 1
      pm25: PM2.5
      pm10: PM10
      so2: 5                      #   position: the header of this column is wrong
      co: CO
    time_format: "%Y-%m-%d %H:%M" # strptime format; default ISO 8601, then guessing
    time_label: end               # end (CNEMC) | start: stamp is the hour's start, +1 h
    timezone: Asia/Shanghai       # zone of naive stamps; e.g. UTC is converted to CST
    units:                        # per pollutant; default ug/m3 (CO mg/m3)
      co: mg/m3                   #   ug/m3 | mg/m3 | ppb | ppm  (µg/m³ spellings accepted)
      so2: ppb
    missing: ["—", -999]          # extra missing markers (text and numbers), on top of
                                  #   NaN, empty, —, -, --, /, NA, null (always missing)
    station_map:                  # optional renames of station values
      市监测站: "1476A"
    constants:                    # fields not in the file
      station: "1476A"            #   e.g. a one-station export

Column keys
    ``station``, and either ``time`` or ``date`` + ``hour`` (hour 0-24, so both
    0-23 and 1-24 numbering work: the time is ``date + hour`` hours); for
    ``layout: long`` also ``pollutant``, ``value`` and optionally ``unit`` (per-row
    unit text); for ``layout: wide`` one key per pollutant, each a key of
    :data:`envquality.model.HOURLY_POLLUTANTS` or
    :data:`envquality.model.PUBLISHED_HOURLY`.
``pollutant_names`` (long layout)
    Extra ``label: key`` pairs for the pollutant column; common labels
    (``PM2.5``, ``SO2``, ``二氧化硫``, ``臭氧8小时``...) are known already.

Unit conversion
---------------
Gas mixing ratios are converted at the reference state of GB 3095-2012 §2.4 as
amended in 2018 (298.15 K, 1013.25 hPa), molar volume
:data:`MOLAR_VOLUME` = 24.465 L/mol: ``µg/m³ = ppb × M / 24.465`` with M in
g/mol (:data:`MOLAR_MASS`: SO2 64.066, NO2 46.0055, O3 47.997, CO 28.010);
``ppm`` is 1000 ppb; CO is then expressed in mg/m³.

Rejections and errors
---------------------
Rows whose time or station cannot be read, and single values that cannot be
parsed (or exceed :data:`envquality.model.UNIT_SANITY_MAX`, a unit error) go to
``rejected`` with file, physical line (1-based, multi-line quoted fields
counted; the Excel row number for workbooks), field, reason and raw text.
Identical duplicate readings collapse; conflicting ones are quarantined.  An
invalid mapping raises :class:`~envquality.iotools.common.InputError` naming the
mapping file and key; an unreadable data file raises it naming the data file.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping as _MappingABC

import numpy as np
import pandas as pd

from envquality.iotools._parse import (
    _OFFSET, csv_records, decode_input, finish, load_source, number_rejects, parse_time_text, raw_lines,
    record_spans, reject_rows, to_cst,
)
from envquality.iotools._units import MOLAR_MASS, MOLAR_VOLUME, normalize_unit, pollutant_keys, unit_factor
from envquality.iotools.common import (
    MISSING_MARKERS,
    InputError,
    ReadResult,
    decode_bytes,
    sha256_of,
    to_number,
)
from envquality.model import HOURLY_POLLUTANTS, PUBLISHED_HOURLY, TIMEZONE, UNITS
from envquality.text import bounded_excerpt

# MOLAR_VOLUME, MOLAR_MASS, normalize_unit and unit_factor live in :mod:`envquality.iotools._units`,
# csv_records, record_spans, raw_lines and finish in :mod:`envquality.iotools._parse`; they stay
# importable from here.
__all__ = [
    "MOLAR_VOLUME", "MOLAR_MASS", "Mapping", "load_mapping", "read_generic",
    "normalize_unit", "unit_factor", "normalize_pollutant", "csv_records", "record_spans", "raw_lines",
    "finish",
]

POLLUTANT_KEYS: tuple[str, ...] = HOURLY_POLLUTANTS + PUBLISHED_HOURLY


def normalize_pollutant(labels: pd.Series, extra: _MappingABC[str, str] | None = None) -> pd.Series:
    """Map pollutant labels (``PM2.5``, ``SO₂``, ``二氧化硫``, ``o3_8h``...) to hourly keys; NaN if unknown.

    :func:`envquality.iotools._units.pollutant_keys` over the hourly and
    published keys (``O3_1h`` is the 1-h O3 value here).

    >>> normalize_pollutant(pd.Series(["PM2.5", "SO2_24h", "臭氧8小时", "O3-8H", "pm1"])).tolist()
    ['pm25', 'so2_24h', 'o3_8h', 'o3_8h', nan]
    """
    return pollutant_keys(labels, POLLUTANT_KEYS, extra)


# ---------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------

_MAPPING_KEYS = {
    "source", "format", "sheet", "encoding", "delimiter", "header_row", "skip_rows", "layout",
    "columns", "time_format", "date_format", "time_label", "timezone", "units", "missing",
    "station_map", "constants", "pollutant_names",
}
_FIELD_KEYS = {"station", "time", "date", "hour", "pollutant", "value", "unit"}


@dataclass
class Mapping:
    """A validated mapping (see the module docstring for the YAML format)."""

    file: str = "<mapping>"
    source: str = "generic"
    format: str | None = None
    sheet: str | int = 0
    encoding: str | None = None
    delimiter: str = ","
    header_row: int | None = 0
    skip_rows: int = 0
    layout: str = "wide"
    columns: dict[str, str | int] = field(default_factory=dict)
    time_format: str | None = None
    date_format: str | None = None
    time_label: str = "end"
    timezone: str = TIMEZONE
    units: dict[str, str] = field(default_factory=dict)
    missing_text: frozenset[str] = frozenset()
    missing_numbers: tuple[float, ...] = ()
    station_map: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    pollutant_names: dict[str, str] = field(default_factory=dict)

    @property
    def pollutant_columns(self) -> dict[str, str | int]:
        """Wide layout: pollutant key -> column reference."""
        return {k: v for k, v in self.columns.items() if k in POLLUTANT_KEYS}

    @classmethod
    def from_dict(cls, d: _MappingABC[str, Any], file: str = "<mapping>") -> "Mapping":
        """Validate a parsed mapping; :class:`InputError` names ``file`` and the key at fault."""

        def bad(key: str, msg: str) -> InputError:
            return InputError(file, None, key, msg)

        if not isinstance(d, _MappingABC):
            raise bad("(top)", "the mapping must be a YAML mapping of keys")
        unknown = sorted(set(d) - _MAPPING_KEYS)
        if unknown:
            if not set(d) & _MAPPING_KEYS:  # not a mapping file at all: quote none of it
                raise bad("(top)", "not an envquality mapping: none of its keys is known; "
                                   f"allowed: {', '.join(sorted(_MAPPING_KEYS))}")
            raise bad(unknown[0], f"unknown key; allowed: {', '.join(sorted(_MAPPING_KEYS))}")
        m = cls(file=file)
        for step in (_file_options, _columns, _time_options, _value_options):
            step(m, d, bad)
        return m


def _file_options(m: Mapping, d: _MappingABC[str, Any], bad: Callable[[str, str], InputError]) -> None:
    """Mapping keys of the file: source, format, sheet, encoding, delimiter, header_row, skip_rows."""
    m.source = str(d.get("source", "generic"))
    fmt = d.get("format")
    if fmt is not None and fmt not in ("csv", "excel"):
        raise bad("format", f"must be csv or excel, not {bounded_excerpt(fmt, 40)}")
    m.format = fmt
    sheet = d.get("sheet", 0)
    if not isinstance(sheet, (str, int)) or isinstance(sheet, bool):
        raise bad("sheet", "must be a sheet name or a 0-based index")
    m.sheet = sheet
    enc = d.get("encoding")
    if enc is not None and str(enc).lower() != "auto":
        import codecs
        try:
            codecs.lookup(str(enc))
        except LookupError:
            raise bad("encoding", f"unknown encoding {bounded_excerpt(enc, 40)}") from None
        m.encoding = str(enc)
    delim = d.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        raise bad("delimiter", "must be a single character")
    m.delimiter = delim
    for key in ("header_row", "skip_rows"):
        v = d.get(key, 0 if key == "skip_rows" else 0)
        if key == "header_row" and key in d and d[key] is None:
            m.header_row = None
            continue
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise bad(
                key,
                f"must be a non-negative integer{' or null' if key == 'header_row' else ''}, not {bounded_excerpt(v, 40)}",
            )
        setattr(m, key, v)


def _columns(m: Mapping, d: _MappingABC[str, Any], bad: Callable[[str, str], InputError]) -> None:
    """Mapping keys ``columns``, ``layout`` and ``constants``, and the fields each layout needs."""
    cols = d.get("columns")
    if not isinstance(cols, _MappingABC) or not cols:
        raise bad("columns", "required: a mapping of canonical fields to source columns")
    layout = d.get("layout", "long" if "value" in cols else "wide")
    if layout not in ("long", "wide"):
        raise bad("layout", f"must be long or wide, not {bounded_excerpt(layout, 40)}")
    m.layout = layout
    for k, ref in cols.items():
        if k not in _FIELD_KEYS and k not in POLLUTANT_KEYS:
            raise bad(
                f"columns.{k}",
                f"unknown field; use {sorted(_FIELD_KEYS)} or a pollutant key {list(POLLUTANT_KEYS)}",
            )
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            raise bad(
                f"columns.{k}",
                f"must be a column name, '#<position>' or an integer position, not {bounded_excerpt(ref, 40)}",
            )
        if isinstance(ref, int) and ref < 0:
            raise bad(f"columns.{k}", "positions are 0-based and non-negative")
        if isinstance(ref, str) and ref.startswith("#") and not re.fullmatch(r"#\d+", ref):
            raise bad(f"columns.{k}", f"position must look like '#3', not {bounded_excerpt(ref, 40)}")
    m.columns = dict(cols)
    consts = d.get("constants") or {}
    if not isinstance(consts, _MappingABC):
        raise bad("constants", "must be a mapping of field to value")
    for k in consts:
        if k not in ("station", "pollutant", "unit"):
            raise bad(f"constants.{k}", "only station, pollutant and unit can be constants")
    m.constants = dict(consts)
    have = set(m.columns) | set(m.constants)
    if "station" not in have:
        raise bad("columns.station", "a station column (or constants.station) is required")
    if "time" in m.columns and ("date" in m.columns or "hour" in m.columns):
        raise bad("columns.time", "give either time or date+hour, not both")
    if "time" not in m.columns and not {"date", "hour"} <= set(m.columns):
        raise bad("columns.time", "a time column (or date and hour columns) is required")
    if layout == "long":
        for k in ("pollutant", "value"):
            if k not in have:
                raise bad(f"columns.{k}", f"layout long needs a {k} column")
        extra = sorted(set(m.columns) & set(POLLUTANT_KEYS))
        if extra:
            raise bad(f"columns.{extra[0]}", "pollutant columns belong to layout wide")
    else:
        if not m.pollutant_columns:
            raise bad("columns", "layout wide needs at least one pollutant column (e.g. pm25: PM2.5)")
        for k in ("pollutant", "value", "unit"):
            if k in m.columns:
                raise bad(f"columns.{k}", "belongs to layout long")


def _time_options(m: Mapping, d: _MappingABC[str, Any], bad: Callable[[str, str], InputError]) -> None:
    """Mapping keys of time: formats, label (end/start of the hour) and time zone."""
    for key in ("time_format", "date_format"):
        v = d.get(key)
        if v is not None and not isinstance(v, str):
            raise bad(key, "must be a strptime format string")
        setattr(m, key, v)
    tl = d.get("time_label", "end")
    if tl not in ("end", "start"):
        raise bad("time_label", f"must be end or start, not {bounded_excerpt(tl, 40)}")
    m.time_label = tl
    tz = d.get("timezone", TIMEZONE)
    try:
        pd.Timestamp("2020-01-01").tz_localize(str(tz))
    except Exception:
        raise bad("timezone", f"unknown time zone {bounded_excerpt(tz, 40)}") from None
    m.timezone = str(tz)


def _value_options(m: Mapping, d: _MappingABC[str, Any], bad: Callable[[str, str], InputError]) -> None:
    """Mapping keys of values: units, missing markers, station map, pollutant names."""
    units = d.get("units") or {}
    if not isinstance(units, _MappingABC):
        raise bad("units", "must be a mapping of pollutant to unit")
    for p, u in units.items():
        if p not in UNITS:
            raise bad(f"units.{p}", "unknown pollutant key")
        try:
            unit_factor(p, u)
        except ValueError as exc:
            raise bad(f"units.{p}", str(exc)) from None
    m.units = {str(p): str(u) for p, u in units.items()}
    miss = d.get("missing") or []
    if not isinstance(miss, (list, tuple)):
        raise bad("missing", "must be a list of markers")
    texts, nums = set(), []
    for v in miss:
        if isinstance(v, bool):
            raise bad("missing", f"invalid marker {bounded_excerpt(v, 40)}")
        if isinstance(v, (int, float)):
            nums.append(float(v))
            continue
        s = str(v).strip()
        try:
            nums.append(float(s))
        except ValueError:
            texts.add(s)
    m.missing_text, m.missing_numbers = frozenset(texts), tuple(nums)
    for key in ("station_map", "pollutant_names"):
        v = d.get(key) or {}
        if not isinstance(v, _MappingABC):
            raise bad(key, "must be a mapping")
        setattr(m, key, {str(a).strip(): str(b) for a, b in v.items()})
    for lab, k in m.pollutant_names.items():
        if k not in POLLUTANT_KEYS:
            raise bad(f"pollutant_names.{lab}", f"{bounded_excerpt(k, 40)} is not a pollutant key")


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a YAML mapping file.

    Raises
    ------
    InputError
        Unreadable YAML or an invalid key, naming the mapping file and the key.
    """
    import yaml

    p = Path(path)
    try:
        text, _ = decode_bytes(p.read_bytes())
        d = yaml.safe_load(text)
    except OSError as exc:
        raise InputError(p, None, None, f"cannot read mapping: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(p, mark.line + 1 if mark else None, None, f"invalid YAML: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    return Mapping.from_dict(d, file=str(p))


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Naive local stamps -> Asia/Shanghai (NaT where ambiguous/nonexistent).

    Stamps in China Standard Time (the default zone) go through
    :func:`~envquality.iotools._parse.to_cst` (fixed UTC+8).
    """
    if isinstance(naive.dtype, pd.DatetimeTZDtype):
        return naive.dt.tz_convert(TIMEZONE)
    if tz == TIMEZONE:
        return pd.Series(to_cst(naive.to_numpy(dtype="datetime64[ns]")), index=naive.index)
    loc = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return loc.dt.tz_convert(TIMEZONE)


def _parse_times(values: pd.Series, fmt: str | None, tz: str = TIMEZONE) -> pd.Series:
    """Parse stamps: datetime cells as they are, text with ``fmt`` or ISO 8601 then guessing.

    Text stamps with UTC offsets (``+00:00``, ``Z``, mixed) are converted to
    their instants and the result is tz-aware (UTC); naive stamps and cells
    beside them are then read in the mapping's zone ``tz``.
    """
    obj = values.astype(object)
    is_dt = obj.map(type).isin([_dt.datetime, _dt.date, pd.Timestamp])
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if is_dt.any():
        out[is_dt] = pd.to_datetime(list(obj[is_dt]), errors="coerce").astype("datetime64[ns]")
    txt = obj[~is_dt].astype("string").str.strip()
    if not fmt and len(txt) and txt.str.contains(_OFFSET, regex=True).fillna(False).any():
        aware, _bad, _amb = parse_time_text(txt, naive_zone=tz, flag_ambiguous=False)
        result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        result[~is_dt] = aware.dt.tz_convert("UTC")
        if is_dt.any():
            result[is_dt] = _localize(out[is_dt], tz).dt.tz_convert("UTC")
        return result
    if len(txt):
        if fmt:
            parsed = pd.to_datetime(txt, format=fmt, errors="coerce")
        else:
            parsed = pd.to_datetime(txt, format="ISO8601", errors="coerce")
            retry = parsed.isna() & txt.notna() & (txt != "")
            if retry.any():
                parsed[retry] = pd.to_datetime(txt[retry], format="mixed", errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            if is_dt.any():
                raise ValueError("time column mixes zone-aware text and naive cells")
            return parsed.dt.tz_convert("UTC")  # one offset throughout (a %z format)
        out[~is_dt] = parsed.astype("datetime64[ns]")
    return out


# ---------------------------------------------------------------------------
# reader
# ---------------------------------------------------------------------------


def _read_table(raw: bytes, file: str, m: Mapping) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str, Any]:
    """Cells of the file: ``(fields, line, n_fields, encoding, raw_of)``."""
    fmt = m.format or ("excel" if file.lower().endswith((".xlsx", ".xlsm")) else "csv")
    if fmt == "excel":
        try:
            import openpyxl
        except ImportError:  # pragma: no cover
            raise InputError(
                file, None, None, "reading Excel needs openpyxl (pip install envquality[excel])"
            ) from None
        try:
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(file, None, None, f"not a readable .xlsx workbook: {bounded_excerpt(exc, 120)}") from None
        try:
            if isinstance(m.sheet, int):
                if m.sheet >= len(wb.sheetnames):
                    raise InputError(m.file, None, "sheet", f"{file} has only {len(wb.sheetnames)} sheets")
                ws = wb[wb.sheetnames[m.sheet]]
            else:
                if m.sheet not in wb.sheetnames:
                    raise InputError(
                        m.file, None, "sheet", f"no sheet {bounded_excerpt(m.sheet, 40)} in {Path(file).name}: {bounded_excerpt(', '.join(wb.sheetnames))}"
                    )
                ws = wb[m.sheet]
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
        fields = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame()
        fields.columns = pd.RangeIndex(fields.shape[1])
        fields = fields.where(fields.notna(), None)
        # a trailing run of empty cells is no field
        n_fields = (
            (fields.notna().to_numpy()[:, ::-1].cumsum(axis=1) > 0).sum(axis=1)
            if len(fields)
            else np.zeros(0)
        )
        lines = np.arange(1, len(fields) + 1)

        def cells_of(ls: list[int]) -> list[str]:
            return [",".join("" if v is None else str(v) for v in rows[i - 1]).rstrip(",") for i in ls]

        return fields, lines, np.asarray(n_fields, dtype=np.int64), "xlsx", cells_of
    if m.encoding:
        try:
            text = raw.decode(m.encoding)
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise InputError(file, line, None, f"not {m.encoding} text: {exc.reason}") from None
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        enc = m.encoding
    else:
        text, enc = decode_input(raw, file)
    fields, start, n_fields = csv_records(text, file=file, delimiter=m.delimiter)
    line_to_span = record_spans(text, start)

    def raw_of(ls: list[int]) -> list[str]:
        return raw_lines(text, ls, [line_to_span.get(s, 1) for s in ls])

    return fields, start, n_fields, enc, raw_of


def _resolve_ref(ref: str | int, header: list[str] | None, key: str, m: Mapping, file: str) -> int:
    if isinstance(ref, int):
        return ref
    if ref.startswith("#"):
        return int(ref[1:])
    if header is None:
        raise InputError(
            m.file,
            None,
            f"columns.{key}",
            f"refers to column {bounded_excerpt(ref, 40)} by name but header_row is null; use a position ('#3')",
        )
    hits = [i for i, h in enumerate(header) if h == ref.strip()]
    if not hits:
        raise InputError(
            m.file,
            None,
            f"columns.{key}",
            f"column {bounded_excerpt(ref, 40)} not in the header of {Path(file).name} "
            f"({bounded_excerpt(', '.join(header))}); "
            "a position ('#3') reads a column whose header is wrong",
        )
    if len(hits) > 1:
        raise InputError(
            m.file,
            None,
            f"columns.{key}",
            f"header of {Path(file).name} has {bounded_excerpt(ref, 40)} {len(hits)} times; use a position",
        )
    return hits[0]


def read_generic(
    path: str | Path | bytes,
    mapping: Mapping | str | Path | _MappingABC[str, Any],
    *,
    name: str | None = None,
) -> ReadResult:
    """Read a bureau export (CSV or .xlsx) as described by a mapping.

    Parameters
    ----------
    path : str, Path or bytes
        The export; raw bytes need ``mapping.format`` for Excel (else CSV is assumed).
    mapping : Mapping, path of a YAML mapping, or a dict of the same keys
        See the module docstring.
    name : str, optional
        File name reported for bytes input.

    Returns
    -------
    ReadResult
        ``data`` tidy hourly (µg/m³, CO mg/m³, hour-ending Asia/Shanghai); meta
        adds ``layout``, ``units`` (the conversions applied), ``encoding``,
        ``rows_in`` (data records), ``blank_lines``, ``rows_ok`` (records that
        gave at least one value).

    Raises
    ------
    InputError
        Invalid mapping (names the mapping file and key) or unreadable file.
    """
    if isinstance(mapping, Mapping):
        m = mapping
    elif isinstance(mapping, (str, Path)):
        m = load_mapping(mapping)
    else:
        m = Mapping.from_dict(mapping)
    raw, file = load_source(path, name=name)
    fields, lines, n_fields, enc, raw_of = _read_table(raw, file, m)
    rejected: list[pd.DataFrame] = []
    b = _body(fields, lines, n_fields, m, file, rejected)
    t, reasons, tfield = _times(b, m, file)
    st = _stations(b, m, t.index)
    bad_st = st.isna() | (st == "") | st.isin(MISSING_MARKERS)
    bad_row = reasons.notna() | bad_st
    if bad_row.any():
        r = reasons.copy()
        f = pd.Series(tfield, index=t.index, dtype="object")
        f[bad_st & reasons.isna()] = "station"
        r[bad_st & reasons.isna()] = "missing station"
        rejected.append(reject_rows(file, b.ln[bad_row], f[bad_row], r[bad_row], None, m.source))
    applied: dict[str, str] = {}
    reshape = _wide_values if m.layout == "wide" else _long_values
    long = reshape(b, m, file, st, t, ~bad_row, rejected, applied)
    long["station"] = long["station"].astype(str)
    meta = {
        "sha256": sha256_of(raw), "encoding": enc, "layout": m.layout, "mapping": m.file,
        "rows_in": b.n_in, "rows_ok": int(long["line"].nunique()), "blank_lines": b.n_blank, "units": applied,
        "records": len(b.ln),
    }
    return finish(long, rejected, file=file, source=m.source, raw_of=raw_of, meta=meta)


# --------------------------------------------------------------------------- steps
@dataclass
class _Body:
    """The data records: cells, physical lines and the column position of each mapped field."""

    cells: pd.DataFrame
    ln: pd.Series
    refs: dict[str, int]
    n_in: int
    n_blank: int

    def col(self, key: str) -> pd.Series:
        return self.cells[self.refs[key]].reset_index(drop=True)


def _body(fields: pd.DataFrame, lines: np.ndarray, n_fields: np.ndarray, m: Mapping, file: str,
          rejected: list[pd.DataFrame]) -> _Body:
    """Parse: header (if any), skipped rows, blank lines, column references; short records rejected."""
    header: list[str] | None = None
    first = 0
    if m.header_row is not None:
        if m.header_row >= len(fields):
            raise InputError(file, None, None,
                             f"no header: the file has {len(fields)} records, header_row is {m.header_row}")
        hdr = fields.iloc[m.header_row]
        header = ["" if v is None else str(v).strip().lstrip("\ufeff")
                  for v in hdr.tolist()[: n_fields[m.header_row]]]
        first = m.header_row + 1
    first += m.skip_rows
    body, b_lines, b_nf = fields.iloc[first:], lines[first:], n_fields[first:]
    blank = b_nf == 0
    body, b_lines, b_nf = body.loc[~blank], b_lines[~blank], b_nf[~blank]
    refs = {k: _resolve_ref(v, header, k, m, file) for k, v in m.columns.items()}
    need = max(refs.values()) + 1
    short = b_nf < need
    if short.any():
        rejected.append(reject_rows(file, b_lines[short], None,
                                    [f"too few fields ({n}; the mapping needs {need})" for n in b_nf[short]],
                                    None, m.source))
    body, b_lines = body.loc[~short], b_lines[~short]
    return _Body(body, pd.Series(b_lines, dtype="int64"), refs, int((~blank).sum()), int(blank.sum()))


def _times(b: _Body, m: Mapping, file: str) -> tuple[pd.Series, pd.Series, str]:
    """Validate times: parse (offsets converted), hour-start labels shifted, local zone to CST.

    Returns the times, the reason of each bad time (None where fine) and the field name.
    """
    refs = b.refs
    try:
        if "time" in refs:
            t = _parse_times(b.col("time"), m.time_format, m.timezone)
        else:
            d = _parse_times(b.col("date"), m.date_format, m.timezone)
            hour = b.col("hour")
            h, _ = to_number(hour.astype(object).where(hour.notna(), ""))
            hok = h.notna() & (h >= 0) & (h <= 24) & (h == h.round())
            t = d + pd.to_timedelta(h.where(hok), unit="h")
        bad_t = t.isna()
    except ValueError as exc:
        raise InputError(file, None, "time", bounded_excerpt(exc, 120)) from None
    if m.time_label == "start":
        t = t + pd.Timedelta(hours=1)
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        t = t.dt.tz_convert(TIMEZONE)
    else:
        t = _localize(t, m.timezone)
    not_hour = t.notna() & ((t.dt.minute != 0) | (t.dt.second != 0))
    reasons = pd.Series(None, index=t.index, dtype="object")
    reasons[bad_t] = "cannot parse time" + (
        f" with format {m.time_format!r}" if m.time_format and "time" in refs else ""
    )
    reasons[t.isna() & ~bad_t] = f"nonexistent or ambiguous local time in {m.timezone}"
    reasons[not_hour] = "time is not on the hour"
    return t, reasons, "time" if "time" in refs else "date/hour"


def _stations(b: _Body, m: Mapping, index: pd.Index) -> pd.Series:
    """Normalise station codes: the column or the constant, through ``station_map``."""
    if "station" in b.refs:
        st = b.col("station").astype("string").str.strip()
    else:
        st = pd.Series(str(m.constants["station"]), index=index, dtype="string")
    if m.station_map:
        st = st.map(lambda s: m.station_map.get(s, s) if isinstance(s, str) else s).astype("string")
    return st


def _numbers(m: Mapping, s: pd.Series) -> tuple[pd.Series, pd.Series]:
    s = s.astype(object).where(s.notna(), "")
    if m.missing_text:
        s = s.where(~s.astype(str).str.strip().isin(m.missing_text), "")
    return to_number(s, numeric_missing=m.missing_numbers)


def _wide_values(b: _Body, m: Mapping, file: str, st: pd.Series, t: pd.Series, ok: pd.Series,
                 rejected: list[pd.DataFrame], applied: dict[str, str]) -> pd.DataFrame:
    """Validate and reshape a wide export (one column per pollutant) to long readings in standard units."""
    parts = []
    for p in m.pollutant_columns:
        v, bad = _numbers(m, b.col(p))
        unit = m.units.get(p, UNITS[p])
        fac = unit_factor(p, unit)
        if fac != 1.0:
            applied[p] = f"{unit} -> {UNITS[p]} x{fac:.6g}"
        bad = bad & ok
        if bad.any():
            rejected.append(number_rejects(file, b.ln[bad], p, b.col(p)[bad], m.source))
        keep = ok & ~bad
        parts.append(pd.DataFrame({"station": st[keep], "time": t[keep], "pollutant": p,
                                   "value": v[keep] * fac, "line": b.ln[keep]}))
    return pd.concat(parts, ignore_index=True)


def _long_values(b: _Body, m: Mapping, file: str, st: pd.Series, t: pd.Series, ok: pd.Series,
                 rejected: list[pd.DataFrame], applied: dict[str, str]) -> pd.DataFrame:
    """Validate a long export (pollutant, value, unit per row): pollutant names, units, numbers."""
    src = m.source
    plab = b.col("pollutant") if "pollutant" in b.refs else pd.Series(str(m.constants["pollutant"]), index=t.index)
    pk = normalize_pollutant(plab, m.pollutant_names)
    badp = ok & pk.isna()
    if badp.any():
        rejected.append(reject_rows(file, b.ln[badp], "pollutant",
                                    "unknown pollutant " + plab[badp].astype(str).map(bounded_excerpt), None, src))
    v, badv = _numbers(m, b.col("value"))
    okp = ok & pk.notna()
    if "unit" in b.refs:
        ulab = b.col("unit").astype(object)
    elif "unit" in m.constants:
        ulab = pd.Series(m.constants["unit"], index=t.index, dtype=object)
    else:
        ulab = pk.map(lambda p: m.units.get(p, UNITS.get(p)) if isinstance(p, str) else None)
    pairs = pd.DataFrame({"p": pk, "u": ulab.astype(object)})
    fac = pd.Series(np.nan, index=t.index)
    for key, idx in pairs[okp].groupby(["p", "u"], dropna=False).groups.items():
        p: Any = key[0]  # type: ignore[index]
        u: Any = key[1]  # type: ignore[index]
        try:
            f_ = unit_factor(p, u)
        except ValueError:
            continue
        fac[idx] = f_
        if f_ != 1.0:
            applied[p] = f"{u} -> {UNITS[p]} x{f_:.6g}"
    badu = okp & fac.isna()
    if badu.any():
        rejected.append(reject_rows(file, b.ln[badu], "unit", "unit " + ulab[badu].astype(str).map(bounded_excerpt)
                                    + " does not fit " + pk[badu].astype(str), None, src))
    badv = badv & okp & ~badu
    if badv.any():
        rejected.append(number_rejects(file, b.ln[badv], "value", b.col("value")[badv], src))
    keep = okp & ~badu & ~badv
    return pd.DataFrame({"station": st[keep], "time": t[keep], "pollutant": pk[keep],
                         "value": v[keep] * fac[keep], "line": b.ln[keep]})
