"""Hourly station concentrations: :func:`simulate_hourly`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from envquality.model import HOURLY_POLLUTANTS, TIMEZONE, UNITS
from envquality.simulate._calendar import _DIURNAL, _DUST_SHAPE, _heating, _to_day
from envquality.simulate._params import (
    _C, _COMP, _DUST_FINE, _KNOT_MIX, _MAX_OUTAGE, _O3_SAT, _PAR, _PH_EXACT, _S_CITY, _S_HOURLY, _S_KNOT,
    _S_STATION, _STATION_CODE, EPOCH, KNOT_HOURS,
)
from envquality.simulate._random import _box_muller, _code_key, _hash_normal, _hash_uniform, _seed_key
from envquality.simulate.gaps import _gap_params, _outage_length
from envquality.simulate.synoptic import _ar_days, _dust_days

#: Stations generated per chunk (work buffers ~ CHUNK_STATIONS × hours × 8 × 4 B).
CHUNK_STATIONS = 32


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
    dtype = _check_args(gap_fraction, bad_fraction, dtype)
    g = _hour_grid(_to_day(start), _to_day(end))
    sk = _seed_key(seed)
    time_term, north_term = _time_terms(g)
    city = _city_terms(sk, cities, g, dust_events)
    const, skeys, north_s = _station_constants(sk, codes, city)
    out = {p: np.empty((len(codes), g.nh), dtype=dtype) for p in HOURLY_POLLUTANTS}
    bad_pol = np.full((len(codes), g.nh), -1, dtype=np.int8)
    gaps = _GapParams.of(gap_fraction, bad_fraction)
    knots = _Knots.of(g)
    for c0 in range(0, len(codes), CHUNK_STATIONS):
        c1 = min(len(codes), c0 + CHUNK_STATIONS)
        U, meso_knots = _chunk_streams(sk, skeys[c0:c1], g, knots)
        white = [z for j in range(3) for z in _box_muller(U[2 * j, :, _MAX_OUTAGE:], U[2 * j + 1, :, _MAX_OUTAGE:])]
        vals = _chunk_values(city, const, north_s, time_term, north_term, meso_knots, white, knots, g, c0, c1)
        _write_chunk(out, bad_pol, vals, _chunk_gaps(U, gaps), gaps, c0, c1, dtype)
    attrs = {"seed": int(seed), "gap_fraction": float(gap_fraction), "bad_fraction": float(bad_fraction),
             "dust_events": int(bool(dust_events))}
    return _assemble(out, bad_pol, city, codes, cities, g, attrs)


# --------------------------------------------------------------------------- steps
def _check_args(gap_fraction: float, bad_fraction: float, dtype: npt.DTypeLike) -> np.dtype:
    if not 0.0 <= gap_fraction <= 0.5:
        raise ValueError("gap_fraction must be within [0, 0.5]")
    if not 0.0 <= bad_fraction <= 0.01:
        raise ValueError("bad_fraction must be within [0, 0.01]")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError("dtype must be a float dtype")
    return dt


@dataclass
class _Grid:
    """The requested hours as absolute indices (hour ``a`` = EPOCH + a h … + 1 h)."""

    day0: np.datetime64
    d_start: int
    d_end: int
    a: np.ndarray  # absolute hours
    hod: np.ndarray  # hour of day 0-23
    dayi: np.ndarray  # absolute day of each hour
    heat_h: np.ndarray  # heating-season factor of each hour

    @property
    def nh(self) -> int:
        return len(self.a)

    @property
    def n_days(self) -> int:
        return self.d_end - self.d_start + 1


def _hour_grid(day0: np.datetime64, day1: np.datetime64) -> _Grid:
    if day1 < day0:
        raise ValueError("end is before start")
    d_start = int((day0 - EPOCH).astype(np.int64))
    d_end = int((day1 - EPOCH).astype(np.int64))
    if d_start < 366:
        raise ValueError("dates must be on or after 1901-01-01")
    a = np.arange(24 * d_start, 24 * (d_end + 1))
    dayi = a // 24
    heat_h = _heating(np.arange(d_start, d_end + 1))[dayi - d_start]
    return _Grid(day0, d_start, d_end, a, a % 24, dayi, heat_h)


def _time_terms(g: _Grid) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Seasonal, diurnal and weekly terms per component (1-D over hours), and the northness terms."""
    t_days = (g.a + 0.5) / 24.0  # days since EPOCH (centre of the hour)
    summer = 0.5 * (1 + np.cos(_PH_EXACT * (t_days - 170.0)))  # 1 in mid-June
    weekend = (g.dayi % 7 >= 5).astype(np.float64)  # 1900-01-01 was a Monday
    time_term: dict[str, np.ndarray] = {}
    north_term: dict[str, np.ndarray] = {}
    for c in _COMP:
        p = _PAR[c]
        tt = p["cos_amp"] * np.cos(_PH_EXACT * (t_days - p["cos_peak"]))
        if c == "o3":
            tt = tt + (0.50 + 0.10 * summer) * _DIURNAL["o3"][g.hod]
        else:
            tt = tt + _DIURNAL[c][g.hod]
        if c in ("no2", "co"):
            tt = tt - 0.08 * weekend
        time_term[c] = tt.astype(np.float32)
        nt = p["heat"] * g.heat_h
        if c == "o3":  # northern cities: stronger O3 seasonality
            nt = nt + 0.10 * np.cos(_PH_EXACT * (t_days - p["cos_peak"]))
        north_term[c] = nt.astype(np.float32)
    return time_term, north_term


@dataclass
class _CityTerms:
    idx: np.ndarray  # city index of each station
    n: int
    north: np.ndarray
    level: dict[str, np.ndarray]
    syn: list[np.ndarray]  # stagnation and photochemical factors (city × hour)
    dust_h: np.ndarray | None  # dust coarse mass (city × hour)
    dust_flag: np.ndarray  # dust day (city × day)


def _city_terms(sk: int, cities: list[str], g: _Grid, dust_events: bool) -> _CityTerms:
    """City levels, synoptic factors on daily knots (noon) interpolated to hours, dust events."""
    city_codes, city_idx = np.unique(np.array(cities, dtype=object), return_inverse=True)
    ckeys = np.array([_code_key(str(c)) for c in city_codes], dtype=np.uint64)
    nc = len(city_codes)
    north = _hash_uniform(sk, _S_CITY, ckeys, 0)
    dirty = _hash_normal(sk, _S_CITY, ckeys, 1)
    level = {
        c: _PAR[c]["dirty"] * dirty + _PAR[c]["city_sd"] * _hash_normal(sk, _S_CITY, ckeys, 10 + i)
        for i, c in enumerate(_COMP)
    }
    x = (g.a - 12) / 24.0
    k0 = np.floor(x).astype(np.int64)
    fr = (x - k0).astype(np.float32)
    dk_lo, dk_hi = int(k0[0]), int(k0[-1]) + 1
    syn = []
    if nc:
        for stream in (1, 2):
            glob = _ar_days(sk, np.array([0], dtype=np.uint64), stream, dk_lo, dk_hi)
            loc = _ar_days(sk, ckeys, 10 + stream, dk_lo, dk_hi)
            s = (0.6 * glob + 0.8 * loc).astype(np.float32)
            i0 = k0 - dk_lo
            syn.append(s[:, i0] * (1 - fr) + s[:, i0 + 1] * fr)
    dust_h = None
    dust_flag = np.zeros((nc, g.n_days), dtype=bool)
    if dust_events and nc:
        dust_d = _dust_days(sk, ckeys, north, g.d_start, g.d_end)
        dust_h = (dust_d[:, g.dayi - g.d_start] * _DUST_SHAPE[g.hod]).astype(np.float32)
        dust_flag = dust_d > 0
    return _CityTerms(city_idx, nc, north, level, syn, dust_h, dust_flag)


def _station_constants(sk: int, codes: list[str], city: _CityTerms
                       ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Per station and component: log base level + city level + station offset; station keys; northness."""
    ns = len(codes)
    skeys = np.array([_code_key(c) for c in codes], dtype=np.uint64)
    const = {}
    for i, c in enumerate(_COMP):
        p = _PAR[c]
        st = p["st_sd"] * _hash_normal(sk, _S_STATION, skeys, i) if ns else np.zeros(0)
        const[c] = (np.log(p["base"]) + city.level[c][city.idx] + st).astype(np.float32) if ns else st
    north_s = city.north[city.idx].astype(np.float32) if ns else np.zeros(0, np.float32)
    return const, skeys, north_s


@dataclass
class _GapParams:
    p_start: float  # outage start probability per hour
    q_iso: float  # isolated-gap probability, scaled to the 6 pollutant slots
    q_bad: float  # bad-value probability, likewise

    @classmethod
    def of(cls, gap_fraction: float, bad_fraction: float) -> "_GapParams":
        p_start, x_iso = _gap_params(gap_fraction)
        return cls(p_start, 6.0 * x_iso, 6.0 * bad_fraction / max(1.0 - gap_fraction, 1e-9))


@dataclass
class _Knots:
    """Meso-scale knots every KNOT_HOURS hours and the variance-preserving interpolation weights."""

    w0: np.ndarray
    w1: np.ndarray
    lo: int
    n: int
    i0: np.ndarray

    @classmethod
    def of(cls, g: _Grid) -> "_Knots":
        kk = g.a // KNOT_HOURS
        kf = (g.a % KNOT_HOURS) / KNOT_HOURS
        ksd = np.sqrt((1 - kf) ** 2 + kf**2)
        lo = int(kk[0])
        return cls(((1 - kf) / ksd).astype(np.float32), (kf / ksd).astype(np.float32), lo,
                   int(kk[-1]) + 2 - lo, kk - lo)


def _chunk_streams(sk: int, skeys: np.ndarray, g: _Grid, knots: _Knots) -> tuple[np.ndarray, np.ndarray]:
    """Uniforms of a chunk of stations (slot, station, hour incl. halo) and its meso knots (comp, station, knot).

    One Philox block of 8 float32 uniforms per station-hour and per station-knot.
    """
    m = len(skeys)
    n_ext = g.nh + _MAX_OUTAGE
    key_h = (sk ^ _S_HOURLY) & 0xFFFFFFFFFFFFFFFF
    key_k = (sk ^ _S_KNOT) & 0xFFFFFFFFFFFFFFFF
    U = np.empty((m, n_ext, 8), dtype=np.float32)
    UK = np.empty((m, knots.n, 8), dtype=np.float32)
    for i in range(m):
        key = int(skeys[i])
        np.random.Generator(np.random.Philox(counter=[int(g.a[0]) - _MAX_OUTAGE, 0, 0, 0], key=[key_h, key])
                            ).random(dtype=np.float32, out=U[i])
        np.random.Generator(np.random.Philox(counter=[knots.lo, 0, 0, 0], key=[key_k, key])
                            ).random(dtype=np.float32, out=UK[i])
    U = np.ascontiguousarray(U.transpose(2, 0, 1))  # (slot, station, hour)
    UK = np.ascontiguousarray(UK.transpose(2, 0, 1))
    kn = []
    for j in range(4):
        z1, z2 = _box_muller(UK[2 * j], UK[2 * j + 1])
        kn += [z1, z2]
    del UK
    meso_knots = np.einsum("mkj,cj->cmk", np.stack(kn, axis=-1), _KNOT_MIX)  # (6, m, n_knots)
    return U, meso_knots


def _chunk_values(city: _CityTerms, const: dict[str, np.ndarray], north_s: np.ndarray,
                  time_term: dict[str, np.ndarray], north_term: dict[str, np.ndarray], meso_knots: np.ndarray,
                  white: list[np.ndarray], knots: _Knots, g: _Grid, c0: int, c1: int) -> dict[str, np.ndarray]:
    """Concentrations of a chunk of stations: the log-space sum of the model terms, exponentiated."""
    ci = city.idx[c0:c1]
    s1: Any = city.syn[0][ci] if city.n else None
    s2: Any = city.syn[1][ci] if city.n else None
    nr = north_s[c0:c1, None]
    comp: dict[str, np.ndarray] = {}
    for i, c in enumerate(_COMP):
        p = _PAR[c]
        v = const[c][c0:c1, None] + time_term[c][None, :]
        v += nr * north_term[c][None, :]
        if p["s1"]:
            if c == "pm25":  # haze episodes: stronger stagnation effect in heating season
                v += (np.float32(p["s1"]) * (1 + 0.6 * nr * g.heat_h[None, :].astype(np.float32))) * s1
            else:
                v += np.float32(p["s1"]) * s1
        if p["s2"]:
            v += np.float32(p["s2"]) * s2
        mk = meso_knots[i]
        mh = mk[:, knots.i0] * knots.w0
        mh += mk[:, knots.i0 + 1] * knots.w1
        mh *= np.float32(p["meso"])
        v += mh
        v += np.float32(p["white"]) * white[i]
        np.exp(v, out=v)
        if c == "o3":  # O3 is not log-normal at the top: soft saturation
            v *= np.float32(1.0 / _O3_SAT)
            np.tanh(v, out=v)
            v *= np.float32(_O3_SAT)
        comp[c] = v
    if city.dust_h is not None:
        dh = city.dust_h[ci] * np.exp(np.float32(0.25) * white[_C["coarse"]])
        comp["coarse"] += dh
        comp["pm25"] += np.float32(_DUST_FINE) * dh
    pm10 = comp["pm25"] + comp["coarse"]
    pm10 *= np.exp(np.float32(-0.08) * white[_C["pm25"]])
    return {"so2": comp["so2"], "no2": comp["no2"], "pm10": pm10, "pm25": comp["pm25"],
            "co": comp["co"], "o3": comp["o3"]}


@dataclass
class _ChunkGaps:
    outage: np.ndarray | None  # station-hours of an outage (all pollutants)
    iso_pol: np.ndarray | None  # pollutant index of an isolated gap, -1 none
    isbad: np.ndarray  # station-hours with one corrupted value
    bi: np.ndarray
    bt: np.ndarray
    bpol: np.ndarray
    br: np.ndarray  # position within the bad-value slot (kind and size of the corruption)


def _chunk_gaps(U: np.ndarray, gp: _GapParams) -> _ChunkGaps:
    """Outages from slot 6 (with the halo before the start), isolated gaps and bad values from slot 7."""
    m, n_ext = U.shape[1], U.shape[2]
    halo = _MAX_OUTAGE
    u_out = U[6]
    starts = u_out < gp.p_start
    outage = None
    if starts.any():
        si, ti = np.nonzero(starts)
        lens = _outage_length(u_out[si, ti].astype(np.float64) / gp.p_start)
        ends = np.minimum(ti + lens, n_ext)
        cov = (np.bincount(si * (n_ext + 1) + ti, minlength=m * (n_ext + 1))
               - np.bincount(si * (n_ext + 1) + ends, minlength=m * (n_ext + 1)))
        cov = np.cumsum(cov.reshape(m, n_ext + 1)[:, :n_ext], axis=1)
        outage = cov[:, halo:] > 0
    u7 = U[7, :, halo:].astype(np.float64)
    iso = u7 < gp.q_iso
    iso_pol = np.where(iso, np.floor(u7 / gp.q_iso * 6), -1).astype(np.int8) if gp.q_iso > 0 else None
    isbad = (u7 >= gp.q_iso) & (u7 < gp.q_iso + gp.q_bad)
    if outage is not None:
        isbad &= ~outage
    bi, bt = np.nonzero(isbad)
    r = (u7[bi, bt] - gp.q_iso) / gp.q_bad * 6 if len(bi) else np.zeros(0)
    bpol = np.minimum(np.floor(r), 5).astype(np.int8)
    return _ChunkGaps(outage, iso_pol, isbad, bi, bt, bpol, r - bpol)


_TYPICAL = {"pm25": 35.0, "pm10": 70.0, "no2": 30.0, "co": 0.9, "so2": 10.0, "o3": 80.0}


def _corrupt(cur: np.ndarray, rr: np.ndarray, pol: str) -> np.ndarray:
    """Bad values: 35 % negative (never the sentinels -1/-999), 65 % spikes of 20-200 × the value."""
    if pol == "co":  # -0.2 ... -0.9 mg/m³
        neg = -np.floor(2 + rr / 0.35 * 8) / 10
    else:  # -2 ... -50 µg/m³
        neg = -np.floor(2 + rr / 0.35 * 49)
    spike = np.maximum(cur, _TYPICAL[pol]) * np.exp(np.log(20.0) + (rr - 0.35) / 0.65 * np.log(10.0))
    newv = np.where(rr < 0.35, neg, spike)
    return np.rint(newv * 10) / 10 if pol == "co" else np.rint(newv)


def _write_chunk(out: dict[str, np.ndarray], bad_pol: np.ndarray, vals: dict[str, np.ndarray], gaps: _ChunkGaps,
                 gp: _GapParams, c0: int, c1: int, dtype: np.dtype) -> None:
    """Round as CNEMC publishes, corrupt the bad values, blank the gaps, into the output arrays."""
    for k, pol in enumerate(HOURLY_POLLUTANTS):
        src = vals[pol]
        dst = out[pol][c0:c1]
        if pol == "co":
            np.copyto(dst, src, casting="unsafe")
            dst *= 10
            np.rint(dst, out=dst)
            dst /= 10
            np.maximum(dst, dtype.type(0.1), out=dst)
        else:
            np.rint(src, out=dst, casting="unsafe")
            np.maximum(dst, 1, out=dst)
        sel = gaps.bpol == k
        if sel.any():
            bi, bt = gaps.bi[sel], gaps.bt[sel]
            dst[bi, bt] = _corrupt(dst[bi, bt].astype(np.float64), gaps.br[sel], pol)
            bad_pol[c0 + bi, bt] = k
        if gaps.iso_pol is not None:
            np.copyto(dst, np.nan, where=gaps.iso_pol == k)
        if gaps.outage is not None:
            np.copyto(dst, np.nan, where=gaps.outage)


def _assemble(out: dict[str, np.ndarray], bad_pol: np.ndarray, city: _CityTerms, codes: list[str],
              cities: list[str], g: _Grid, attrs: dict[str, Any]) -> xr.Dataset:
    time = (g.day0.astype("datetime64[h]") + np.arange(1, g.nh + 1).astype("timedelta64[h]")).astype(
        "datetime64[ns]")
    dates = (g.day0 + np.arange(g.n_days).astype("timedelta64[D]")).astype("datetime64[ns]")
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
    data_vars["dust_day"] = (("station", "date"), city.dust_flag[city.idx] if len(codes)
                             else np.zeros((0, g.n_days), bool),
                             {"long_name": "dust event in the station's city that day"})
    return xr.Dataset(
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
            **attrs,
            "generator": "envquality.simulate.simulate_hourly",
        },
    )
