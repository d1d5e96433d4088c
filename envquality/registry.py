"""Registry of administrative divisions and monitoring stations.

Every source spells Gansu's 14 prefecture-level divisions differently
(``兰州`` / ``兰州市`` / ``Lanzhou`` / ``620100``; ``临夏州`` /
``临夏回族自治州``) and embeds status text in station names
(``职工医院（20181115停运）``, ``市科委(停运180727)``, ``麦积山(对照点)``).
This module reconciles them.

The data are package CSVs (``envquality/data``, see its ``README.md`` for
sources):

``gansu_cities.csv``
    The 14 divisions of standards.md §7 [1]_: ``code`` (admin code, str),
    ``name_zh``, ``name_short``, ``name_en``, ``cnemc_name`` (the ``area``
    the CNEMC live feed uses), ``seat_zh``, ``seat_code``, ``lat``, ``lon``
    [degrees, WGS84, approximate city centre], ``extra_areas`` (CNEMC areas
    published separately inside the division, ``|``-separated, e.g.
    ``兰州新区``) and ``aliases`` (``|``-separated spellings).
``gansu_stations.csv``
    The 44 Gansu rows of the CNEMC national station list valid from
    2022-02-13 [2]_, built by :func:`build_stations`: ``code``, ``name``
    (clean), ``raw_name``, ``city_code``, ``area``, ``lon``, ``lat``
    [degrees; empty allowed], ``control_point``, ``status``
    (``active``/``retired``), ``active_from``, ``retired_on``,
    ``assessment``, ``list_flag`` (the list's raw ``对照点`` Y/N column),
    ``source``.
``gansu_station_history.csv``
    Station history (:data:`HISTORY_COLUMNS`, see ``docs/registry.md``):
    names the 2022 list no longer has (pm25.in 2020: ``天水 仙人崖``…),
    renames, activations and retirements, each with ``valid_from`` /
    ``valid_to`` and its ``evidence``.  A historical name whose CNEMC code is
    not evidenced keeps the stable id ``"{city_code}:{name}"`` (never an
    invented code) and is listed as unresolved.

``assessment`` is True for active, non-control stations whose area is the
division itself.  兰州新区 stations (3245A, 3246A) are **not** assessment
stations of 兰州市: CNEMC publishes 兰州新区 as an area of its own, and the
city statistics of 兰州市 use the stations of area 兰州市 only.

Another province uses CSVs of the same shape: ``Registry.from_csv(cities,
stations)`` or ``load_cities(path)`` / ``load_stations(path)``.

References
----------
.. [1] shared/reference/standards.md §7 (codes: national division table).
.. [2] CNEMC, 站点列表-2022.02.13起.csv, as redistributed with the
   quotsoft.net archive (zkzkok/mydata, commit 387b310), Gansu subset.

Examples
--------
>>> city_code("临夏")
'622900'
>>> clean_station_name("职工医院（20181115停运）")[0]
'职工医院'
>>> resolve_station("兰州", "教育港（20181115启用）")
'3186A'
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from envquality.core import decode_bytes

__all__ = [
    "Registry", "load_cities", "load_stations", "city_code", "clean_station_name",
    "resolve_station", "build_stations", "default_registry", "CITY_COLUMNS", "STATION_COLUMNS",
    "HISTORY_COLUMNS", "HISTORY_EVENTS", "load_station_history",
]

#: Columns of a cities CSV.
CITY_COLUMNS: tuple[str, ...] = (
    "code", "name_zh", "name_short", "name_en", "cnemc_name", "seat_zh", "seat_code",
    "lat", "lon", "extra_areas", "aliases",
)
#: Columns of a stations CSV.
STATION_COLUMNS: tuple[str, ...] = (
    "code", "name", "raw_name", "city_code", "area", "lon", "lat", "control_point", "status",
    "active_from", "retired_on", "assessment", "list_flag", "source",
)

#: Columns of a station-history CSV.
HISTORY_COLUMNS: tuple[str, ...] = (
    "city_code", "name", "station_id", "code", "event", "valid_from", "valid_to", "first_seen", "last_seen",
    "evidence", "note",
)
#: Kinds of history entry.  ``historical_station``: a name sources used for a
#: station of the city that the current list lacks (``station_id`` is its code
#: when evidenced, else ``"{city_code}:{name}"``); ``renamed``: a former name of
#: ``station_id``; ``retired`` / ``activated``: dated status changes of a code.
HISTORY_EVENTS: tuple[str, ...] = ("historical_station", "renamed", "retired", "activated")

_DATA = "data"
_STATION_LIST_SOURCE = "cnemc-station-list-2022-02-13"


def _package_file(name: str):
    return resources.files("envquality").joinpath(_DATA, name)


def _norm(text: Any) -> str:
    """Matching key: NFKC (full-width to ASCII), no whitespace, case-folded."""
    s = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", s).casefold()


def _read_csv(path: str | Path | None, default: str) -> pd.DataFrame:
    src = _package_file(default) if path is None else Path(path)
    with src.open("r", encoding="utf-8-sig") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, comment=None)


def _to_bool(s: pd.Series) -> pd.Series:
    m = s.astype(str).str.strip().str.lower().map(
        {"true": True, "1": True, "y": True, "yes": True, "false": False, "0": False, "n": False,
         "no": False, "": False})
    return m.fillna(False).astype(bool)


def load_cities(path: str | Path | None = None) -> pd.DataFrame:
    """Divisions table (default: Gansu's 14, standards.md §7).

    Parameters
    ----------
    path : str or Path, optional
        A CSV with the columns :data:`CITY_COLUMNS` (``extra_areas`` may be
        absent); default the packaged ``gansu_cities.csv``.

    Returns
    -------
    pandas.DataFrame
        ``code``, names, ``seat_code`` as str; ``lat``/``lon`` float
        [degrees].

    Examples
    --------
    >>> load_cities().set_index("code").loc["623000", "name_short"]
    '甘南州'
    """
    df = _read_csv(path, "gansu_cities.csv")
    missing = [c for c in CITY_COLUMNS if c not in df and c != "extra_areas"]
    if missing:
        raise ValueError(f"{path}: cities CSV lacks columns {missing}")
    if "extra_areas" not in df:
        df["extra_areas"] = ""
    for c in ("lat", "lon"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df.loc[:, list(CITY_COLUMNS)].reset_index(drop=True)


def load_stations(path: str | Path | None = None) -> pd.DataFrame:
    """Stations table (default: the 44 Gansu stations of the 2022 CNEMC list).

    Parameters
    ----------
    path : str or Path, optional
        A CSV with the columns :data:`STATION_COLUMNS`; default the packaged
        ``gansu_stations.csv``.

    Returns
    -------
    pandas.DataFrame
        ``lon``/``lat`` float [degrees] (NaN where unknown),
        ``control_point``/``assessment`` bool, ``active_from``/``retired_on``
        datetime64 (naive calendar dates, NaT where none).

    Examples
    --------
    >>> st = load_stations()
    >>> int(st["assessment"].sum()), len(st)
    (35, 44)
    """
    df = _read_csv(path, "gansu_stations.csv")
    missing = [c for c in STATION_COLUMNS if c not in df and c not in ("list_flag", "source")]
    if missing:
        raise ValueError(f"{path}: stations CSV lacks columns {missing}")
    for c in ("list_flag", "source"):
        if c not in df:
            df[c] = ""
    for c in ("lon", "lat"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in ("control_point", "assessment"):
        df[c] = _to_bool(df[c])
    for c in ("active_from", "retired_on"):
        df[c] = pd.to_datetime(df[c].replace("", None), format="%Y-%m-%d").astype("datetime64[ns]")
    return df.loc[:, list(STATION_COLUMNS)].reset_index(drop=True)


def load_station_history(path: str | Path | None = None) -> pd.DataFrame:
    """Station history (default: Gansu's, ``gansu_station_history.csv``).

    Parameters
    ----------
    path : str or Path, optional
        A CSV with the columns :data:`HISTORY_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        ``valid_from``, ``valid_to``, ``first_seen``, ``last_seen`` as
        datetime64 (naive calendar dates; NaT = open / unknown); the rest str.
        ``valid_to`` is exclusive: the first day the entry no longer holds.

    Raises
    ------
    ValueError
        Missing columns, an unknown ``event`` or an entry without evidence.

    Examples
    --------
    >>> h = load_station_history()
    >>> h.loc[h["name"] == "仙人崖", ["station_id", "code", "event"]].values.tolist()
    [['620500:仙人崖', '', 'historical_station']]
    """
    df = _read_csv(path, "gansu_station_history.csv")
    missing = [c for c in HISTORY_COLUMNS if c not in df]
    if missing:
        raise ValueError(f"{path}: station history lacks columns {missing}")
    bad = ~df["event"].isin(HISTORY_EVENTS)
    if bad.any():
        raise ValueError(f"{path}: unknown history event {df.loc[bad, 'event'].iloc[0]!r}; use {HISTORY_EVENTS}")
    if (df["evidence"].str.strip() == "").any():
        raise ValueError(f"{path}: every history entry needs its evidence")
    for c in ("valid_from", "valid_to", "first_seen", "last_seen"):
        df[c] = pd.to_datetime(df[c].replace("", None), format="%Y-%m-%d").astype("datetime64[ns]")
    return df.loc[:, list(HISTORY_COLUMNS)].reset_index(drop=True)


def _empty_history() -> pd.DataFrame:
    dates = ("valid_from", "valid_to", "first_seen", "last_seen")
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in dates else object) for c in HISTORY_COLUMNS})


def _day(when: Any) -> pd.Timestamp:
    """Calendar day of a time or date (CST wall clock for tz-aware times)."""
    ts = pd.Timestamp(when)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Asia/Shanghai").tz_localize(None)
    return ts.normalize()


# --------------------------------------------------------------------------- names
_BRACKET = re.compile(r"\(([^()]*)\)")
_FORMER = re.compile(r"\s*[（(]\s*原[^()（）]*[)）]")
_STATUS = re.compile(r"^(?:(?P<d1>\d{6}|\d{8})(?P<w1>停运|启用|停用|撤销)|(?P<w2>停运|启用|停用|撤销)(?P<d2>\d{6}|\d{8}))$")


def _parse_compact_date(digits: str) -> str | None:
    """``20181115`` or ``180727`` (YYMMDD, 20YY) to ISO ``YYYY-MM-DD``; None if invalid."""
    if len(digits) == 6:
        digits = "20" + digits
    try:
        return pd.Timestamp(f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}").strftime("%Y-%m-%d")
    except ValueError:
        return None


def clean_station_name(raw: str) -> tuple[str, dict[str, Any]]:
    """Strip status text from a station name and parse it.

    Bracketed suffixes in full-width ``（）`` or ASCII ``()`` brackets are
    recognised: ``对照点`` (control point), ``YYYYMMDD停运`` / ``YYMMDD停运``
    / ``停运YYMMDD`` (retired on that date), ``…启用`` (active from that
    date), ``原X`` (formerly X: ``former_name``).  Six-digit dates are YYMMDD in the 2000s (``180727`` =
    2018-07-27).  Other bracketed text stays in the name and is listed in
    ``notes``.

    Parameters
    ----------
    raw : str
        Station name as a source writes it.

    Returns
    -------
    name : str
        Clean name.
    info : dict
        ``control_point`` (bool), ``status`` (``"active"``/``"retired"``),
        ``active_from`` and ``retired_on`` (ISO date str or None),
        ``former_name`` (str or None), ``notes`` (list of unrecognised
        bracket texts or bad dates).

    Examples
    --------
    >>> clean_station_name("市科委(停运180727)")[1]["retired_on"]
    '2018-07-27'
    >>> clean_station_name("监测站（原粮食局）")
    ('监测站', {'control_point': False, 'status': 'active', 'active_from': None, 'retired_on': None, 'former_name': '粮食局', 'notes': []})
    >>> clean_station_name(" 麦积山（对照点）")[1]["control_point"]
    True
    >>> clean_station_name("教育港（20181115启用）")[1]["active_from"]
    '2018-11-15'
    """
    text = str(raw).replace("（", "(").replace("）", ")").strip()
    info: dict[str, Any] = {"control_point": False, "status": "active", "active_from": None,
                            "retired_on": None, "former_name": None, "notes": []}
    kept: list[str] = []
    pos = 0
    for m in _BRACKET.finditer(text):
        kept.append(text[pos:m.start()])
        pos = m.end()
        inner = re.sub(r"\s+", "", m.group(1))
        st = _STATUS.match(inner)
        if inner == "对照点":
            info["control_point"] = True
        elif inner.startswith("原") and len(inner) > 1:
            info["former_name"] = inner[1:]
        elif st:
            digits = st.group("d1") or st.group("d2")
            word = st.group("w1") or st.group("w2")
            date = _parse_compact_date(digits)
            if date is None:
                info["notes"].append(f"bad date in {m.group(0)!r}")
            if word == "启用":
                info["active_from"] = date
            else:
                info["retired_on"] = date
                info["status"] = "retired"
        else:
            kept.append(m.group(0))
            info["notes"].append(m.group(0))
    kept.append(text[pos:])
    return "".join(kept).strip(), info


# --------------------------------------------------------------------------- registry
@dataclass
class Registry:
    """Divisions and stations with name reconciliation.

    Parameters
    ----------
    cities : pandas.DataFrame
        As returned by :func:`load_cities`.
    stations : pandas.DataFrame
        As returned by :func:`load_stations`.
    history : pandas.DataFrame, optional
        As returned by :func:`load_station_history` (default: none).
    """

    cities: pd.DataFrame
    stations: pd.DataFrame
    history: pd.DataFrame = field(default_factory=_empty_history)
    _alias: dict[str, str] = field(init=False, repr=False)
    _areas: dict[str, str] = field(init=False, repr=False)
    _station_key: dict[tuple[str, str], str] = field(init=False, repr=False)
    _display: dict[str, str] = field(init=False, repr=False)
    _history_key: dict[tuple[str, str], list[tuple[str, Any, Any]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        alias: dict[str, str] = {}
        display: dict[str, str] = {}
        for row in self.cities.itertuples(index=False):
            names = [row.code, row.name_zh, row.name_short, row.name_en, row.cnemc_name,
                     *str(row.aliases).split("|")]
            for n in names:
                if str(n).strip():
                    alias.setdefault(_norm(n), str(row.code))
                    display.setdefault(_norm(n), str(n).strip())
        self._alias = alias
        areas: dict[str, str] = {}
        for row in self.cities.itertuples(index=False):
            for a in str(row.extra_areas or "").split("|"):
                if a.strip():
                    areas[_norm(a)] = str(row.code)
                    display.setdefault(_norm(a), a.strip())
        self._display = display
        self._areas = areas
        keys: dict[tuple[str, str], str] = {}
        for row in self.stations.itertuples(index=False):
            for n in (row.name, row.raw_name, clean_station_name(str(row.raw_name))[0]):
                keys.setdefault((str(row.city_code), _norm(n)), str(row.code))
        self._station_key = keys
        hist: dict[tuple[str, str], list[tuple[str, Any, Any]]] = {}
        named = self.history.loc[self.history["event"].isin(("historical_station", "renamed"))]
        for row in named.itertuples(index=False):
            hist.setdefault((str(row.city_code), _norm(row.name)), []).append(
                (str(row.station_id), row.valid_from, row.valid_to))
        self._history_key = hist

    @classmethod
    def from_csv(cls, cities: str | Path | None = None, stations: str | Path | None = None,
                 history: str | Path | None = None) -> "Registry":
        """Registry from cities, stations and station-history CSVs (default: the Gansu package data).

        The packaged history goes only with the packaged stations (a
        province's own stations CSV comes with its own history, if any).
        """
        hist = _empty_history() if history is None and stations is not None else load_station_history(history)
        return cls(load_cities(cities), load_stations(stations), hist)

    def historical_stations(self) -> pd.DataFrame:
        """History entries that are stations of their own (``historical_station`` events).

        Their ``station_id`` is a known station id besides the current
        codes: readings under it are accepted; ``code`` is empty when the
        CNEMC code is not evidenced (listed in ``docs/registry.md``).
        """
        h = self.history
        return h.loc[h["event"] == "historical_station"].reset_index(drop=True)

    def known_station_ids(self) -> list[str]:
        """Current station codes plus the ids of historical stations, sorted."""
        ids = set(self.stations["code"].astype(str)) | set(self.historical_stations()["station_id"].astype(str))
        return sorted(ids)

    def station_city(self) -> dict[str, str]:
        """``{station id: city code}`` of current and historical stations."""
        out = dict(zip(self.stations["code"].astype(str), self.stations["city_code"].astype(str)))
        hs = self.historical_stations()
        out.update(zip(hs["station_id"].astype(str), hs["city_code"].astype(str)))
        return out

    def city_code(self, name: str | int) -> str:
        """Admin code of a division from any known spelling.

        Accepts Chinese full/short names, CNEMC names, English names
        (case-insensitive), the code itself, and a CNEMC sub-area listed in
        ``extra_areas`` (``兰州新区`` → ``620100``).

        Raises
        ------
        KeyError
            Unknown name; the message lists close matches.
        """
        key = _norm(name)
        if key in self._alias:
            return self._alias[key]
        if key in self._areas:
            return self._areas[key]
        candidates = list(self._alias) + list(self._areas)
        close = difflib.get_close_matches(key, candidates, n=5, cutoff=0.5)
        close += [c for c in candidates if key and (key in c or c in key) and c not in close]
        listing = ", ".join(
            f"{self._display[c]} ({self._alias.get(c) or self._areas.get(c)})" for c in close[:5])
        raise KeyError(f"unknown city {name!r}; close matches: {listing or 'none'}")

    def area_of(self, name: str) -> tuple[str, str]:
        """``(city_code, area)`` of a CNEMC area name: ``兰州新区`` → ``("620100", "兰州新区")``.

        The area of a whole division is its ``cnemc_name``.
        """
        code = self.city_code(name)
        key = _norm(name)
        if key in self._areas and key not in self._alias:
            return code, unicodedata.normalize("NFKC", str(name)).strip()
        return code, str(self.cities.loc[self.cities["code"] == code, "cnemc_name"].iloc[0])

    def resolve_station(self, city: str, name: str, when: Any = None, *, exact: bool = False) -> str | None:
        """Station code from a city (any spelling) and a raw or clean station name.

        Current names first; then the station history: a historical name or
        a former name (``监测站（原粮食局）``, ``粮食局``) gives its
        ``station_id`` when ``when`` (a time or date; None = any) lies in
        the entry's ``[valid_from, valid_to)``.  With ``exact`` the name is
        not cleaned of status text (``教育港（20181115启用）`` is then not
        ``教育港``); a ``原X`` former name still counts.  Returns None when the
        city or the station is unknown.

        >>> reg = default_registry()
        >>> reg.resolve_station("天水", "仙人崖", when="2020-04-02")
        '620500:仙人崖'
        >>> reg.resolve_station("天水", "仙人崖", when="2023-01-01") is None
        True
        """
        try:
            code = self.city_code(city)
        except KeyError:
            return None
        clean, info = clean_station_name(name)
        # exact: only a former-name note (原X) is dropped, never status text
        names = (name, _FORMER.sub("", str(name)).strip()) if exact else (name, clean)
        for n in names:
            hit = self._station_key.get((code, _norm(n)))
            if hit is not None:
                return hit
        day = None if when is None else _day(when)
        for n in (*names, info["former_name"]):
            if not n:
                continue
            for sid, start, end in self._history_key.get((code, _norm(n)), []):
                if day is None or ((pd.isna(start) or day >= start) and (pd.isna(end) or day < end)):
                    return sid
        return None

    clean_station_name = staticmethod(clean_station_name)


def build_stations(
    station_list: str | Path | pd.DataFrame,
    registry: Registry | None = None,
    *,
    source: str = _STATION_LIST_SOURCE,
) -> pd.DataFrame:
    """Stations table from a CNEMC station list (``监测点编码,监测点名称,城市,经度,纬度,对照点``).

    Parameters
    ----------
    station_list : path or DataFrame
        The CNEMC list (UTF-8 with or without BOM, or GB18030) or a subset.
    registry : Registry, optional
        Gives the divisions; default Gansu (stations are not used).
    source : str
        Text of the ``source`` column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STATION_COLUMNS`, as written to ``gansu_stations.csv``.
        Rows whose city is not a division of ``registry`` are dropped.
    """
    reg = registry or Registry(load_cities(), pd.DataFrame(columns=list(STATION_COLUMNS)))
    if isinstance(station_list, pd.DataFrame):
        raw = station_list.astype(str)
    else:
        text, _ = decode_bytes(Path(station_list).read_bytes())
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    rows = []
    for r in raw.itertuples(index=False):
        code, rname, city, lon, lat, flag = (str(v).strip() for v in list(r)[:6])
        try:
            ccode, area = reg.area_of(city)
        except KeyError:
            continue
        name, info = clean_station_name(rname)
        cnemc = str(reg.cities.loc[reg.cities["code"] == ccode, "cnemc_name"].iloc[0])
        rows.append({
            "code": code, "name": name, "raw_name": rname, "city_code": ccode, "area": area,
            "lon": lon, "lat": lat, "control_point": info["control_point"], "status": info["status"],
            "active_from": info["active_from"] or "", "retired_on": info["retired_on"] or "",
            "assessment": info["status"] == "active" and not info["control_point"] and area == cnemc,
            "list_flag": flag, "source": source,
        })
    return pd.DataFrame(rows, columns=list(STATION_COLUMNS))


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The cached Gansu registry from the package CSVs."""
    return Registry.from_csv()


def city_code(name: str | int) -> str:
    """Admin code of a Gansu division; see :meth:`Registry.city_code`.

    >>> [city_code(n) for n in ("兰州", "兰州市", "Lanzhou", "620100", "甘南藏族自治州")]
    ['620100', '620100', '620100', '620100', '623000']
    """
    return default_registry().city_code(name)


def resolve_station(city: str, name: str, when: Any = None) -> str | None:
    """Gansu station code from city and raw or clean name; see :meth:`Registry.resolve_station`."""
    return default_registry().resolve_station(city, name, when)
