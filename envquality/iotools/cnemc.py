"""CNEMC live station feed ``GetAQIDataPublishLives`` (JSON, or an archived CSV crawl of it).

The China National Environmental Monitoring Centre's real-time release
platform publishes, every hour, one record per station [1]_ with the fields
``TimePoint, StationCode, Area, PositionName, Longitude, Latitude,
PrimaryPollutant, AQI, PM10, PM10_24h, PM2_5, PM2_5_24h, O3, O3_24h, O3_8h,
O3_8h_24h, NO2, NO2_24h, SO2, SO2_24h, CO, CO_24h`` (others, e.g.
``Quality``, ``Measure``, are ignored).  Hourly crawls archived as CSV
(HeQinWill/CNEMC [2]_) use the same names in lower case.  Field names are
matched case-insensitively (``PM2.5`` = ``PM2_5``).  Units µg/m³, CO mg/m³.

Column → pollutant key (:mod:`envquality.model`):

==================  ==================  =====================================
feed column         key                 meaning
==================  ==================  =====================================
so2 no2 pm10 pm2_5  so2 no2 pm10 pm25   latest 1-h mean
co                  co                  latest 1-h mean [mg/m³]
x_24h               x_24h               24-h moving mean (pm2_5_24h → pm25_24h)
aqi                 aqi                 hourly AQI (HJ 633, 1-h values)
==================  ==================  =====================================

**The O3 columns are swapped in this feed** (documented by the archive [2]_
and visible in the data: at 12:00 ``o3_24h`` is the lower, current value):
with ``o3_columns_swapped=True`` (default)

* ``o3_24h`` → ``o3`` (latest 1-h O3),
* ``o3`` → ``o3_24h`` (maximum 1-h O3 over the past 24 h),
* ``o3_8h_24h`` → ``o3_8h`` (current 8-h running mean),
* ``o3_8h`` → ``o3_8h_24h`` (maximum 8-h running mean of the day).

With ``o3_columns_swapped=False`` each O3 column maps to the key of its own
name.

Quirks handled: empty strings (and ``—``) are missing; stations whose values
are all empty (offline or control stations, e.g. 1477A, 2649A, 2665A on
2023-03-22T12) are not errors and are listed in
``meta["stations_no_data"]``; AQI capped at 500 while PM10 exceeds 1,000
µg/m³ (dust storms) is real data and kept; ``area`` full names map to admin
codes through :mod:`envquality.registry` (``兰州新区`` stays its own area, city
620100; unknown areas of other provinces get city ``<NA>`` and are listed in
``meta["areas_unmapped"]``).

References
----------
.. [1] CNEMC, 全国城市空气质量实时发布平台, endpoint
   ``GetAQIDataPublishLives``.
.. [2] HeQinWill/CNEMC (GitHub), ``Archive/<date>/<date>T<hh>.csv`` and its
   README (the O3 column swap); sample in shared/realdata/SOURCES.md §3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from envquality.iotools._parse import (
    collect_rejects, load_text, raw_lines, read_str_table, reject_rows, time_range, to_cst,
)
from envquality.iotools._units import implausible
from envquality.iotools.common import (
    MISSING_MARKERS,
    InputError,
    ReadResult,
    sha256_of,
    split_duplicates,
    to_number,
)
from envquality.model import TIMEZONE
from envquality.registry import default_registry
from envquality.text import bounded_excerpt

__all__ = ["read_cnemc_live", "FEED_COLUMNS", "O3_SWAPPED"]

SOURCE = "cnemc:live"

#: Feed column (normalized: lower case, ``.`` → ``_``) → pollutant key, O3 excluded.
FEED_COLUMNS: dict[str, str] = {
    "so2": "so2", "no2": "no2", "pm10": "pm10", "pm2_5": "pm25", "co": "co",
    "so2_24h": "so2_24h", "no2_24h": "no2_24h", "pm10_24h": "pm10_24h", "pm2_5_24h": "pm25_24h",
    "co_24h": "co_24h", "aqi": "aqi",
}
#: O3 columns of the feed → key, as the feed really fills them (swapped names).
O3_SWAPPED: dict[str, str] = {"o3_24h": "o3", "o3": "o3_24h", "o3_8h_24h": "o3_8h", "o3_8h": "o3_8h_24h"}
_O3_AS_NAMED: dict[str, str] = {k: k for k in O3_SWAPPED}
_ID = ("timepoint", "stationcode", "area", "positionname", "longitude", "latitude", "primarypollutant")
_ALIASES = {"pm2.5": "pm2_5", "pm25": "pm2_5", "pm2.5_24h": "pm2_5_24h", "pm25_24h": "pm2_5_24h"}


def _norm_col(c: Any) -> str:
    k = str(c).strip().lower()
    return _ALIASES.get(k, k.replace(".", "_"))


def _json_records(obj: Any, label: str) -> list[dict]:
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list)]
        if not lists:
            raise InputError(label, None, None, "JSON object holds no list of station records")
        obj = lists[0]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise InputError(label, None, None, "expected a JSON list of station objects")
    return obj


def _json_record_lines(text: str) -> np.ndarray:
    """1-based physical line where each element of the top-level JSON array starts."""
    dec = json.JSONDecoder()
    i = text.index("[") + 1 if text.lstrip().startswith("[") else None
    if i is None:  # wrapped: find the first array
        i = text.index("[") + 1
    out = []
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == "]":
            break
        out.append(text.count("\n", 0, i) + 1)
        _, i = dec.raw_decode(text, i)
    return np.asarray(out, dtype=np.int64)


def _parse_time(s: pd.Series) -> pd.Series:
    """TimePoint text → tz-aware Asia/Shanghai; NaT where unparsable.

    Accepts ISO text (``2023-03-22T12:00:00``, naive = CST) and the
    ``/Date(1679457600000)/`` form (ms since the epoch, UTC).
    """
    s = s.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype=f"datetime64[ns, {TIMEZONE}]")
    ms = s.str.extract(r"^/?Date\((-?\d+)(?:[+-]\d{4})?\)/?$", expand=False)
    is_ms = ms.notna()
    if is_ms.any():
        out[is_ms] = pd.to_datetime(ms[is_ms].astype("int64"), unit="ms", utc=True).dt.tz_convert(TIMEZONE)
    rest = ~is_ms & s.notna() & (s != "")
    if rest.any():
        txt = s[rest]
        has_tz = txt.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
        if (~has_tz).any():
            naive = pd.to_datetime(txt[~has_tz], format="ISO8601", errors="coerce")
            out[naive.index] = to_cst(naive.to_numpy(dtype="datetime64[ns]"))
        if has_tz.any():
            aware = pd.to_datetime(txt[has_tz], format="ISO8601", errors="coerce", utc=True)
            out[aware.index] = aware.dt.tz_convert(TIMEZONE)
    return out


def read_cnemc_live(
    path_or_json: Any,
    *,
    o3_columns_swapped: bool = True,
    registry=None,
    dropna: bool = False,
    numeric_missing: tuple[float, ...] = (),
) -> ReadResult:
    """Read one or more hours of the CNEMC live station feed.

    Parameters
    ----------
    path_or_json : str, Path, bytes, str content, list or dict
        A JSON file/text (a list of station objects, or an object holding
        one), the parsed JSON itself, or the archived CSV (header row of
        feed field names).  UTF-8 with/without BOM or GB18030; LF/CRLF.
    o3_columns_swapped : bool
        Whether the O3 columns carry swapped contents (True for this feed;
        see the module docstring for the exact mapping).
    registry : envquality.registry.Registry, optional
        Maps ``area`` to admin codes; default Gansu.
    dropna : bool
        Drop rows whose value is missing (default False).
    numeric_missing : tuple of float
        Numbers meaning "missing" (none in this feed by default).

    Returns
    -------
    ReadResult
        ``data``: ``station``, ``time`` (tz-aware Asia/Shanghai, hour
        ending; ``TimePoint`` is already the hour end), ``pollutant``,
        ``value`` [µg/m³; CO mg/m³; AQI 1], ``city`` (admin code or <NA>).
        ``meta``: ``source``, ``file``, ``sha256``, ``encoding``, ``format``
        (``json``/``csv``), ``rows_in`` (station records), ``rows_ok``
        (rows of ``data``), ``rows_rejected``, ``rows_duplicate``,
        ``time_min``/``time_max``, ``o3_columns_swapped``,
        ``stations_no_data`` (codes with every value empty),
        ``areas_unmapped``, ``columns_ignored`` and ``stations`` (a frame
        ``station, name, area, city, lon, lat, primary_pollutant``).
        ``rejected``: records with a bad ``timepoint`` or no
        ``stationcode`` (raw = the line / JSON record), cells that are not
        numbers or are implausible (negative, above
        :data:`envquality.model.UNIT_SANITY_MAX`; raw = the cell), and
        conflicting duplicates.  ``line`` is the 1-based physical line
        (for JSON: where the record's object starts).

    Raises
    ------
    InputError
        Not JSON or CSV, or no ``timepoint``/``stationcode`` column.

    Examples
    --------
    >>> feed = [{"TimePoint": "2023-03-22T12:00:00", "StationCode": "1478A", "Area": "兰州市",
    ...          "PM10": "697", "AQI": "500", "O3": "100", "O3_24h": "53"}]
    >>> r = read_cnemc_live(feed)
    >>> r.data.set_index("pollutant")["value"].to_dict()
    {'pm10': 697.0, 'aqi': 500.0, 'o3': 53.0, 'o3_24h': 100.0}
    >>> r.data["city"].iloc[0]
    '620100'
    """
    reg = registry or default_registry()
    feed = _parse(path_or_json)
    o3map = O3_SWAPPED if o3_columns_swapped else _O3_AS_NAMED
    polmap = {**FEED_COLUMNS, **o3map}
    pcols = [(feed.cols[k], polmap[k]) for k in polmap if k in feed.cols]
    ignored = [c for k, c in feed.cols.items() if k not in polmap and k not in _ID]
    rej = _Rejects()
    times, station, row_bad = _validate_rows(feed, rej)
    city, unmapped = _cities(feed, reg)
    block = _values(feed, pcols, row_bad, numeric_missing, rej)
    ok = ~row_bad
    raw_empty = np.ones(feed.n, dtype=bool)
    for c, _ in pcols:
        raw_empty &= feed.df[c].astype(str).str.strip().isin(MISSING_MARKERS | {"None"}).to_numpy()
    no_data = sorted(pd.unique(station[ok & raw_empty]).tolist())
    data, dup_rej, n_dup = _reshape(station, times, city, block, pcols, ok, feed.label)
    if dropna:
        data = data.loc[data["value"].notna()].reset_index(drop=True)
    rejected = rej.resolve(feed, dup_rej)
    t0, t1 = time_range(data["time"])
    meta = {
        "source": SOURCE, "file": feed.label, "sha256": sha256_of(feed.raw), "encoding": feed.enc,
        "format": feed.fmt, "rows_in": int(feed.n), "rows_ok": int(len(data)), "rows_rejected": int(len(rejected)),
        "rows_duplicate": int(n_dup), "time_min": t0, "time_max": t1,
        "o3_columns_swapped": bool(o3_columns_swapped), "stations_no_data": no_data,
        "areas_unmapped": sorted(unmapped), "columns_ignored": ignored,
        "stations": _stations_table(feed, station, city, ok),
    }
    return ReadResult(data, meta, rejected)


# --------------------------------------------------------------------------- steps
@dataclass
class _Feed:
    """A parsed feed: text cells of every record and where each record is in the input."""

    label: str
    enc: str
    fmt: str  # "json" or "csv"
    raw: bytes
    text: str | None
    df: pd.DataFrame
    cols: dict[str, str]  # normalised column name -> column
    records: list[dict[str, Any]]  # JSON records (JSON input)
    lines: list[str]  # physical lines (CSV input)
    rec_line: np.ndarray | None  # physical line of each record (CSV input)
    nfields: np.ndarray | None
    ncol: int | None

    @property
    def n(self) -> int:
        return len(self.df)

    def col(self, k: str) -> pd.Series:
        return self.df[self.cols[k]].astype(str).str.strip() if k in self.cols else pd.Series("", index=self.df.index)


def _parse(path_or_json: Any) -> _Feed:
    """Parse: JSON (list or object holding one) or archived CSV to text cells; the required columns."""
    text = None
    records: list[dict[str, Any]] = []
    if isinstance(path_or_json, (list, dict)):
        label, enc, fmt = "<json>", "json", "json"
        raw = json.dumps(path_or_json, ensure_ascii=False, sort_keys=True).encode("utf-8")
        records = _json_records(path_or_json, label)
    else:
        text, enc, label, raw = load_text(path_or_json)
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
        if fmt == "json":
            try:
                records = _json_records(json.loads(text), label)
            except json.JSONDecodeError as exc:
                raise InputError(label, exc.lineno, None, f"invalid JSON: {exc.msg}") from None
    lines: list[str] = []
    rec_line = nfields = None
    ncol = None
    if fmt == "json":
        df = pd.DataFrame.from_records(records)
        df = df.astype(object).where(df.notna(), "").astype(str) if len(df) else df
    else:
        assert text is not None
        df, lines, rec_line, nfields, head = read_str_table(text, label, header=True)
        df.columns = head
        ncol = len(head)
    cols: dict[str, str] = {}
    for c in df.columns:
        cols.setdefault(_norm_col(c), c)
    for req in ("timepoint", "stationcode"):
        if req not in cols:
            listing = bounded_excerpt(", ".join(map(str, list(df.columns)[:8])))
            raise InputError(label, 1 if fmt == "csv" else None, req,
                             f"not a CNEMC live feed: no {req!r} column (columns: {listing})")
    return _Feed(label, enc, fmt, raw, text, df, cols, records, lines, rec_line, nfields, ncol)


class _Rejects:
    """Rejected records by position; lines and raw text are resolved once at the end."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def __call__(self, recs: Any, field: str | None, reason: Any, raw_text: Any = None) -> None:
        self.items.append({"rec": np.asarray(recs, dtype=np.int64), "field": field, "reason": reason,
                           "raw": raw_text})

    def resolve(self, feed: _Feed, dup_rej: pd.DataFrame) -> pd.DataFrame:
        if not self.items and not len(dup_rej):
            return collect_rejects([])
        rec_line = feed.rec_line
        if feed.fmt == "json":
            try:
                rec_line = _json_record_lines(feed.text) if feed.text is not None else np.arange(1, feed.n + 1)
            except (ValueError, json.JSONDecodeError):  # pragma: no cover - defensive
                rec_line = np.arange(1, feed.n + 1)
            if len(rec_line) != feed.n:  # pragma: no cover - defensive
                rec_line = np.arange(1, feed.n + 1)
        assert rec_line is not None

        def raw_of(recs: np.ndarray) -> list[str]:
            return (raw_lines(feed.lines, rec_line[recs]) if feed.fmt == "csv"
                    else [json.dumps(feed.records[i], ensure_ascii=False) for i in recs])

        frames = [reject_rows(feed.label, rec_line[e["rec"]], e["field"], e["reason"],
                              raw_of(e["rec"]) if e["raw"] is None else e["raw"], SOURCE) for e in self.items]
        if len(dup_rej):
            d = dup_rej.copy()
            recs = d["line"].to_numpy(dtype=np.int64)
            d["line"] = rec_line[recs]
            d["raw"] = raw_of(recs)
            frames.append(d)
        return collect_rejects(frames)


def _validate_rows(feed: _Feed, reject: _Rejects) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Validate records: field count, time, station code.  Returns times, station codes and the bad-row mask."""
    df, cols = feed.df, feed.cols
    row_bad = np.zeros(feed.n, dtype=bool)
    if feed.nfields is not None and feed.ncol is not None:
        wrong = feed.nfields != feed.ncol
        if wrong.any():
            reject(np.flatnonzero(wrong), None, [f"expected {feed.ncol} fields, saw {k}" for k in feed.nfields[wrong]])
            row_bad |= wrong
    times = _parse_time(df[cols["timepoint"]])
    bad_t = times.isna().to_numpy() & ~row_bad
    if bad_t.any():
        reject(np.flatnonzero(bad_t), cols["timepoint"],
               ("cannot parse time " + df.loc[bad_t, cols["timepoint"]].map(bounded_excerpt)).to_list())
        row_bad |= bad_t
    station = df[cols["stationcode"]].astype(str).str.strip()
    bad_s = (station == "").to_numpy() & ~row_bad
    if bad_s.any():
        reject(np.flatnonzero(bad_s), cols["stationcode"], "empty station code")
        row_bad |= bad_s
    return times, station, row_bad


def _cities(feed: _Feed, reg: Any) -> tuple[pd.Series, list[str]]:
    """Normalise areas (``兰州市``, ``兰州新区``) to city codes, per distinct area."""
    area = feed.col("area")
    amap: dict[str, str | None] = {}
    unmapped = []
    for a in pd.unique(area):
        try:
            amap[a] = reg.area_of(a)[0]
        except KeyError:
            amap[a] = None
            if a:
                unmapped.append(a)
    return area.map(amap), unmapped


def _values(feed: _Feed, pcols: list[tuple[str, str]], row_bad: np.ndarray, numeric_missing: Iterable[float],
            reject: _Rejects) -> np.ndarray:
    """Validate values: numbers, unit-sanity bounds (implausible values rejected, not kept)."""
    df, n = feed.df, feed.n
    block = np.full((n, len(pcols)), np.nan)
    for j, (c, key) in enumerate(pcols):
        num, bad = to_number(df[c], numeric_missing=numeric_missing)
        b = bad.to_numpy() & ~row_bad
        if b.any():
            reject(np.flatnonzero(b), c, f"cannot parse number for {key}", df.loc[b, c].astype(str).to_list())
        v = num.to_numpy(dtype=np.float64)
        implaus = implausible(v, np.full(n, key, dtype=object)) & ~row_bad
        if implaus.any():
            reject(np.flatnonzero(implaus), c, f"implausible value for {key} (negative or above unit-sanity bound)",
                   df.loc[implaus, c].astype(str).to_list())
            v = np.where(implaus, np.nan, v)
        block[:, j] = v
    return block


def _stations_table(feed: _Feed, station: pd.Series, city: pd.Series, ok: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "station": station, "name": feed.col("positionname"), "area": feed.col("area"), "city": city,
        "lon": to_number(feed.col("longitude"))[0], "lat": to_number(feed.col("latitude"))[0],
        "primary_pollutant": feed.col("primarypollutant"),
    }).loc[ok].drop_duplicates("station").reset_index(drop=True)


def _reshape(station: pd.Series, times: pd.Series, city: pd.Series, block: np.ndarray,
             pcols: list[tuple[str, str]], ok: np.ndarray, label: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Reshape: one row per station, time and pollutant; duplicates collapsed or rejected."""
    P = len(pcols)
    idx = np.flatnonzero(ok)
    R = len(idx)
    tidy = pd.DataFrame({
        "station": np.repeat(station.to_numpy(dtype=object)[idx], P),
        "time": times.iloc[np.repeat(idx, P)].to_numpy() if R else times.iloc[:0].to_numpy(),
        "pollutant": np.tile(np.asarray([k for _, k in pcols], dtype=object), R),
        "value": block[idx].ravel(),
        "city": np.repeat(city.to_numpy(dtype=object)[idx], P),
        "rec": np.repeat(idx, P),
    })
    kept, dup_rej, n_dup = split_duplicates(tidy.assign(line=tidy["rec"], raw=""), file=label, source=SOURCE)
    data = kept.drop(columns=["rec", "line", "raw"], errors="ignore").reset_index(drop=True)
    data["city"] = data["city"].astype("string")
    return data, dup_rej, n_dup
