"""Hourly readings as a tidy frame: :func:`simulate_tidy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from envquality.model import HOURLY_POLLUTANTS, TIMEZONE
from envquality.simulate.hourly import simulate_hourly


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
