"""Daily city values of aqistudy.cn (真气网) as archived by ShuyaoHong/aqistudy.

Layout [1]_ of ``data/<city>.csv``: **no header**, UTF-8 with BOM, twelve
comma-separated fields::

    city,date,aqi,aqi_range,level,pm25,pm10,so2,co,no2,o3,rank
    兰州,2013-12-02,148,139~154,轻度污染,104.7,201.5,68.6,1.9,51.8,31,61

``date`` is the CST calendar day; concentrations are daily values in µg/m³
(CO in mg/m³); ``o3`` is the site's daily O3 column (labelled O3_8h there,
read as the daily maximum 8-h mean ``o3_8h``); ``rank`` is the national
daily rank, ``0`` meaning missing.  aqistudy aggregates CNEMC hourly data;
its AQI/level are its own computation (kept as a reference, pollutant
``aqi``; recompute from concentrations).

Quirks [2]_: O3 has implausible spikes (843 µg/m³ in 甘南州): values above
``o3_suspect_above`` (400 µg/m³) are kept and flagged ``suspect=True``, not
rejected; dust-storm days (PM10 977 µg/m³) are real and kept.

References
----------
.. [1] ShuyaoHong/aqistudy (GitHub), commit 1ba11ca, README and
   ``data/<city>.csv``; original source https://www.aqistudy.cn/historydata/.
.. [2] shared/realdata/SOURCES.md §1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from envquality.iotools._parse import (
    base_meta, collect_rejects, load_text, raw_lines, read_str_table, reject_rows,
)
from envquality.iotools._units import implausible
from envquality.iotools.common import InputError, ReadResult, split_duplicates, to_number
from envquality.registry import default_registry
from envquality.text import bounded_excerpt

__all__ = ["read_aqistudy_daily", "FIELDS", "POLLUTANTS"]

SOURCE = "aqistudy:daily"

#: The twelve fields of a daily row, in order.
FIELDS: tuple[str, ...] = ("city", "date", "aqi", "aqi_range", "level", "pm25", "pm10", "so2", "co", "no2",
                           "o3", "rank")
#: Field → pollutant key of the daily tidy output.
POLLUTANTS: dict[str, str] = {
    "pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_24h", "co": "co_24h", "no2": "no2_24h",
    "o3": "o3_8h", "aqi": "aqi",
}


def read_aqistudy_daily(
    path: Any,
    *,
    registry=None,
    o3_suspect_above: float = 400.0,
    dropna: bool = False,
    numeric_missing: Iterable[float] = (),
) -> ReadResult:
    """Read an aqistudy daily city file.

    Parameters
    ----------
    path : str, Path, bytes or str content
        ``data/<city>.csv`` (UTF-8 with/without BOM or GB18030; LF/CRLF).
    registry : envquality.registry.Registry, optional
        Maps city names (``兰州``, ``临夏州``) to admin codes; default Gansu.
    o3_suspect_above : float
        O3 (``o3_8h``) values above this [µg/m³] get ``suspect=True``.
    dropna : bool
        Drop rows whose value is missing (default False).
    numeric_missing : iterable of float
        Numbers meaning "missing" in concentration fields (none by default;
        ``rank`` 0 is always missing).

    Returns
    -------
    ReadResult
        ``data``: ``city`` (admin code), ``date`` (datetime64[ns], naive
        midnight of the CST calendar day), ``pollutant`` (``pm25_24h
        pm10_24h so2_24h co_24h no2_24h o3_8h aqi``), ``value`` [µg/m³;
        CO mg/m³; AQI 1], ``suspect`` (bool; O3 above ``o3_suspect_above``).
        ``meta``: ``source``, ``file``, ``sha256``, ``encoding``,
        ``rows_in`` (data lines), ``rows_ok`` (rows of ``data``),
        ``rows_rejected``, ``rows_duplicate`` (identical duplicate values
        collapsed), ``time_min``/``time_max`` (= ``date_min``/``date_max``),
        ``suspect`` (count) and ``reported``: a frame ``city, date, aqi,
        aqi_min, aqi_max, level, rank`` of aqistudy's own AQI columns.
        ``rejected``: lines with the wrong field count, an unknown city or
        a bad date (raw = the line), cells that are not numbers or are
        implausible (raw = the cell), and conflicting duplicates.

    Raises
    ------
    InputError
        Not a 12-field CSV, or no line holds a ``YYYY-MM-DD`` date (e.g. a
        monthly ``data_month`` file).

    Examples
    --------
    >>> r = read_aqistudy_daily("\\ufeff兰州,2014-04-24,347,240~500,严重污染,150.1,977.3,30,1.2,40,90,360\\n")
    >>> r.data.loc[r.data.pollutant == "pm10_24h", ["city", "value"]].values.tolist()
    [['620100', 977.3]]
    """
    reg = registry or default_registry()
    f = _parse(path)
    rejects: list[pd.DataFrame] = []

    def reject(mask: np.ndarray, field: str | None, reason: Any, raw_text: Any = None) -> None:
        ln = f.line_of[mask]
        rejects.append(reject_rows(f.label, ln, field, reason,
                                   raw_lines(f.lines, ln) if raw_text is None else raw_text, SOURCE))

    dates, city, ok = _validate_rows(f, reg, reject)
    block = _values(f.df, ok, numeric_missing, reject)
    data, dup_rej, n_dup = _reshape(f, city, dates, block, ok, dropna)
    if len(dup_rej):
        rejects.append(dup_rej)
    data["suspect"] = ((data["pollutant"] == "o3_8h") & (data["value"] > o3_suspect_above)).to_numpy(bool)
    data["line"] = pd.to_numeric(data.pop("line"), errors="coerce").astype("Int64")
    data.attrs["raw_of"] = lambda ls: raw_lines(f.lines, ls)  # raw text of quarantined lines (quality gate)
    rejected = collect_rejects(rejects)
    d0 = data["date"].min() if len(data) else None
    d1 = data["date"].max() if len(data) else None
    meta = base_meta(SOURCE, f.label, f.raw, f.enc)
    meta.update({
        "rows_in": int(len(f.df)), "rows_ok": int(len(data)), "rows_rejected": int(len(rejected)),
        "rows_duplicate": int(n_dup), "time_min": d0, "time_max": d1, "date_min": d0, "date_max": d1,
        "suspect": int(data["suspect"].sum()), "o3_suspect_above": float(o3_suspect_above),
        "reported": _reported(f.df, city, dates, ok),
    })
    return ReadResult(data, meta, rejected)


# --------------------------------------------------------------------------- steps
@dataclass
class _File:
    label: str
    enc: str
    raw: bytes
    df: pd.DataFrame  # text cells, columns FIELDS
    lines: list[str]
    line_of: np.ndarray
    nfields: np.ndarray


def _parse(path: Any) -> _File:
    """Parse: headerless CSV of :data:`FIELDS` (refused when no line has the right width)."""
    text, enc, label, raw = load_text(path)
    ncol = len(FIELDS)
    df, lines, line_of, nfields, _ = read_str_table(text, label, header=False, ncol=ncol)
    if len(df) == 0:
        raise InputError(label, None, None, "empty file: no data lines")
    if (nfields != ncol).all():
        raise InputError(label, int(line_of[0]), None,
                         f"not an aqistudy daily file: expected {ncol} comma-separated fields, "
                         f"got {int(nfields[0])}")
    df.columns = list(FIELDS)
    return _File(label, enc, raw, df, lines, line_of, nfields)


def _validate_rows(f: _File, reg: Any, reject: Any) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Validate rows: width, date (YYYY-MM-DD), city name → admin code.  Returns dates, cities, good rows."""
    df, ncol = f.df, len(FIELDS)
    bad_row = f.nfields != ncol
    if bad_row.any():
        reject(bad_row, None, [f"expected {ncol} fields, saw {k}" for k in f.nfields[bad_row]])
    dtext = df["date"].str.strip()
    dates = pd.to_datetime(dtext.where(dtext.str.fullmatch(r"\d{4}-\d{2}-\d{2}", na=False)),
                           format="%Y-%m-%d", errors="coerce")
    if dates[~bad_row].isna().all():
        raise InputError(f.label, int(f.line_of[0]), "date",
                         f"not an aqistudy daily file: no YYYY-MM-DD date "
                         f"(first: {bounded_excerpt(df['date'].iloc[0], 40)}; monthly files have YYYY-MM)")
    bad_date = dates.isna().to_numpy() & ~bad_row
    if bad_date.any():
        reject(bad_date, "date", ("cannot parse date " + df.loc[bad_date, "date"].map(bounded_excerpt)).to_list())
    names = df["city"].str.strip()
    cmap: dict[Any, Any] = {}
    for c in pd.unique(names[~bad_row]):
        try:
            cmap[c] = reg.city_code(c)
        except KeyError as exc:
            cmap[c] = None
            cmap[(c, "why")] = str(exc.args[0])
    city = names.map(lambda c: cmap.get(c)).to_numpy(dtype=object)
    bad_city = pd.isna(city) & ~bad_row & ~bad_date
    if bad_city.any():
        reject(bad_city, "city", [cmap.get((c, "why"), "unknown city") for c in names[bad_city]])
    return dates, city, ~(bad_row | bad_date | bad_city)


def _values(df: pd.DataFrame, ok: np.ndarray, numeric_missing: Iterable[float], reject: Any) -> np.ndarray:
    """Validate the concentrations: numbers, unit-sanity bounds (rows × POLLUTANTS)."""
    n = len(df)
    block = np.full((n, len(POLLUTANTS)), np.nan)
    for j, f in enumerate(POLLUTANTS):
        num, bad = to_number(df[f], numeric_missing=numeric_missing)
        b = bad.to_numpy() & ok
        if b.any():
            reject(b, f, f"cannot parse number for {POLLUTANTS[f]}", df.loc[b, f].astype(str).to_list())
        v = num.to_numpy(dtype=np.float64)
        imp = implausible(v, np.full(n, POLLUTANTS[f], dtype=object)) & ok
        if imp.any():
            reject(imp, f, f"implausible value for {POLLUTANTS[f]} (negative or above unit-sanity bound)",
                   df.loc[imp, f].astype(str).to_list())
            v = np.where(imp, np.nan, v)
        block[:, j] = v
    return block


def _reshape(f: _File, city: np.ndarray, dates: pd.Series, block: np.ndarray, ok: np.ndarray,
             dropna: bool) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Reshape to one row per city, date and pollutant; duplicates collapsed or rejected."""
    idx = np.flatnonzero(ok)
    P = len(POLLUTANTS)
    keys = np.asarray(list(POLLUTANTS.values()), dtype=object)
    tidy = pd.DataFrame({
        "city": np.repeat(city[idx], P),
        "date": np.repeat(dates.to_numpy(dtype="datetime64[ns]")[idx], P),
        "pollutant": np.tile(keys, len(idx)),
        "value": block[idx].ravel(),
        "line": np.repeat(f.line_of[idx], P),
        "raw": "",
    })
    kept, dup_rej, n_dup = split_duplicates(tidy, key=("city", "date", "pollutant"), file=f.label, source=SOURCE)
    if len(dup_rej):
        dup_rej["raw"] = raw_lines(f.lines, dup_rej["line"].astype("int64"))
    data = kept.drop(columns=["raw"])  # ``line`` stays: the quality gate quarantines with it
    if dropna:
        data = data.loc[data["value"].notna()]
    data = data.reset_index(drop=True)
    data["city"] = data["city"].astype(str)
    data["date"] = data["date"].astype("datetime64[ns]")
    return data, dup_rej, n_dup


def _reported(df: pd.DataFrame, city: np.ndarray, dates: pd.Series, ok: np.ndarray) -> pd.DataFrame:
    """aqistudy's own columns: AQI, its daily range, level and national rank (0 = missing)."""
    rng = df["aqi_range"].str.extract(r"^\s*(\d+(?:\.\d+)?)\s*[~～-]\s*(\d+(?:\.\d+)?)\s*$")
    rank = to_number(df["rank"])[0]
    return pd.DataFrame({
        "city": city, "date": dates.to_numpy(dtype="datetime64[ns]"),
        "aqi": to_number(df["aqi"])[0].to_numpy(),
        "aqi_min": pd.to_numeric(rng[0], errors="coerce").astype("float64").to_numpy(),
        "aqi_max": pd.to_numeric(rng[1], errors="coerce").astype("float64").to_numpy(),
        "level": df["level"].str.strip().to_numpy(dtype=object),
        "rank": rank.mask(rank == 0).to_numpy(),
    }).loc[ok].drop_duplicates(["city", "date"]).reset_index(drop=True)
