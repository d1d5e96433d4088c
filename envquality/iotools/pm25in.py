"""Reader for pm25.in station-hourly crawls (one CSV per city).

Source
------
http://www.pm25.in/<city>, a mirror of CNEMC real-time station data, as crawled
by zzy-95/data_crawl_national_air (MIT; sample for the 14 Gansu cities,
2020-04-02 … 2020-04-08, see ``shared/realdata/SOURCES.md`` §2).

Layout
------
Header ``Date,Hour,WatchPoint,AQI,Level,PrimaryPollution,PM2.5,PM10,CO,NO2,O3_1h,O3_8h,SO2``:

* ``Date`` ``YYYYMMDD``; ``Hour`` ``00``-``23`` is the hour the page was
  *crawled*.  pm25.in shows the latest CNEMC publication, which is labelled by
  the end of its averaging hour, so the reader treats ``Date Hour:00`` as the
  **end** of the averaging hour (CST).  Crawl delay can make this up to an
  hour late; the source gives nothing better.  Hour ``00`` of day D is the hour
  ending D 00:00, which belongs to day D-1 (:func:`envquality.model.day_of_hour`).
* ``WatchPoint`` is a station *name*; the city comes from the file name
  (``兰州.csv``) or the ``city`` argument.
* Units: µg/m³ (PM2.5, PM10, NO2, O3_1h, O3_8h, SO2), CO mg/m³, AQI (HJ 633).
  Mapped to keys ``pm25 pm10 co no2 o3 o3_8h so2 aqi``.  ``Level`` and
  ``PrimaryPollution`` are derived text and are not kept.

Quirks handled
--------------
* literal ``NaN`` (and the other markers of :data:`~envquality.iotools.common.MISSING_MARKERS`) → NaN;
* whole hours crawled twice: identical duplicates collapse (counted in
  ``meta["records_duplicate"]`` and ``meta["rows_duplicate"]``), conflicting
  ones are quarantined;
* ``PrimaryPollution`` quoted over several lines: parsed with an RFC 4180 reader,
  rejected rows carry the physical line where their record starts;
* frozen stations (``教育港（20181115启用）`` repeats one set of values in every
  hour): a station whose complete set of values (all eight columns, not all
  NaN) stays identical over ``frozen_hours`` or more consecutive *reported*
  hours is listed in ``meta["frozen_stations"]`` and its rows in those runs get
  ``suspect_frozen = True``.  Nothing is dropped;
* old or suffixed names (``豫源饭店``, ``…(对照点)``, ``…（20181115启用）``):
  :func:`envquality.registry.clean_station_name` strips status text and
  :func:`envquality.registry.resolve_station` gives the station code, or
  the id of a historical station (``天水 仙人崖`` → ``620500:仙人崖``, see
  ``docs/registry.md``) listed in ``meta["historical_stations"]``; a name it
  does not know gets the stable id ``"{city_code}:{clean name}"``.  When two
  names of one file land on the same id (``教育港`` and
  ``教育港（20181115启用）``), the best series keeps it (not frozen, then no
  status suffix, then most values) and the others get
  ``"{city_code}:{raw name}"``; see ``meta["station_collisions"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from envquality.iotools._parse import (
    csv_records, decode_input, finish, load_source, number_rejects, raw_lines, record_spans, reject_rows,
    to_cst,
)
from envquality import registry
from envquality.iotools.common import InputError, MISSING_MARKERS, ReadResult, sha256_of, to_number
from envquality.text import bounded_excerpt

__all__ = ["read_pm25in", "PM25IN_HEADER", "PM25IN_COLUMNS", "detect_frozen"]

#: Expected header of a pm25.in crawl file.
PM25IN_HEADER: tuple[str, ...] = (
    "Date", "Hour", "WatchPoint", "AQI", "Level", "PrimaryPollution",
    "PM2.5", "PM10", "CO", "NO2", "O3_1h", "O3_8h", "SO2",
)

#: Source column -> pollutant key (units: µg/m³, CO mg/m³, AQI dimensionless).
PM25IN_COLUMNS: dict[str, str] = {
    "AQI": "aqi", "PM2.5": "pm25", "PM10": "pm10", "CO": "co", "NO2": "no2",
    "O3_1h": "o3", "O3_8h": "o3_8h", "SO2": "so2",
}

SOURCE = "pm25in"


def detect_frozen(frame: pd.DataFrame, value_columns: list[str], *, by: str, min_run: int) -> pd.Series:
    """Flag rows inside runs of identical values.

    Parameters
    ----------
    frame : DataFrame
        One row per series and hour, sorted by ``by`` then time.
    value_columns : list of str
        Columns compared together (NaN equals NaN; all-NaN rows never count).
    by : str
        Series column (the station).
    min_run : int
        Minimum run length (consecutive rows of one series).

    Returns
    -------
    Series of bool, aligned with ``frame``.

    >>> f = pd.DataFrame({"s": ["a"] * 4 + ["b"] * 2, "x": [1, 1, 1, 2, 1, 1]})
    >>> detect_frozen(f, ["x"], by="s", min_run=3).tolist()
    [True, True, True, False, False, False]
    """
    if frame.empty:
        return pd.Series(False, index=frame.index)
    vals = frame[value_columns].to_numpy(dtype="float64", na_value=np.nan)
    all_nan = np.isnan(vals).all(axis=1)
    filled = np.where(np.isnan(vals), -1.234e308, vals)
    series = frame[by].astype(object).to_numpy()
    same = np.zeros(len(frame), dtype=bool)
    same[1:] = (filled[1:] == filled[:-1]).all(axis=1) & (series[1:] == series[:-1])
    prev_nan = np.ones(len(frame), dtype=bool)
    prev_nan[1:] = all_nan[:-1]
    run_id = np.cumsum(~same | all_nan | prev_nan)
    run_len = np.bincount(run_id)[run_id]
    return pd.Series((run_len >= min_run) & ~all_nan, index=frame.index)


def _city_from(file: str, city: str | None) -> str:
    if city:
        return city
    stem = Path(file).stem
    if not stem or stem.startswith("<"):
        raise InputError(file, None, None, "cannot tell the city: pass city=")
    return stem


def read_pm25in(
    path: str | Path | bytes,
    *,
    city: str | None = None,
    name: str | None = None,
    frozen_hours: int = 24,
    numeric_missing: Iterable[float] = (),
) -> ReadResult:
    """Read one pm25.in city file into tidy hourly readings.

    Parameters
    ----------
    path : str, Path or bytes
        The CSV (UTF-8 with/without BOM or GB18030; LF or CRLF).
    city : str, optional
        City name (``兰州``, ``临夏州``, ``临夏回族自治州``...); default: the file
        name stem.  Required for bytes input unless ``name`` carries it.
    name : str, optional
        File name reported for bytes input (``"兰州.csv"``).
    frozen_hours : int, default 24
        A station whose values stay identical over this many consecutive
        reported hours is flagged as frozen.  24 identical full sets of eight
        values are practically impossible for a working analyser, while the
        sample (92-94 reported hours per city) leaves room for several runs.
    numeric_missing : iterable of float, default ()
        Numbers that mean "missing" (pm25.in uses only text ``NaN``).

    Returns
    -------
    ReadResult
        ``data``: ``station, time, pollutant, value, city, suspect_frozen``
        (µg/m³, CO mg/m³, AQI dimensionless; time = hour-ending CST).
        ``meta`` adds ``city``, ``city_code``, ``stations`` (raw name → id),
        ``unresolved_stations`` (raw names given a ``city_code:name`` id),
        ``station_collisions``, ``frozen_stations`` (ids), ``frozen_detail``,
        ``records_duplicate`` (identical whole records), ``hours``.

    Raises
    ------
    InputError
        Unreadable file, wrong header, unknown city.
    """
    if frozen_hours < 2:
        raise ValueError("frozen_hours must be at least 2")
    src = _parse(path, name)
    city_name = _city_from(src.file, city)
    try:
        ccode = registry.city_code(city_name)
    except KeyError:
        raise InputError(src.file, None, None, f"unknown city {bounded_excerpt(city_name, 40)}; pass city=") from None
    wide, bad_values, ok, rejected = _validate(src, numeric_missing)
    keys = list(PM25IN_COLUMNS.values())
    wide = _flag_frozen(wide, keys, frozen_hours)
    ids = _station_ids(wide, city_name, ccode, keys)
    wide["station"] = wide["raw_name"].map(ids.id_of)
    wide["city"] = city_name
    long = _reshape(wide, bad_values, ok, keys)
    meta = {
        "sha256": sha256_of(src.raw),
        "encoding": src.enc,
        "city": city_name,
        "city_code": ccode,
        "rows_in": int((src.nf[1:] != 0).sum()),
        "rows_ok": int(len(wide)),
        "blank_lines": int((src.nf[1:] == 0).sum()),
        "records_duplicate": int(wide.duplicated(["raw_name", "time", *keys], keep="first").sum()),
        "hours": int(wide["time"].nunique()),
        **ids.meta(wide, frozen_hours),
    }
    return finish(long, rejected, file=src.file, source=SOURCE, raw_of=src.raw_of,
                  extra_cols=("city", "suspect_frozen"), meta=meta)


# --------------------------------------------------------------------------- steps
@dataclass
class _Source:
    """A parsed pm25.in file: bytes, text, records and their physical lines."""

    raw: bytes
    file: str
    text: str
    enc: str
    fields: pd.DataFrame
    start: np.ndarray
    nf: np.ndarray
    pos: dict[str, int]  # header name -> field position

    def raw_of(self, ls: list[int]) -> list[str]:
        spans = record_spans(self.text, self.start)
        return raw_lines(self.text, ls, [spans.get(s, 1) for s in ls])


def _parse(path: str | Path | bytes, name: str | None) -> _Source:
    """Parse: bytes → text → RFC 4180 records with physical line numbers; check the header."""
    raw, file = load_source(path, name=name)
    text, enc = decode_input(raw, file)
    fields, start, nf = csv_records(text, file=file)
    if fields.empty:
        raise InputError(file, 1, None, "empty file (expected the pm25.in header)")
    header = [
        ("" if v is None else str(v)).strip().lstrip("\ufeff") for v in fields.iloc[0].tolist()[: nf[0]]
    ]
    missing_cols = [c for c in ("Date", "Hour", "WatchPoint", *PM25IN_COLUMNS) if c not in header]
    if missing_cols:
        raise InputError(
            file,
            1,
            missing_cols[0],
            f"not a pm25.in file: header lacks {', '.join(missing_cols)} (got {bounded_excerpt(','.join(header))})",
        )
    return _Source(raw, file, text, enc, fields, start, nf, {h: i for i, h in enumerate(header)})


def _validate(src: _Source, numeric_missing: Iterable[float]
              ) -> tuple[pd.DataFrame, dict[str, pd.Series], pd.Series, list[pd.DataFrame]]:
    """Validate: field counts, Date, Hour, station name and numbers; bad rows and cells are rejected.

    Returns the wide frame of good rows (``raw_name, time, line`` and one
    column per pollutant key), the unparsable-cell masks, the good-row mask
    and the rejects.
    """
    file = src.file
    body = src.fields.iloc[1:].reset_index(drop=True)
    ln = pd.Series(src.start[1:], dtype="int64")
    nfb = src.nf[1:]
    blank = pd.Series(nfb == 0)
    rejected: list[pd.DataFrame] = []
    width = len(src.pos)
    wrong = pd.Series((nfb != width) & (nfb != 0))
    if wrong.any():
        rejected.append(reject_rows(file, ln[wrong], None,
                                    [f"expected {width} fields, got {n}" for n in nfb[wrong.to_numpy()]], None, SOURCE))
    ok = ~blank & ~wrong

    def col(c: str) -> pd.Series:
        return body[src.pos[c]].astype("string").str.strip()

    date = pd.to_datetime(col("Date"), format="%Y%m%d", errors="coerce")
    hour_txt = col("Hour")
    hour, _ = to_number(hour_txt)
    hour_ok = hour_txt.str.fullmatch(r"\d{1,2}").fillna(False).astype(bool) & (hour >= 0) & (hour <= 23)
    naive = date + pd.to_timedelta(hour.where(hour_ok), unit="h")
    time = pd.Series(to_cst(naive.to_numpy(dtype="datetime64[ns]")), index=naive.index)
    station_raw = col("WatchPoint")
    bad_date = ok & date.isna()
    bad_hour = ok & ~bad_date & ~hour_ok
    bad_name = ok & ~bad_date & ~bad_hour & (station_raw.isna() | station_raw.isin(MISSING_MARKERS))
    for mask, fld, why in (
        (bad_date, "Date", "cannot parse " + col("Date").astype(str).map(repr) + " as YYYYMMDD"),
        (bad_hour, "Hour", "hour " + hour_txt.astype(str).map(repr) + " is not 00-23"),
        (bad_name, "WatchPoint", pd.Series("missing station name", index=body.index)),
    ):
        if mask.any():
            rejected.append(reject_rows(file, ln[mask], fld, why[mask], None, SOURCE))
    ok &= ~bad_date & ~bad_hour & ~bad_name
    values = {}
    bad_values = {}
    for c, key in PM25IN_COLUMNS.items():
        v, bad = to_number(col(c), numeric_missing=numeric_missing)
        bad &= ok
        if bad.any():
            rejected.append(number_rejects(file, ln[bad], c, col(c)[bad], SOURCE))
        values[key] = v
        bad_values[key] = bad
    wide = pd.DataFrame({"raw_name": station_raw, "time": time, "line": ln, **values})[ok.to_numpy()]
    return wide, bad_values, ok, rejected


def _flag_frozen(wide: pd.DataFrame, keys: list[str], frozen_hours: int) -> pd.DataFrame:
    """Normalise (1): ``suspect_frozen`` on the rows of runs of identical value sets, one row per name and hour."""
    per_hour = wide.loc[~wide.duplicated(["raw_name", "time"], keep="first")].sort_values(
        ["raw_name", "time"], kind="stable")
    frozen_flag = detect_frozen(per_hour, keys, by="raw_name", min_run=frozen_hours)
    flagged = per_hour.loc[frozen_flag, ["raw_name", "time"]].assign(suspect_frozen=True)
    wide = wide.merge(flagged, on=["raw_name", "time"], how="left")
    wide["suspect_frozen"] = wide["suspect_frozen"].fillna(False).astype(bool)
    return wide


@dataclass
class _StationIds:
    """Station id of every raw name, with what the registry said about it."""

    info: dict[str, dict]
    id_of: dict[str, str]
    collisions: dict[str, list[str]]

    def meta(self, wide: pd.DataFrame, frozen_hours: int) -> dict[str, Any]:
        info, id_of = self.info, self.id_of
        frozen_ids = sorted({id_of[nm] for nm, d in info.items() if d["frozen"]})
        detail = {}
        if frozen_ids:
            fz = wide.loc[wide["suspect_frozen"]].groupby("station")["time"].agg(["min", "max", "nunique"])
            detail = {
                sid: {"raw_name": next(nm for nm in info if id_of[nm] == sid), "hours": int(r["nunique"]),
                      "first": r["min"].isoformat(), "last": r["max"].isoformat()}
                for sid, r in fz.iterrows()
            }
        return {
            "stations": id_of,
            "unresolved_stations": sorted(
                nm for nm, d in info.items() if d["code"] is None or id_of[nm] != d["code"]),
            # resolved through the station history to an id without an evidenced CNEMC code
            "historical_stations": sorted(
                nm for nm, d in info.items() if d["code"] is not None and ":" in d["code"] and id_of[nm] == d["code"]),
            "station_collisions": self.collisions,
            "frozen_stations": frozen_ids,
            "frozen_detail": detail,
            "frozen_hours": frozen_hours,
        }


def _station_ids(wide: pd.DataFrame, city_name: str, ccode: str, keys: list[str]) -> _StationIds:
    """Normalise (2): raw names → station ids (per distinct name: a handful, not the hot path)."""
    info: dict[str, dict] = {}
    for nm in sorted(wide["raw_name"].dropna().unique().tolist()):
        clean, _status = registry.clean_station_name(nm)
        sub = wide.loc[wide["raw_name"] == nm]
        # current names first, then the station history valid at the series' first hour
        when = sub["time"].min()
        code = registry.resolve_station(city_name, clean, when) or registry.resolve_station(city_name, nm, when)
        info[nm] = {
            "clean": clean, "code": code, "id": code or f"{ccode}:{clean}",
            "frozen": bool(sub["suspect_frozen"].any()), "suffixed": clean != nm,
            "n_values": int(sub[keys].notna().to_numpy().sum()),
        }
    collisions: dict[str, list[str]] = {}
    by_id: dict[str, list[str]] = {}
    for nm, d in info.items():
        by_id.setdefault(d["id"], []).append(nm)
    for sid, group in by_id.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda nm: (info[nm]["frozen"], info[nm]["suffixed"], -info[nm]["n_values"], nm))
        for loser in group[1:]:
            info[loser]["id"] = f"{ccode}:{loser}"
        collisions[sid] = group
    return _StationIds(info, {nm: d["id"] for nm, d in info.items()}, collisions)


def _reshape(wide: pd.DataFrame, bad_values: dict[str, pd.Series], ok: pd.Series, keys: list[str]) -> pd.DataFrame:
    """Reshape: one row per station, hour and pollutant; a value that failed to parse is in the rejects."""
    long = wide.melt(id_vars=["station", "time", "line", "city", "suspect_frozen"], value_vars=keys,
                     var_name="pollutant", value_name="value")
    bad_long = pd.concat([bad_values[k][ok.to_numpy()].reset_index(drop=True) for k in keys], ignore_index=True)
    return long.loc[~bad_long.to_numpy()]
