"""The tidy data model shared by readers, the store and the statistics.

Hourly readings (one row per station, hour and pollutant)
--------------------------------------------------------
``station``   str   station code (``"1476A"``) or, for city-level series, the
                    city's admin code (``"620100"``)
``time``      datetime64[ns, Asia/Shanghai]  END of the averaging hour, China
                    Standard Time (UTC+8, no DST).  ``2023-03-22 12:00+08:00`` is
                    the mean over 11:00-12:00.  This is CNEMC's labelling.  The
                    hour ending 00:00 belongs to the previous calendar day, so
                    day D holds the hours ending D 01:00 ... D+1 00:00 (see
                    :func:`day_of_hour`).
``pollutant`` str   one of :data:`HOURLY_POLLUTANTS` (1-h means) or of
                    :data:`PUBLISHED_HOURLY` (moving means a feed publishes)
``value``     float64  µg/m³; CO in mg/m³.  NaN = missing.

Daily values (one row per station or city, day and indicator)
------------------------------------------------------------
``station`` / ``city``, ``date`` (datetime64[ns], midnight, CST calendar day),
``pollutant`` one of :data:`DAILY_POLLUTANTS` (readers of published daily
values may add ``aqi``), ``value`` as above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TIMEZONE = "Asia/Shanghai"

#: 1-h means of the six basic pollutants (GB 3095 Table 1).
HOURLY_POLLUTANTS: tuple[str, ...] = ("so2", "no2", "pm10", "pm25", "co", "o3")

#: Values that hourly feeds publish next to the 1-h values (kept as received;
#: the statistics recompute their own from 1-h values).  As CNEMC and the
#: quotsoft archives (:mod:`envquality.iotools.quotsoft`,
#: :mod:`envquality.iotools.cnemc`, :mod:`envquality.iotools.pm25in`) publish them,
#: for the hour ending at ``time``:
#:
#: ============  ==============================================================
#: key           meaning
#: ============  ==============================================================
#: ``x_24h``     24-h moving mean of ``x`` (``so2 no2 pm10 pm25 co``) over the
#:               24 hours ending at ``time`` (CO in mg/m³)
#: ``o3_8h``     8-h moving mean of O3 ending at ``time`` (``O3_8h`` of the
#:               archives, ``O3_8h`` of pm25.in)
#: ``o3_8h_24h`` highest 8-h moving mean of O3 over the past 24 h
#: ``o3_24h``    highest 1-h O3 over the past 24 h, as CNEMC and the quotsoft
#:               archives publish it (``O3_24h``; not a 24-h mean)
#: ``aqi``       hourly AQI (HJ 633, from 1-h values; dimensionless)
#: ============  ==============================================================
#:
#: In daily data (:data:`DAILY_POLLUTANTS`) ``o3_8h`` is instead the daily
#: maximum 8-h moving mean (MDA8), and :mod:`envquality.iotools.aqistudy`
#: also emits ``aqi`` as the source's own daily AQI (a reference value).
PUBLISHED_HOURLY: tuple[str, ...] = (
    "so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_8h", "o3_8h_24h", "o3_24h", "aqi",
)

#: Daily indicators (HJ 633 daily report): 24-h means, O3 daily maximum 1-h
#: (``o3_1h``) and daily maximum 8-h moving mean (``o3_8h``, MDA8).
DAILY_POLLUTANTS: tuple[str, ...] = (
    "so2_24h", "no2_24h", "pm10_24h", "pm25_24h", "co_24h", "o3_1h", "o3_8h",
)

#: Unit of every pollutant key.
UNITS: dict[str, str] = {
    **{p: "ug/m3" for p in HOURLY_POLLUTANTS + PUBLISHED_HOURLY + DAILY_POLLUTANTS},
    "co": "mg/m3", "co_24h": "mg/m3", "aqi": "1",
}

#: Plausible upper bounds used to catch unit errors (CO fed in µg/m³, ...).
#: Far above any real extreme (PM10 dust storms reach ~2,000 µg/m³).
UNIT_SANITY_MAX: dict[str, float] = {
    "so2": 10_000, "no2": 5_000, "pm10": 10_000, "pm25": 5_000, "co": 200, "o3": 2_000,
}


def day_of_hour(time: pd.Series | pd.DatetimeIndex) -> pd.Series | pd.DatetimeIndex:
    """Calendar day (CST) an hour-ending time stamp belongs to.

    >>> t = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-02 00:00"])
    >>> [str(d.date()) for d in day_of_hour(t)]
    ['2023-12-31', '2024-01-01', '2024-01-01']
    """
    shifted = time - pd.Timedelta(hours=1)
    if isinstance(shifted, pd.Series):
        return shifted.dt.floor("D")
    return shifted.floor("D")


def hour_index(time: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Index 0-23 of an hour-ending time within its day (0 = hour ending 01:00)."""
    shifted = time - pd.Timedelta(hours=1)
    hours = shifted.dt.hour if isinstance(shifted, pd.Series) else shifted.hour
    return np.asarray(hours, dtype=np.int64)
