"""Seeded generator of realistic hourly air-quality station data.

Used by the demo, the benchmarks and load tests.  The output follows the tidy
model of :mod:`envquality.model`: hour-ENDING time labels in China Standard
Time (day D = the hours ending D 01:00 ... D+1 00:00), pollutant keys
``so2 no2 pm10 pm25 co o3``, µg/m³ (CO mg/m³), NaN = missing.  Values are
rounded as CNEMC publishes them: integers in µg/m³, CO with one decimal in mg/m³.

Model
-----
Every pollutant is built in log space as the sum of

* a base level, a city level (log-normal, plus a shared "dirty city" factor)
  and a station offset (log-normal, σ 0.15-0.4 depending on the pollutant);
* a seasonal cycle: PM, SO2 and CO peak in winter, with an extra heating-season
  term (15 Nov - 15 Mar, 7-day ramps) scaled by the city's "northness"
  (0 = southern city, 1 = northern city with central heating); coarse PM peaks
  in spring; O3 peaks in June;
* diurnal cycles: O3 minimum ~07:00 and maximum ~15:00 with a larger amplitude
  in summer; NO2 and CO morning (~08:00) and evening (~20:00) rush-hour peaks
  and an afternoon dip; PM2.5 night maximum; SO2 late-morning maximum;
  weekend dip of NO2 and CO;
* two multi-day synoptic factors per city (stagnation, which drives PM, SO2,
  CO and NO2, stronger for PM2.5 during the heating season; and a
  "photochemical" factor driving O3), each an AR(1)-like moving average over
  days (φ = 0.7) of a national and a city component, linearly interpolated
  between daily knots (noon) to hours;
* a station-level meso-scale term: correlated normals (PM2.5/CO/NO2/SO2 share
  a component, O3 is anti-correlated with NO2) on knots every
  :data:`KNOT_HOURS` hours, interpolated to hours with variance correction;
* hourly white noise (σ 0.08-0.2).

PM10 is PM2.5 plus a coarse fraction, times a small instrument factor, so
PM2.5 ≤ PM10 holds for the vast majority of hours but not for all of them
(as in real data).  Spring dust events (1 Mar - 31 May, a few per year in
northern cities, 1-3 days with decaying strength, city-wide: every station
of a city sees the same event; national events hit the northern cities
together) add coarse particles of 120-900 µg/m³ (daily level, afternoon
maximum, hourly noise), so PM10 reaches 1,000+ µg/m³ with PM2.5/PM10 ≈ 0.2.

Gaps and bad values
-------------------
``gap_fraction`` of the values are NaN.  About 80 % of the missing values
come from station outages, which blank all six pollutants of a station: one
hour (60 % of outages), 2-5 hours (25 %) or 6-72 hours (15 %, log-uniform;
these make days fall below 20 valid hours).  The other 20 % are isolated
missing values of a single pollutant.  ``bad_fraction`` of the non-missing
values are corrupted into what a validation gate must catch: 35 % negative
values (-2 ... -50; CO -0.2 ... -0.9; never the sentinels -1 / -999) and 65 %
absurd single-hour spikes (20-200 × the value, at least 20 × a typical
level).  At most one pollutant per station-hour is corrupted; the data
variable ``injected_bad`` flags the station-hours and
``injected_bad_pollutant`` says which pollutant (index into
:data:`~envquality.model.HOURLY_POLLUTANTS`, -1 = none).

Determinism, slicing and random streams
---------------------------------------
The output is a pure function of ``seed``, the station and city codes and the
absolute hour.  Every random number is addressed by an absolute index
counted from :data:`EPOCH`:

* per (station, hour): one block of the counter-based ``Philox4x64`` generator
  with key ``(seed, station code)`` and counter = absolute hour, i.e. eight
  float32 uniforms per station-hour (six Box-Muller white normals, one
  outage uniform, one isolated-gap/bad-value uniform);
* per (station, knot): a second Philox stream (eight uniforms per knot);
* per (city, day), per day (national) and per station/city constants: a
  vectorized SplitMix64 hash of ``(seed, key, stream, index)``.

Keys are BLAKE2b hashes of the codes, so results do not depend on the order
or number of stations requested, nor on the chunking (stations are processed
in chunks of :data:`CHUNK_STATIONS`; the only Python loops are over chunks,
over the stations of a chunk to position the Philox streams — ~10 µs each —
and over pollutants).  Windows that reach before the requested start (outages
up to 72 h, knots, the 15-day synoptic moving average, 3-day dust events)
are generated from the same addresses, so **both** a subset of stations and a
sub-range of days reproduce the corresponding slice of a longer run exactly.
The one caveat is the synthetic city grouping (see :func:`simulate_hourly`):
pass ``city_of`` or use the generator's own ``"S0001"``-style codes when
comparing subsets.

Performance (measured on a shared 2-vCPU VM pinned to one core, numpy 2.4):
1,700 stations × 8,760 hours × 6 pollutants (89 M values) take about 2.2 s of
CPU (2.5-3 s wall when the machine is idle) with ``dtype=float32``; peak
resident memory grows by about 0.46 GB (the result itself is 0.37 GB; work
buffers are per chunk).  ``float64`` doubles the result (0.71 GB, peak +0.8 GB).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from envquality.model import HOURLY_POLLUTANTS, TIMEZONE, UNITS

__all__ = [
    "simulate_hourly",
    "simulate_tidy",
    "simulate_daily_city",
    "EPOCH",
    "KNOT_HOURS",
    "CHUNK_STATIONS",
]

#: Origin of the absolute hour / day counters (midnight CST).  Hour ``a`` is
#: the hour starting ``EPOCH + a h`` (ending ``EPOCH + (a+1) h``); day ``d``
#: holds hours ``24 d ... 24 d + 23``.  Dates must be on or after 1901-01-01.
EPOCH = np.datetime64("1900-01-01", "D")
#: Spacing of the station-level meso-scale noise knots (hours).
KNOT_HOURS = 4
#: Stations generated per chunk (work buffers ~ CHUNK_STATIONS × hours × 8 × 4 B).
CHUNK_STATIONS = 32

_MAX_OUTAGE = 72  # longest outage (hours) = halo before the start
_AR_PHI = 0.7  # day-to-day autocorrelation of the synoptic factors
_AR_TAPS = 16  # moving-average taps approximating the AR(1)
_DUST_DAYS = 3  # longest dust event (days)
_DUST_DECAY = (1.0, 0.55, 0.3)  # relative strength on days 1, 2, 3
_DUST_FINE = 0.13  # PM2.5 share of dust mass
_O3_SAT = 420.0  # O3 soft saturation scale (µg/m³): y = K tanh(x / K)

# Internal components, in the order of the white-noise slots.
_COMP = ("pm25", "coarse", "no2", "co", "so2", "o3")
_C = {c: i for i, c in enumerate(_COMP)}

# Per-component parameters (log space unless stated).
#   base      median level (µg/m³, CO mg/m³)
#   city_sd   city-level log sd;  dirty   loading on the shared dirty-city factor
#   st_sd     station offset log sd
#   cos_amp, cos_peak  annual cosine amplitude and day-of-year of its maximum
#   heat      heating-season term, multiplied by the city's northness
#   s1, s2    loadings on the stagnation / photochemical synoptic factors
#   meso, white  sd of the knot-interpolated and the hourly noise
_PAR: dict[str, dict[str, float]] = {
    "pm25": dict(base=24.0, city_sd=0.22, dirty=0.30, st_sd=0.15, cos_amp=0.28, cos_peak=10,
                 heat=0.45, s1=0.42, s2=0.05, meso=0.28, white=0.10),
    "coarse": dict(base=17.0, city_sd=0.25, dirty=0.20, st_sd=0.25, cos_amp=0.22, cos_peak=100,
                   heat=0.10, s1=0.25, s2=0.0, meso=0.32, white=0.20),
    "no2": dict(base=24.0, city_sd=0.20, dirty=0.15, st_sd=0.32, cos_amp=0.20, cos_peak=15,
                heat=0.12, s1=0.30, s2=0.0, meso=0.28, white=0.12),
    "co": dict(base=0.62, city_sd=0.22, dirty=0.20, st_sd=0.20, cos_amp=0.18, cos_peak=15,
               heat=0.35, s1=0.28, s2=0.0, meso=0.22, white=0.08),
    "so2": dict(base=6.5, city_sd=0.45, dirty=0.25, st_sd=0.35, cos_amp=0.22, cos_peak=15,
                heat=0.70, s1=0.28, s2=0.0, meso=0.32, white=0.15),
    "o3": dict(base=45.0, city_sd=0.12, dirty=0.0, st_sd=0.12, cos_amp=0.30, cos_peak=165,
               heat=0.0, s1=-0.10, s2=0.22, meso=0.18, white=0.08),
}

# Mixing of the 8 knot normals into the per-component meso noise (rows: _COMP).
_KNOT_MIX = np.array(
    [
        [1.0, 0, 0, 0, 0, 0, 0, 0],  # pm25
        [0.3, 0.954, 0, 0, 0, 0, 0, 0],  # coarse
        [0.35, 0, 0.5, 0.79, 0, 0, 0, 0],  # no2
        [0.6, 0, 0.8, 0, 0, 0, 0, 0],  # co
        [0.4, 0, 0, 0, 0.917, 0, 0, 0],  # so2
        [0, 0, 0, -0.3, 0, 0.954, 0, 0],  # o3
    ],
    dtype=np.float32,
)

_PH_EXACT = 2.0 * np.pi / 365.2425
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
# Stream identifiers (any distinct constants).
_S_HOURLY, _S_KNOT, _S_STATION, _S_CITY, _S_SYN, _S_DUST = (
    0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666)
_STATION_CODE = re.compile(r"^S(\d+)$")


# --------------------------------------------------------------------------
# hashing / random primitives
# --------------------------------------------------------------------------
def _mix(x: npt.ArrayLike) -> np.ndarray:
    """SplitMix64 finalizer (bijective avalanche) of uint64 values."""
    x = np.array(x, dtype=np.uint64, ndmin=1)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= _M1
        x ^= x >> np.uint64(27)
        x *= _M2
        x ^= x >> np.uint64(31)
    return x


def _hash(*parts: npt.ArrayLike) -> np.ndarray:
    """Order-dependent 64-bit hash of broadcast non-negative integer arrays."""
    h = np.array([0x243F6A8885A308D3], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            p = np.asarray(p)
            if p.dtype != np.uint64:
                p = p.astype(np.int64).astype(np.uint64)
            h = _mix(h ^ _mix(p + _GOLDEN))
    return h


def _hash_uniform(*parts: npt.ArrayLike) -> np.ndarray:
    """Uniform float64 in [0, 1) from :func:`_hash`."""
    return (_hash(*parts) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _hash_normal(*parts: npt.ArrayLike) -> np.ndarray:
    """Standard normal float64 (Box-Muller on the two 32-bit halves of a hash)."""
    h = _hash(*parts)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _code_key(code: str) -> int:
    """Stable 64-bit key of a station or city code (BLAKE2b, not ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(code.encode("utf-8"), digest_size=8).digest(), "little")


def _seed_key(seed: int) -> int:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(_hash(np.uint64(int(seed) % 2**64), 0x5EED)[0])


def _box_muller(u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent standard normals (float32) from two uniforms in [0, 1)."""
    r = np.float32(1.0) - u1  # exact for 24-bit uniforms, in (0, 1]
    np.log(r, out=r)
    r *= np.float32(-2.0)
    np.sqrt(r, out=r)
    th = u2 * np.float32(2.0 * np.pi)
    return r * np.cos(th), r * np.sin(th)


# --------------------------------------------------------------------------
# calendar helpers (all vectorized over absolute day indices)
# --------------------------------------------------------------------------
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
    return np.stack([_heating_step(days + k) for k in range(-3, 4)]).sum(axis=0) / 7.0


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


# --------------------------------------------------------------------------
# city-level daily processes
# --------------------------------------------------------------------------
def _ar_days(seed_key: int, keys: np.ndarray, stream: int, d_lo: int, d_hi: int) -> np.ndarray:
    """Unit-variance AR(1)-like daily series, shape (len(keys), d_hi - d_lo + 1).

    A truncated moving average (φ^k, k < _AR_TAPS) of hash normals addressed by
    absolute day, summed in a fixed order, so every element is the same for
    any requested range.
    """
    n = d_hi - d_lo + 1
    ext = np.arange(d_lo - _AR_TAPS + 1, d_hi + 1)
    e = _hash_normal(seed_key, _S_SYN, stream, keys[:, None], ext[None, :])
    w = _AR_PHI ** np.arange(_AR_TAPS)
    w = w / np.sqrt(np.sum(w**2))
    out = np.zeros((len(keys), n))
    for k in range(_AR_TAPS):
        out += w[k] * e[:, _AR_TAPS - 1 - k: _AR_TAPS - 1 - k + n]
    return out


def _dust_days(seed_key: int, city_keys: np.ndarray, north: np.ndarray,
               d_lo: int, d_hi: int) -> np.ndarray:
    """Dust intensity (µg/m³ of added coarse PM, daily level) per city and day."""
    days = np.arange(d_lo - _DUST_DAYS + 1, d_hi + 1)
    spring = _spring(days)[None, :]
    # city's own events: 0.3 + 3.2 × northness events per spring (92 days)
    rate = ((0.3 + 3.2 * north) / 92.0)[:, None]
    u = _hash_uniform(seed_key, _S_DUST, 1, city_keys[:, None], days[None, :])
    start = spring & (u < rate)
    v = np.where(start, u / rate, 0.0)  # uniform residual in [0, 1) on starts
    dur = 1 + np.floor(v * 3).astype(np.int64)
    strength = np.exp(np.log(120.0) + np.log(900.0 / 120.0) * (v * 3 - np.floor(v * 3)))
    # national events (~0.8 per spring) reaching the northern half of the cities
    ug = _hash_uniform(seed_key, _S_DUST, 2, days)
    gstart = _spring(days) & (ug < 0.8 / 92.0)
    gv = np.where(gstart, ug / (0.8 / 92.0), 0.0)
    gdur = 1 + np.floor(gv * 3).astype(np.int64)
    reach = np.clip((north - 0.35) / 0.4, 0.0, 1.0)[:, None]
    gstrength = (np.exp(np.log(200.0) + np.log(1000.0 / 200.0) * (gv * 3 - np.floor(gv * 3)))[None, :]
                 * reach
                 * np.exp(0.3 * _hash_normal(seed_key, _S_DUST, 3, city_keys[:, None], days[None, :])))
    gstart2 = gstart[None, :] & (reach > 0)

    n = d_hi - d_lo + 1
    out = np.zeros((len(city_keys), n))
    off = _DUST_DAYS - 1
    for j in range(_DUST_DAYS):
        sl = slice(off - j, off - j + n)
        own = np.where(start[:, sl] & (dur[:, sl] > j), strength[:, sl] * _DUST_DECAY[j], 0.0)
        nat = np.where(gstart2[:, sl] & (gdur[None, sl] > j), gstrength[:, sl] * _DUST_DECAY[j], 0.0)
        out = np.maximum(out, np.maximum(own, nat))
    return out


# --------------------------------------------------------------------------
# main generator
# --------------------------------------------------------------------------
def _station_codes(stations: Sequence[str] | int) -> list[str]:
    if isinstance(stations, (int, np.integer)):
        if stations < 0:
            raise ValueError("number of stations must be >= 0")
        return [f"S{i:04d}" for i in range(1, int(stations) + 1)]
    if isinstance(stations, str):
        raise TypeError("stations must be a sequence of codes or an int, not a single str")
    codes = [str(s) for s in stations]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate station codes")
    return codes


def _cities(codes: list[str], city_of: Mapping[str, str] | None) -> list[str]:
    if city_of is not None:
        missing = [c for c in codes if c not in city_of]
        if missing:
            raise KeyError(f"city_of lacks stations {missing[:5]}")
        return [str(city_of[c]) for c in codes]
    out = []
    for i, c in enumerate(codes):
        m = _STATION_CODE.match(c)
        idx = (int(m.group(1)) - 1) // 5 if m and int(m.group(1)) > 0 else i // 5
        out.append(f"C{idx + 1:03d}")
    return out


def _gap_params(gap_fraction: float) -> tuple[float, float]:
    """Per-hour outage start probability and per-value isolated-gap probability."""
    x_out = 1.0 - (1.0 - gap_fraction) ** 0.8
    x_iso = 1.0 - (1.0 - gap_fraction) ** 0.2
    if x_out <= 0:
        return 0.0, float(x_iso)
    # survival S_j = P(L > j); P(hour not covered) = prod_j (1 - p S_j) = 1 - x_out
    lens = _outage_length((np.arange(200_000) + 0.5) / 200_000)
    surv = np.array([(lens > j).mean() for j in range(_MAX_OUTAGE)])
    lo, hi = 0.0, 1.0
    for _ in range(60):  # bisection
        mid = 0.5 * (lo + hi)
        if np.sum(np.log1p(-mid * surv)) > np.log1p(-x_out):
            lo = mid
        else:
            hi = mid
    return float(lo), float(x_iso)


def _outage_length(v: np.ndarray) -> np.ndarray:
    """Outage length (hours) from a uniform v in [0, 1)."""
    short = 2 + np.floor((v - 0.60) / 0.25 * 4)
    long = np.rint(np.exp(np.log(6.0) + (v - 0.85) / 0.15 * np.log(_MAX_OUTAGE / 6.0)))
    return np.where(v < 0.60, 1, np.where(v < 0.85, short, np.minimum(long, _MAX_OUTAGE))).astype(np.int64)


def simulate_hourly(
    stations: Sequence[str] | int,
    start: str | date,
    end: str | date,
    *,
    seed: int = 0,
    gap_fraction: float = 0.05,
    bad_fraction: float = 0.0005,
    dust_events: bool = True,
    dtype: npt.DTypeLike = np.float32,
    city_of: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """Simulate hourly 1-h mean concentrations of the six basic pollutants.

    Parameters
    ----------
    stations : sequence of str or int
        Station codes, or a number ``n`` of stations coded ``"S0001"`` ...
    start, end : str or datetime.date
        First and last calendar day (CST), inclusive, on or after 1901-01-01.
        The time axis covers the whole days: hours ending ``start 01:00``
        through ``end + 1 day 00:00``.
    seed : int, default 0
        Non-negative seed.  Output is a pure function of seed, codes and time.
    gap_fraction : float, default 0.05
        Target fraction (0 - 0.5) of NaN values, from station outages (all
        pollutants, 1-72 h) and isolated single missing values.
    bad_fraction : float, default 0.0005
        Fraction (0 - 0.01) of the non-missing values corrupted into negative
        values or absurd spikes (flagged in ``injected_bad``).
    dust_events : bool, default True
        Simulate spring dust events (PM10 up to 1,000+ µg/m³).
    dtype : numpy dtype, default float32
        Float dtype of the concentration arrays (float32 or float64).
    city_of : mapping str -> str, optional
        City code of every station.  By default stations are grouped by five
        into synthetic cities ``"C001"``, ``"C002"``, ...: by number for codes
        ``"S<number>"`` (S0001-S0005 -> C001, so any subset of such codes keeps
        its cities), else by position in ``stations``.

    Returns
    -------
    xarray.Dataset
        Dimensions ``("station", "time")`` and ``("station", "date")``.

        * ``so2``, ``no2``, ``pm10``, ``pm25``, ``o3`` (µg/m³, integers) and
          ``co`` (mg/m³, one decimal): 1-h means, NaN = missing.
        * ``injected_bad`` (bool, station × time): station-hours where one
          pollutant was corrupted; ``injected_bad_pollutant`` (int8): index of
          that pollutant in ``envquality.model.HOURLY_POLLUTANTS``, -1 = none.
        * ``dust_day`` (bool, station × date): the station's city had a dust
          event that calendar day.
        * coordinates ``station`` (str), ``city`` (str, along station),
          ``time`` (naive datetime64[ns], CST, hour-ENDING; attributes
          ``timezone="Asia/Shanghai"``, ``time_label="end"``) and ``date``
          (datetime64[ns] midnight of each calendar day).
        * attributes: the generator parameters, ``timezone`` and ``time_label``.

    Examples
    --------
    >>> ds = simulate_hourly(3, "2024-01-01", "2024-01-02", seed=1)
    >>> ds.sizes["station"], ds.sizes["time"], ds.sizes["date"]
    (3, 48, 2)
    >>> str(ds.time.values[0]), str(ds.time.values[-1])
    ('2024-01-01T01:00:00.000000000', '2024-01-03T00:00:00.000000000')
    >>> ds.city.values.tolist(), ds.co.attrs["units"]
    (['C001', 'C001', 'C001'], 'mg/m3')
    """
    codes = _station_codes(stations)
    cities = _cities(codes, city_of)
    if not 0.0 <= gap_fraction <= 0.5:
        raise ValueError("gap_fraction must be within [0, 0.5]")
    if not 0.0 <= bad_fraction <= 0.01:
        raise ValueError("bad_fraction must be within [0, 0.01]")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError("dtype must be a float dtype")
    day0, day1 = _to_day(start), _to_day(end)
    if day1 < day0:
        raise ValueError("end is before start")
    d_start = int((day0 - EPOCH).astype(np.int64))
    d_end = int((day1 - EPOCH).astype(np.int64))
    if d_start < 366:
        raise ValueError("dates must be on or after 1901-01-01")
    n_days = d_end - d_start + 1
    a0, a1 = 24 * d_start, 24 * (d_end + 1)
    nh = a1 - a0
    ns = len(codes)
    sk = _seed_key(seed)

    # ---- time-only terms (1-D over the requested hours) -------------------
    a = np.arange(a0, a1)
    hod = a % 24
    dayi = a // 24
    t_days = (a + 0.5) / 24.0  # days since EPOCH (centre of the hour)
    heat_h = _heating(np.arange(d_start, d_end + 1))[dayi - d_start]
    summer = 0.5 * (1 + np.cos(_PH_EXACT * (t_days - 170.0)))  # 1 in mid-June
    weekend = (dayi % 7 >= 5).astype(np.float64)  # 1900-01-01 was a Monday
    time_term: dict[str, np.ndarray] = {}
    north_term: dict[str, np.ndarray] = {}
    for c in _COMP:
        p = _PAR[c]
        tt = p["cos_amp"] * np.cos(_PH_EXACT * (t_days - p["cos_peak"]))
        if c == "o3":
            tt = tt + (0.50 + 0.10 * summer) * _DIURNAL["o3"][hod]
        else:
            tt = tt + _DIURNAL[c][hod]
        if c in ("no2", "co"):
            tt = tt - 0.08 * weekend
        time_term[c] = tt.astype(np.float32)
        nt = p["heat"] * heat_h
        if c == "o3":  # northern cities: stronger O3 seasonality
            nt = nt + 0.10 * np.cos(_PH_EXACT * (t_days - p["cos_peak"]))
        north_term[c] = nt.astype(np.float32)

    # ---- city-level terms ------------------------------------------------------
    unique_cities, city_idx = np.unique(np.array(cities, dtype=object), return_inverse=True)
    city_codes = [str(c) for c in unique_cities]
    ckeys = np.array([_code_key(c) for c in city_codes], dtype=np.uint64)
    nc = len(city_codes)
    north = _hash_uniform(sk, _S_CITY, ckeys, 0)
    dirty = _hash_normal(sk, _S_CITY, ckeys, 1)
    city_level = {
        c: _PAR[c]["dirty"] * dirty + _PAR[c]["city_sd"] * _hash_normal(sk, _S_CITY, ckeys, 10 + i)
        for i, c in enumerate(_COMP)
    }
    # synoptic factors on daily knots (noon), interpolated to hours
    x = (a - 12) / 24.0
    k0 = np.floor(x).astype(np.int64)
    fr = (x - k0).astype(np.float32)
    dk_lo, dk_hi = int(k0[0]), int(k0[-1]) + 1
    syn = []
    if nc:
        for stream in (1, 2):
            g = _ar_days(sk, np.array([0], dtype=np.uint64), stream, dk_lo, dk_hi)
            loc = _ar_days(sk, ckeys, 10 + stream, dk_lo, dk_hi)
            s = (0.6 * g + 0.8 * loc).astype(np.float32)
            i0 = k0 - dk_lo
            syn.append(s[:, i0] * (1 - fr) + s[:, i0 + 1] * fr)
    if dust_events and nc:
        dust_d = _dust_days(sk, ckeys, north, d_start, d_end)
        dust_h = (dust_d[:, dayi - d_start] * _DUST_SHAPE[hod]).astype(np.float32)
        dust_flag_city = dust_d > 0
    else:
        dust_h = None
        dust_flag_city = np.zeros((nc, n_days), dtype=bool)

    # ---- station constants ---------------------------------------------------
    skeys = np.array([_code_key(c) for c in codes], dtype=np.uint64)
    const = {}
    for i, c in enumerate(_COMP):
        p = _PAR[c]
        st = p["st_sd"] * _hash_normal(sk, _S_STATION, skeys, i) if ns else np.zeros(0)
        const[c] = (np.log(p["base"]) + city_level[c][city_idx] + st).astype(np.float32) if ns else st
    north_s = north[city_idx].astype(np.float32) if ns else np.zeros(0, np.float32)

    # ---- gap / bad parameters --------------------------------------------------
    p_start, x_iso = _gap_params(gap_fraction)
    q_iso = 6.0 * x_iso
    q_bad = 6.0 * bad_fraction / max(1.0 - gap_fraction, 1e-9)
    typical = {"pm25": 35.0, "pm10": 70.0, "no2": 30.0, "co": 0.9, "so2": 10.0, "o3": 80.0}

    # ---- knot geometry -------------------------------------------------------
    kk = a // KNOT_HOURS
    kf = (a % KNOT_HOURS) / KNOT_HOURS
    ksd = np.sqrt((1 - kf) ** 2 + kf**2)
    kw0 = ((1 - kf) / ksd).astype(np.float32)
    kw1 = (kf / ksd).astype(np.float32)
    knot_lo = int(kk[0])
    n_knots = int(kk[-1]) + 2 - knot_lo
    ki0 = kk - knot_lo

    # ---- outputs ---------------------------------------------------------------
    out = {p: np.empty((ns, nh), dtype=dtype) for p in HOURLY_POLLUTANTS}
    bad_pol = np.full((ns, nh), -1, dtype=np.int8)
    halo = _MAX_OUTAGE
    n_ext = nh + halo
    key_h = (sk ^ _S_HOURLY) & 0xFFFFFFFFFFFFFFFF
    key_k = (sk ^ _S_KNOT) & 0xFFFFFFFFFFFFFFFF

    for c0 in range(0, ns, CHUNK_STATIONS):
        c1 = min(ns, c0 + CHUNK_STATIONS)
        m = c1 - c0
        # -- random streams (one Philox block of 8 float32 uniforms per hour/knot)
        U = np.empty((m, n_ext, 8), dtype=np.float32)
        UK = np.empty((m, n_knots, 8), dtype=np.float32)
        for i in range(m):
            key = int(skeys[c0 + i])
            np.random.Generator(np.random.Philox(counter=[a0 - halo, 0, 0, 0], key=[key_h, key])
                                ).random(dtype=np.float32, out=U[i])
            np.random.Generator(np.random.Philox(counter=[knot_lo, 0, 0, 0], key=[key_k, key])
                                ).random(dtype=np.float32, out=UK[i])
        U = np.ascontiguousarray(U.transpose(2, 0, 1))  # (slot, station, hour)
        UK = np.ascontiguousarray(UK.transpose(2, 0, 1))
        white = []
        for j in range(3):
            z1, z2 = _box_muller(U[2 * j, :, halo:], U[2 * j + 1, :, halo:])
            white += [z1, z2]
        knot_noise = []
        for j in range(4):
            z1, z2 = _box_muller(UK[2 * j], UK[2 * j + 1])
            knot_noise += [z1, z2]
        del UK
        kn = np.stack(knot_noise, axis=-1)  # (m, n_knots, 8)
        meso_knots = np.einsum("mkj,cj->cmk", kn, _KNOT_MIX)  # (6, m, n_knots)
        del kn

        ci = city_idx[c0:c1]
        # this chunk has stations, hence cities (nc > 0), so syn holds both series
        s1, s2 = syn[0][ci], syn[1][ci]
        nr = north_s[c0:c1, None]
        comp: dict[str, np.ndarray] = {}
        for i, c in enumerate(_COMP):
            p = _PAR[c]
            v = const[c][c0:c1, None] + time_term[c][None, :]
            v += nr * north_term[c][None, :]
            if p["s1"]:
                if c == "pm25":  # haze episodes: stronger stagnation effect in heating season
                    v += (np.float32(p["s1"]) * (1 + 0.6 * nr * heat_h[None, :].astype(np.float32))) * s1
                else:
                    v += np.float32(p["s1"]) * s1
            if p["s2"]:
                v += np.float32(p["s2"]) * s2
            mk = meso_knots[i]
            mh = mk[:, ki0] * kw0
            mh += mk[:, ki0 + 1] * kw1
            mh *= np.float32(p["meso"])
            v += mh
            del mh
            v += np.float32(p["white"]) * white[i]
            np.exp(v, out=v)
            if c == "o3":  # O3 is not log-normal at the top: soft saturation
                v *= np.float32(1.0 / _O3_SAT)
                np.tanh(v, out=v)
                v *= np.float32(_O3_SAT)
            comp[c] = v
        del meso_knots
        if dust_h is not None:
            dh = dust_h[ci] * np.exp(np.float32(0.25) * white[_C["coarse"]])
            comp["coarse"] += dh
            comp["pm25"] += np.float32(_DUST_FINE) * dh
            del dh
        pm10 = comp["pm25"] + comp["coarse"]
        pm10 *= np.exp(np.float32(-0.08) * white[_C["pm25"]])
        vals = {"so2": comp["so2"], "no2": comp["no2"], "pm10": pm10, "pm25": comp["pm25"],
                "co": comp["co"], "o3": comp["o3"]}
        del comp, white

        # -- gaps: outages (all pollutants) ------------------------------------
        u_out = U[6]
        starts = u_out < p_start
        if starts.any():
            si, ti = np.nonzero(starts)
            lens = _outage_length(u_out[si, ti].astype(np.float64) / p_start)
            ends = np.minimum(ti + lens, n_ext)
            cov = (np.bincount(si * (n_ext + 1) + ti, minlength=m * (n_ext + 1))
                   - np.bincount(si * (n_ext + 1) + ends, minlength=m * (n_ext + 1)))
            cov = np.cumsum(cov.reshape(m, n_ext + 1)[:, :n_ext], axis=1)
            outage = cov[:, halo:] > 0
        else:
            outage = None
        # -- isolated gaps and bad values (one uniform per station-hour) -------
        u7 = U[7, :, halo:].astype(np.float64)
        iso = u7 < q_iso
        iso_pol = np.where(iso, np.floor(u7 / q_iso * 6), -1).astype(np.int8) if q_iso > 0 else None
        isbad = (u7 >= q_iso) & (u7 < q_iso + q_bad)
        if outage is not None:
            isbad &= ~outage
        if isbad.any():
            bi, bt = np.nonzero(isbad)
            r = (u7[bi, bt] - q_iso) / q_bad * 6
            bpol = np.minimum(np.floor(r), 5).astype(np.int8)
            br = r - bpol
        del U, u7

        for k, pol in enumerate(HOURLY_POLLUTANTS):
            src = vals[pol]
            dst = out[pol][c0:c1]
            if pol == "co":
                np.copyto(dst, src, casting="unsafe")
                dst *= 10
                np.rint(dst, out=dst)
                dst /= 10
                np.maximum(dst, 0.1, out=dst)
            else:
                np.rint(src, out=dst, casting="unsafe")
                np.maximum(dst, 1, out=dst)
            if isbad.any():
                sel = bpol == k
                if sel.any():
                    rr = br[sel]
                    cur = dst[bi[sel], bt[sel]].astype(np.float64)
                    if pol == "co":  # -0.2 ... -0.9 mg/m³ (never the sentinel -1)
                        neg = -np.floor(2 + rr / 0.35 * 8) / 10
                    else:  # -2 ... -50 µg/m³
                        neg = -np.floor(2 + rr / 0.35 * 49)
                    spike = np.maximum(cur, typical[pol]) * np.exp(
                        np.log(20.0) + (rr - 0.35) / 0.65 * np.log(10.0))
                    newv = np.where(rr < 0.35, neg, spike)
                    newv = np.rint(newv * 10) / 10 if pol == "co" else np.rint(newv)
                    dst[bi[sel], bt[sel]] = newv
                    bad_pol[c0 + bi[sel], bt[sel]] = k
            if iso_pol is not None:
                np.copyto(dst, np.nan, where=iso_pol == k)
            if outage is not None:
                np.copyto(dst, np.nan, where=outage)
        del vals

    # ---- assemble --------------------------------------------------------------
    time = (day0.astype("datetime64[h]") + np.arange(1, nh + 1).astype("timedelta64[h]")).astype(
        "datetime64[ns]")
    dates = (day0 + np.arange(n_days).astype("timedelta64[D]")).astype("datetime64[ns]")
    data_vars: dict[str, Any] = {}
    for pol in HOURLY_POLLUTANTS:
        data_vars[pol] = (("station", "time"), out[pol],
                          {"units": UNITS[pol], "long_name": f"{pol} 1-h mean"})
    data_vars["injected_bad"] = (("station", "time"), bad_pol >= 0,
                                 {"long_name": "station-hour with one injected bad value"})
    data_vars["injected_bad_pollutant"] = (
        ("station", "time"), bad_pol,
        {"long_name": "index of the corrupted pollutant in " + " ".join(HOURLY_POLLUTANTS)
                      + "; -1 = none"})
    data_vars["dust_day"] = (("station", "date"), dust_flag_city[city_idx] if ns
                             else np.zeros((0, n_days), bool),
                             {"long_name": "dust event in the station's city that day"})
    ds = xr.Dataset(
        data_vars,
        coords={
            "station": ("station", np.array(codes, dtype=str)),
            "city": ("station", np.array(cities, dtype=str)),
            "time": ("time", time, {"timezone": TIMEZONE, "time_label": "end"}),
            "date": ("date", dates, {"timezone": TIMEZONE}),
        },
        attrs={
            "title": "envquality simulated hourly air-quality data",
            "timezone": TIMEZONE,
            "time_label": "end",
            "seed": int(seed),
            "gap_fraction": float(gap_fraction),
            "bad_fraction": float(bad_fraction),
            "dust_events": int(bool(dust_events)),
            "generator": "envquality.simulate.simulate_hourly",
        },
    )
    return ds


def simulate_tidy(
    stations: Sequence[str] | int,
    start: str | date,
    end: str | date,
    *,
    seed: int = 0,
    gap_fraction: float = 0.05,
    bad_fraction: float = 0.0005,
    dust_events: bool = True,
    dtype: npt.DTypeLike = np.float32,
    city_of: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Simulated hourly readings as a long (tidy) DataFrame.

    Same parameters and values as :func:`simulate_hourly`.

    Returns
    -------
    pandas.DataFrame
        Columns ``station`` (str), ``time`` (datetime64[ns, Asia/Shanghai],
        hour-ENDING), ``pollutant`` (str, one of ``so2 no2 pm10 pm25 co o3``),
        ``value`` (float64; µg/m³, CO mg/m³).  Missing values are absent (no
        NaN rows); injected bad values are included.  Sorted by station,
        time and pollutant in :data:`~envquality.model.HOURLY_POLLUTANTS`
        order.

    Examples
    --------
    >>> df = simulate_tidy(2, "2024-07-01", "2024-07-01", gap_fraction=0.0)
    >>> len(df), list(df.columns)
    (288, ['station', 'time', 'pollutant', 'value'])
    >>> str(df.time.iloc[0])
    '2024-07-01 01:00:00+08:00'
    """
    ds = simulate_hourly(stations, start, end, seed=seed, gap_fraction=gap_fraction,
                         bad_fraction=bad_fraction, dust_events=dust_events, dtype=dtype,
                         city_of=city_of)
    nh = ds.sizes["time"]
    npol = len(HOURLY_POLLUTANTS)
    vals = np.stack([ds[p].values.astype(np.float64) for p in HOURLY_POLLUTANTS], axis=-1)
    flat = vals.reshape(-1)
    keep = ~np.isnan(flat)
    idx = np.nonzero(keep)[0]
    si, rem = np.divmod(idx, nh * npol)
    ti, pi = np.divmod(rem, npol)
    times = pd.DatetimeIndex(ds.time.values).tz_localize(TIMEZONE)
    return pd.DataFrame({
        "station": np.asarray(ds.station.values, dtype=object)[si],
        "time": times[ti],
        "pollutant": np.asarray(HOURLY_POLLUTANTS, dtype=object)[pi],
        "value": flat[idx],
    })


def simulate_daily_city(
    cities: Sequence[str],
    start: str | date,
    end: str | date,
    *,
    seed: int = 0,
    stations_per_city: int = 4,
) -> pd.DataFrame:
    """Simulated daily city values (HJ 633 daily indicators).

    Each city is the mean of ``stations_per_city`` simulated stations (codes
    ``"<city>-1"`` ...) without gaps or bad values; the daily indicators are
    computed from the complete 24 hours of the calendar day (hours ending
    01:00 ... 24:00): 24-h means, the O3 daily maximum 1-h value and the O3
    daily maximum of the 17 8-h moving means ending 08:00 ... 24:00.  Values
    are rounded half-to-even like published reports (integers, CO one
    decimal).

    Parameters
    ----------
    cities : sequence of str
        City codes (e.g. admin codes ``"110000"``).
    start, end : str or datetime.date
        First and last calendar day, inclusive.
    seed : int, default 0
        Non-negative seed.
    stations_per_city : int, default 4
        Stations averaged per city.

    Returns
    -------
    pandas.DataFrame
        Columns ``city`` (str), ``date`` (datetime64[ns], midnight),
        ``so2_24h``, ``no2_24h``, ``pm10_24h``, ``pm25_24h``, ``o3_1h``,
        ``o3_8h`` (µg/m³), ``co_24h`` (mg/m³), ``dust`` (bool: dust event
        in the city that day).  One row per city and day.

    Examples
    --------
    >>> df = simulate_daily_city(["110000", "620100"], "2024-04-01", "2024-04-03")
    >>> df.shape, list(df.columns[:3])
    ((6, 10), ['city', 'date', 'so2_24h'])
    """
    from envquality.standards.rounding import round_half_even

    cities = [str(c) for c in cities]
    if len(set(cities)) != len(cities):
        raise ValueError("duplicate city codes")
    codes = [f"{c}-{k}" for c in cities for k in range(1, stations_per_city + 1)]
    city_of = {s: s.rsplit("-", 1)[0] for s in codes}
    ds = simulate_hourly(codes, start, end, seed=seed, gap_fraction=0.0, bad_fraction=0.0,
                         dtype=np.float64, city_of=city_of)
    nc, nd = len(cities), ds.sizes["date"]
    shape = (nc, stations_per_city, nd, 24)

    def hourly(p: str) -> np.ndarray:  # city hourly means, (city, day, 24)
        return ds[p].values.reshape(shape).mean(axis=1)

    cols: dict[str, Any] = {
        "city": np.repeat(np.array(cities, dtype=object), nd),
        "date": np.tile(ds.date.values, nc),
    }
    for p in ("so2", "no2", "pm10", "pm25", "co"):
        cols[f"{p}_24h"] = round_half_even(hourly(p).mean(axis=-1).reshape(-1),
                                           1 if p == "co" else 0)
    o3 = hourly("o3")
    cols["o3_1h"] = round_half_even(o3.max(axis=-1).reshape(-1))
    c = np.cumsum(np.concatenate([np.zeros(o3.shape[:-1] + (1,)), o3], axis=-1), axis=-1)
    ma8 = (c[..., 8:] - c[..., :-8]) / 8.0  # windows ending hour index 7 ... 23
    cols["o3_8h"] = round_half_even(ma8.max(axis=-1).reshape(-1))
    cols["dust"] = ds.dust_day.values.reshape(nc, stations_per_city, nd)[:, 0, :].reshape(-1)
    return pd.DataFrame(cols)
