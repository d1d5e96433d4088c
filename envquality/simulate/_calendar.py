"""Calendar terms, vectorized over absolute day indices: heating season, spring, diurnal profiles."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from envquality.model import TIMEZONE
from envquality.simulate._params import EPOCH


def _to_day(x: str | date | np.datetime64 | pd.Timestamp) -> np.datetime64:
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(TIMEZONE).tz_localize(None)
    return np.datetime64(ts.normalize().date(), "D")


def _month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Month (1-12) and day of month of absolute day indices."""
    dt = EPOCH + days.astype("timedelta64[D]")
    months = dt.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    dom = (dt - months.astype("datetime64[D]")).astype(np.int64) + 1
    return month, dom


def _heating_step(days: np.ndarray) -> np.ndarray:
    """1.0 on days in the heating season 15 Nov - 15 Mar, else 0.0."""
    m, d = _month_day(days)
    md = m * 100 + d
    return ((md >= 1115) | (md <= 315)).astype(np.float64)


def _heating(days: np.ndarray) -> np.ndarray:
    """Heating-season indicator with 7-day linear ramps (centred moving mean)."""
    return np.asarray(sum(_heating_step(days + k) for k in range(-3, 4)) / 7.0)


def _spring(days: np.ndarray) -> np.ndarray:
    """True on days 1 Mar - 31 May (dust season)."""
    m, _ = _month_day(days)
    return (m >= 3) & (m <= 5)


def _circ_bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Gaussian bump on the 24-h circle."""
    d = (hours - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def _diurnal_profiles() -> dict[str, np.ndarray]:
    """Log-space diurnal profiles by hour index 0-23 (0 = hour ending 01:00).

    Evaluated at the middle of the averaging hour.  The O3 profile is a shape
    with zero mean and half-range 1; its amplitude varies with the season.
    """
    c = np.arange(24) + 0.5
    prof = {
        "pm25": 0.14 * _circ_bump(c, 23.0, 4.0) - 0.16 * _circ_bump(c, 15.0, 3.0),
        "coarse": 0.15 * _circ_bump(c, 10.0, 3.0) + 0.12 * _circ_bump(c, 19.5, 2.5)
        - 0.12 * _circ_bump(c, 3.5, 3.0),
        "no2": 0.26 * _circ_bump(c, 8.5, 1.6) + 0.34 * _circ_bump(c, 20.5, 2.5)
        - 0.32 * _circ_bump(c, 14.5, 3.0),
        "co": 0.13 * _circ_bump(c, 8.5, 1.8) + 0.18 * _circ_bump(c, 21.0, 3.0)
        - 0.15 * _circ_bump(c, 15.0, 3.0),
        "so2": 0.22 * _circ_bump(c, 11.0, 3.0) - 0.08 * _circ_bump(c, 3.0, 3.0),
        "o3": _circ_bump(c, 15.0, 3.2) - 0.55 * _circ_bump(c, 7.0, 2.2)
        - 0.25 * _circ_bump(c, 1.0, 4.0),
    }
    out = {}
    for k, v in prof.items():
        v = v - v.mean()
        if k == "o3":
            v = 2.0 * v / (v.max() - v.min())
        out[k] = v
    return out


_DIURNAL = _diurnal_profiles()
_DUST_SHAPE = 0.6 + 0.9 * _circ_bump(np.arange(24) + 0.5, 14.0, 4.0)
_DUST_SHAPE = _DUST_SHAPE / _DUST_SHAPE.mean()
