"""City-level daily processes: synoptic (weather) factors and spring dust events."""

from __future__ import annotations

import numpy as np

from envquality.simulate._params import _AR_PHI, _AR_TAPS, _DUST_DAYS, _DUST_DECAY, _S_DUST, _S_SYN
from envquality.simulate._random import _hash_normal, _hash_uniform
from envquality.simulate._calendar import _spring


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
