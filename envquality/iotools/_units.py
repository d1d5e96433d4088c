"""Units, pollutant names and unit-sanity checks shared by the readers.

One implementation each of: unit spellings and conversion factors
(mixing ratios at 298.15 K, 1013.25 hPa), pollutant-label normalisation,
and the plausibility check against :data:`envquality.model.UNIT_SANITY_MAX`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from envquality.model import UNIT_SANITY_MAX, UNITS

__all__ = [
    "MOLAR_VOLUME", "MOLAR_MASS", "normalize_unit", "unit_factor", "pollutant_keys",
    "sanity_bound", "implausible",
]

#: Molar volume of an ideal gas at 298.15 K and 1013.25 hPa, L/mol (R·T/p).
MOLAR_VOLUME: float = 24.465

#: Molar masses, g/mol, of the gases reported as mixing ratios.
MOLAR_MASS: dict[str, float] = {"so2": 64.066, "no2": 46.0055, "o3": 47.997, "co": 28.010}

_CANONICAL_UG = {"ug/m3": 1.0, "mg/m3": 1000.0}
_UNIT_ALIASES = {
    "ug/m3": "ug/m3", "microgram/m3": "ug/m3", "mg/m3": "mg/m3",
    "ppb": "ppb", "ppm": "ppm", "1": "1", "": "1", "aqi": "1",
}


def normalize_unit(unit: object) -> str | None:
    """Canonical spelling of a unit text, or None if not recognised.

    >>> [normalize_unit(u) for u in ["µg/m³", "μg/m3", "UG/M3", "mg/m³", "ppb", "PPM", "ug m**-3", "furlong"]]
    ['ug/m3', 'ug/m3', 'ug/m3', 'mg/m3', 'ppb', 'ppm', 'ug/m3', None]
    """
    if unit is None or (isinstance(unit, float) and np.isnan(unit)):
        return None
    u = str(unit).strip().lower().replace("µ", "u").replace("μ", "u").replace("³", "3")
    u = u.replace(" ", "").replace("**", "").replace("^", "").replace("m-3", "/m3").replace("//", "/")
    return _UNIT_ALIASES.get(u)


def unit_factor(pollutant: str, unit: object) -> float:
    """Factor turning a value in ``unit`` into the canonical unit of ``pollutant``.

    Canonical units are those of :data:`envquality.model.UNITS` (µg/m³; CO mg/m³).
    Mixing ratios are converted at 298.15 K, 1013.25 hPa (GB 3095-2012 §2.4):
    ``µg/m³ = ppb × M / 24.465``.

    Raises
    ------
    ValueError
        Unknown unit, or a mixing ratio given for a particulate or index.

    >>> round(unit_factor("so2", "ppb"), 4)        # 1 ppb SO2 in µg/m³
    2.6187
    >>> round(unit_factor("co", "ppm"), 4)         # 1 ppm CO in mg/m³
    1.1449
    >>> unit_factor("co", "ug/m3")
    0.001
    """
    if pollutant not in UNITS:
        raise ValueError(f"unknown pollutant {pollutant!r}")
    u = normalize_unit(unit)
    canonical = UNITS[pollutant]
    if u is None:
        raise ValueError(f"unknown unit {unit!r}")
    if canonical == "1" or u == "1":
        if canonical == u:
            return 1.0
        raise ValueError(f"unit {unit!r} does not fit {pollutant!r} (expects {canonical})")
    to_ug = _CANONICAL_UG[canonical]
    if u in _CANONICAL_UG:
        return _CANONICAL_UG[u] / to_ug
    gas = pollutant.split("_")[0]
    if gas not in MOLAR_MASS:
        raise ValueError(f"a mixing ratio ({unit!r}) cannot be converted for {pollutant!r}")
    ppb_to_ug = MOLAR_MASS[gas] / MOLAR_VOLUME
    return ppb_to_ug * (1000.0 if u == "ppm" else 1.0) / to_ug


# --------------------------------------------------------------------------- pollutant names
#: Spellings of the six base pollutants (after :func:`_squash`).
_BASE_LABELS: dict[str, str] = {
    "pm25": "pm25", "pm2.5": "pm25", "pm₂.₅": "pm25", "细颗粒物": "pm25",
    "pm10": "pm10", "pm₁₀": "pm10", "可吸入颗粒物": "pm10", "颗粒物": "pm10",
    "so2": "so2", "so₂": "so2", "二氧化硫": "so2",
    "no2": "no2", "no₂": "no2", "二氧化氮": "no2",
    "co": "co", "一氧化碳": "co",
    "o3": "o3", "o₃": "o3", "臭氧": "o3",
}
#: Labels with a fixed meaning in hourly feeds (``O3_1h`` = the 1-h O3 value).
_HOURLY_LABELS: dict[str, str] = {"o31h": "o3", "臭氧1小时": "o3", "o38h": "o3_8h", "臭氧8小时": "o3_8h",
                                  "aqi": "aqi"}
_SUFFIXES = ("24h", "8h", "1h")


def _squash(s: pd.Series) -> pd.Series:
    return (s.astype("string").str.strip().str.lower().str.replace(r"[\s_\-()（）]", "", regex=True)
            .str.replace("μg/m3", "", regex=False).str.replace("µg/m3", "", regex=False))


@lru_cache(maxsize=8)
def _label_table(allowed: tuple[str, ...]) -> dict[str, str]:
    """Squashed label → key, for the keys in ``allowed`` only.

    Priority: a key's own spelling (``o3_1h`` where that is a key), then the
    hourly-feed labels, then base spellings with a ``24h``/``8h``/``1h``
    suffix (``1h`` of a non-O3 pollutant is its plain 1-h key).
    """
    keys = set(allowed)
    table: dict[str, str] = {}
    for label, base in _BASE_LABELS.items():
        for suffix in _SUFFIXES:
            key = f"{base}_{suffix}"
            if key in keys:
                table[label + suffix] = key
            elif suffix == "1h" and base != "o3" and base in keys:
                table[label + suffix] = base
        if base in keys:
            table[label] = base
    table.update({k: v for k, v in _HOURLY_LABELS.items() if v in keys})
    table.update({re.sub(r"[_\-]", "", k): k for k in allowed})
    return table


def pollutant_keys(
    labels: pd.Series, allowed: Iterable[str], extra: Mapping[str, str] | None = None,
) -> pd.Series:
    """Map pollutant labels (``PM2.5``, ``SO₂``, ``二氧化硫``, ``o3_8h``...) to keys of ``allowed``.

    NaN where a label is unknown.

    ``extra`` holds exact ``label: key`` pairs that take precedence.  Case,
    blanks, ``_``/``-`` and brackets do not matter.

    >>> pollutant_keys(pd.Series(["PM2.5", "SO2_24h", "臭氧8小时", "O3-8H", "pm1"]),
    ...                ("pm25", "so2_24h", "o3_8h")).tolist()
    ['pm25', 'so2_24h', 'o3_8h', 'o3_8h', nan]
    """
    s = labels.astype("string").str.strip()
    exact = s.map(dict(extra)) if extra else pd.Series(pd.NA, index=s.index, dtype="object")
    mapped = _squash(s).map(_label_table(tuple(allowed)))
    out = exact.where(exact.notna(), mapped)
    return out.astype("object").where(out.notna(), np.nan)


# --------------------------------------------------------------------------- plausibility
def sanity_bound(pollutants: Iterable[str] | np.ndarray | pd.Series) -> np.ndarray:
    """Unit-sanity upper bound of each pollutant key, by its base pollutant (``pm25_24h`` → ``pm25``).

    ``inf`` for keys without a bound (``aqi``).

    >>> sanity_bound(["pm25_24h", "co", "aqi"]).tolist()
    [5000.0, 200.0, inf]
    """
    arr = np.asarray(pollutants, dtype=object)
    keys = pd.unique(arr.ravel())
    bound = {k: float(UNIT_SANITY_MAX.get(str(k).split("_", 1)[0], np.inf)) for k in keys}
    return pd.Series(arr.ravel()).map(bound).to_numpy(dtype=np.float64).reshape(arr.shape)


def implausible(values: np.ndarray, pollutants: np.ndarray, *, negative: bool = True) -> np.ndarray:
    """True where a value is above the unit-sanity bound of its base pollutant (or negative).

    ``values`` is 1-D with one pollutant each, or 2-D (rows x columns) with
    one pollutant per row.  NaN is never implausible.
    """
    bounds = sanity_bound(pollutants)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        bounds = bounds[:, None]
    with np.errstate(invalid="ignore"):
        bad = values > bounds
        if negative:
            bad |= values < 0
    return bad
