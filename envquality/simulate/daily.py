"""Daily city statistics: :func:`simulate_daily_city`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from envquality.simulate.hourly import simulate_hourly


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
