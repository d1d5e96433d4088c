"""HJ 633-2012 Technical Regulation on Ambient Air Quality Index (on trial).

Data only: the IAQI breakpoint table (HJ 633-2012 §5, Table 1) and the rules
of its footnotes.  Concentrations in µg/m³ except CO in mg/m³.
In force for data dated before 2026-03-01.
"""

from __future__ import annotations

NAME = "HJ633-2012"

#: IAQI values at the breakpoints (HJ 633-2012 Table 1, first column).
IAQI_NODES: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)

#: Breakpoint concentrations per averaging column (HJ 633-2012 Table 1).
#: A shorter tuple means the table stops there (footnotes 2 and 3).
BREAKPOINTS: dict[str, tuple[float, ...]] = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),  # footnote 2: no IAQI above 800
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),  # footnote 3: no IAQI above 800
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}

#: IAQI for a concentration above the last breakpoint of a column.
#: ``None``: the standard defines none here and another column decides
#: (footnote 2: SO2 1-h > 800 -> SO2 24-h IAQI; footnote 3: O3 8-h > 800 ->
#: O3 1-h IAQI).  500 elsewhere: the table ends at IAQI 500 and practice caps.
ABOVE_TABLE: dict[str, int | None] = {
    "so2_1h": None,
    "o3_8h": None,
}

#: Indicators of the daily report (HJ 633-2012 §5.2): five 24-h means plus
#: the O3 daily maximum 1-h value and daily maximum 8-h moving average.
DAILY_INDICATORS: tuple[str, ...] = (
    "so2_24h", "no2_24h", "pm10_24h", "co_24h", "pm25_24h", "o3_1h", "o3_8h",
)

#: Columns used for the hourly (real-time) AQI: 1-h values; PM 1-h values are
#: compared with the 24-h columns, which are the only PM columns (practice of
#: the CNEMC publishing platform, HJ 633-2012 §5.1).
HOURLY_COLUMNS: dict[str, str] = {
    "so2": "so2_1h", "no2": "no2_1h", "pm10": "pm10_24h",
    "co": "co_1h", "o3": "o3_1h", "pm25": "pm25_24h",
}

