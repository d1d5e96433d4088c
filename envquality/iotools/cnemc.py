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
from typing import Any

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
    text = None
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
    if fmt == "json":
        df = pd.DataFrame.from_records(records)
        df = df.astype(object).where(df.notna(), "").astype(str) if len(df) else df
        ncol_expected = None
        nfields = None
        rec_line: np.ndarray | None = None
        lines: list[str] = []
    else:
        df, lines, rec_line, nfields, head = read_str_table(text, label, header=True)
        df.columns = head
        ncol_expected = len(head)
    cols = {}
    for c in df.columns:
        cols.setdefault(_norm_col(c), c)
    for req in ("timepoint", "stationcode"):
        if req not in cols:
            raise InputError(label, 1 if fmt == "csv" else None, req,
                             f"not a CNEMC live feed: no {req!r} column (columns: {bounded_excerpt(', '.join(map(str, list(df.columns)[:8])))})")
    o3map = O3_SWAPPED if o3_columns_swapped else _O3_AS_NAMED
    polmap = {**FEED_COLUMNS, **o3map}
    pcols = [(cols[k], polmap[k]) for k in polmap if k in cols]
    ignored = [c for k, c in cols.items() if k not in polmap and k not in _ID]
    n = len(df)
    rej: list[dict[str, Any]] = []  # entries with 'rec' (row positions), resolved at the end

    def reject(recs, field, reason, raw_text=None):
        rej.append({"rec": np.asarray(recs, dtype=np.int64), "field": field, "reason": reason,
                    "raw": raw_text})

    row_bad = np.zeros(n, dtype=bool)
    if nfields is not None and ncol_expected is not None:
        wrong = nfields != ncol_expected
        if wrong.any():
            reject(np.flatnonzero(wrong), None,
                   [f"expected {ncol_expected} fields, saw {k}" for k in nfields[wrong]])
            row_bad |= wrong
    times = _parse_time(df[cols["timepoint"]])
    bad_t = times.isna().to_numpy() & ~row_bad
    if bad_t.any():
        reject(np.flatnonzero(bad_t), cols["timepoint"],
               ("cannot parse time " + df.loc[bad_t, cols["timepoint"]].map(repr)).to_list())
        row_bad |= bad_t
    station = df[cols["stationcode"]].astype(str).str.strip()
    bad_s = (station == "").to_numpy() & ~row_bad
    if bad_s.any():
        reject(np.flatnonzero(bad_s), cols["stationcode"], "empty station code")
        row_bad |= bad_s
    # areas → city codes (per distinct area)
    area = df[cols["area"]].astype(str).str.strip() if "area" in cols else pd.Series("", index=df.index)
    amap, unmapped = {}, []
    for a in pd.unique(area):
        try:
            amap[a] = reg.area_of(a)[0]
        except KeyError:
            amap[a] = None
            if a:
                unmapped.append(a)
    city = area.map(amap)
    # values
    P = len(pcols)
    block = np.full((n, P), np.nan)
    for j, (c, key) in enumerate(pcols):
        num, bad = to_number(df[c], numeric_missing=numeric_missing)
        b = bad.to_numpy() & ~row_bad
        if b.any():
            reject(np.flatnonzero(b), c, f"cannot parse number for {key}",
                   df.loc[b, c].astype(str).to_list())
        v = num.to_numpy(dtype=np.float64)
        implaus = implausible(v, np.full(n, key, dtype=object)) & ~row_bad
        if implaus.any():
            reject(np.flatnonzero(implaus), c,
                   f"implausible value for {key} (negative or above unit-sanity bound)",
                   df.loc[implaus, c].astype(str).to_list())
            v = np.where(implaus, np.nan, v)
        block[:, j] = v
    ok = ~row_bad
    raw_empty = np.ones(n, dtype=bool)
    for c, _ in pcols:
        raw_empty &= df[c].astype(str).str.strip().isin(MISSING_MARKERS | {"None"}).to_numpy()
    no_data = sorted(pd.unique(station[ok & raw_empty]).tolist())
    # stations table
    def col(k):
        return df[cols[k]].astype(str).str.strip() if k in cols else pd.Series("", index=df.index)
    stations = pd.DataFrame({
        "station": station, "name": col("positionname"), "area": area, "city": city,
        "lon": to_number(col("longitude"))[0], "lat": to_number(col("latitude"))[0],
        "primary_pollutant": col("primarypollutant"),
    }).loc[ok].drop_duplicates("station").reset_index(drop=True)
    # tidy
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
    data = kept.drop(columns=["rec", "line", "raw"], errors="ignore")
    if dropna:
        data = data.loc[data["value"].notna()]
    data = data.reset_index(drop=True)
    data["city"] = data["city"].astype("string")
    # resolve reject positions to physical lines and raw text
    need = bool(rej) or len(dup_rej) > 0
    if need:
        if fmt == "json":
            try:
                rec_line = _json_record_lines(text) if text is not None else np.arange(1, n + 1)
            except (ValueError, json.JSONDecodeError):  # pragma: no cover - defensive
                rec_line = np.arange(1, n + 1)
            if len(rec_line) != n:  # pragma: no cover - defensive
                rec_line = np.arange(1, n + 1)
        frames = []
        for e in rej:
            recs = e["rec"]
            ln = rec_line[recs]
            if e["raw"] is None:
                rawt = (raw_lines(lines, ln) if fmt == "csv"
                        else [json.dumps(records[i], ensure_ascii=False) for i in recs])
            else:
                rawt = e["raw"]
            frames.append(reject_rows(label, ln, e["field"], e["reason"], rawt, SOURCE))
        if len(dup_rej):
            d = dup_rej.copy()
            recs = d["line"].to_numpy(dtype=np.int64)
            d["line"] = rec_line[recs]
            d["raw"] = (raw_lines(lines, rec_line[recs]) if fmt == "csv"
                        else [json.dumps(records[i], ensure_ascii=False) for i in recs])
            frames.append(d)
        rejected = collect_rejects(frames)
    else:
        rejected = collect_rejects([])
    t0, t1 = time_range(data["time"])
    meta = {
        "source": SOURCE, "file": label, "sha256": sha256_of(raw), "encoding": enc, "format": fmt,
        "rows_in": int(n), "rows_ok": int(len(data)), "rows_rejected": int(len(rejected)),
        "rows_duplicate": int(n_dup), "time_min": t0, "time_max": t1,
        "o3_columns_swapped": bool(o3_columns_swapped), "stations_no_data": no_data,
        "areas_unmapped": sorted(unmapped), "columns_ignored": ignored, "stations": stations,
    }
    return ReadResult(data, meta, rejected)
