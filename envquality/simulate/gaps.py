"""Missing values: station outages and isolated gaps (the gap model of :mod:`envquality.simulate`)."""

from __future__ import annotations

import numpy as np

from envquality.simulate._params import _MAX_OUTAGE


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
