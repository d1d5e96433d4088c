"""Hourly station concentrations: :func:`simulate_hourly`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    city_codes, city_idx = np.unique(np.array(cities, dtype=object), return_inverse=True)
    city_codes = [str(c) for c in city_codes]
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
        kn = []
        for j in range(4):
            z1, z2 = _box_muller(UK[2 * j], UK[2 * j + 1])
            kn += [z1, z2]
        del UK
        kn = np.stack(kn, axis=-1)  # (m, n_knots, 8)
        meso_knots = np.einsum("mkj,cj->cmk", kn, _KNOT_MIX)  # (6, m, n_knots)
        del kn

        ci = city_idx[c0:c1]
        s1 = syn[0][ci] if nc else None
        s2 = syn[1][ci] if nc else None
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
                np.maximum(dst, dtype.type(0.1), out=dst)
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
